#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers and prints its URL on stdout (logs go to stderr).
# Order: the server on 127.0.0.1:5432 if it answers; else start the machine's cluster; else a
# throw-away cluster made with initdb in a temporary folder on a free port.
set -euo pipefail

log() { echo "pg: $*" >&2; }

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] || pg_bin=$(dirname "$(command -v pg_ctl || command -v initdb || echo /nonexistent/x)")
export PATH="$pg_bin:$PATH"

answers() { pg_isready -q -h 127.0.0.1 -p "$1" -t 3 && psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

# PG_THROWAWAY=1 skips straight to the throw-away cluster (to test this script).
if [ -z "${PG_THROWAWAY:-}" ] && answers 5432; then
  log "using the server on 127.0.0.1:5432"
  echo "postgres://postgres@127.0.0.1:5432"
  exit 0
fi

if [ -z "${PG_THROWAWAY:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$version" ]; then
    log "starting cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
    for _ in $(seq 1 20); do answers 5432 && break; sleep 0.5; done
    if answers 5432; then
      echo "postgres://postgres@127.0.0.1:5432"
      exit 0
    fi
  fi
fi

command -v initdb >/dev/null 2>&1 || { log "no PostgreSQL server and no initdb: install postgresql"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d /tmp/opcoord-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
log "making a throw-away cluster in $dir on port $port"
"${as_pg[@]}" "$pg_bin/initdb" -A trust -U postgres -D "$dir/data" >&2
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >&2
answers "$port" || { log "the throw-away cluster does not answer"; exit 1; }
echo "postgres://postgres@127.0.0.1:$port"

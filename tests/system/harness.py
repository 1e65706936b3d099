"""What the system tests share: running `opcoord serve` processes, a throw-away PostgreSQL
cluster, HTTP calls with a deadline, tokens from the CLI and the interceptions they push.

Only the standard library: the tests run wherever CI has python3.
"""

import glob
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("OPCOORD_BIN", os.path.join(ROOT, "target", "debug", "opcoord"))
ALL_SCOPES = ("operations:read operations:write units:write interceptions:read interceptions:write "
              "tallies:read tallies:write audit:read tokens:issue")


class Failed(Exception):
    """A check that did not hold."""


def check(what, condition, detail=""):
    """Raises Failed naming `what` unless `condition` holds."""
    if not condition:
        raise Failed(f"{what} {detail}".strip())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reply:
    """An HTTP answer: status, lower-cased headers, the JSON body (or None) and the time taken."""

    def __init__(self, status, headers, body, elapsed):
        self.status, self.headers, self.body, self.elapsed = status, headers, body, elapsed

    def __repr__(self):
        return f"<{self.status} {str(self.body)[:300]}>"


def call(port, method, path, token=None, body=None, headers=None, timeout=30.0):
    """One request on a fresh connection. Connection errors and timeouts raise OSError."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        answer = {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()
    parsed = None
    if raw and "json" in answer.get("content-type", ""):
        parsed = json.loads(raw)
    return Reply(response.status, answer, parsed, time.monotonic() - started)


class Server:
    """An `opcoord serve` process on a free port, with its log in `folder`."""

    def __init__(self, folder, database_url, name="serve", **settings):
        self.folder, self.database_url, self.name = folder, database_url, name
        self.port = free_port()
        self.env = env_for(folder, database_url, **settings)
        self.process = None
        self.log_path = os.path.join(folder, f"{name}.log")
        self.start()

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{self.port}"], cwd=self.folder,
                                        env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            check(f"{self.name} stays up", self.process.poll() is None, self.log_tail())
            try:
                if call(self.port, "GET", "/readyz", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise Failed(f"{self.name} never became ready: {self.log_tail()}")

    def kill(self):
        """SIGKILL: no shutdown, no flush, requests in flight cut."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill()

    def call(self, *args, **kwargs):
        return call(self.port, *args, **kwargs)

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def log_tail(self, lines=15):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def answered_500(self):
        """Log lines of responses with status 500 (the access log prints the status)."""
        return [line for line in self.log_text().splitlines() if " 500 " in line]


def env_for(folder, database_url, **settings):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPCOORD_")}
    env["DATABASE_URL"] = database_url
    env["OPCOORD_DATA_DIR"] = os.path.join(folder, "data")
    env.setdefault("OPCOORD_LOG_LEVEL", "info")
    env.pop("RUST_LOG", None)
    for key, value in settings.items():
        env[f"OPCOORD_{key.upper()}"] = str(value)
    return env


def cli(folder, database_url, *args):
    """Runs an `opcoord` command; returns (exit code, stdout, stderr)."""
    done = subprocess.run([BIN, *args], cwd=folder, env=env_for(folder, database_url), capture_output=True,
                          text=True, timeout=300)
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def token(folder, database_url, sub, countries, ops, scope=ALL_SCOPES):
    code, out, err = cli(folder, database_url, "token", "issue", "--sub", sub, "--scope", scope,
                         "--countries", countries, "--ops", ops, "--ttl", "2h")
    check("token issue", code == 0, err)
    return out


def verifications_pass(folder, database_url):
    """`opcoord tallies verify` and `opcoord audit verify` both exit 0."""
    for what in ("tallies", "audit"):
        code, out, err = cli(folder, database_url, what, "verify")
        check(f"opcoord {what} verify passes", code == 0, f"{out} {err}")


def operation(server, admin, op, countries):
    """An active operation with one unit per country."""
    created = server.call("POST", "/v1/operations", admin, {
        "id": op, "name": op, "status": "active", "starts_on": "2025-09-08", "ends_on": "2025-09-14"})
    check("create operation", created.status == 201, created)
    for country in countries:
        unit = server.call("POST", f"/v1/operations/{op}/units", admin, {
            "country": country, "name": f"{country} NCB", "kind": "national_central_bureau", "officers_deployed": 10})
        check("create unit", unit.status == 201, unit)


def item(country, ref, total):
    """A valid interception with `total` migrants."""
    return {"country": country, "external_ref": ref, "kind": "sea_departure", "occurred_at": "2025-09-12T05:40:00Z",
            "migrants": {"total": total, "children": min(2, total), "by_nationality": {country: total}},
            "arrests": 1, "seizures": [{"category": "cash", "quantity": 100, "unit": "EUR"}]}


def push(server, tok, op, items, key=None, retry_until=0.0):
    """Pushes a batch. With `retry_until` (a monotonic deadline) it retries on 503 (after the
    Retry-After delay, capped at 1 s), on 409 with Retry-After (the same key still running) and on
    connection errors, as a national system does, with
    the same Idempotency-Key. Returns (final reply, every reply seen)."""
    key = key or str(uuid.uuid4())
    seen = []
    while True:
        try:
            reply = server.call("POST", f"/v1/operations/{op}/interceptions/batch", tok, {"items": items},
                                {"Idempotency-Key": key})
            seen.append(reply)
            retryable = reply.status == 503 or (reply.status == 409 and "retry-after" in reply.headers)
            if not retryable or time.monotonic() > retry_until:
                return reply, seen
            time.sleep(min(1.0, float(reply.headers.get("retry-after", "1"))))
        except OSError as error:
            seen.append(error)
            if time.monotonic() > retry_until:
                raise
            time.sleep(0.2)


def tally(server, tok, op, metric):
    """(total value, {country: value}) of one metric."""
    reply = server.call("GET", f"/v1/operations/{op}/tallies?metric={metric}", tok)
    check(f"read {metric}", reply.status == 200, reply)
    rows = {row["country"]: row["value"] for row in reply.body["countries"]}
    totals = reply.body["totals"]
    return (totals[0]["value"] if totals else 0), rows


def digest(pairs):
    """The sync digest of API.md over (external_ref, version) pairs."""
    lines = "".join(f"{ref}\t{version}\n" for ref, version in sorted(pairs, key=lambda p: p[0].encode()))
    return hashlib.sha256(lines.encode()).hexdigest()


def feed(server, tok, op):
    """Every change of the feed, following `next` page by page."""
    changes, after = [], 0
    while True:
        page = server.call("GET", f"/v1/operations/{op}/changes?after={after}&limit=1000", tok)
        check("read the change feed", page.status == 200, page)
        changes += page.body["changes"]
        after = page.body["next"]
        if not page.body["has_more"]:
            return changes


class Postgres:
    """A throw-away PostgreSQL cluster that this test owns, to stop and start at will."""

    def __init__(self):
        pg_bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version)
        self.bin = pg_bin[-1] if pg_bin else os.path.dirname(shutil.which("initdb") or "/nonexistent/initdb")
        self.dir = tempfile.mkdtemp(prefix="opcoord-faults-pg.")
        self.port = free_port()
        self.as_pg = []
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-A", "trust", "-U", "postgres", "-D", f"{self.dir}/data")
        self.start()

    def url(self, database="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool, *args):
        done = subprocess.run([*self.as_pg, os.path.join(self.bin, tool), *args], capture_output=True, text=True)
        check(f"{tool} {args[0]}", done.returncode == 0, done.stderr[-500:])

    def start(self):
        self._run("pg_ctl", "-D", f"{self.dir}/data", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "-l", f"{self.dir}/log", "-w", "start")

    def stop(self):
        self._run("pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")

    def create(self, database):
        done = subprocess.run(["psql", self.url(), "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {database}"],
                              capture_output=True, text=True, env={**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}"})
        check(f"create database {database}", done.returncode == 0, done.stderr)
        return self.url(database)

    def destroy(self):
        subprocess.run([*self.as_pg, os.path.join(self.bin, "pg_ctl"), "-D", f"{self.dir}/data", "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def _version(path):
    return [int(p) for p in path.split("/")[-2].split(".") if p.isdigit()]

"""Reliability from outside, with real processes (issue: reliability and interoperability).

1. several instances: two `opcoord serve` on one PostgreSQL, concurrent clients split across
   them pushing overlapping batches, corrections and retractions;
2. a PostgreSQL outage while clients push (the cluster is the test's own, stopped and started);
3. SIGKILL in the middle of batches, on PostgreSQL and on SQLite, then a restart;
4. two writers on one SQLite file at once;
5. the limits: header and body timeouts, body size, batch size, string length, page size, pool.

Usage: python3 tests/system/resilience.py [scenario ...] (default: all). Needs the debug binary
(or OPCOORD_BIN) and PostgreSQL's initdb/pg_ctl. Prints what held; exits 1 on any failure.
"""

import http.client
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time

from harness import (Failed, Postgres, Server, check, digest, feed, item, operation, push, tally, token,
                     verifications_pass)

OP = "resilience"
COUNTRIES = ["SN", "GM", "ML", "NE"]
NATIONAL_SCOPE = "interceptions:write interceptions:read tallies:read"
held = []


def note(line):
    held.append(line)
    print(f"  held: {line}", flush=True)


def in_threads(count, target):
    """Runs target(n) in `count` threads; re-raises the first failure."""
    errors = []

    def run(n):
        try:
            target(n)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def setup(server, folder, url, countries=COUNTRIES):
    admin = token(folder, url, "resilience-admin", "*", "*")
    operation(server, admin, OP, countries)
    national = {c: token(folder, url, f"{c}-sync", c, OP, NATIONAL_SCOPE) for c in countries}
    return admin, national


def expect_totals(servers, tok, expected):
    """`expected`: {country: [migrant totals of its live interceptions]}; checked on every server."""
    for server in servers:
        count, per_country = tally(server, tok, OP, "interceptions")
        migrants, migrants_per_country = tally(server, tok, OP, "migrants_detected")
        want = {c: len(v) for c, v in expected.items() if v}
        check(f"interceptions per country on {server.name}", {c: n for c, n in per_country.items() if n} == want,
              f"{per_country} != {want}")
        check(f"interceptions total on {server.name}", count == sum(want.values()), f"{count}")
        want_m = {c: sum(v) for c, v in expected.items() if v}
        check(f"migrants per country on {server.name}",
              {c: n for c, n in migrants_per_country.items() if n} == want_m, f"{migrants_per_country} != {want_m}")
        check(f"migrants total on {server.name}", migrants == sum(want_m.values()), f"{migrants}")


def several_instances(pg, work):
    url = pg.create("opcoord_instances")
    a = Server(work, url, "instance-a", revocation_refresh_ms=500)
    b = Server(work, url, "instance-b", revocation_refresh_ms=500)
    admin, national = setup(a, work, url)
    rng = random.Random(20251125)
    keys = [(c, f"{c}-{i:04d}") for c in COUNTRIES for i in range(120)]
    first = {k: 5 + rng.randrange(40) for k in keys}
    changed = set(rng.sample(keys, 120))
    second = {k: first[k] + 3 for k in changed}
    retracted = set(rng.sample(keys, 30))

    def clients(content, seed):
        by_country = {c: [k for k in content if k[0] == c] for c in COUNTRIES}

        def client(n):
            mine = random.Random(seed * 100 + n)
            for step in range(10):
                country = mine.choice(COUNTRIES)
                chosen = mine.sample(by_country[country], min(40, len(by_country[country])))
                server = (a, b)[(n + step) % 2]
                reply, _ = push(server, national[country], OP, [item(c, r, content[(c, r)]) for c, r in chosen])
                check(f"push to {server.name}", reply.status == 200 and reply.body["summary"]["rejected"] == 0, reply)
        in_threads(6, client)

    clients(first, 1)
    for country in COUNTRIES:  # every record exists at least once, whatever the random draws missed
        reply, _ = push(b, national[country], OP, [item(c, r, first[(c, r)]) for c, r in keys if c == country])
        check("sweep", reply.status == 200, reply)
    clients(second, 2)
    for n, (country, ref) in enumerate(sorted(retracted)):
        for server in ((a, b) if n % 2 else (b, a)):  # retracted on one, repeated on the other
            gone = server.call("DELETE", f"/v1/operations/{OP}/interceptions/{country}/{ref}", national[country])
            check("retraction", gone.status == 200, gone)

    live = {c: [second.get(k, first[k]) for k in keys if k[0] == c and k not in retracted] for c in COUNTRIES}
    expect_totals([a, b], admin, live)
    for country in COUNTRIES:
        pairs = [(r, 2 if (c, r) in changed else 1) for c, r in keys if c == country and (c, r) not in retracted]
        for server in (a, b):
            got = server.call("GET", f"/v1/operations/{OP}/sync/digest?country={country}", national[country]).body
            check(f"digest of {country} on {server.name}", got["digest"] == digest(pairs) and got["count"] == len(pairs),
                  got)
    note("two instances, 6 clients, 4 countries, overlapping batches, corrections and retractions: "
         "totals and per-country digests exact on both instances")

    seen_a, seen_b = feed(a, admin, OP), feed(b, admin, OP)
    check("the feed is the same from either instance", seen_a == seen_b, f"{len(seen_a)} vs {len(seen_b)}")
    seqs = [c["seq"] for c in seen_a]
    check("feed positions strictly increase", all(x < y for x, y in zip(seqs, seqs[1:])))
    # The feed holds each record once, at its latest version (a tombstone for a retracted one).
    latest = {}
    for change in seen_a:
        if change["entity"] == "interception":
            check(f"{change['key']} appears once in the feed", change["key"] not in latest, change)
            latest[change["key"]] = (change["version"], change["action"])
    check("one feed entry per record", len(latest) == len(keys), f"{len(latest)}")
    for country, ref in keys:
        version, action = latest.get(f"{country}/{ref}", (None, None))
        want = (2 if (country, ref) in changed else 1) + (1 if (country, ref) in retracted else 0)
        kind = "delete" if (country, ref) in retracted else "upsert"
        check(f"{country}/{ref} appears once, at its latest version", (version, action) == (want, kind),
              (version, action))
    note(f"change feed read from either instance: the same {len(seen_a)} changes, each record once at its latest "
         "version (tombstones as deletes), positions strictly increasing")

    issued = a.call("POST", "/v1/tokens", admin, {"sub": "revoke-me", "scope": "operations:read", "countries": ["SN"],
                                                 "ops": [OP], "ttl_seconds": 600})
    check("issue a token on instance a", issued.status == 201, issued)
    victim = issued.body["token"]
    check("it works on instance b", b.call("GET", f"/v1/operations/{OP}", victim).status == 200)
    revoked = a.call("POST", f"/v1/tokens/{issued.body['jti']}/revoke", admin)
    check("revoke on instance a", revoked.status == 200, revoked)
    started = time.monotonic()
    while b.call("GET", f"/v1/operations/{OP}", victim).status != 401:
        check("instance b refuses the revoked token within 3 s", time.monotonic() - started < 3.0)
        time.sleep(0.05)
    note(f"token revoked on instance a refused by instance b after {time.monotonic() - started:.2f} s "
         "(revocation_refresh_ms = 500)")
    verifications_pass(work, url)
    note("tallies verify and audit verify pass after the two-instance run")
    for server in (a, b):
        check(f"{server.name} never answered 500", not server.answered_500(), server.answered_500()[:3])
        server.stop()


def postgres_outage(pg, work):
    url = pg.create("opcoord_outage")
    server = Server(work, url, "outage", db_timeout_secs=2)
    admin, national = setup(server, work, url)
    done = threading.Event()
    pushed = {c: [] for c in COUNTRIES}
    replies = []

    def client(n):
        country = COUNTRIES[n]
        batch = 0
        while not done.is_set():
            items = [item(country, f"{country}-{batch:03d}-{i:02d}", 1 + i) for i in range(20)]
            reply, seen = push(server, national[country], OP, items, retry_until=time.monotonic() + 60)
            replies.extend(seen)
            check("a retried push ends stored", reply.status == 200, reply)
            pushed[country].extend(1 + i for i in range(20))
            batch += 1

    errors = []
    runner = threading.Thread(target=_catch, args=(lambda: in_threads(4, client), errors))
    runner.start()
    time.sleep(1.5)
    pg.stop()
    down = time.monotonic()
    probe = server.call("GET", f"/v1/operations/{OP}/tallies", admin, timeout=20)
    check("a read during the outage is 503 with Retry-After", probe.status == 503 and "retry-after" in probe.headers,
          probe)
    time.sleep(max(0.0, 4.0 - (time.monotonic() - down)))
    pg.start()
    back = time.monotonic()
    while server.call("GET", "/readyz").status != 200:
        check("serves again within 15 s of PostgreSQL's return", time.monotonic() - back < 15)
        time.sleep(0.1)
    recovered = time.monotonic() - back
    time.sleep(1.0)
    done.set()
    runner.join()
    if errors:
        raise errors[0]
    failures = [r for r in replies if not hasattr(r, "status")]
    check("no connection error or hang during the outage", not failures, failures[:3])
    statuses = [r.status for r in replies]
    unavailable = [r for r in replies if r.status == 503]
    check("the outage was seen by the clients", unavailable, f"{len(replies)} replies")
    check("every 503 has Retry-After", all("retry-after" in r.headers for r in unavailable))
    check("never 500", 500 not in statuses and not server.answered_500(), server.answered_500()[:3])
    slowest = max(r.elapsed for r in replies)
    check("every answer within db_timeout_secs + 3 s", slowest < 5.0, f"{slowest:.2f} s")
    check("the same process served throughout", server.process.poll() is None)
    expect_totals([server], admin, pushed)
    verifications_pass(work, url)
    note(f"PostgreSQL stopped for 4 s under 4 pushing clients: {len(unavailable)} answers 503 with Retry-After, "
         f"none 500, slowest answer {slowest:.2f} s, ready again {recovered:.2f} s after PostgreSQL returned "
         f"without a restart; {sum(len(v) for v in pushed.values())} items stored exactly, verifications pass")
    server.stop()


def _catch(run, errors):
    try:
        run()
    except BaseException as error:  # noqa: BLE001 - re-raised by the caller
        errors.append(error)


def killed_mid_batch(url, work, label):
    server = Server(work, url, f"kill-{label}")
    admin, national = setup(server, work, url, ["SN", "GM", "ML"])
    acknowledged, unknown = [], []
    lock = threading.Lock()

    def client(n):
        country = ["SN", "GM", "ML"][n]
        for batch in range(1000):
            items = [item(country, f"{country}-{batch:03d}-{i:03d}", 1 + i % 7) for i in range(200)]
            try:
                reply, _ = push(server, national[country], OP, items)
            except OSError:
                with lock:
                    unknown.append(items)
                return
            check("push before the kill", reply.status == 200, reply)
            with lock:
                acknowledged.append(items)

    errors = []
    runner = threading.Thread(target=_catch, args=(lambda: in_threads(3, client), errors))
    runner.start()
    time.sleep(2.0)
    server.kill()
    runner.join()
    if errors:
        raise errors[0]
    check("batches were acknowledged before the kill", acknowledged)
    check("batches were in flight at the kill", unknown)
    server.start()
    stored, cursor = set(), ""
    while True:
        page = server.call("GET", f"/v1/operations/{OP}/interceptions?limit=1000{cursor}", admin)
        check("list after restart", page.status == 200, page)
        stored |= {i["external_ref"] for i in page.body["items"]}
        if not page.body.get("next_cursor"):
            break
        cursor = f"&cursor={page.body['next_cursor']}"
    lost = [i["external_ref"] for batch in acknowledged for i in batch if i["external_ref"] not in stored]
    check("every acknowledged item survived", not lost, lost[:5])
    halves = [len([i for i in batch if i["external_ref"] in stored]) for batch in unknown]
    check("no half batch", all(n in (0, 200) for n in halves), halves)
    for batch in unknown:
        reply, _ = push(server, national[batch[0]["country"]], OP, batch)
        check("re-push after restart", reply.status == 200, reply)
    everything = acknowledged + unknown
    expect_totals([server], admin, {c: [i["migrants"]["total"] for b in everything for i in b if i["country"] == c]
                                    for c in ["SN", "GM", "ML"]})
    verifications_pass(work, url)
    note(f"{label}: SIGKILL under 3 clients pushing 200-item batches: {len(acknowledged)} acknowledged batches all "
         f"there, {len(unknown)} in flight stored whole or not at all ({halves}), totals exact after re-push, "
         "verifications pass")
    server.stop()


def sqlite_two_writers(work):
    url = os.path.join(work, "shared.db")
    a = Server(work, url, "sqlite-a")
    b = Server(work, url, "sqlite-b")
    admin, national = setup(a, work, url)
    pushed = {c: [] for c in COUNTRIES}

    def client(n):
        country = COUNTRIES[n]
        for batch in range(15):
            items = [item(country, f"{country}-{batch:02d}-{i:02d}", 2 + i % 5) for i in range(50)]
            server = (a, b)[(n + batch) % 2]
            reply, _ = push(server, national[country], OP, items)
            check(f"every write on {server.name} succeeds at once", reply.status == 200, reply)
            pushed[country].extend(i["migrants"]["total"] for i in items)
    in_threads(4, client)
    for server in (a, b):
        check(f"{server.name} never logged 'database is locked'", "locked" not in server.log_text())
        server.stop()
    a.start()
    expect_totals([a], admin, pushed)
    verifications_pass(work, url)
    note("SQLite: two server processes on one file, 4 clients, 60 batches: every write 200 at first try, "
         "no 'database is locked', totals exact")
    a.stop()


def limits(work):
    url = os.path.join(work, "limits.db")
    server = Server(work, url, "limits", header_timeout_ms=1000, body_timeout_secs=2, body_limit_bytes=1048576,
                    keep_alive_secs=1)
    admin, national = setup(server, work, url, ["SN"])
    sn = national["SN"]

    head = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    started = time.monotonic()
    head.sendall(b"POST /v1/operations HTTP/1.1\r\nHost: x\r\n")
    answer = head.recv(4096)
    took = time.monotonic() - started
    check("slow headers: 408 after header_timeout_ms", answer.startswith(b"HTTP/1.1 408") and 0.8 < took < 3, answer)
    head.close()

    body = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    started = time.monotonic()
    body.sendall((f"POST /v1/operations/{OP}/interceptions/batch HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {sn}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                  '{"items": [').encode())
    answer = body.recv(4096)
    took = time.monotonic() - started
    check("slow body: 408 problem after body_timeout_secs",
          answer.startswith(b"HTTP/1.1 408") and b"request-timeout" in answer and 1.8 < took < 5, answer)
    body.close()
    note(f"a client sending its headers slowly is cut off with 408 after 1 s; one sending its body slowly, "
         f"with a 408 problem after {took:.1f} s")

    kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    kept.request("GET", "/healthz")
    kept.getresponse().read()
    kept.request("GET", "/healthz")
    check("a second request on a kept-alive connection", kept.getresponse().status == 200)
    time.sleep(2.0)
    try:
        kept.request("GET", "/healthz")
        closed = kept.getresponse().status is None
    except (http.client.HTTPException, OSError):
        closed = True
    check("an idle connection is closed after keep_alive_secs", closed)
    kept.close()
    note("an idle keep-alive connection is closed after keep_alive_secs (1 s)")

    big = [item("SN", f"BIG-{i}", 3) | {"notes": "x" * 1900} for i in range(600)]
    too_big = server.call("POST", f"/v1/operations/{OP}/interceptions/batch", sn, {"items": big})
    check("body over body_limit_bytes: 413", too_big.status == 413, too_big)
    many = [item("SN", f"MANY-{i}", 3) for i in range(1001)]
    too_many = server.call("POST", f"/v1/operations/{OP}/interceptions/batch", sn, {"items": many})
    check("1,001 items: 422 at /items", too_many.status == 422 and
          too_many.body["errors"][0]["pointer"] == "/items", too_many)
    long_notes = server.call("PUT", f"/v1/operations/{OP}/interceptions/SN/LONG", sn,
                             item("SN", "LONG", 3) | {"notes": "x" * 2001})
    check("notes over 2,000 characters: 422 at /notes", long_notes.status == 422 and
          long_notes.body["errors"][0]["pointer"] == "/notes", long_notes)
    long_ref = "R" * 129
    too_long_ref = server.call("PUT", f"/v1/operations/{OP}/interceptions/SN/{long_ref}", sn, item("SN", long_ref, 3))
    check("external_ref over 128 characters: 400 naming it", too_long_ref.status == 400 and
          too_long_ref.body["errors"][0]["parameter"] == "external_ref", too_long_ref)
    page = server.call("GET", "/v1/operations?limit=1001", admin)
    check("limit over 1,000: 400 naming `limit`", page.status == 400 and
          page.body["errors"][0]["parameter"] == "limit", page)
    expect_totals([server], admin, {"SN": []})
    note("body over the limit 413, 1,001 items refused, notes of 2,001 characters 422, a 129-character "
         "external_ref and a page size of 1,001 400; nothing of them stored")
    server.stop()

    for pool_size, want in ((1, 503), (2, 200)):
        folder = os.path.join(work, f"pool-{pool_size}")
        os.makedirs(folder)
        path = os.path.join(folder, "pool.db")
        pooled = Server(folder, path, f"pool-{pool_size}", pool_size=pool_size, db_timeout_secs=1,
                        sqlite_busy_timeout_ms=4000)
        admin = token(folder, path, "pool-admin", "*", "*")
        import sqlite3
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        writer = threading.Thread(target=lambda: pooled.call("POST", "/v1/operations", admin, {
            "id": "held", "name": "held", "starts_on": "2025-09-08", "ends_on": "2025-09-14"}))
        writer.start()
        time.sleep(0.5)  # the writer now holds a pooled connection, waiting for the lock
        reader = pooled.call("GET", "/v1/operations", admin)
        other.execute("ROLLBACK")
        other.close()
        writer.join()
        check(f"pool_size {pool_size}: a read beside a stuck writer is {want}", reader.status == want, reader)
        if want == 503:
            check("503 after db_timeout_secs, with Retry-After",
                  0.8 < reader.elapsed < 3 and "retry-after" in reader.headers, reader.elapsed)
        pooled.stop()
    note("pool_size: with 1 connection held by a writer a read waits db_timeout_secs then gets 503 with "
         "Retry-After; with 2 it is served")


def main(names):
    work = tempfile.mkdtemp(prefix="opcoord-resilience.")
    pg = None
    scenarios = {
        "instances": lambda: several_instances(pg, folder("instances")),
        "outage": lambda: postgres_outage(pg, folder("outage")),
        "kill-postgres": lambda: killed_mid_batch(pg.create("opcoord_kill"), folder("kill-pg"), "PostgreSQL"),
        "kill-sqlite": lambda: killed_mid_batch(os.path.join(folder("kill-sqlite"), "kill.db"),
                                                folder("kill-sqlite"), "SQLite"),
        "sqlite-writers": lambda: sqlite_two_writers(folder("sqlite-writers")),
        "limits": lambda: limits(folder("limits")),
    }

    def folder(name):
        path = os.path.join(work, name)
        os.makedirs(path, exist_ok=True)
        return path

    chosen = names or list(scenarios)
    failed = []
    try:
        if any(n in ("instances", "outage", "kill-postgres") for n in chosen):
            pg = Postgres()
        for name in chosen:
            print(f"==> {name}", flush=True)
            started = time.monotonic()
            try:
                scenarios[name]()
                print(f"  ok ({time.monotonic() - started:.1f} s)", flush=True)
            except (Failed, OSError, KeyError, IndexError, TypeError) as error:
                print(f"  FAILED: {type(error).__name__}: {error}", flush=True)
                failed.append(name)
    finally:
        if pg:
            pg.destroy()
    if failed:
        print(f"resilience: FAILED: {', '.join(failed)} (logs in {work})")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(f"resilience: {len(chosen)} scenarios, {len(held)} properties held")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

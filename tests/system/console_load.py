"""Measures the console's overview on a large operation: the time to its first render (headline
figures, map and country table drawn) and to complete (daily series and breakdowns too), and the
bytes transferred, in headless Chromium on loopback, with a cold cache and then a warm one.

Seed the operation first with `cargo bench --bench console` (bench/console.rs: 119 countries,
1,000,000 interceptions), then:

    python3 tests/system/console_load.py --dir target/console-bench --database-url URL [--runs 5]

It serves that database with the release binary (OPCOORD_BIN to change it) and prints, per run
and as medians: milliseconds from navigation to first render and to complete, and the bytes
transferred (compressed, headers included, as the browser counts them) and their uncompressed size.
"""

import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("OPCOORD_BIN", os.path.join(HERE, "..", "..", "target", "release", "opcoord"))
sys.path.insert(0, HERE)
from harness import Server, token  # noqa: E402
from console import Browser  # noqa: E402

OP = "bench-console"
TIMING = """
const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
return {
  first: mark('overview-first-render'), complete: mark('overview-complete'),
  transferred: entries.reduce((sum, e) => sum + (e.transferSize || 0), 0),
  decoded: entries.reduce((sum, e) => sum + (e.decodedBodySize || 0), 0),
  requests: entries.length,
  largest: entries.map((e) => [e.name.replace(location.origin, ''), e.transferSize, e.decodedBodySize])
    .sort((a, b) => b[1] - a[1]).slice(0, 6),
};
"""


def measure(browser, cold):
    if cold:
        browser.driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    browser.driver.get("about:blank")
    browser.open(f"#/ops/{OP}")
    browser.wait("the overview complete", lambda: browser.driver.execute_script(
        "return document.getElementById('main').dataset.complete"), seconds=60)
    return browser.driver.execute_script(TIMING)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default="target/console-bench")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tally-cache-ms", type=int, help="the server's tally_cache_ms (default: its own, 1000)")
    args = parser.parse_args()
    folder = os.path.abspath(args.dir)
    database_url = args.database_url if "://" in args.database_url else os.path.abspath(args.database_url)
    settings = {} if args.tally_cache_ms is None else {"tally_cache_ms": args.tally_cache_ms}
    server = Server(folder, database_url, name="console-load", **settings)
    browser = None
    try:
        tok = token(folder, database_url, "console-load", "*", OP, "operations:read tallies:read interceptions:read")
        browser = Browser(f"http://127.0.0.1:{server.port}", tempfile.mkdtemp(prefix="console-load-"), None)
        browser.sign_in(tok)
        browser.wait("the first overview", lambda: browser.driver.execute_script(
            "return document.getElementById('main').dataset.complete"), seconds=60)
        rows = {"cold": [], "warm": []}
        for run in range(args.runs):
            for kind in ("cold", "warm"):
                m = measure(browser, kind == "cold")
                rows[kind].append(m)
                print(f"run {run + 1} {kind}: first render {m['first']:.0f} ms, complete {m['complete']:.0f} ms, "
                      f"{m['requests']} requests, {m['transferred'] / 1000:.1f} kB transferred "
                      f"({m['decoded'] / 1000:.1f} kB decoded)", flush=True)
        print("\nlargest transfers of the last cold run (path, bytes transferred, bytes decoded):")
        for name, sent, decoded in rows["cold"][-1]["largest"]:
            print(f"  {name[:100]}  {sent}  {decoded}")
        print("\nmedians:")
        for kind, ms in rows.items():
            med = lambda key: statistics.median(m[key] for m in ms)  # noqa: E731
            print(f"  {kind}: first render {med('first'):.0f} ms, complete {med('complete'):.0f} ms, "
                  f"{med('transferred') / 1000:.1f} kB transferred, {med('decoded') / 1000:.1f} kB decoded")
        errors = browser.errors()
        if errors:
            print("browser console errors:", errors, file=sys.stderr)
    finally:
        if browser:
            browser.quit()
        server.stop()


if __name__ == "__main__":
    main()

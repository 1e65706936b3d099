"""The coordination console in a real browser (headless Chromium driven by Selenium) against a
real `opcoord serve` holding the demo operation.

- sign in with the demo's coordination token; the overview shows 4,414 victims safeguarded and
  12,992 migrants detected;
- an interception pushed through the API shows on the open page within 10 seconds;
- a note and a unit name with markup render as text (no element made, no script run);
- signed in as Senegal, only Senegal's figures and records are shown, and the scope is visible;
- a revoked token leads back to sign-in with a clear message;
- the reporting board: the demo's completeness, the countries late today, Spain reopened with
  its reason, the "late only" filter and its CSV; the open board follows an interception pushed
  through the API within 10 seconds (the day's cell and the summary), keeping the filter and the
  sort, without a reload, and stops checking once left; a country token sees its own row only and
  declares its figures final after a confirmation, which the secretariat approves, then reopens
  with a reason (markup in it shows as text); another country's desk files a nil return after a
  confirmation; a record pushed while the question is open waits until it is answered and the
  keyboard focus has left the table;
- a national desk's spreadsheet import: the CSV template, a dry run whose row problems are listed
  by row, column and value (and no import offered), then a clean dry run, the import, and the
  history;
- releases: a coordination token without the release scopes never sees the screen; the
  secretariat makes a draft, finds a withheld small figure marked as such beside its true value,
  publishes it after a confirmation (which also says the draft misses a later push), opens the public page and finds the published figures there,
  and discards a second draft; a token with releases:read alone reviews but changes nothing;
- the console's responses carry the Content-Security-Policy; the browser console shows no error;
- axe-core (vendored in tests/system/vendor) finds no WCAG 2.2 A or AA violation on any screen;
- a screenshot of every screen (`--shots DIR`; `--shots docs/console` refreshes the committed ones).

Usage: python3 tests/system/console.py [--database-url URL] [--shots DIR]
(default: a SQLite file in a temporary folder). Needs chromium, chromium-driver and selenium.
"""

import argparse
import base64
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failed, Server, call, check, cli, token  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

OP = "demo-liberterra-iii"
RELEASE_SCOPES = "operations:read tallies:read interceptions:read releases:read releases:write"
# How the public page names each metric's section (src/domain/disclosure/page.rs).
PUBLIC_METRICS = {"interceptions": "Interceptions", "migrants_detected": "Irregular migrants detected",
                  "victims_safeguarded": "Victims safeguarded", "arrests": "Arrests",
                  "investigations_opened": "Investigations opened", "seizures": "Seizures (entries)",
                  "officers_deployed": "Officers deployed"}
WALL = (1920, 1080)
PHONE = (360, 780)
MARKUP = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2"> <b>bold?</b>'
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--lang=en-GB"]
results = []


def step(name):
    """Runs the decorated check at once, recording whether it held."""
    def run(fn):
        started = time.monotonic()
        try:
            fn()
        except Exception as e:  # any failure of a step is reported with its name, and what the page showed
            results.append((name, False, f"{type(e).__name__}: {e}"))
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            if Browser.current:
                print(f"     the page at {Browser.current.driver.current_url}:\n{Browser.current.text('body')[:1500]}", flush=True)
            raise
        results.append((name, True, ""))
        print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
    return run


class Browser:
    """A headless Chromium with a fresh profile, its console log read after each step."""

    current = None
    axe = None

    def __init__(self, base, folder, shots):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=folder, prefix='chromium-')}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_window_size(*WALL)
        self.base, self.shots = base, shots
        Browser.current = self

    def open(self, fragment):
        self.driver.get(f"{self.base}/console/{fragment}")

    def go(self, fragment):
        """Moves within the page (a hash change: the session and the page stay)."""
        self.driver.execute_script("location.hash = arguments[0]", fragment)

    def wait(self, what, condition, seconds=30):
        try:
            return WebDriverWait(self.driver, seconds, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition())
        except Exception as e:
            raise Failed(f"{what}: not seen within {seconds} s ({type(e).__name__})") from None

    def text(self, css):
        """The rendered text of the first element matching `css` (read at once: the page redraws)."""
        return self.driver.execute_script(
            "const el = document.querySelector(arguments[0]); return el ? el.innerText.trim() : ''", css)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def heading(self):
        return self.text("main h1")

    def sign_in(self, tok):
        self.open("#/signin")
        self.wait("the sign-in form", lambda: self.all("#token"))
        self.all("#token")[0].send_keys(tok)
        self.all("form.signin button[type=submit]")[0].click()

    def errors(self, allowed=()):
        """Console messages of level SEVERE since the last call, less those matching `allowed`."""
        entries = self.driver.get_log("browser")
        return [e["message"] for e in entries
                if e["level"] == "SEVERE" and not any(re.search(a, e["message"]) for a in allowed)]

    def no_errors(self, allowed=()):
        errors = self.errors(allowed)
        check("no error in the browser console", not errors, json.dumps(errors[:5]))

    def shot(self, name, size=WALL, full=True):
        if not self.shots:
            return
        self.driver.set_window_size(*size)
        time.sleep(0.3)
        if full:
            height = self.driver.execute_script("return document.documentElement.scrollHeight")
            self.driver.set_window_size(size[0], min(max(height, size[1]), 4000))
            time.sleep(0.3)
        self.driver.save_screenshot(os.path.join(self.shots, f"{name}.png"))
        self.driver.set_window_size(*WALL)

    def accessible(self, screen):
        """Runs axe-core (tests/system/vendor, 4.11.0) on the page: no WCAG 2.2 A or AA violation."""
        if not Browser.axe:
            with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor", "axe.min.js")) as f:
                Browser.axe = f.read()
        if not self.driver.execute_script("return !!window.axe"):
            self.driver.execute_script(Browser.axe)
        self.driver.set_script_timeout(60)
        found = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
            ".then((r) => done(r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at `"
            " + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '))))"
            ".catch((e) => done([`axe failed: ${e}`]))")
        check(f"no WCAG 2.2 AA violation found by axe on {screen}", not found, json.dumps(found, indent=1))

    def quit(self):
        self.driver.quit()


def test_record(place):
    """The record the scenario pushes for Senegal, at `place`; its note is markup."""
    return {
        "kind": "sea_departure", "occurred_at": "2025-09-12T05:40:00Z", "location": {"place": place},
        "migrants": {"total": 58, "children": 4, "by_nationality": {"SN": 40, "GM": 18}},
        "victims": {"total": 12, "by_exploitation": {"forced_labour": 12}}, "arrests": 3,
        "notes": MARKUP}


def headline(browser, metric):
    return browser.text(f'[data-testid=headline] [data-metric="{metric}"] .value')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--shots", help="folder for the screenshots")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="opcoord-console-")
    database_url = args.database_url or os.path.join(folder, "console.db")
    shots = os.path.abspath(args.shots) if args.shots else None
    if shots:
        os.makedirs(shots, exist_ok=True)
    server = Server(folder, database_url, name="console")
    browser = None
    try:
        code, out, err = cli(folder, database_url, "demo")
        check("opcoord demo", code == 0, err)
        tokens = dict(re.findall(r"export (\w+)='?([^'\s]+)'?", out))
        coordination, national = tokens["COORDINATION_TOKEN"], tokens["NATIONAL_TOKEN"]
        admin = token(folder, database_url, "console-test-secretariat", "*", "*")
        base = f"http://127.0.0.1:{server.port}"
        browser = Browser(base, folder, shots)
        run(server, browser, admin, coordination, national, folder, database_url)
        check("no 5xx answered", not [line for line in server.log_text().splitlines() if re.search(r" 5\d\d ", line)],
              server.log_tail())
    except Exception as e:  # a failed step is already recorded; show the server's last words
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        print(server.log_tail(), file=sys.stderr)
    finally:
        if browser:
            browser.quit()
        server.stop()
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"\nthe console in Chromium on {'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'}")
    print(f"console: {passed} passed, {failed} failed")
    shutil.rmtree(folder, ignore_errors=True)
    sys.exit(0 if failed == 0 and passed > 0 else 1)


def sign_out(b):
    b.all(".who-details summary")[0].click()
    [button for button in b.all(".who-actions button") if button.text == "Sign out"][0].click()


def switch_to(b, tok):
    """Signs out, then in with another token, and waits for the screen it lands on."""
    sign_out(b)
    b.sign_in(tok)
    b.wait("the first screen", lambda: b.driver.execute_script("return document.getElementById('main').dataset.complete"))


def run(server, b, admin, coordination, national, folder, database_url):  # noqa: C901 (one scenario, in steps)
    @step("the console is served with its Content-Security-Policy and cacheable assets")
    def _():
        page = call(server.port, "GET", "/console/")
        check("200", page.status == 200, str(page.status))
        csp = page.headers.get("content-security-policy", "")
        for part in ("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"):
            check(f"CSP has {part}", part in csp, csp)
        redirect = call(server.port, "GET", "/console")
        check("/console redirects to /console/", redirect.status == 308 and redirect.headers.get("location") == "/console/")

    @step("signing in with the coordination token shows the overview: 4,414 victims, 12,992 migrants")
    def _():
        b.open("")
        b.wait("the sign-in screen", lambda: b.heading() == "Sign in")
        b.shot("sign-in", full=False)
        b.accessible("sign-in")
        b.sign_in(coordination)
        b.wait("the overview", lambda: b.driver.execute_script("return document.getElementById('main').dataset.complete"))
        check("victims safeguarded", headline(b, "victims_safeguarded") == "4,414", headline(b, "victims_safeguarded"))
        check("migrants detected", headline(b, "migrants_detected") == "12,992", headline(b, "migrants_detected"))
        check("the token's countries are shown", b.text("[data-testid=token-countries]") == "All countries")
        rows = b.all("[data-testid=country-table] tbody tr")
        check("119 countries in the table", len(rows) == 119, str(len(rows)))
        check("country names, not codes", "Senegal" in b.text("[data-testid=country-table]"))
        check("a map of countries", len(b.all("svg.map path.c5, svg.map circle.c5")) > 0)
        b.wait("the charts", lambda: len(b.all(".chart-figure canvas")) >= 5)
        country_sort = [x for x in b.all("[data-testid=country-table] thead button") if x.text.startswith("Country")][0]
        country_sort.send_keys(Keys.ENTER)
        b.wait("sorted by country from the keyboard", lambda: b.driver.execute_script(
            "return document.querySelector('[data-testid=country-table] thead th').getAttribute('aria-sort')") == "ascending")
        check("A first", b.text("[data-testid=country-table] tbody th").startswith("Al"), b.text("[data-testid=country-table] tbody th"))
        downloads = tempfile.mkdtemp(dir=folder, prefix="downloads-")
        b.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        [x for x in b.all("button") if x.text.startswith("Download CSV")][0].click()
        b.wait("the CSV file", lambda: [f for f in os.listdir(downloads) if f.endswith(".csv")])
        with open(os.path.join(downloads, os.listdir(downloads)[0]), encoding="utf-8-sig") as f:
            csv_text = f.read()
        check("the CSV has the totals", "total,*,All countries shown,victims_safeguarded,,,4414" in csv_text, csv_text[:300])
        check("the CSV has every country by name", "country,SN,Senegal,victims_safeguarded" in csv_text)
        check("the CSV has the breakdowns", "breakdown,*,All countries shown,victims_safeguarded,exploitation,forced_labour," in csv_text)
        check("no markup in the URL but the route", "eyJ" not in b.driver.current_url)
        stored = b.driver.execute_script("return [document.cookie, Object.keys(localStorage).length, Object.keys(sessionStorage)]")
        check("the token is kept in sessionStorage only", stored[0] == "" and stored[1] == 0 and stored[2] == ["opcoord.console.token"], str(stored))
        b.no_errors()

    @step("a push through the API shows on the open overview within 10 seconds")
    def _():
        before = headline(b, "victims_safeguarded")
        answer = call(server.port, "PUT", f"/v1/operations/{OP}/interceptions/SN/CONSOLE-TEST-1", token=national,
                      body=test_record("Mbour"))
        check("the push is stored", answer.status == 201, repr(answer))
        pushed = time.monotonic()
        b.wait("4,426 victims on the open page", lambda: headline(b, "victims_safeguarded") == "4,426", seconds=10)
        print(f"     {before} → 4,426 on the page {time.monotonic() - pushed:.1f} s after the push")
        check("migrants too", headline(b, "migrants_detected") == "13,050", headline(b, "migrants_detected"))
        # Mali states a figure above what its records give: it stands, and both are shown. (Mali's
        # figures are provisional in the demo; the Gambia's, approved, would refuse the write.)
        mali = call(server.port, "GET", f"/v1/operations/{OP}/tallies?metric=victims_safeguarded&country=ML", token=admin)
        derived = mali.body["countries"][0]["derived"]
        stated = call(server.port, "PUT", f"/v1/operations/{OP}/tallies/ML/victims_safeguarded", token=admin,
                      body={"value": derived + 8, "as_of": "2025-09-13"})
        check("the stated figure is stored", stated.status == 201, repr(stated))
        b.wait("the stated figure in the total", lambda: headline(b, "victims_safeguarded") == "4,434", seconds=10)
        card = b.text('[data-testid=headline] [data-metric="victims_safeguarded"]')
        check("stated and derived side by side", "from records: 4,426" in card and "1 country differs" in card, card)
        check("and in the country's row", f"records: {derived}" in b.text("[data-testid=country-table]"))
        b.no_errors()
        b.accessible("the overview")
        b.shot("overview")
        b.driver.set_window_size(*PHONE)
        b.accessible("the overview on a phone")
        b.shot("overview-phone", size=PHONE)

    @step("a note and a unit name with markup render as text")
    def _():
        unit = call(server.port, "POST", f"/v1/operations/{OP}/units", token=admin, body={
            "country": "SN", "name": '<img src=x onerror="window.__pwned=3">Unité <i>spéciale</i>', "kind": "field_unit",
            "officers_deployed": 5})
        check("the unit is stored", unit.status in (200, 201), repr(unit))
        # Senegal's desk corrects the place: the record's history shows both versions.
        fixed = call(server.port, "PUT", f"/v1/operations/{OP}/interceptions/SN/CONSOLE-TEST-1", token=national,
                     body=test_record("Mbour, Petite-Côte"))
        check("the correction is version 2", fixed.status == 200 and fixed.body.get("version") == 2, repr(fixed))
        b.go(f"#/ops/{OP}/countries/SN/records/CONSOLE-TEST-1")
        b.wait("the record", lambda: b.all("[data-testid=notes]"))
        check("the note reads as it was sent", b.text("[data-testid=notes]") == MARKUP, b.text("[data-testid=notes]"))
        check("no element made from the note", not b.all("[data-testid=notes] *"))
        b.wait("its history", lambda: len(b.all("[data-testid=history] tbody tr")) == 2)
        history = [row.text for row in b.all("[data-testid=history] tbody tr")]
        check("version 1 created, version 2 changed the location",
              history[0].startswith("1") and "Created" in history[0]
              and history[1].startswith("2") and "Changed" in history[1] and "ocation" in history[1], str(history))
        b.accessible("a record")
        b.shot("record")
        b.go(f"#/ops/{OP}/countries/SN")
        b.wait("the units", lambda: "spéciale" in b.text("[data-testid=units]"))
        check("the unit name reads as it was sent", "<i>spéciale</i>" in b.text("[data-testid=units]"))
        check("no element made from the unit name", not b.all("[data-testid=units] img, [data-testid=units] i"))
        b.wait("the records", lambda: len(b.all("[data-testid=records] tbody tr")) > 0)
        check("no script ran", b.driver.execute_script("return window.__pwned") is None)
        b.accessible("a country")
        b.shot("country")
        b.no_errors()

    @step("the other screens: operations, countries, live")
    def _():
        b.go("#/")
        b.wait("the operations", lambda: b.heading() == "Operations" and "4,434" in b.text(".op-figures"))
        b.accessible("the operations")
        b.shot("operations", full=False)
        b.go(f"#/ops/{OP}/countries")
        b.wait("the countries", lambda: len(b.all(".country-index li")) == 119)
        b.go(f"#/ops/{OP}/live")
        b.wait("the live screen", lambda: b.all("[data-testid=feed] li") and b.all('[data-metric="victims_safeguarded"] .value'))
        check("live shows the total", b.text('[data-metric="victims_safeguarded"] .value') == "4,434")
        answer = call(server.port, "PUT", f"/v1/operations/{OP}/interceptions/SN/CONSOLE-TEST-2", token=national, body={
            "kind": "land_border", "occurred_at": "2025-09-13T08:00:00Z", "victims": {"total": 3}, "arrests": 1})
        check("a second push", answer.status == 201, repr(answer))
        b.wait("the change in the feed", lambda: "CONSOLE-TEST-2" in b.text("[data-testid=feed]"))
        b.wait("live total", lambda: b.text('[data-metric="victims_safeguarded"] .value') == "4,437")
        check("live says what changed since it opened", "+3" in b.text('[data-metric="victims_safeguarded"] .delta'))
        b.accessible("live")
        b.shot("live", full=False)
        b.no_errors()

    @step("the reporting board: the demo's completeness, late and reopened countries, late only, CSV")
    def _():
        board = call(server.port, "GET", f"/v1/operations/{OP}/reporting", token=coordination).body
        summary = board["summary"]
        b.go(f"#/ops/{OP}/reporting")
        b.wait("the board", lambda: b.heading() == "Reporting" and len(b.all("[data-testid=reporting-table] tbody tr")) == 119)
        check("the demo's completeness (docs/REPORTING.md)", summary["completeness_pct"] == 97.5, str(summary))
        cards = b.text("[data-testid=reporting-summary]")
        check("completeness and timeliness as the API says", "97.5 %" in cards and f"{summary['timeliness_pct']} %" in cards, cards)
        check("country-days with thousands separators", f"of {summary['expected']:,} country-days" in cards, cards)
        late_today = b.text('[data-summary="late-today"]')
        check("the countries late today, by name", summary["countries_late_today"] == ["CA", "JM", "TG"]
              and "Canada, Jamaica, Togo" in late_today, late_today)
        spain = b.text('[data-testid=reporting-table] tr[data-country="ES"]')
        check("Spain reopened", "Reopened" in spain and "Spain (ES)" in spain, spain)
        check("with its reason", "Barcelona salon network" in b.text("[data-testid=reopened]"), b.text("[data-testid=reopened]"))
        canada = b.text('[data-testid=reporting-table] tr[data-country="CA"]')
        check("a late day says so in words, not by colour alone", "✗ Late" in canada, canada)
        check("a nil return too", b.all('[data-testid=reporting-table] [data-state="received_nil"]'))
        late = sorted({d["country"] for d in board["days"] if d["state"] == "late"})
        b.all("#late-only")[0].click()
        b.wait("late only", lambda: len(b.all("[data-testid=reporting-table] tbody tr")) == len(late))
        shown = sorted(r.get_attribute("data-country") for r in b.all("[data-testid=reporting-table] tbody tr"))
        check("the countries with a late day, and only them", shown == late and len(late) == 7, f"{shown} {late}")
        downloads = tempfile.mkdtemp(dir=folder, prefix="downloads-")
        b.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        [x for x in b.all("button") if x.text.startswith("Download CSV")][0].click()
        b.wait("the CSV file", lambda: [f for f in os.listdir(downloads) if f.endswith(".csv")])
        with open(os.path.join(downloads, os.listdir(downloads)[0]), encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
        countries = sorted({line.split(",")[0] for line in lines[1:]})
        check("the CSV holds the rows shown", lines[0].startswith("country,country_name,day,state") and countries == late,
              f"{lines[:2]} {countries}")
        check("with names", any(line.startswith("CA,Canada,") and ",late," in line for line in lines), lines[1])
        b.accessible("the reporting board")
        b.driver.execute_script("document.activeElement.blur(); document.getElementById('h-board').scrollIntoView()")
        b.shot("reporting-late", full=False)
        b.no_errors()

    @step("the reporting board follows a push without a reload, keeping the filter and the sort")
    def _():
        board = call(server.port, "GET", f"/v1/operations/{OP}/reporting", token=coordination).body
        days, latest = sorted({d["day"] for d in board["days"]}), board["summary"]["latest_due_day"]
        check("Jamaica late for the latest day", "JM" in board["summary"]["countries_late_today"], str(board["summary"]))
        cell = f'[data-testid=reporting-table] tr[data-country="JM"] > :nth-child({3 + days.index(latest)}) [data-state]'
        check("still late only", b.all("#late-only:checked"))
        [x for x in b.all("[data-testid=reporting-table] thead button") if x.text == "Days late"][0].click()
        sorted_by = ("return [...document.querySelectorAll('[data-testid=reporting-table] thead th')]"
                     ".find((th) => th.hasAttribute('aria-sort'))?.innerText")
        b.wait("late only, most days late first", lambda: b.driver.execute_script(sorted_by) == "Days late" and len(b.all(cell)) == 1)
        check("Jamaica's day is late", b.all(cell)[0].get_attribute("data-state") == "late", b.text(cell))
        late_days = int(b.text('[data-summary="late"] .value'))
        seq = int(b.text("[data-testid=as-of-seq]").replace(",", ""))
        b.driver.execute_script("window.__sameDocument = 1")
        answer = call(server.port, "PUT", f"/v1/operations/{OP}/interceptions/JM/CONSOLE-BOARD-1", token=admin,
                      body={"kind": "checkpoint", "occurred_at": f"{latest}T10:00:00Z", "arrests": 1})
        check("the push is stored", answer.status == 201, repr(answer))
        pushed = time.monotonic()
        b.wait("Jamaica's day received on the open board", lambda: b.text(cell).startswith("✓ Received"), seconds=10)
        print(f"     late → received on the board {time.monotonic() - pushed:.1f} s after the push")
        check("with its record, after the deadline", "1 record" in b.text(cell) and "after the deadline" in b.text(cell), b.text(cell))
        after = call(server.port, "GET", f"/v1/operations/{OP}/reporting", token=coordination).body
        today = b.text('[data-summary="late-today"]')
        check("the summary: Jamaica no longer late for the latest day", after["summary"]["countries_late_today"] == ["CA", "TG"]
              and "Canada, Togo" in today and "Jamaica" not in today, today)
        late_now = b.text('[data-summary="late"] .value')
        check("one late country-day less", late_now == f"{late_days - 1:,}" == f"{after['summary']['late']:,}", late_now)
        check("completeness as the API now says", f"{after['summary']['completeness_pct']} %" in b.text('[data-summary="completeness"]'),
              b.text('[data-summary="completeness"]'))
        check("the board's position moved on", int(b.text("[data-testid=as-of-seq]").replace(",", "")) > seq,
              b.text("[data-testid=as-of-seq]"))
        counted = {}
        for d in after["days"]:
            counted[d["country"]] = counted.get(d["country"], 0) + (d["state"] == "late")
        expected = sorted((c for c, n in counted.items() if n), key=lambda c: (-counted[c], c))
        shown = [r.get_attribute("data-country") for r in b.all("[data-testid=reporting-table] tbody tr")]
        check("still late only, still most days late first", shown == expected and b.all("#late-only:checked")
              and b.driver.execute_script(sorted_by) == "Days late", f"{shown} {expected}")
        check("no reload", b.driver.execute_script("return window.__sameDocument") == 1)
        b.all("#late-only")[0].click()
        b.wait("every country again", lambda: len(b.all("[data-testid=reporting-table] tbody tr")) == 119)
        b.driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        b.shot("reporting")
        # Leaving the board stops its checks: the countries' index reads nothing but the operation.
        b.go(f"#/ops/{OP}/countries")
        b.wait("the countries", lambda: len(b.all(".country-index li")) == 119)
        left = b.driver.execute_script("return performance.now()")
        time.sleep(3.5)
        polls = b.driver.execute_script(
            "return performance.getEntriesByType('resource').filter((e) => e.startTime > arguments[0]"
            " && /\\/(reporting|changes|tallies)\\b/.test(e.name)).map((e) => e.name)", left)
        check("no check after leaving the board", polls == [], str(polls))
        b.no_errors()

    @step("a token without the release scopes sees no releases screen")
    def _():
        nav = [a.text for a in b.all("#nav a")]
        check("no Releases in the navigation", "Releases" not in nav and "Live" in nav, str(nav))
        b.go(f"#/ops/{OP}/releases")
        b.wait("the refusal", lambda: b.heading() == "Not allowed")
        check("it says which scope it needs", "releases:read" in b.text("main"), b.text("main"))
        check("no release shown", not b.all("[data-testid=releases]"))
        b.no_errors()

    sub = "console-test-secretariat-desk"
    secretariat = token(folder, database_url, sub, "*", OP, RELEASE_SCOPES)

    @step("releases: make a draft, a withheld small figure marked as such, publish, the public page")
    def _():
        sign_out(b)
        b.sign_in(secretariat)
        b.wait("Releases in the navigation", lambda: [a for a in b.all("#nav a") if a.text == "Releases"])
        [a for a in b.all("#nav a") if a.text == "Releases"][0].click()
        b.wait("the releases", lambda: b.heading() == "Releases" and b.all("[data-testid=releases] tbody tr"))
        listed = b.text("[data-testid=releases]")
        check("the demo's release, published, with who made it", "Release 1" in listed and "demo-loader" in listed, listed)
        [x for x in b.all("button") if x.text == "Make a draft"][0].click()
        b.wait("the draft", lambda: b.heading().startswith("Release 2") and b.all("[data-testid=review] tbody tr"))
        check("marked a draft", b.text("[data-testid=release-status]") == "Draft")
        check("and current", "No change since" in b.text("[data-testid=draft-current]"))
        review = call(server.port, "GET", f"/v1/operations/{OP}/releases/2", token=secretariat).body
        base = review["release"]["rounding_base"]
        summary = b.text("[data-testid=withheld-summary]")
        check("the number of withheld counts", f"{review['withheld']:,} counts from 1 to {base - 1}" in summary, summary)
        victims = review["publication"]["headline"]["victims_safeguarded"]["value"]
        card = b.text('[data-testid=release-headline] [data-metric="victims_safeguarded"]')
        check("the headline as published, beside the true count", f"{victims:,}" in card and "true count" in card, card)
        small = [f for f in review["review"] if f["treatment"] == "withheld" and f["country"] and f["dimension"] is None]
        check("the draft withholds a country's small count", small, json.dumps(review["withheld"]))
        small = small[0]
        Select(b.all("#review-metric")[0]).select_by_value(small["metric"])
        row = f'[data-testid=review] tr[data-figure="{small["metric"]}/{small["country"]}//"]'
        b.wait("the small figure's row", lambda: b.all(row))
        text = b.text(row)
        check("its true value beside 'fewer than'", f"\t{small['value']}\tfewer than {base}" in text, repr(text))
        check("marked withheld", b.text(f"{row} [data-treatment]") == "Withheld", text)
        check("and among the withheld", b.all(f'.withheld-table tr[data-figure="{small["metric"]}/{small["country"]}//"]'))
        statement = review["publication"]["method"]["statement"]
        check("the method in words", b.text("[data-testid=method-statement]") == statement)
        b.accessible("a draft release")
        b.driver.execute_script("window.scrollTo(0, 0)")
        b.shot("release", full=False)
        Select(b.all("#review-metric")[0]).select_by_value("victims_safeguarded")
        b.driver.execute_script("document.activeElement.blur(); document.getElementById('h-figures').scrollIntoView()")
        b.shot("release-figures", full=False)
        # On a phone, the figures under the base only: the layout is the same, and axe takes a
        # second less than over every figure.
        Select(b.all("#review-show")[0]).select_by_value("small")
        shown = {x.get_attribute("data-treatment") for x in b.all("[data-testid=review] tbody [data-treatment]")}
        check("only figures under the base", shown and shown <= {"withheld", "zero", "unnamed"}, str(shown))
        b.driver.set_window_size(*PHONE)
        b.accessible("a draft release on a phone")
        b.driver.execute_script("document.activeElement.blur(); document.querySelector('.withheld-table').scrollIntoView();"
                                "window.scrollBy(0, -60)")
        b.shot("release-phone", size=PHONE, full=False)
        # A push after the draft: the confirmation says the draft misses it.
        late = call(server.port, "PUT", f"/v1/operations/{OP}/interceptions/SN/CONSOLE-TEST-3", token=national, body={
            "kind": "checkpoint", "occurred_at": "2025-09-14T09:00:00Z", "arrests": 1})
        check("a push after the draft", late.status == 201, repr(late))
        [x for x in b.all("button") if x.text.startswith("Publish release 2")][0].click()
        b.wait("the confirmation", lambda: b.all("[data-testid=confirm-publish][open]"))
        question = b.text("[data-testid=confirm-publish]")
        check("it says a published release never changes", "can never change" in question, question)
        check("and that the draft misses a change", "has changed since this draft" in question, question)
        check("so does the page", b.all("[data-testid=draft-stale]"))
        check("the safe answer has the focus", b.driver.execute_script("return document.activeElement.textContent") == "Cancel")
        b.accessible("the confirmation")
        b.shot("release-publish", full=False)
        [x for x in b.all("[data-testid=confirm-publish] button") if x.text == "Publish release 2"][0].click()
        b.wait("published", lambda: b.text("[data-testid=release-status]") == "Published")
        check("who published it", sub in b.text("[data-testid=published-by]"), b.text("[data-testid=published-by]"))
        public = call(server.port, "GET", f"/v1/public/operations/{OP}/releases/latest").body
        check("the public reads release 2", public["number"] == 2, str(public.get("number")))
        console_tab = b.driver.current_window_handle
        [a for a in b.all(".public-links a") if a.text.startswith("Open the public page")][0].click()
        b.wait("the public page in a new tab", lambda: len(b.driver.window_handles) == 2)
        b.driver.switch_to.window([w for w in b.driver.window_handles if w != console_tab][0])
        b.wait("the public page", lambda: "Release 2" in b.text("main"))
        check("the page is the server's", b.driver.current_url.endswith(f"/v1/public/operations/{OP}/releases/2.html"), b.driver.current_url)
        check("the published victims figure", f"{victims:,}" in b.text(".headline"), b.text(".headline"))
        figure = b.driver.execute_script(
            "const section = [...document.querySelectorAll('section')].find((s) => s.querySelector('h2')?.textContent === arguments[0]);"
            "const cell = section && [...section.querySelectorAll('td')].find((td) => td.textContent.endsWith(`(${arguments[1]})`));"
            "return cell ? cell.nextElementSibling.textContent : null", PUBLIC_METRICS[small["metric"]], small["country"])
        check("the small figure reads 'fewer than' there", figure == f"fewer than {base}", str(figure))
        b.driver.close()
        b.driver.switch_to.window(console_tab)
        b.no_errors()

    @step("releases: discard a draft")
    def _():
        b.go(f"#/ops/{OP}/releases")
        b.wait("the releases", lambda: b.heading() == "Releases" and "Release 2" in b.text("[data-testid=releases]"))
        [x for x in b.all("button") if x.text == "Make a draft"][0].click()
        b.wait("the draft", lambda: b.heading().startswith("Release 3") and b.all("[data-testid=review] tbody tr"))
        [x for x in b.all("button") if x.text.startswith("Discard this draft")][0].click()
        b.wait("the confirmation", lambda: b.all("[data-testid=confirm-discard][open]"))
        [x for x in b.all("[data-testid=confirm-discard] button") if x.text == "Discard the draft"][0].click()
        b.wait("back at the list", lambda: b.heading() == "Releases" and "discarded" in b.text("main [role=status]"))
        numbers = [r.get_attribute("data-number") for r in b.all("[data-testid=releases] tbody tr")]
        check("release 3 is gone", numbers == ["2", "1"], str(numbers))
        gone = call(server.port, "GET", f"/v1/operations/{OP}/releases/3", token=secretariat)
        check("the API agrees", gone.status == 404, repr(gone))
        b.accessible("the releases")
        b.shot("releases")
        b.no_errors()

    @step("releases: releases:read alone reviews, and makes, publishes and discards nothing")
    def _():
        reader = token(folder, database_url, "console-test-release-reader", "*", OP, "operations:read releases:read")
        # A draft made by a token whose subject is markup: it shows as text.
        desk = '<img src=x onerror="window.__pwned=4">desk'
        made = call(server.port, "POST", f"/v1/operations/{OP}/releases", body={"kind": "final"},
                    token=token(folder, database_url, desk, "*", OP, "releases:read releases:write"))
        check("a draft made through the API", made.status == 201, repr(made))
        sign_out(b)
        b.sign_in(reader)
        b.wait("Releases in the navigation", lambda: [a for a in b.all("#nav a") if a.text == "Releases"])
        b.go(f"#/ops/{OP}/releases")
        b.wait("the releases", lambda: b.heading() == "Releases" and b.all("[data-testid=releases] tbody tr"))
        check("no draft to make", not b.all("form.make-release") and not b.all("#h-make"))
        check("who made the draft, as text", desk in b.text("[data-testid=releases]"), b.text("[data-testid=releases]"))
        check("no element made from it", not b.all("[data-testid=releases] img"))
        check("no script ran", b.driver.execute_script("return window.__pwned") is None)
        b.go(f"#/ops/{OP}/releases/2")
        b.wait("release 2", lambda: b.text("[data-testid=release-status]") == "Published" and b.all("[data-testid=review] tbody tr"))
        buttons = [x.text for x in b.all("main button:not(.sort)")]
        check("no publish or discard", not [t for t in buttons if t.startswith(("Publish", "Discard"))], str(buttons))
        check("the public page is linked", b.all(".public-links a"))
        b.no_errors()

    @step("signed in as Senegal: only Senegal's figures and records, the scope shown")
    def _():
        sign_out(b)
        b.wait("signed out", lambda: b.heading() == "Sign in" and "signed out" in b.text("[data-testid=signed-out]"))
        check("the token is forgotten", b.driver.execute_script("return sessionStorage.length") == 0)
        b.sign_in(national)
        b.wait("the overview", lambda: b.driver.execute_script("return document.getElementById('main').dataset.complete"))
        check("the token's countries are shown", b.text("[data-testid=token-countries]") == "Senegal")
        check("the scope notice", "Senegal" in b.text("[data-testid=scope-notice]"))
        rows = [r.text for r in b.all("[data-testid=country-table] tbody th")]
        check("only Senegal in the table", rows == ["Senegal"], str(rows))
        b.shot("overview-senegal", full=False)
        b.go(f"#/ops/{OP}/countries")
        b.wait("Senegal's records", lambda: b.heading() == "Senegal (SN)" and len(b.all("[data-testid=records] tbody tr")) > 0)
        links = [a.get_attribute("href") for a in b.all("[data-testid=records] tbody a")]
        check("every record is Senegal's", links and all("/countries/SN/records/" in link for link in links), str(links[:3]))
        check("Senegal's digest", b.text("[data-testid=digest-count]") != "")
        b.no_errors()
        b.go(f"#/ops/{OP}/countries/FR")
        b.wait("France refused", lambda: b.all("#h-figures ~ div .problem, .problem"))
        check("France's figures are refused", "Forbidden" in b.text(".problem") or "not" in b.text(".problem").lower(), b.text(".problem"))
        check("no French record shown", not b.all("[data-testid=records] tbody tr"))
        b.no_errors(allowed=(r"status of 403",))

    @step("a national desk imports a spreadsheet: template, dry run with the row problems, import, history")
    def _():
        b.go(f"#/ops/{OP}/countries/SN")
        b.wait("the import panel", lambda: b.all("#import-file") and b.all("[data-testid=import-history]"))
        downloads = tempfile.mkdtemp(dir=folder, prefix="downloads-")
        b.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        [x for x in b.all("button") if x.text == "Download the template (CSV)"][0].click()
        b.wait("the template", lambda: [f for f in os.listdir(downloads) if f.endswith(".csv")])
        with open(os.path.join(downloads, os.listdir(downloads)[0]), encoding="utf-8-sig") as f:
            header = f.readline()
        check("the template's header", header.startswith("external_ref,kind,occurred_at"), header)
        sheet = os.path.join(folder, "senegal-day-12.csv")
        rows = ["external_ref,kind,occurred_at,place,migrants_total,migrants_children,arrests,notes",
                "CONSOLE-IMPORT-1,sea_departure,2025-09-12 06:10,Joal,40,3,2,pirogue stopped",
                "CONSOLE-IMPORT-2,boat,2025-09-12 07:00,Mbour,10,2,1,<b>markup</b>",
                "CONSOLE-IMPORT-3,land_border,2025-09-12 08:00,Karang,10,12,0,"]
        with open(sheet, "w") as f:
            f.write("\n".join(rows) + "\n")
        b.all("#import-file")[0].send_keys(sheet)
        [x for x in b.all("button") if x.text == "Check the file (dry run)"][0].click()
        b.wait("the row problems", lambda: b.all("[data-testid=import-errors] tbody tr"))
        problems = [[td.text for td in tr.find_elements(By.CSS_SELECTOR, "th, td")] for tr in b.all("[data-testid=import-errors] tbody tr")]
        check("row 3's kind, by row, column and value", any(p[:3] == ["3", "kind", "boat"] for p in problems), str(problems))
        check("row 4's children over the total", any(p[:2] == ["4", "migrants_children"] for p in problems), str(problems))
        check("no import offered", not [x for x in b.all("button") if x.text == "Import" and x.is_enabled()])
        b.accessible("an import's problems")
        b.driver.execute_script("document.activeElement.blur(); document.getElementById('h-imports').scrollIntoView()")
        b.shot("import", full=False)
        rows[2] = rows[2].replace(",boat,", ",land_border,")
        rows[3] = rows[3].replace(",10,12,", ",10,2,")
        with open(sheet, "w") as f:
            f.write("\n".join(rows) + "\n")
        b.all("#import-file")[0].send_keys(sheet)
        [x for x in b.all("button") if x.text == "Check the file (dry run)"][0].click()
        b.wait("a clean dry run", lambda: "3 would be created" in b.text("[data-testid=import-summary]"))
        check("nothing stored by the dry run", call(server.port, "GET", f"/v1/operations/{OP}/interceptions/SN/CONSOLE-IMPORT-1",
                                                    token=national).status == 404)
        [x for x in b.all("button") if x.text == "Import"][0].click()
        b.wait("stored", lambda: "stored" in b.text("[data-testid=import-summary]") and b.all("[data-testid=import-history] tbody tr"))
        history = b.text("[data-testid=import-history] tbody tr")
        check("the history names the file and counts the rows", "senegal-day-12.csv" in history and "demo-sn-dgpn" in history, history)
        b.driver.execute_script("document.activeElement.blur(); document.getElementById('h-imports').scrollIntoView()")
        b.shot("import-done", full=False)
        stored = call(server.port, "GET", f"/v1/operations/{OP}/interceptions/SN/CONSOLE-IMPORT-2", token=national)
        check("the rows are stored", stored.status == 200 and stored.body["notes"] == "<b>markup</b>", repr(stored))
        b.no_errors()

    @step("the reporting board: Senegal sees its own row, and declares its figures final")
    def _():
        b.go(f"#/ops/{OP}/reporting")
        b.wait("Senegal's reporting", lambda: b.heading() == "Reporting" and b.all("[data-testid=reporting-table] tbody tr"))
        rows = [r.get_attribute("data-country") for r in b.all("[data-testid=reporting-table] tbody tr")]
        check("only Senegal's row on the board", rows == ["SN"], str(rows))
        check("the summary is Senegal's", "of 7 country-days" in b.text("[data-testid=reporting-summary]"),
              b.text("[data-testid=reporting-summary]"))
        check("no approval offered to a country", not [x for x in b.all("main button") if x.text.startswith(("Approve", "Reopen"))])
        [x for x in b.all("main button") if x.text == "Declare final…"][0].click()
        b.wait("the confirmation", lambda: b.all("[data-testid=confirm-final][open]"))
        check("it says what final means", "refused until the secretariat reopens" in b.text("[data-testid=confirm-final]"))
        check("the safe answer has the focus", b.driver.execute_script("return document.activeElement.textContent") == "Cancel")
        [x for x in b.all("[data-testid=confirm-final] button") if x.text == "Declare final"][0].click()
        b.wait("declared final", lambda: "declared final" in b.text("[data-testid=reporting-done]"))
        check("the row says Final", b.text('[data-testid=reporting-table] tr[data-country="SN"] [data-status]') == "Final")
        status = call(server.port, "GET", f"/v1/operations/{OP}/reporting?country=SN", token=national).body
        check("the API agrees", status["countries"][0]["status"] == "final", json.dumps(status["countries"]))
        check("nothing more to declare", not [x for x in b.all("main button") if x.text == "Declare final…"])
        b.no_errors()

    @step("the reporting board: Canada's desk files a nil return; a change waits for the question and the focus")
    def _():
        desk = token(folder, database_url, "console-test-ca-desk", "CA", OP, "operations:read tallies:read reporting:write")
        board = call(server.port, "GET", f"/v1/operations/{OP}/reporting?country=CA", token=coordination).body
        days = sorted({d["day"] for d in board["days"]})
        late = sorted(d["day"] for d in board["days"] if d["state"] == "late")
        check("Canada has two late days or more", len(late) >= 2, str(late))
        nil_day, push_day = late[-1], late[0]
        nil_button = f'[data-nil="CA/{nil_day}"]'
        waiting = "[data-testid=reporting-pending]"

        def cell(d):
            return f'[data-testid=reporting-table] tr[data-country="CA"] > :nth-child({3 + days.index(d)}) [data-state]'

        def focused():
            return b.driver.execute_script("const el = document.activeElement; return [el.textContent, el.dataset.nil || null]")
        switch_to(b, desk)
        b.go(f"#/ops/{OP}/reporting")
        b.wait("Canada's board", lambda: b.heading() == "Reporting" and b.all(nil_button))
        late_days = int(b.text('[data-summary="late"] .value'))
        b.all(nil_button)[0].click()
        b.wait("the confirmation", lambda: b.all("[data-testid=confirm-nil][open]"))
        check("it names the day", "Nothing to report for" in b.text("[data-testid=confirm-nil]"), b.text("[data-testid=confirm-nil]"))
        check("the safe answer has the focus", focused()[0] == "Cancel")
        # A record for another day arrives while the question is open: the board keeps it back.
        answer = call(server.port, "PUT", f"/v1/operations/{OP}/interceptions/CA/CONSOLE-BOARD-2", token=admin,
                      body={"kind": "air_border", "occurred_at": f"{push_day}T12:00:00Z", "migrants": {"total": 2}})
        check("the push is stored", answer.status == 201, repr(answer))
        b.wait("the change kept back", lambda: "once the question is answered" in b.text(waiting), seconds=10)
        check("the question still open, the focus on Cancel", b.all("[data-testid=confirm-nil][open]") and focused()[0] == "Cancel")
        check("the board not redrawn under it", b.text(cell(push_day)).startswith("✗ Late"), b.text(cell(push_day)))
        # Cancelled from the keyboard: the focus is back on the button in the table, and the
        # board still waits, until the focus moves out of the table.
        b.driver.switch_to.active_element.send_keys(Keys.ENTER)
        b.wait("the focus back on the button", lambda: focused()[1] == f"CA/{nil_day}" and not b.all("dialog"))
        check("kept back for the focus", "when the focus leaves the table" in b.text(waiting), b.text(waiting))
        check("still not redrawn", b.text(cell(push_day)).startswith("✗ Late"), b.text(cell(push_day)))
        b.driver.execute_script("document.getElementById('late-only').focus()")
        b.wait("redrawn once the focus left", lambda: b.text(cell(push_day)).startswith("✓ Received") and b.text(waiting) == "")
        b.all(nil_button)[0].click()
        b.wait("the confirmation again", lambda: b.all("[data-testid=confirm-nil][open]"))
        [x for x in b.all("[data-testid=confirm-nil] button") if x.text == "File the nil return"][0].click()
        b.wait("filed", lambda: "Nil return filed" in b.text("[data-testid=reporting-done]"))
        check("the day says nothing to report", b.text(cell(nil_day)).startswith("○ Nothing to report"), b.text(cell(nil_day)))
        check("two late days less", b.text('[data-summary="late"] .value') == f"{late_days - 2:,}", b.text('[data-summary="late"]'))
        check("the focus on what happened", "Nil return filed" in b.driver.execute_script("return document.activeElement.innerText"))
        day = [d for d in call(server.port, "GET", f"/v1/operations/{OP}/reporting?country=CA", token=coordination).body["days"]
               if d["day"] == nil_day][0]
        check("the API agrees", day["state"] == "received_nil" and day["nil_return"], json.dumps(day))
        b.no_errors()

    @step("the reporting board: the secretariat approves Senegal's final figures, then reopens them with a reason")
    def _():
        approver = token(folder, database_url, "console-test-reporting-desk", "*", OP,
                         "operations:read tallies:read reporting:approve")
        switch_to(b, approver)
        b.go(f"#/ops/{OP}/reporting")
        senegal = '[data-testid=reporting-table] tr[data-country="SN"]'
        b.wait("the board", lambda: b.heading() == "Reporting" and b.all(senegal))
        check("no nil return or declaration offered without reporting:write",
              not b.all("[data-nil]") and not [x for x in b.all("main button") if x.text == "Declare final…"])
        [x for x in b.all(f"{senegal} button") if x.text == "Approve…"][0].click()
        b.wait("the confirmation", lambda: b.all("[data-testid=confirm-approve][open]"))
        [x for x in b.all("[data-testid=confirm-approve] button") if x.text == "Approve"][0].click()
        b.wait("approved", lambda: b.text(f"{senegal} [data-status]") == "Approved")
        [x for x in b.all(f"{senegal} button") if x.text == "Reopen…"][0].click()
        b.wait("the confirmation", lambda: b.all("[data-testid=confirm-reopen][open]"))
        b.all("#reopen-reason")[0].send_keys(MARKUP)
        b.accessible("the reopening")
        b.shot("reporting-reopen", full=False)
        [x for x in b.all("[data-testid=confirm-reopen] button") if x.text == "Reopen"][0].click()
        b.wait("reopened", lambda: b.text(f"{senegal} [data-status]") == "Reopened")
        reasons = b.text("[data-testid=reopened]")
        check("the reason reads as it was written", MARKUP in reasons, reasons)
        check("no element made from it, no script run", not b.all("[data-testid=reopened] img, [data-testid=reopened] b")
              and b.driver.execute_script("return window.__pwned") is None)
        status = call(server.port, "GET", f"/v1/operations/{OP}/reporting?country=SN", token=national).body["countries"][0]
        check("the API agrees", status["status"] == "reopened" and status["reopen_reason"] == MARKUP, json.dumps(status))
        b.no_errors()

    @step("a revoked token leads back to sign-in with a clear message")
    def _():
        revocable = token(folder, database_url, "console-test-person", "*", OP,
                          "operations:read tallies:read interceptions:read")
        switch_to(b, revocable)
        jti = b.driver.execute_script(
            "const p = sessionStorage.getItem('opcoord.console.token').split('.')[1].replace(/-/g,'+').replace(/_/g,'/');"
            "return JSON.parse(atob(p + '='.repeat((4 - p.length % 4) % 4))).jti")
        revoked = call(server.port, "POST", f"/v1/tokens/{jti}/revoke", token=admin)
        check("revoked", revoked.status == 200, repr(revoked))
        b.wait("back at sign-in", lambda: b.heading() == "Sign in", seconds=15)
        message = b.text("[data-testid=signed-out]")
        check("the message says why", "revoked" in message and "no longer accepted" in message, message)
        check("the token is forgotten", b.driver.execute_script("return sessionStorage.length") == 0)
        b.accessible("sign-in after a revocation")
        b.shot("signed-out", full=False)
        b.no_errors(allowed=(r"status of 401",))

    @step("an expired token is refused at sign-in with a clear message")
    def _():
        # The shortest token the CLI issues lives a minute; the claims of an expired one are
        # enough here (the page reads exp before asking the server, which would refuse it too).
        def part(value):
            return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
        expired = ".".join([part({"typ": "at+jwt", "alg": "EdDSA", "kid": "x"}),
                            part({"sub": "someone", "exp": int(time.time()) - 60, "scope": "tallies:read",
                                  "countries": ["SN"], "ops": [OP]}), "c2lnbmF0dXJl"])
        b.sign_in(expired)
        b.wait("the refusal", lambda: "expired" in b.text("#signin-error"))
        check("still signed out", b.driver.execute_script("return sessionStorage.length") == 0)
        b.no_errors()


if __name__ == "__main__":
    main()

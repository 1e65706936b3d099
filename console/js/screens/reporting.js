// The reporting board of an operation: per country and day received, nothing to report, late or
// not yet due; each country's status (provisional, final, approved, reopened); completeness and
// timeliness; the countries late for the latest due day; a "late only" filter and a CSV of the
// rows shown. A client of `GET /v1/operations/{op}/reporting` (docs/REPORTING.md), which
// already shows a country token its own rows only. A token with `reporting:write` for a
// country may file its nil returns and declare its figures final here; the secretariat
// (`reporting:approve`, every country) approves or reopens them with a reason. Each asks first.
// The board follows changes while it is open, as the overview does (poll.js), and redraws in
// place: the filter, the sort, an open question and the keyboard focus stay where they are.

import * as api from "../api.js";
import * as session from "../session.js";
import { h, fill, section, problemBox, confirmDialog, announce } from "../dom.js";
import { country, countryWithCode, int, moment, shortDay, day } from "../format.js";
import { sortableTable } from "../table.js";
import { toCsv, download } from "../csv.js";
import { follow } from "../poll.js";
import { scopeNotice, operationHeading, asOfLine } from "./parts.js";

/**
 * The state of a country's day: a symbol and a word (never colour alone), and the order it
 * sorts in (late first when sorting a day's column descending).
 */
const STATES = {
  received: { symbol: "✓", label: "Received", order: 1 },
  received_nil: { symbol: "○", label: "Nothing to report", order: 2 },
  late: { symbol: "✗", label: "Late", order: 3 },
  not_due: { symbol: "…", label: "Not yet due", order: 0 },
};
const STATUSES = { provisional: "Provisional", final: "Final", approved: "Approved", reopened: "Reopened" };
const STATUS_ORDER = { reopened: 3, provisional: 2, final: 1, approved: 0 };
const PCT = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const pct = (n) => (n === null || n === undefined ? "—" : `${PCT.format(n)} %`);

/** The "late only" filter, kept while the tab lives. */
let lateOnly = false;

export async function render(main, ctx) {
  const [opId] = ctx.params;
  const base = `operations/${encodeURIComponent(opId)}`;
  const get = (path, query) => api.get(`${base}${path}`, query, { signal: ctx.signal });
  const readsFeed = session.can("interceptions:read");

  // The board carries no change-feed position, so the position is read first (the tallies
  // answer has it; one metric's answer is small, and the server caches it): the board read
  // after it holds every change up to it. Reads that end after a later one are dropped.
  const position = async () => (await get("/tallies", { metric: "officers_deployed" })).as_of_seq;
  let started = 0;
  let newest = 0;
  let turnsAt = Infinity;
  async function read(at) {
    const seq = at ?? (await position());
    const ticket = ++started;
    const board = await get("/reporting");
    if (ticket < newest) return null;
    newest = ticket;
    turnsAt = nextTurn(board);
    return { board, seq };
  }

  const [op, first] = await Promise.all([get(""), read()]);
  let shown = first;
  let known = first.seq;
  let pending = null;
  let days = daysOf(first.board);
  let rows = countryRows(first.board);

  const asOf = asOfLine("Board");
  const asAt = h("p", { class: "as-of" });
  const said = h("div", { class: "message", tabindex: "-1" });
  const summaryBox = h("div");
  const reopenedBox = h("div");
  const waiting = h("p", { class: "help", role: "status", "data-testid": "reporting-pending" });
  const tableBox = h("div");
  const actions = boardActions(ctx, base, settle);
  let table = null;
  const makeTable = ({ key, descending }) => {
    table = sortableTable({
      caption: "Reporting by country and day",
      testid: "reporting-table",
      rowKey: (r) => r.code,
      sortKey: key,
      descending,
      rowAttrs: (r) => ({ "data-country": r.code, class: r.lateDays ? "has-late" : null }),
      columns: columnsFor(days, actions),
    });
    fill(tableBox, table.el);
  };
  makeTable({ key: "country", descending: false });

  const lateBox = h("input", { type: "checkbox", id: "late-only", checked: lateOnly });
  const shownLine = h("p", { class: "help", role: "status", "data-testid": "reporting-shown" });
  const visible = () => (lateOnly ? rows.filter((r) => r.lateDays > 0) : rows);
  const showRows = () => {
    const list = visible();
    table.update(list);
    fill(shownLine, lateOnly
      ? `${int(list.length)} of ${int(rows.length)} countries shown: those with a late day.`
      : `${int(list.length)} ${list.length === 1 ? "country" : "countries"} shown.`);
  };
  lateBox.addEventListener("change", () => {
    lateOnly = lateBox.checked;
    showRows();
  });
  const csvButton = h("button", { type: "button", class: "secondary",
    onclick: () => download(`reporting-${opId}-${shown.board.as_at.slice(0, 10)}${lateOnly ? "-late" : ""}.csv`, csvOf(visible(), days)) },
  "Download CSV of the rows shown");

  /** Puts a board read on the page; the table keeps its sort, and is rebuilt only when the days change. */
  function draw(next) {
    const nextDays = daysOf(next.board);
    if (!sameList(days, nextDays)) {
      days = nextDays;
      makeTable(table.sorting());
    }
    shown = next;
    pending = null;
    rows = countryRows(next.board);
    const { board } = next;
    fill(asAt, asAtText(board));
    fill(summaryBox, summaryCards(board.summary, days.length));
    const reopened = rows.filter((r) => r.status === "reopened");
    fill(reopenedBox, reopened.length
      ? section("h-reopened", "Reopened figures", 2, h("ul", { class: "reopened", "data-testid": "reopened" },
        reopened.map((r) => h("li", null, h("strong", null, countryWithCode(r.code)), ` reopened ${moment(r.info.status_changed_at)}: `,
          h("span", { class: "reason" }, r.info.reopen_reason || "no reason given")))))
      : null);
    fill(waiting);
    showRows();
    asOf.update(next.seq);
  }

  /**
   * What redrawing now would take from the person: the question open in a dialog (its button
   * would go), or the focus on something in the part of the table that would be rebuilt.
   */
  function blocked(next) {
    if (document.querySelector("dialog[open]")) return "once the question is answered";
    const rebuilt = sameList(days, daysOf(next.board)) ? table.el.querySelector("tbody") : tableBox;
    return rebuilt.contains(document.activeElement) ? "when the focus leaves the table" : null;
  }

  /** Draws a newer board at once, or keeps it until nothing is in the way, and says so. */
  function offer(next) {
    if (sameBoard(shown.board, next.board)) {
      shown = next;
      pending = null;
      fill(asAt, asAtText(next.board));
      fill(waiting);
      return asOf.update(next.seq);
    }
    const until = blocked(next);
    if (until) {
      pending = next;
      return fill(waiting, `The board has changed: it is redrawn ${until}.`);
    }
    draw(next);
    announce(`Reporting board updated, as of change ${int(next.seq)}.`);
  }
  tableBox.addEventListener("focusout", (event) => {
    if (pending && !tableBox.contains(event.relatedTarget)) offer(pending);
  });

  /**
   * After a question: cancelled (`message` null), a board kept back may be drawn now; answered,
   * the board is read again and the page says what happened, with the focus on it.
   */
  async function settle(message) {
    if (!message) return pending && offer(pending);
    let next = null;
    try {
      next = await read();
    } catch (e) {
      if (e.name === "AbortError") return;
      message = [message, problemBox(e)];
    }
    if (next) {
      known = Math.max(known, next.seq);
      draw(next);
    }
    fill(said, message);
    said.focus();
  }

  fill(main,
    ...operationHeading(op, "Reporting"),
    said,
    h("div", { class: "toolbar" }, h("div", null, asAt, asOf.el), csvButton),
    scopeNotice(),
    section("h-summary", "Summary", 2, summaryBox),
    reopenedBox,
    section("h-board", "By country and day", 2,
      h("div", { class: "filters" },
        h("div", { class: "field check" }, lateBox, h("label", { for: "late-only" }, "Late only: countries with a late day"))),
      legend(),
      shownLine,
      waiting,
      tableBox));
  draw(first);
  main.dataset.complete = "1";

  // Following: the change feed says cheaply whether anything changed after the board's position
  // (for a token that may read it); otherwise the position itself is compared. A deadline passing
  // changes the board with no write at all, so the board is read again then too.
  const check = async () => {
    if (pending) offer(pending);
    let at = null;
    if (Date.now() < turnsAt) {
      if (readsFeed) {
        const feed = await get("/changes", { after: known, limit: 1 });
        if (feed.changes.length === 0) return asOf.update(shown.seq);
        at = Math.max(feed.changes[0].seq, await position());
      } else {
        at = await position();
        if (at === known) return asOf.update(shown.seq);
      }
    }
    const next = await read(at);
    if (!next) return;
    known = Math.max(known, next.seq);
    offer(next);
  };
  const follower = follow(check, asOf.following);
  ctx.onDispose(() => follower.stop());
}

/** The columns of the board: the country, its status, one per day, its figures and the actions. */
function columnsFor(days, actions) {
  return [
    { key: "country", label: "Country", value: (r) => country(r.code), cell: (r) => countryWithCode(r.code) },
    { key: "status", label: "Status", value: (r) => STATUS_ORDER[r.status] ?? 0, cell: statusCell },
    ...days.map((d) => ({
      key: d, label: shortDay(d), value: (r) => STATES[r.days.get(d)?.state]?.order ?? -1,
      cell: (r) => [dayCell(r.days.get(d)), actions.nilButton(r, r.days.get(d))],
    })),
    { key: "complete", label: "Complete", numeric: true, value: (r) => r.complete ?? -1, cell: (r) => pct(r.complete) },
    { key: "timely", label: "On time", numeric: true, value: (r) => r.timely ?? -1, cell: (r) => pct(r.timely) },
    { key: "late", label: "Days late", numeric: true, value: (r) => r.lateDays, cell: (r) => int(r.lateDays) },
    { key: "last", label: "Last reported", value: (r) => r.info.last_reported_at || "",
      cell: (r) => (r.info.last_reported_at
        ? [moment(r.info.last_reported_at), h("span", { class: "detail" }, r.info.last_reported)]
        : "Nothing yet") },
    ...(actions.any ? [{ key: "actions", label: "Actions", value: (r) => r.status, cell: actions.buttons }] : []),
  ];
}

/** When the board was made, and when each day's report is due. */
function asAtText(board) {
  return `As at ${moment(board.as_at)} · each day's report is due by ${board.report_deadline} (${board.time_zone}) the day after`;
}

/** The days the board has rows for, in order. */
function daysOf(board) {
  return [...new Set(board.days.map((d) => d.day))].sort();
}

const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether two reads of the board say the same, but for when they were made. */
function sameBoard(a, b) {
  return JSON.stringify({ ...a, as_at: null }) === JSON.stringify({ ...b, as_at: null });
}

/**
 * When, by this browser's clock, the board changes with no write: the first deadline after the
 * board was made (a day not yet due turns late, and the next day gets its row). Counted from the
 * server's `as_at`, so a browser clock that is off does not matter.
 */
function nextTurn(board) {
  const made = Date.parse(board.as_at);
  const ahead = board.days.map((d) => Date.parse(d.deadline)).filter((t) => t > made);
  return ahead.length ? Date.now() + Math.min(...ahead) - made : Infinity;
}

/**
 * The actions this token may take on the board, each asked first in a dialog whose safe answer
 * has the focus; `settle(message)` is told the outcome (null when the question was cancelled),
 * reads the board again and says what happened.
 */
function boardActions(ctx, base, settle) {
  const writes = (code) => session.can("reporting:write") && session.covers(code);
  const approves = session.can("reporting:approve") && session.allCountries();
  const open = (status) => status === "provisional" || status === "reopened";
  const path = (code, tail) => `${base}/reporting/${encodeURIComponent(code)}/${tail}`;

  async function act({ title, body, confirm, testid, reason }, send, done) {
    const field = reason ? h("textarea", { id: "reopen-reason", rows: 3, maxlength: 2000, required: true }) : null;
    const ok = await confirmDialog({
      title, confirm, cancel: "Cancel", testid, signal: ctx.signal,
      body: [h("p", null, body), field ? [h("label", { for: "reopen-reason" }, "Reason (kept in the audit trail and shown on the board)"), field] : null],
    });
    if (!ok) return settle(null);
    let message;
    try {
      await send(field?.value.trim());
      message = h("p", { class: "notice done", role: "status", "data-testid": "reporting-done" }, done);
    } catch (e) {
      if (e.status === 401) return;
      message = problemBox(e);
    }
    await settle(message);
  }

  return {
    any: session.can("reporting:write") || approves,
    /** A "nothing to report" button under a late or not-yet-due day the token may file for. */
    nilButton(row, d) {
      if (!d || (d.state !== "late" && d.state !== "not_due") || !writes(row.code) || !open(row.status)) return null;
      const name = countryWithCode(row.code);
      return h("button", { type: "button", class: "link small", "data-nil": `${row.code}/${d.day}`,
        onclick: () => act({
          title: `Nothing to report for ${day(d.day)}?`, confirm: "File the nil return", testid: "confirm-nil",
          body: `${name} says it has nothing to report for ${day(d.day)}. A record sent for that day later still counts.`,
        }, () => api.request("PUT", path(row.code, `nil-returns/${d.day}`)),
        `Nil return filed: ${name} has nothing to report for ${day(d.day)}.`) }, "File nil return…");
    },
    /** The status moves this token may make for a country. */
    buttons(row) {
      const name = countryWithCode(row.code);
      const list = [];
      if (writes(row.code) && open(row.status)) {
        list.push(h("button", { type: "button", class: "secondary small", onclick: () => act({
          title: `Declare ${name}'s figures final?`, confirm: "Declare final", testid: "confirm-final",
          body: `From then on every write of ${name} to this operation (records, stated figures, nil returns, imports) is refused until the secretariat reopens its figures.`,
        }, () => api.post(path(row.code, "final"), {}), `${name}'s figures are declared final.`) }, "Declare final…"));
      }
      if (approves && row.status === "final") {
        list.push(h("button", { type: "button", class: "secondary small", onclick: () => act({
          title: `Approve ${name}'s final figures?`, confirm: "Approve", testid: "confirm-approve",
          body: `The secretariat approves ${name}'s final figures. They stay closed to writes until reopened.`,
        }, () => api.post(path(row.code, "approve"), {}), `${name}'s figures are approved.`) }, "Approve…"));
      }
      if (approves && (row.status === "final" || row.status === "approved")) {
        list.push(h("button", { type: "button", class: "secondary small", onclick: () => act({
          title: `Reopen ${name}'s figures?`, confirm: "Reopen", testid: "confirm-reopen", reason: true,
          body: `${name} may write again, then declare its figures final again. Say why.`,
        }, (reason) => api.post(path(row.code, "reopen"), { reason }), `${name}'s figures are reopened.`) }, "Reopen…"));
      }
      return list.length ? h("span", { class: "row-actions" }, list) : "";
    },
  };
}

/** One row per country: its status, its days by date, and its completeness and timeliness. */
function countryRows(board) {
  const byCountry = new Map(board.countries.map((c) => [c.country, { code: c.country, info: c, status: c.status, days: new Map() }]));
  for (const d of board.days) {
    if (!byCountry.has(d.country)) {
      byCountry.set(d.country, { code: d.country, info: { country: d.country }, status: "provisional", days: new Map() });
    }
    byCountry.get(d.country).days.set(d.day, d);
  }
  for (const row of byCountry.values()) {
    const due = [...row.days.values()].filter((d) => d.state !== "not_due");
    const expected = row.info.participating === false ? 0 : due.length;
    const arrived = due.filter((d) => d.state === "received" || d.state === "received_nil").length;
    row.lateDays = due.filter((d) => d.state === "late").length;
    row.complete = expected ? (100 * arrived) / expected : null;
    row.timely = expected ? (100 * due.filter((d) => d.on_time).length) / expected : null;
  }
  return [...byCountry.values()];
}

function statusCell(row) {
  return h("span", { class: `rstatus rstatus-${row.status}`, "data-status": row.status }, STATUSES[row.status] || row.status);
}

function dayCell(d) {
  if (!d) return h("span", { class: "zero" }, "—");
  const state = STATES[d.state] || { symbol: "?", label: d.state };
  const detail = d.state === "received"
    ? [d.records ? `${int(d.records)} ${d.records === 1 ? "record" : "records"}` : null,
      d.stated_figures ? `${int(d.stated_figures)} stated` : null].filter(Boolean).join(", ")
    : "";
  return h("span", { class: `day-state state-${d.state}`, "data-state": d.state },
    h("span", { class: "sym", "aria-hidden": "true" }, state.symbol), " ", state.label,
    detail ? h("span", { class: "detail" }, detail) : null,
    d.on_time === false ? h("span", { class: "detail" }, "after the deadline") : null);
}

function legend() {
  return h("ul", { class: "legend state-legend", "aria-label": "What each day says" },
    Object.entries(STATES).map(([key, s]) => h("li", null,
      h("span", { class: `day-state state-${key}` }, h("span", { class: "sym", "aria-hidden": "true" }, s.symbol), " ", s.label))));
}

function summaryCards(s, dayCount) {
  const card = (id, label, value, ...more) => h("div", { class: "card", "data-summary": id },
    h("dl", null, h("dt", null, label), h("dd", { class: "value" }, value), more.map((m) => (m ? h("dd", { class: "help" }, m) : null))));
  const arrived = s.received + s.received_nil;
  const names = (codes) => (codes.length ? codes.map(country).join(", ") : "none");
  return h("div", { class: "cards", "data-testid": "reporting-summary" },
    card("completeness", "Completeness", pct(s.completeness_pct),
      `${int(arrived)} of ${int(s.expected)} country-days due: ${int(s.received)} received, ${int(s.received_nil)} nothing to report`),
    card("timeliness", "Timeliness", pct(s.timeliness_pct), `${int(s.on_time)} of ${int(s.expected)} in before the deadline`),
    card("late", "Late country-days", int(s.late), `over ${int(dayCount)} days`),
    card("late-today", s.latest_due_day ? `Late for ${day(s.latest_due_day)}` : "Late today",
      int(s.countries_late_today.length), names(s.countries_late_today)),
    card("final", "Figures final", int(s.countries_final.length + s.countries_approved.length),
      `${int(s.countries_approved.length)} approved, ${int(s.countries_final.length)} awaiting approval, `
      + `${int(s.countries_not_final.length)} not final`));
}

/** The rows shown, one line per country and day, as the board's own CSV plus names and status. */
function csvOf(rows, days) {
  const lines = [];
  for (const row of [...rows].sort((a, b) => a.code.localeCompare(b.code))) {
    for (const d of days) {
      const x = row.days.get(d);
      if (!x) continue;
      lines.push([row.code, country(row.code), d, x.state, x.records, x.stated_figures, x.nil_return,
        x.first_report_at, x.last_report_at, x.deadline, x.on_time, row.status]);
    }
  }
  return toCsv(["country", "country_name", "day", "state", "records", "stated_figures", "nil_return", "first_report_at",
    "last_report_at", "deadline", "on_time", "status"], lines);
}

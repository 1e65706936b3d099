// Overview of an operation: headline figures (stated and derived side by side where they
// differ), per country as a map and a sortable table, a daily series, the breakdowns as charts,
// and a CSV of what is on screen. It follows changes while open.

import * as api from "../api.js";
import * as session from "../session.js";
import { h, fill, section, problemBox, announce } from "../dom.js";
import {
  METRICS, DIMENSIONS, DAILY, metricLabel, dimensionLabel, bucketLabel, country, int, qty, word, daysBetween,
} from "../format.js";
import { worldMap } from "../map.js";
import { sortableTable } from "../table.js";
import { barChart } from "../charts.js";
import { toCsv, download } from "../csv.js";
import { follow } from "../poll.js";
import { scopeNotice, operationHeading, asOfLine, figure } from "./parts.js";

/** The metric the map, the series and the breakdowns show; kept while the tab lives. */
let chosen = "victims_safeguarded";
const TOP = 12;

export async function render(main, ctx) {
  const [opId] = ctx.params;
  const base = `operations/${encodeURIComponent(opId)}`;
  const get = (path, query) => api.get(path ? `${base}/${path}` : base, query, { signal: ctx.signal });
  const [op, report] = await Promise.all([get(""), get("tallies")]);
  const state = { op, report, daily: null, breakdowns: {}, asOf: report.as_of_seq };
  const taking = new Set(op.participating_countries.filter(session.covers));

  const asOf = asOfLine();
  const headline = h("div", { class: "cards", "data-testid": "headline" });
  const metricSelect = h("select", { id: "metric" },
    METRICS.filter(([m]) => m !== "seizures").map(([m, label]) => h("option", { value: m, selected: m === chosen }, label)));
  const map = worldMap({ title: "World map", onPick: (code) => ctx.navigate(`#/ops/${encodeURIComponent(opId)}/countries/${code}`) });
  const table = sortableTable({
    caption: "Figures by country",
    testid: "country-table",
    rowKey: (r) => r.code,
    sortKey: chosen,
    columns: [
      { key: "country", label: "Country", value: (r) => country(r.code),
        cell: (r) => h("a", { href: `#/ops/${encodeURIComponent(opId)}/countries/${r.code}` }, country(r.code)) },
      ...METRICS.map(([m, label]) => ({
        key: m, label: m === "seizures" ? "Seizures (entries)" : label, numeric: true,
        value: (r) => r.rows[m]?.value ?? 0, cell: (r) => figure(r.rows[m]),
      })),
    ],
  });
  const daily = barChart({ title: "Day by day", valueLabel: "Count" });
  const breakdownGrid = h("div", { class: "chart-grid" });
  const charts = new Map();
  const csvButton = h("button", { type: "button", class: "secondary", onclick: () => downloadCsv(state) }, "Download CSV of this page");

  fill(main,
    ...operationHeading(op),
    h("div", { class: "toolbar" }, asOf.el, csvButton),
    scopeNotice(),
    section("h-headline", "Headline figures", 2, headline,
      h("p", { class: "help" }, "Where a country stated a figure, it stands in the total; where stated figures and the countries' records differ, both are shown.")),
    section("h-countries", "By country", 2,
      h("div", { class: "field" }, h("label", { for: "metric" }, "Figure shown on the map, by day and in the breakdowns"), metricSelect),
      h("div", { class: "map-table" }, map.el, table.el)),
    section("h-daily", "Day by day", 2, daily.el),
    section("h-breakdowns", "Breakdowns", 2, breakdownGrid));

  function drawFigures() {
    const totals = Object.fromEntries(state.report.totals.map((t) => [t.metric, t]));
    const byCountry = new Map();
    for (const code of taking) byCountry.set(code, { code, rows: {} });
    for (const row of state.report.countries) {
      if (!byCountry.has(row.country)) byCountry.set(row.country, { code: row.country, rows: {} });
      byCountry.get(row.country).rows[row.metric] = row;
    }
    state.rows = [...byCountry.values()];
    state.totals = totals;
    fill(headline, METRICS.map(([m, label]) => headlineCard(m, label, totals[m], state.report.countries)));
    table.update(state.rows);
    drawMap();
    asOf.update(state.report.as_of_seq);
  }

  function drawMap() {
    const values = Object.fromEntries(state.rows.map((r) => [r.code, r.rows[chosen]?.value ?? 0]));
    map.update(values, taking, metricLabel(chosen));
    table.highlight(chosen);
  }

  async function loadDetails() {
    const dims = DIMENSIONS[chosen];
    const [dayReport, ...dimReports] = await Promise.all([
      DAILY.includes(chosen) ? get("tallies", { metric: chosen, group_by: "day" }) : null,
      ...dims.map((d) => get("tallies", { metric: chosen, group_by: d })),
    ]);
    state.daily = dayReport;
    state.breakdowns = Object.fromEntries(dims.map((d, i) => [d, dimReports[i]]));
    await drawDetails();
  }

  /** Draws the series and the breakdowns; resolves when every chart is drawn. */
  function drawDetails() {
    const drawn = [];
    const label = metricLabel(chosen);
    if (state.daily) {
      const buckets = state.daily.totals.find((t) => t.metric === chosen)?.breakdown || {};
      // Stated figures without a daily breakdown count as day "unknown", shown last.
      const days = [...new Set([...daysBetween(op.starts_on, op.ends_on), ...Object.keys(buckets)])]
        .sort((a, b) => (a === "unknown") - (b === "unknown") || a.localeCompare(b));
      daily.el.hidden = false;
      drawn.push(daily.update(days.map((d) => bucketLabel("day", d)), days.map((d) => buckets[d] || 0), `${label} by day (UTC)`));
    } else {
      daily.el.hidden = true;
    }
    for (const [dim, chart] of charts) {
      if (!(dim in state.breakdowns)) {
        chart.destroy();
        chart.el.remove();
        charts.delete(dim);
      }
    }
    for (const [dim, dimReport] of Object.entries(state.breakdowns)) {
      if (!charts.has(dim)) {
        const chart = barChart({ title: dimensionLabel(dim), valueLabel: label, horizontal: true });
        charts.set(dim, chart);
        breakdownGrid.appendChild(chart.el);
      }
      const [labels, values] = breakdownSeries(dim, dimReport, chosen);
      drawn.push(charts.get(dim).update(labels, values, `${label} by ${dimensionLabel(dim).toLowerCase()}`));
    }
    if (Object.keys(state.breakdowns).length === 0) {
      fill(breakdownGrid, h("p", { class: "help" }, `${label} has no breakdowns.`));
      charts.clear();
    } else {
      breakdownGrid.querySelector(":scope > p")?.remove();
    }
    return Promise.all(drawn);
  }

  async function refresh() {
    const next = await get("tallies");
    if (next.as_of_seq === state.asOf) {
      asOf.update(next.as_of_seq);
      return;
    }
    state.report = next;
    state.asOf = next.as_of_seq;
    drawFigures();
    await loadDetails();
    announce(`Figures updated, as of change ${int(next.as_of_seq)}.`);
  }

  metricSelect.addEventListener("change", async () => {
    chosen = metricSelect.value;
    table.sortBy(chosen, true);
    for (const card of headline.querySelectorAll(".card")) card.classList.toggle("chosen", card.dataset.metric === chosen);
    drawMap();
    try {
      await loadDetails();
    } catch (e) {
      if (e.name !== "AbortError") breakdownGrid.replaceChildren(problemBox(e));
    }
  });

  drawFigures();
  performance.mark("overview-first-render");
  main.dataset.firstRender = "yes";
  await loadDetails();
  performance.mark("overview-complete");
  main.dataset.complete = "yes";

  // Following: the change feed says cheaply whether anything changed since the figures' position
  // (for a token that may read it); otherwise the totals themselves are read again.
  const changed = async () => {
    if (!session.can("interceptions:read")) return refresh();
    const feed = await get("changes", { after: state.asOf, limit: 1 });
    if (feed.changes.length > 0) return refresh();
    asOf.update(state.asOf);
  };
  const follower = follow(changed, asOf.following);
  ctx.onDispose(() => {
    follower.stop();
    for (const chart of [daily, ...charts.values()]) chart.destroy();
  });
}

function headlineCard(metric, label, total, rows) {
  const value = total?.value ?? 0;
  const derived = total?.derived ?? 0;
  const differing = rows.filter((r) => r.metric === metric && r.reported !== null && r.reported !== r.derived).length;
  const body = [h("dd", { class: "value" }, int(value))];
  if (metric === "seizures") {
    const quantities = Object.entries(total?.quantities || {}).sort(([a], [b]) => a.localeCompare(b));
    body.push(quantities.length
      ? h("dd", { class: "quantities" }, h("ul", null, quantities.map(([key, q]) => {
        const [category, unit] = key.split(":");
        return h("li", null, h("span", null, word(category)), " ", h("span", { class: "num" }, unit ? `${qty(q)} ${unit}` : qty(q)));
      })))
      : h("dd", { class: "help" }, "No seizures reported."));
    body[0] = h("dd", { class: "value" }, int(value), h("span", { class: "unit" }, " entries"));
  } else if (value !== derived) {
    body.push(h("dd", { class: "diff" },
      h("span", null, "Stated figures stand"), " · ",
      h("span", null, `from records: ${int(derived)}`),
      differing ? h("span", null, ` · ${int(differing)} ${differing === 1 ? "country differs" : "countries differ"}`) : null));
  }
  return h("div", { class: `card${metric === chosen ? " chosen" : ""}`, "data-metric": metric },
    h("dl", null, h("dt", null, label), body));
}

/** Labels and values of a breakdown's totals, largest first; past TOP nationalities, the rest summed. */
function breakdownSeries(dim, report, metric) {
  const total = report.totals.find((t) => t.metric === metric);
  const source = metric === "seizures" ? total?.quantities || {} : total?.breakdown || {};
  let entries = Object.entries(source).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (dim === "nationality" && entries.length > TOP) {
    const rest = entries.slice(TOP).reduce((sum, [, v]) => sum + v, 0);
    entries = [...entries.slice(0, TOP), ["__rest", rest]];
  }
  return [
    entries.map(([bucket]) => (bucket === "__rest" ? "Other nationalities" : bucketLabel(dim, bucket))),
    entries.map(([, v]) => v),
  ];
}

function downloadCsv(state) {
  const rows = [];
  for (const [m] of METRICS) {
    const t = state.totals[m];
    if (t) rows.push(["total", "*", "All countries shown", m, "", "", t.value, "", t.derived, ""]);
  }
  for (const r of state.rows) {
    for (const [m] of METRICS) {
      const c = r.rows[m];
      if (c) rows.push(["country", r.code, country(r.code), m, "", "", c.value, c.source, c.derived, c.reported ?? ""]);
    }
  }
  const dims = [["day", state.daily], ...Object.entries(state.breakdowns)];
  for (const [dim, report] of dims) {
    if (!report) continue;
    const total = report.totals.find((t) => t.metric === chosen);
    const source = chosen === "seizures" ? total?.quantities || {} : total?.breakdown || {};
    for (const [bucket, value] of Object.entries(source).sort()) {
      rows.push(["breakdown", "*", "All countries shown", chosen, dim, bucket, value, "", "", ""]);
    }
  }
  const header = ["section", "country", "country_name", "metric", "dimension", "bucket", "value", "source", "derived", "reported"];
  download(`${state.op.id}-as-of-${state.asOf}.csv`, toCsv(header, rows));
}

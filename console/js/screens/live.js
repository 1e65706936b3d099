// Live: the operation's figures as they change, for a wall screen or a tab left open. It follows
// the change feed (or, for a token that may not read it, the totals) every few seconds.

import * as api from "../api.js";
import * as session from "../session.js";
import { h, fill, section, announce } from "../dom.js";
import { METRICS, country, count, int, metricLabel, word, clock } from "../format.js";
import { follow } from "../poll.js";
import { worldMap } from "../map.js";
import { scopeNotice, operationHeading, asOfLine } from "./parts.js";

const BIG = METRICS.filter(([m]) => m !== "seizures");
const KEEP = 30;
const MAP_METRIC = "victims_safeguarded";

export async function render(main, ctx) {
  const [opId] = ctx.params;
  const base = `operations/${encodeURIComponent(opId)}`;
  const get = (path, query) => api.get(path ? `${base}/${path}` : base, query, { signal: ctx.signal });
  const [op, first] = await Promise.all([get(""), get("tallies")]);
  const opened = new Date();
  const baseline = totalsOf(first);
  const taking = new Set(op.participating_countries.filter(session.covers));
  const asOf = asOfLine();
  const numbers = h("dl", { class: "live-numbers", "data-testid": "live-numbers" });
  const feed = h("ol", { class: "feed", "data-testid": "feed" });
  const map = worldMap({ title: "World map", onPick: (code) => ctx.navigate(`#/ops/${encodeURIComponent(opId)}/countries/${code}`) });
  const readsFeed = session.can("interceptions:read");
  let seq = first.as_of_seq;

  fill(main,
    ...operationHeading(op, `Live: ${op.name}`),
    asOf.el,
    scopeNotice(),
    h("div", { class: "live" },
      section("h-live-numbers", "Headline figures", 2, numbers),
      section("h-live-map", metricLabel(MAP_METRIC), 2, map.el),
      section("h-live-feed", "Latest changes", 2, readsFeed
        ? h("div", { class: "feed-scroll", tabindex: "0", role: "region", "aria-label": "Latest changes, newest first" }, feed)
        : h("p", { class: "help" }, "Your token has no interceptions:read scope: the list of changes is not shown."))));

  const draw = (report) => {
    const totals = totalsOf(report);
    fill(numbers, BIG.map(([m, label]) => {
      const delta = totals[m] - baseline[m];
      return h("div", { class: "big", "data-metric": m },
        h("dt", null, label),
        h("dd", { class: "value" }, int(totals[m])),
        h("dd", { class: delta ? "delta up" : "delta" }, delta ? `${delta > 0 ? "+" : "−"}${int(Math.abs(delta))} since ${clock(opened)}` : "no change yet"));
    }));
    const values = {};
    for (const row of report.countries) if (row.metric === MAP_METRIC) values[row.country] = row.value;
    map.update(values, taking, metricLabel(MAP_METRIC));
    asOf.update(report.as_of_seq);
  };
  draw(first);

  const addChanges = (changes) => {
    for (const change of changes) feed.prepend(changeItem(change));
    while (feed.children.length > KEEP) feed.lastElementChild.remove();
  };
  if (readsFeed) {
    // The last few changes before the page opened, so the list is not empty on a quiet day.
    const recent = await get("changes", { after: Math.max(0, seq - KEEP), limit: KEEP });
    addChanges(recent.changes.filter((c) => c.seq <= seq));
    if (feed.children.length === 0) feed.appendChild(h("li", { class: "help quiet" }, "No change yet."));
  }

  const check = async () => {
    if (readsFeed) {
      const page = await get("changes", { after: seq, limit: 100 });
      if (page.changes.length === 0) return asOf.update(seq);
      feed.querySelector(".quiet")?.remove();
      addChanges(page.changes);
    }
    const report = await get("tallies");
    if (report.as_of_seq !== seq) announce(`Figures updated, as of change ${int(report.as_of_seq)}.`);
    seq = Math.max(seq, report.as_of_seq);
    draw(report);
  };
  const follower = follow(check, asOf.following);
  ctx.onDispose(() => follower.stop());
}

function totalsOf(report) {
  const totals = Object.fromEntries(BIG.map(([m]) => [m, 0]));
  for (const t of report.totals) totals[t.metric] = t.value;
  return totals;
}

function changeItem(change) {
  const data = change.data || {};
  const counts = [];
  if (change.entity === "interception" && change.action !== "delete") {
    if (data.migrants?.total) counts.push(count(data.migrants.total, "migrant", "migrants"));
    if (data.victims?.total) counts.push(count(data.victims.total, "victim", "victims"));
    if (data.arrests) counts.push(count(data.arrests, "arrest", "arrests"));
  } else if (change.entity === "tally") {
    counts.push(`${metricLabel(data.metric)}: ${int(data.value)}`);
  }
  return h("li", null,
    h("span", { class: "feed-seq" }, `#${int(change.seq)}`), " ",
    h("strong", null, country(change.country)), " · ",
    `${word(change.entity)} `, h("span", { class: "ref" }, change.key), ` ${word(change.action).toLowerCase()} (version ${int(change.version)})`,
    counts.length ? ` · ${counts.join(", ")}` : "",
    change.entity === "interception" && data.kind ? ` · ${word(data.kind)}` : "");
}

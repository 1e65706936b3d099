// One record (an interception) as the hub holds it. Its notes, place and reference are user
// content and are shown as text.

import * as api from "../api.js";
import { h, fill, section } from "../dom.js";
import { countryWithCode, country, int, qty, moment, word } from "../format.js";
import { scopeNotice } from "./parts.js";
import { simpleTable } from "../table.js";

export async function render(main, ctx) {
  const [opId, code, ref] = ctx.params;
  const op = await api.get(`operations/${encodeURIComponent(opId)}`, {}, { signal: ctx.signal });
  const path = `operations/${encodeURIComponent(opId)}/interceptions/${code}/${encodeURIComponent(ref)}`;
  const [r, history] = await Promise.all([
    api.get(path, {}, { signal: ctx.signal }),
    api.get(`${path}/versions`, {}, { signal: ctx.signal }),
  ]);
  const opHref = `#/ops/${encodeURIComponent(opId)}`;
  const facts = [
    ["Kind", word(r.kind)],
    ["When", moment(r.occurred_at)],
    ["Place", r.location?.place || "—"],
    ["Coordinates", r.location && r.location.lat !== null && r.location.lat !== undefined
      ? `${qty(r.location.lat)}, ${qty(r.location.lon)}` : "—"],
    ["Arrests", int(r.arrests)],
    ["Investigations opened", int(r.investigations_opened)],
  ];
  const version = [
    ["Version", int(r.version)],
    ["Status", r.deleted ? "Retracted: counted in no total" : "Live: counted in the totals"],
    ["This version stored", moment(r.updated_at)],
    ["First stored", moment(r.created_at)],
    ["Written by (token subject)", r.reported_by],
  ];
  fill(main,
    h("p", { class: "crumbs" }, h("a", { href: opHref }, op.name), " › ",
      h("a", { href: `${opHref}/countries/${code}` }, countryWithCode(code))),
    h("h1", { tabindex: "-1" }, "Record ", h("span", { class: "ref" }, r.external_ref)),
    scopeNotice(),
    r.deleted ? h("p", { class: "notice" }, "This record was retracted: the hub keeps it as a tombstone, outside every total.") : null,
    section("h-what", "What happened", 2, dl(facts),
      h("h3", null, "Notes"),
      r.notes ? h("p", { class: "notes", "data-testid": "notes" }, r.notes) : h("p", { class: "help" }, "No notes.")),
    section("h-people", "People", 2, h("div", { class: "two" }, people("Migrants detected", r.migrants), people("Victims safeguarded", r.victims))),
    section("h-seizures", "Seizures", 2, r.seizures.length
      ? simpleTable("Seizures", ["Category", "Quantity"], r.seizures.map((s) => [word(s.category), `${qty(s.quantity)}${s.unit ? ` ${s.unit}` : ""}`]))
      : h("p", null, "None.")),
    section("h-version", "Version", 2, dl(version)),
    section("h-history", "History", 2, historyTable(history.versions),
      h("p", { class: "help" }, "Every version the hub stored, oldest first. A record changed twice in one batch keeps only ",
        "the batch's last version, so numbers may skip.")));
}

// The record's versions, oldest first, each with what changed since the one before it.
function historyTable(versions) {
  const rows = versions.map((v, i) => [
    int(v.version),
    moment(v.updated_at),
    v.reported_by,
    v.deleted ? "Retracted" : i > 0 && versions[i - 1].deleted ? "Revived" : i === 0 ? "Created" : "Changed",
    int(v.migrants?.total ?? 0),
    int(v.victims?.total ?? 0),
    int(v.arrests ?? 0),
    i === 0 ? "—" : changes(versions[i - 1], v),
  ]);
  // Counts are right-aligned; words and dates read from the left.
  const numeric = [true, false, false, false, true, true, true, false];
  const headers = ["Version", "Stored", "Written by", "What", "Migrants", "Victims", "Arrests", "Changed"];
  return h("div", { "data-testid": "history" },
    h("table", { class: "data" },
      h("caption", null, "Versions of this record"),
      h("thead", null, h("tr", null, headers.map((label, i) => h("th", { scope: "col", class: numeric[i] ? "numeric" : null }, label)))),
      h("tbody", null, rows.map((cells) => h("tr", null, cells.map((cell, i) => (i === 0
        ? h("th", { scope: "row", class: "numeric" }, cell)
        : h("td", { class: numeric[i] ? "numeric" : null }, cell))))))));
}

// The top-level fields whose value differs between two versions, in words.
function changes(before, after) {
  const skip = new Set(["version", "updated_at", "reported_by", "deleted", "created_at", "id", "result"]);
  const keys = new Set([...Object.keys(before), ...Object.keys(after)].filter((k) => !skip.has(k)));
  const changed = [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
  return changed.length ? changed.map(word).join(", ") : "nothing in the content";
}

function dl(pairs) {
  return h("dl", { class: "facts" }, pairs.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

function people(title, count) {
  if (!count || count.total === 0) return h("div", null, h("h3", null, title), h("p", null, "None."));
  const rows = [["In all", int(count.total)]];
  if (count.children !== null && count.children !== undefined) rows.push(["Children", int(count.children)]);
  if (count.female !== null && count.female !== undefined) rows.push(["Female", int(count.female)]);
  if (count.male !== null && count.male !== undefined) rows.push(["Male", int(count.male)]);
  const nationality = Object.entries(count.by_nationality || {}).sort((a, b) => b[1] - a[1]);
  const exploitation = Object.entries(count.by_exploitation || {}).sort((a, b) => b[1] - a[1]);
  return h("div", null,
    simpleTable(title, ["", "People"], rows),
    nationality.length ? simpleTable(`${title} by nationality`, ["Nationality", "People"], nationality.map(([c, n]) => [country(c), int(n)])) : null,
    exploitation.length ? simpleTable(`${title} by form of exploitation`, ["Form", "People"], exploitation.map(([e, n]) => [word(e), int(n)])) : null);
}

// A country of an operation: its figures (with the versions of a stated figure), its sync
// digest, its national units and its records, filterable; for a desk that may write for the
// country, the spreadsheet import (screens/imports.js).

import * as api from "../api.js";
import * as session from "../session.js";
import { h, fill, section, problemBox } from "../dom.js";
import { METRICS, countryWithCode, int, qty, metricLabel, moment, day, word } from "../format.js";
import { scopeNotice, operationHeading, figure } from "./parts.js";
import { scrollBox } from "../table.js";
import { drawImports } from "./imports.js";

const KINDS = ["sea_departure", "land_border", "air_border", "premises", "checkpoint", "online", "other"];
const PAGE = 50;
/** The record filters, kept while the tab lives, per operation and country. */
const filters = new Map();

export async function render(main, ctx) {
  const [opId, code] = ctx.params;
  const base = `operations/${encodeURIComponent(opId)}`;
  const get = (path, query) => api.get(`${base}/${path}`, query, { signal: ctx.signal });
  const op = await api.get(base, {}, { signal: ctx.signal });

  const figures = h("div", null, h("p", { class: "loading" }, "Loading…"));
  const digest = h("div", null, h("p", { class: "loading" }, "Loading…"));
  const units = h("div", null, h("p", { class: "loading" }, "Loading…"));
  const records = h("div");
  const desk = session.can("interceptions:write") && session.covers(code);
  const imports = desk ? h("div") : null;
  fill(main,
    ...operationHeading(op, countryWithCode(code)),
    scopeNotice(),
    section("h-figures", "Figures", 2, figures),
    section("h-records", "Records", 2, records),
    section("h-digest", "Sync digest", 2, digest),
    section("h-units", "National units", 2, units),
    desk ? section("h-imports", "Spreadsheet import", 2, imports) : null);

  const load = async (el, fn) => {
    try {
      await fn();
    } catch (e) {
      if (e.name !== "AbortError") fill(el, problemBox(e));
    }
  };
  const tasks = [
    load(figures, async () => drawFigures(figures, await get("tallies", { country: code }), get, code)),
    load(units, async () => drawUnits(units, await api.all(`${base}/units`, { country: code }, 1000, { signal: ctx.signal }))),
  ];
  if (session.can("interceptions:read")) {
    tasks.push(load(digest, async () => drawDigest(digest, await get("sync/digest", { country: code }))));
    tasks.push(load(records, async () => drawRecords(records, get, opId, code)));
  } else {
    fill(digest, h("p", { class: "help" }, "Your token has no interceptions:read scope: no digest."));
    fill(records, h("p", { class: "help" }, "Your token has no interceptions:read scope: no records."));
  }
  if (desk) tasks.push(load(imports, () => drawImports(imports, ctx, opId, code)));
  await Promise.all(tasks);
}

function drawFigures(el, report, get, code) {
  const rows = Object.fromEntries(report.countries.map((r) => [r.metric, r]));
  const history = h("div", { class: "history" });
  fill(el,
    scrollBox("Figures", h("table", { class: "data", "data-testid": "country-figures" },
      h("caption", null, `Figures as of change ${int(report.as_of_seq)}`),
      h("thead", null, h("tr", null,
        ["Figure", "Standing", "From records", "Stated", "Stated for", ""].map((t, i) => h("th", { scope: "col", class: i > 0 && i < 4 ? "numeric" : null }, t)))),
      h("tbody", null, METRICS.map(([m, label]) => {
        const row = rows[m];
        const stated = row && row.reported !== null && row.reported !== undefined;
        return h("tr", null,
          h("th", { scope: "row" }, label),
          h("td", { class: "numeric" }, figure(row),
            m === "seizures" && row?.quantities ? h("ul", { class: "quantities" }, Object.entries(row.quantities).map(([k, q]) => {
              const [category, unit] = k.split(":");
              return h("li", null, `${word(category)} ${qty(q)}${unit ? ` ${unit}` : ""}`);
            })) : null),
          h("td", { class: "numeric" }, int(row?.derived ?? 0)),
          h("td", { class: "numeric" }, stated ? int(row.reported) : "—"),
          h("td", null, stated ? day(row.reported_as_of) : ""),
          h("td", null, stated
            ? h("button", { type: "button", class: "link", onclick: () => showHistory(history, get, code, m) }, `Versions of the stated ${label.toLowerCase()}`)
            : ""));
      })))),
    history);
}

async function showHistory(el, get, code, metric) {
  fill(el, h("p", { class: "loading" }, "Loading…"));
  try {
    const answer = await get(`tallies/${code}/${metric}`);
    fill(el, scrollBox("Versions of the stated figure", h("table", { class: "data" },
      h("caption", null, `Versions of the stated ${metricLabel(metric).toLowerCase()}, newest first`),
      h("thead", null, h("tr", null, ["Version", "Value", "Stated for", "Stated by", "Stored at"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, answer.history.map((v) => h("tr", null,
        h("th", { scope: "row" }, int(v.version)), h("td", { class: "numeric" }, int(v.value)), h("td", null, day(v.as_of)),
        h("td", null, v.reported_by), h("td", null, moment(v.reported_at))))))));
    el.querySelector("table").focus();
  } catch (e) {
    fill(el, problemBox(e));
  }
}

function drawDigest(el, answer) {
  fill(el,
    h("dl", { class: "facts" },
      h("dt", null, "Records held (not retracted)"), h("dd", { "data-testid": "digest-count" }, int(answer.count)),
      h("dt", null, "Digest (SHA-256)"), h("dd", null, h("code", { class: "digest" }, answer.digest))),
    h("p", { class: "help" },
      "The hex SHA-256 of the lines “reference TAB version” of these records, sorted by reference. ",
      "A national system that computes the same over what it sent, and finds the same digest, knows the hub holds exactly that."));
}

function drawUnits(el, list) {
  if (list.length === 0) return fill(el, h("p", null, "No unit registered."));
  fill(el, scrollBox("National units", h("table", { class: "data", "data-testid": "units" },
    h("caption", null, "Units taking part"),
    h("thead", null, h("tr", null, ["Name", "Kind", "Officers deployed", "Taking part"].map((t, i) => h("th", { scope: "col", class: i === 2 ? "numeric" : null }, t)))),
    h("tbody", null, list.map((u) => h("tr", null,
      h("th", { scope: "row" }, u.name), h("td", null, word(u.kind)), h("td", { class: "numeric" }, int(u.officers_deployed)),
      h("td", null, u.active ? "Yes" : "No")))))));
}

function drawRecords(el, get, opId, code) {
  const key = `${opId}/${code}`;
  const saved = filters.get(key) || { kind: "", from: "", to: "", deleted: false };
  const kind = h("select", { id: "f-kind", name: "kind" }, h("option", { value: "" }, "Any kind"),
    KINDS.map((k) => h("option", { value: k, selected: saved.kind === k }, word(k))));
  const from = h("input", { id: "f-from", name: "from", type: "date", value: saved.from });
  const to = h("input", { id: "f-to", name: "to", type: "date", value: saved.to });
  const deleted = h("input", { id: "f-deleted", name: "deleted", type: "checkbox", checked: saved.deleted });
  const body = h("tbody");
  const status = h("p", { class: "help", role: "status" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more records");
  let cursor = null;
  let shown = 0;

  const form = h("form", { class: "filters", "aria-label": "Filter the records" },
    h("div", { class: "field" }, h("label", { for: "f-kind" }, "Kind"), kind),
    h("div", { class: "field" }, h("label", { for: "f-from" }, "From (UTC day)"), from),
    h("div", { class: "field" }, h("label", { for: "f-to" }, "To (UTC day, included)"), to),
    h("div", { class: "field check" }, deleted, h("label", { for: "f-deleted" }, "Include retracted records")),
    h("button", { type: "submit" }, "Apply"));

  const query = () => {
    const next = (d) => {
      const date = new Date(`${d}T00:00:00Z`);
      date.setUTCDate(date.getUTCDate() + 1);
      return date.toISOString();
    };
    return {
      country: code, kind: kind.value, limit: PAGE, cursor,
      from: from.value ? `${from.value}T00:00:00Z` : "", to: to.value ? next(to.value) : "",
      include_deleted: deleted.checked ? "true" : "",
    };
  };

  async function loadPage() {
    more.disabled = true;
    try {
      const page = await get("interceptions", query());
      for (const r of page.items) body.appendChild(recordRow(r, opId, code));
      shown += page.items.length;
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
      fill(status, shown === 0 ? "No record matches." : `${int(shown)} ${shown === 1 ? "record" : "records"} shown${cursor ? "; more match" : ""}.`);
    } catch (e) {
      if (e.name !== "AbortError") fill(status, problemBox(e));
    } finally {
      more.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters.set(key, { kind: kind.value, from: from.value, to: to.value, deleted: deleted.checked });
    cursor = null;
    shown = 0;
    body.replaceChildren();
    loadPage();
  });
  more.addEventListener("click", loadPage);

  fill(el, form,
    scrollBox("Records", h("table", { class: "data", "data-testid": "records" },
      h("caption", null, "Records, in the order the hub received them"),
      h("thead", null, h("tr", null, ["Reference", "Kind", "When (UTC)", "Place", "Migrants", "Victims", "Arrests", "Version"]
        .map((t, i) => h("th", { scope: "col", class: i >= 4 ? "numeric" : null }, t)))),
      body)),
    status, more);
  return loadPage();
}

function recordRow(r, opId, code) {
  return h("tr", { class: r.deleted ? "retracted" : null },
    h("th", { scope: "row" },
      h("a", { href: `#/ops/${encodeURIComponent(opId)}/countries/${code}/records/${encodeURIComponent(r.external_ref)}` }, r.external_ref),
      r.deleted ? h("span", { class: "tag" }, " retracted") : null),
    h("td", null, word(r.kind)),
    h("td", null, moment(r.occurred_at)),
    h("td", null, r.location?.place || ""),
    h("td", { class: "numeric" }, int(r.migrants?.total ?? 0)),
    h("td", { class: "numeric" }, int(r.victims?.total ?? 0)),
    h("td", { class: "numeric" }, int(r.arrests)),
    h("td", { class: "numeric" }, int(r.version)));
}

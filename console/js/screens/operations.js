// The operations the token covers, each with its status, dates, countries and headline figures.

import * as api from "../api.js";
import * as session from "../session.js";
import { h, fill, problemBox } from "../dom.js";
import { country, day, int, metricLabel, word } from "../format.js";
import { scopeNotice } from "./parts.js";
import { operationHome } from "../nav.js";

const HEADLINE = ["interceptions", "migrants_detected", "victims_safeguarded", "arrests", "investigations_opened"];

export async function render(main, ctx) {
  const operations = await api.all("operations", {}, 1000, { signal: ctx.signal });
  const list = h("ul", { class: "operations" });
  fill(main,
    h("h1", { tabindex: "-1" }, "Operations"),
    scopeNotice(),
    operations.length === 0 ? h("p", null, "Your token covers no operation yet.") : list);
  for (const op of operations) {
    const figures = h("div", { class: "op-figures" }, h("p", { class: "loading" }, "Loading figures…"));
    list.appendChild(h("li", { class: "op-card" },
      h("h2", null, h("a", { href: operationHome(op.id) }, op.name)),
      h("p", { class: "op-meta" },
        h("span", { class: `status status-${op.status}` }, word(op.status)), " ",
        h("span", null, `${day(op.starts_on)} – ${day(op.ends_on)}`), " · ",
        h("span", null, op.coordinator), " · ",
        h("code", null, op.id)),
      h("p", null,
        `${int(op.participating_countries.length)} participating countries, ${int(op.officers_deployed)} officers deployed`),
      op.participating_countries.length
        ? h("details", { class: "country-list" }, h("summary", null, "Which countries"),
          h("p", null, op.participating_countries.map(country).sort((a, b) => a.localeCompare(b)).join(", ")))
        : null,
      figures));
    if (!session.can("tallies:read")) {
      fill(figures, h("p", { class: "help" }, "Your token has no tallies:read scope: no figures."));
      continue;
    }
    api.get(`operations/${encodeURIComponent(op.id)}/tallies`, {}, { signal: ctx.signal })
      .then((report) => {
        const totals = Object.fromEntries(report.totals.map((t) => [t.metric, t]));
        fill(figures, h("dl", { class: "figures compact" }, HEADLINE.map((m) => h("div", null,
          h("dt", null, metricLabel(m)), h("dd", null, int(totals[m]?.value ?? 0))))));
      })
      .catch((e) => {
        if (e.name !== "AbortError") fill(figures, problemBox(e));
      });
  }
}

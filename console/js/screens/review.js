// The review of a release, figure by figure: what it withholds and why, and for each metric its
// total, its figure per country and per bucket of each breakdown, each beside its true value
// with what the method did to it.

import { h, fill } from "../dom.js";
import { METRICS, countryWithCode, bucketLabel, count, dimensionLabel, int, metricLabel } from "../format.js";
import { sortableTable } from "../table.js";
import { isTotal, published, fewer, legend, treatment, treatmentTag } from "../disclosure.js";

/** The metric shown in the review; kept while the tab lives. */
let chosen = "victims_safeguarded";
/** Which figures the review shows: every one, those the method changed, or those under the base. */
let showing = "all";
const SHOW = [
  ["all", "Every figure"],
  ["changed", "Only figures the method changed"],
  ["small", `Only figures published as “fewer than …”`],
];
const ORDER = Object.fromEntries(METRICS.map(([m], i) => [m, i]));
/** A metric's name here: a release counts seizure entries, never their quantities. */
const metricName = (m) => (m === "seizures" ? "Seizures (entries)" : metricLabel(m));

/** Where a figure is: a country, a bucket of a breakdown, or the whole operation. */
function where(f) {
  if (f.country !== null) return countryWithCode(f.country);
  if (f.dimension !== null) return `${dimensionLabel(f.dimension)}: ${bucketLabel(f.dimension, f.bucket)}`;
  return "Whole operation";
}

/** A table of reviewed figures: where, true count, published, what the method did. */
function figureTable({ caption, figures, base, label, name, sortValue, className, showPublished = true }) {
  const table = sortableTable({
    caption,
    rowKey: (f) => `${f.metric}/${f.country ?? ""}/${f.dimension ?? ""}/${f.bucket ?? ""}`,
    rowAttrs: (f) => ({ "data-figure": `${f.metric}/${f.country ?? "*"}/${f.dimension ?? ""}/${f.bucket ?? ""}` }),
    sortKey: "where",
    descending: false,
    columns: [
      { key: "where", label, value: sortValue, cell: name },
      { key: "value", label: "True count", numeric: true, value: (f) => f.value, cell: (f) => int(f.value) },
      showPublished
        ? { key: "published", label: "Published", numeric: true, value: (f) => f.published ?? -1, cell: (f) => published(f.published, base) }
        : null,
      { key: "treatment", label: "What the method did", value: (f) => treatment(f, base).text, cell: (f) => treatmentTag(f, base) },
    ].filter(Boolean),
  });
  table.update(figures);
  if (className) table.el.classList.add(className);
  return table.el;
}

/** What the release withholds, and why, with every withheld count in a table. */
export function withheldPanel(preview) {
  const base = preview.release.rounding_base;
  const figures = preview.review;
  const withheld = figures.filter((f) => f.treatment === "withheld")
    .sort((a, b) => ORDER[a.metric] - ORDER[b.metric] || where(a).localeCompare(where(b)));
  const unnamed = withheld.filter((f) => !f.listed).length;
  const zeros = figures.filter((f) => f.treatment === "zero").length;
  const rounded = preview.publication.metrics.filter((m) => !m.total_exact).map((m) => metricName(m.metric));
  const carried = preview.publication.metrics.filter((m) => m.carried_from !== null);
  return h("div", null,
    h("ul", { class: "reasons", "data-testid": "withheld-summary" },
      base > 1
        ? h("li", null, h("strong", null, `${count(withheld.length, "count", "counts")} from 1 to ${int(base - 1)}`),
          ` ${withheld.length === 1 ? "is" : "are"} published as “${fewer(base)}”, and so ${zeros === 1 ? "is" : "are"} ${count(zeros, "true zero", "true zeros")}: `,
          `a count that small could point at a few people, and “${fewer(base)}” never tells a 0 from a 1 or a ${int(base - 1)}.`,
          unnamed ? ` ${int(unnamed)} of them ${unnamed === 1 ? "is" : "are"} not even named: a nationality, or a day outside the operation, is named only with a figure of ${int(base)} or more, and is otherwise one of “the others”.` : null)
        : h("li", null, "The rounding base is 1 (the operation's threshold): every count is published as it is, and no count is withheld."),
      h("li", null, h("strong", null, `${count(preview.unpublished, "figure", "figures")} per country and breakdown`),
        " (a country's victims by nationality, say) are kept with the release and never published: breakdowns are published for the whole operation only."),
      h("li", null, "Seizure quantities (amounts of money, kilograms, items) are not counts and are not published; the number of seizures is."),
      rounded.length
        ? h("li", null, `Rounded, not exact: the total of ${rounded.join(", ")}. A total is published exactly only where every table of its metric `,
          `has at least three figures of ${int(base)} or more, and no earlier release gave a different exact total.`)
        : h("li", null, "Every total is published exactly."),
      carried.map((m) => h("li", null, `${metricName(m.metric)} keeps the figures of release ${int(m.carried_from)}: its new figures could not be rounded `,
        "without moving one against the change of its count, which would give the change away. A later release moves them."))),
    withheld.length ? figureTable({
      caption: `Counts published as “${fewer(base)}”`,
      className: "withheld-table",
      showPublished: false,
      figures: withheld,
      base,
      label: "Figure",
      name: (f) => [h("span", { class: "metric-name" }, metricName(f.metric)), " · ", where(f)],
      sortValue: (f) => `${String(ORDER[f.metric]).padStart(2, "0")} ${where(f)}`,
    }) : null);
}

/** Every figure of a chosen metric beside its true value, with a choice of metric and of figures. */
export function reviewPanel(preview) {
  const base = preview.release.rounding_base;
  const metrics = preview.publication.metrics.map((m) => m.metric);
  if (!metrics.includes(chosen)) [chosen] = metrics;
  const counted = (m) => preview.review.filter((f) => f.metric === m && f.treatment === "withheld").length;
  const metricSelect = h("select", { id: "review-metric" }, metrics.map((m) => {
    const n = counted(m);
    return h("option", { value: m, selected: m === chosen }, `${metricName(m)}${n ? ` (${int(n)} withheld)` : ""}`);
  }));
  const showSelect = h("select", { id: "review-show" }, SHOW.map(([value, label]) =>
    h("option", { value, selected: value === showing }, label.replace("…", int(base)))));
  const body = h("div", { class: "review-tables", "data-testid": "review" });
  const draw = () => fill(body, metricFigures(preview, chosen, showing));
  metricSelect.addEventListener("change", () => { chosen = metricSelect.value; draw(); });
  showSelect.addEventListener("change", () => { showing = showSelect.value; draw(); });
  draw();
  return h("div", null,
    h("details", { class: "legend-words" }, h("summary", null, "What the words in the last column mean"),
      h("dl", { class: "facts" }, legend(base).map(([term, meaning]) => [h("dt", null, term), h("dd", null, meaning)]))),
    h("div", { class: "filters" },
      h("div", { class: "field" }, h("label", { for: "review-metric" }, "Figure"), metricSelect),
      h("div", { class: "field" }, h("label", { for: "review-show" }, "Show"), showSelect)),
    body);
}

function metricFigures(preview, metric, show) {
  const base = preview.release.rounding_base;
  const label = metricName(metric);
  const mine = preview.review.filter((f) => f.metric === metric);
  const total = mine.find(isTotal);
  const asPublished = preview.publication.metrics.find((m) => m.metric === metric);
  const small = (f) => !f.listed || f.treatment === "withheld" || f.treatment === "zero";
  const keep = (f) => show === "all" || (show === "small" ? small(f) : f.treatment !== "exact" || !f.listed);
  const countries = mine.filter((f) => f.country !== null && f.dimension === null);
  const dimensions = [...new Set(mine.filter((f) => f.country === null && f.dimension !== null).map((f) => f.dimension))];
  const table = (caption, figures, columnLabel, name, sortValue) => {
    const kept = figures.filter(keep);
    return h("div", { class: "review-block" },
      figureTable({ caption, figures: kept, base, label: columnLabel, name, sortValue }),
      kept.length ? null : h("p", { class: "help" }, "No figure of this kind here."));
  };
  return [
    h("h3", { class: "wide" }, `${label}: the total`),
    h("dl", { class: "facts wide", "data-testid": "review-total" },
      h("dt", null, "Published"), h("dd", null, asPublished.total_exact
        ? `${int(asPublished.total)} (exact)`
        : `${published(asPublished.total, base)} (rounded to a multiple of ${int(base)})`),
      h("dt", null, "True count"), h("dd", null, int(total.value)),
      h("dt", null, "Its tables add up to"), h("dd", null, int(total.rounded)),
      h("dt", null, "What the method did"), h("dd", null, treatmentTag(total, base, asPublished.total_exact))),
    asPublished.carried_from !== null
      ? h("p", { class: "notice wide" }, `These are the figures of release ${int(asPublished.carried_from)}, and their true values then: `,
        "this metric's new figures could not be rounded consistently with them yet.")
      : null,
    countries.length ? table(`${label} by country`, countries, "Country", (f) => countryWithCode(f.country), (f) => countryWithCode(f.country)) : null,
    dimensions.map((d) => table(`${label} by ${dimensionLabel(d).toLowerCase()}`, mine.filter((f) => f.dimension === d && f.country === null),
      dimensionLabel(d), (f) => bucketLabel(d, f.bucket), (f) => (d === "day" ? f.bucket : bucketLabel(d, f.bucket)))),
  ];
}

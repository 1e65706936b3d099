// The countries of an operation that the token covers: a list to pick one from.

import * as api from "../api.js";
import * as session from "../session.js";
import { h, fill } from "../dom.js";
import { country } from "../format.js";
import { scopeNotice, operationHeading } from "./parts.js";

export async function render(main, ctx) {
  const [opId] = ctx.params;
  const op = await api.get(`operations/${encodeURIComponent(opId)}`, {}, { signal: ctx.signal });
  const codes = op.participating_countries.filter(session.covers);
  if (codes.length === 1) {
    ctx.navigate(`#/ops/${encodeURIComponent(opId)}/countries/${codes[0]}`);
    return;
  }
  const list = h("ul", { class: "country-index" });
  const filter = h("input", { id: "country-filter", type: "search", autocomplete: "off" });
  const draw = () => {
    const text = filter.value.trim().toLowerCase();
    const shown = codes
      .map((code) => [code, country(code)])
      .filter(([code, name]) => !text || name.toLowerCase().includes(text) || code.toLowerCase() === text)
      .sort((a, b) => a[1].localeCompare(b[1]));
    fill(list, shown.length
      ? shown.map(([code, name]) => h("li", null,
        h("a", { href: `#/ops/${encodeURIComponent(opId)}/countries/${code}` }, name), " ", h("span", { class: "code" }, code)))
      : h("li", null, "No country matches."));
  };
  filter.addEventListener("input", draw);
  fill(main,
    ...operationHeading(op, "Countries"),
    scopeNotice(),
    h("p", null, `${codes.length} participating ${codes.length === 1 ? "country" : "countries"} your token covers. `,
      "Each has its records, its sync digest and its figures."),
    h("div", { class: "field" }, h("label", { for: "country-filter" }, "Find a country"), filter),
    list);
  draw();
}

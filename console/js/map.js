// The world map: countries shaded by a figure (a choropleth). The same figures are always in the
// table beside it, which is what keyboards and screen readers use; the map is for the eye.

import { svg, h, fill } from "./dom.js";
import { WIDTH, HEIGHT, SHAPES, DOTS } from "./world.js";
import { country, int } from "./format.js";

const CLASSES = 5;

/** Class limits for `values` (positive numbers): up to five ranges, each upper bound included. */
export function classLimits(values) {
  const sorted = values.filter((v) => v > 0).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const limits = [];
  for (let i = 1; i <= CLASSES; i += 1) {
    const at = sorted[Math.min(sorted.length - 1, Math.ceil((i * sorted.length) / CLASSES) - 1)];
    if (!limits.includes(at)) limits.push(at);
  }
  return limits;
}

/**
 * A map whose `update(values, label)` shades each country by its value (`{SN: 12, ...}`);
 * countries taking part with no figure are `zero`, others `none`. `onPick(code)` on a click.
 */
export function worldMap({ title, onPick }) {
  const shapes = new Map();
  const tips = new Map();
  const root = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "map", role: "img", "aria-labelledby": "map-title",
  });
  const titleEl = svg("title", { id: "map-title" }, title);
  root.appendChild(titleEl);
  const add = (code, el) => {
    const tip = svg("title", null, country(code));
    el.appendChild(tip);
    el.setAttribute("class", "none");
    el.addEventListener("click", () => onPick && shapes.get(code)?.dataset.part === "yes" && onPick(code));
    shapes.set(code, el);
    tips.set(code, tip);
    root.appendChild(el);
  };
  for (const [code, d] of Object.entries(SHAPES)) add(code, svg("path", { d }));
  for (const [code, [cx, cy]] of Object.entries(DOTS)) add(code, svg("circle", { cx, cy, r: 2.6 }));
  const legend = h("ul", { class: "legend", "aria-hidden": "true" });

  return {
    el: h("div", { class: "map-wrap" }, root, legend),
    update(values, taking, label) {
      const limits = classLimits(Object.values(values));
      fill(titleEl, `World map of ${label} by country. The same figures are in the table.`);
      for (const [code, el] of shapes) {
        const value = values[code] || 0;
        const part = taking.has(code) || value > 0;
        let cls = part ? "zero" : "none";
        if (value > 0) cls = `c${limits.findIndex((l) => value <= l) + 1 + (CLASSES - limits.length)}`;
        el.setAttribute("class", cls);
        el.dataset.part = part ? "yes" : "no";
        fill(tips.get(code), part ? `${country(code)}: ${int(value)} ${label.toLowerCase()}` : `${country(code)}: not taking part`);
      }
      const ranges = limits.map((limit, i) => [i === 0 ? 1 : limits[i - 1] + 1, limit, `c${i + 1 + (CLASSES - limits.length)}`]);
      fill(legend,
        h("li", null, h("span", { class: "swatch none" }), "Not taking part"),
        h("li", null, h("span", { class: "swatch zero" }), "0"),
        ranges.map(([from, to, cls]) => h("li", null, h("span", { class: `swatch ${cls}` }, ""), from >= to ? int(to) : `${int(from)}–${int(to)}`)));
    },
  };
}

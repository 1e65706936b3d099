// Bar charts (Chart.js, vendored) that always come with their figures as a table.

import { h, fill } from "./dom.js";
import { int } from "./format.js";
import { simpleTable } from "./table.js";

const BAR = "#2a6cb0";

/**
 * A figure with a bar chart and, under "Show as table", the same figures.
 * `update(labels, values)` redraws it in place. `horizontal` suits long category names.
 */
export function barChart({ title, valueLabel, horizontal = false }) {
  const canvas = h("canvas", { role: "img" });
  const box = h("div", { class: "chart" }, canvas);
  const table = h("div", { class: "chart-table" });
  const details = h("details", null, h("summary", null, "Show as table"), table);
  const caption = h("figcaption", null, title);
  const el = h("figure", { class: "chart-figure" }, caption, box, details);
  let chart = null;

  function update(labels, values, newTitle) {
    if (newTitle) fill(caption, newTitle);
    const top = labels.map((l, i) => [l, values[i]]).sort((a, b) => b[1] - a[1]).slice(0, 3);
    canvas.setAttribute("aria-label", `${caption.textContent}. ${top.map(([l, v]) => `${l}: ${int(v)}`).join("; ")}. All figures are in the table below.`);
    fill(table, simpleTable(caption.textContent, ["", valueLabel], labels.map((l, i) => [l, int(values[i])])));
    box.classList.toggle("tall", horizontal && labels.length > 8);
    if (!window.Chart) {
      box.hidden = true;
      details.open = true;
      return;
    }
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets[0].data = values;
      chart.update("none");
      return;
    }
    chart = new window.Chart(canvas, {
      type: "bar",
      data: { labels, datasets: [{ label: valueLabel, data: values, backgroundColor: BAR, borderRadius: 2 }] },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (item) => `${valueLabel}: ${int(item.raw)}` } },
        },
        scales: {
          [horizontal ? "x" : "y"]: { beginAtZero: true, ticks: { callback: (v) => int(v), precision: 0 } },
          [horizontal ? "y" : "x"]: { ticks: { autoSkip: false } },
        },
      },
    });
  }

  return { el, update, destroy: () => chart?.destroy() };
}

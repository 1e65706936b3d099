// Bar charts (Chart.js, vendored) that always come with their figures as a table.

import { h, fill } from "./dom.js";
import { int } from "./format.js";
import { simpleTable } from "./table.js";

const BAR = "#2a6cb0";

// Chart.js loads on its own (async), so the figures and the map never wait for it; a chart
// waits for it, or shows its table alone if it cannot load.
const chartReady = new Promise((resolve) => {
  const script = document.getElementById("chart-js");
  if (window.Chart || !script) return resolve(window.Chart || null);
  script.addEventListener("load", () => resolve(window.Chart || null));
  script.addEventListener("error", () => resolve(null));
}).then((Chart) => {
  if (Chart) {
    // Figures change in place every few seconds: animation would only distract.
    Chart.defaults.animation = false;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#1f2933";
  }
  return Chart;
});

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

  async function update(labels, values, newTitle) {
    if (newTitle) fill(caption, newTitle);
    const top = labels.map((l, i) => [l, values[i]]).sort((a, b) => b[1] - a[1]).slice(0, 3);
    canvas.setAttribute("aria-label", `${caption.textContent}. ${top.map(([l, v]) => `${l}: ${int(v)}`).join("; ")}. All figures are in the table below.`);
    fill(table, simpleTable(caption.textContent, ["", valueLabel], labels.map((l, i) => [l, int(values[i])])));
    box.classList.toggle("tall", horizontal && labels.length > 8);
    const Chart = await chartReady;
    if (!Chart) {
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
    chart = new Chart(canvas, {
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

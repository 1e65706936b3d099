// A table whose columns sort with a button in their header (keyboard reachable, aria-sort said).

import { h, fill } from "./dom.js";

/**
 * `columns`: [{key, label, numeric, value(row) → sortable value, cell(row) → node or text}];
 * `rowAttrs(row)` gives each row's attributes. Returns {el, update(rows), sortBy(key, descending),
 * sorting() → {key, descending}}.
 */
export function sortableTable({ caption, columns, rowKey, sortKey, descending = true, testid, rowAttrs }) {
  let rows = [];
  let key = sortKey;
  let down = descending;
  const heads = new Map();
  const body = h("tbody");
  const head = h("tr", null, columns.map((col) => {
    const button = h("button", { type: "button", class: "sort", onclick: () => sortBy(col.key, col.key === key ? !down : col.numeric) }, col.label);
    const th = h("th", { scope: "col", class: col.numeric ? "numeric" : null }, button);
    heads.set(col.key, th);
    return th;
  }));
  const table = h("table", { class: "data sortable", "data-testid": testid },
    h("caption", null, caption, h("span", { class: "sr-only" }, " (select a column heading to sort by it)")),
    h("thead", null, head), body);

  function render() {
    const col = columns.find((c) => c.key === key) || columns[0];
    const sorted = [...rows].sort((a, b) => {
      const [x, y] = [col.value(a), col.value(b)];
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return (down ? -order : order) || String(rowKey(a)).localeCompare(String(rowKey(b)));
    });
    for (const [k, th] of heads) {
      if (k === key) th.setAttribute("aria-sort", down ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    }
    fill(body, sorted.map((row) => h("tr", rowAttrs ? rowAttrs(row) : null, columns.map((c, i) => {
      const content = c.cell ? c.cell(row) : c.value(row);
      return i === 0 ? h("th", { scope: "row" }, content) : h("td", { class: c.numeric ? "numeric" : null }, content);
    }))));
  }

  function sortBy(newKey, newDown) {
    key = newKey;
    down = newDown;
    render();
  }

  return {
    el: scrollBox(caption, table),
    update(newRows) {
      rows = newRows;
      render();
    },
    sortBy,
    /** The column the rows are sorted by, and which way: to make a table of other columns sorted the same. */
    sorting: () => ({ key, descending: down }),
    highlight(columnKey) {
      for (const [k, th] of heads) th.classList.toggle("selected", k === columnKey);
    },
  };
}

/** A box in which a wide table scrolls, reachable from the keyboard (so it can be scrolled without a mouse). */
export function scrollBox(label, table) {
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": label }, table);
}

/** A plain table of label → value rows, for a chart's "as a table". */
export function simpleTable(caption, headers, rows) {
  return h("table", { class: "data" },
    h("caption", null, caption),
    h("thead", null, h("tr", null, headers.map((label, i) => h("th", { scope: "col", class: i > 0 ? "numeric" : null }, label)))),
    h("tbody", null, rows.map((cells) => h("tr", null, cells.map((cell, i) => (i === 0
      ? h("th", { scope: "row" }, cell)
      : h("td", { class: "numeric" }, cell)))))));
}

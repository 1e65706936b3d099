// A national desk's spreadsheet import, on a country's screen (docs/IMPORTS.md): the template,
// a dry run whose row problems are shown in a table (row, column, value, message), then the
// real import, and the country's import history with each original file.

import * as api from "../api.js";
import * as session from "../session.js";
import { h, fill, problemBox, announce } from "../dom.js";
import { int, moment } from "../format.js";
import { save } from "../csv.js";
import { scrollBox } from "../table.js";

/** How many row problems the page lists at once (the API lists up to 10,000). */
const SHOWN = 500;

/** Draws the import panel for country `code` into `el`. */
export function drawImports(el, ctx, opId, code) {
  const base = `operations/${encodeURIComponent(opId)}/imports`;
  const options = { signal: ctx.signal };
  const picker = h("input", { type: "file", id: "import-file", accept: ".xlsx,.ods,.csv,text/csv" });
  const check = h("button", { type: "button", class: "secondary" }, "Check the file (dry run)");
  const store = h("button", { type: "button", disabled: true }, "Import");
  const outcome = h("div", { "data-testid": "import-outcome", "aria-live": "polite" });
  const history = h("div", { "data-testid": "import-history" });
  // The file a clean dry run checked: only that one may be imported.
  let checked = null;

  const template = (format) => h("button", { type: "button", class: "secondary",
    onclick: () => fetchFile(`${base}/template`, { format }, `${opId}-import-template.${format}`) },
  `Download the template (${format.toUpperCase()})`);

  async function fetchFile(path, query, fallback) {
    try {
      const { blob, name } = await api.file(path, query, fallback, options);
      save(name, blob);
    } catch (e) {
      if (e.name !== "AbortError") fill(outcome, problemBox(e));
    }
  }

  async function upload(dryRun) {
    const file = picker.files[0];
    if (!file) {
      fill(outcome, h("p", { class: "problem", role: "alert" }, "Choose a spreadsheet first."));
      return;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    for (const b of [check, store]) b.disabled = true;
    fill(outcome, h("p", { class: "loading", role: "status" }, dryRun ? "Checking every row…" : "Importing…"));
    try {
      const report = await api.post(base, form, { ...options, query: { country: code, dry_run: dryRun } });
      checked = dryRun && report.error_count === 0 ? file : null;
      fill(outcome, reportView(report));
      announce(summaryText(report));
      if (!dryRun) await loadHistory();
    } catch (e) {
      if (e.name === "AbortError") return;
      checked = null;
      fill(outcome, problemBox(e), e.errors.length ? refusedView(e.errors) : null);
    } finally {
      check.disabled = false;
      store.disabled = checked !== picker.files[0];
    }
  }

  async function loadHistory() {
    if (!session.can("interceptions:read")) {
      fill(history, h("p", { class: "help" }, "Your token has no interceptions:read scope: no import history."));
      return;
    }
    try {
      const items = await api.all(base, { country: code }, 200, options);
      fill(history, items.length ? historyTable(items) : h("p", { class: "help" }, "No import yet."));
    } catch (e) {
      if (e.name !== "AbortError") fill(history, problemBox(e));
    }
  }

  function historyTable(items) {
    return scrollBox("Import history", h("table", { class: "data" },
      h("caption", null, "Import history (newest first)"),
      h("thead", null, h("tr", null, ["When", "By", "File", "Rows", "Created", "Updated", "Unchanged", "Rejected", "Problems", "Stored"]
        .map((t, i) => h("th", { scope: "col", class: i >= 3 && i <= 8 ? "numeric" : null }, t)))),
      h("tbody", null, items.map((x) => h("tr", { "data-import": x.id },
        h("th", { scope: "row" }, moment(x.created_at)),
        h("td", null, x.created_by),
        h("td", null, h("button", { type: "button", class: "link",
          onclick: () => fetchFile(`${base}/${x.id}/file`, {}, x.file_name) }, x.file_name)),
        [x.rows, x.summary.created, x.summary.updated, x.summary.unchanged, x.summary.rejected, x.error_count]
          .map((n) => h("td", { class: "numeric" }, int(n))),
        h("td", null, x.stored ? "Yes" : "No: nothing stored"))))));
  }

  picker.addEventListener("change", () => {
    checked = null;
    store.disabled = true;
    fill(outcome);
  });
  check.addEventListener("click", () => upload(true));
  store.addEventListener("click", () => upload(false));

  fill(el,
    h("p", { class: "help" }, "For a desk without a system that calls the API: fill in the template, one row per interception, ",
      "check the file, then import it. Every row is stored as if pushed by a national system; a row sent again with ",
      "the same reference updates that record. Not for personal data: no names, document numbers or birth dates in any cell."),
    h("div", { class: "toolbar" }, h("div", { class: "row-actions" }, template("xlsx"), template("csv"))),
    h("div", { class: "field" }, h("label", { for: "import-file" }, "Spreadsheet (XLSX, ODS or CSV)"), picker),
    h("div", { class: "row-actions" }, check, store),
    h("p", { class: "help" }, "Import is offered once a dry run of the chosen file found no problem. An import stores every row or none."),
    outcome,
    h("h3", null, "History"),
    history);
  return loadHistory();
}

function summaryText(r) {
  const s = r.summary;
  const verb = r.dry_run ? "would be" : "were";
  return `${r.dry_run ? "Dry run" : r.stored ? `Import ${r.id ?? ""} stored` : "Nothing stored"}: ${int(r.rows)} rows read; `
    + `${int(s.created)} ${verb} created, ${int(s.updated)} updated, ${int(s.unchanged)} unchanged, ${int(s.rejected)} rejected`
    + `${r.error_count ? `; ${int(r.error_count)} ${r.error_count === 1 ? "problem" : "problems"}` : ""}.`;
}

/** What a dry run or an import said: the counts, the skipped example row, and every problem. */
function reportView(r) {
  return [
    h("p", { class: r.error_count ? "problem" : "notice done", role: "status", "data-testid": "import-summary" }, summaryText(r)),
    r.skipped_rows.length ? h("p", { class: "help" }, `Skipped (the template's example): row ${r.skipped_rows.join(", ")}.`) : null,
    r.encoding ? h("p", { class: "help" }, `Read as ${r.encoding}.`) : null,
    r.errors.length ? errorTable(r.errors.map((e) => [int(e.row), e.column, e.value, e.message]), r.error_count) : null,
  ];
}

/** The problems of an import the API refused (422): pointers `/rows/{row}/{column}`. */
function refusedView(errors) {
  const rows = errors
    .map((e) => [e.pointer.match(/^\/rows\/(\d+)\/(.+)$/), e.message])
    .filter(([m]) => m)
    .map(([m, message]) => {
      const found = message.match(/^(.*) \(found `(.*)`\)$/s);
      return [int(Number(m[1])), m[2], found ? found[2] : "", found ? found[1] : message];
    });
  return rows.length ? errorTable(rows, rows.length) : null;
}

function errorTable(rows, total) {
  return h("div", { "data-testid": "import-errors" },
    total > rows.length || rows.length > SHOWN
      ? h("p", { class: "help" }, `The first ${int(Math.min(rows.length, SHOWN))} of ${int(total)} problems:`) : null,
    scrollBox("Problems by row", h("table", { class: "data" },
      h("caption", null, "Problems by row (the header is row 1)"),
      h("thead", null, h("tr", null, ["Row", "Column", "Value", "Message"].map((t, i) => h("th", { scope: "col", class: i ? null : "numeric" }, t)))),
      h("tbody", null, rows.slice(0, SHOWN).map(([row, column, value, message]) => h("tr", null,
        h("th", { scope: "row", class: "numeric" }, row), h("td", null, h("code", null, column)),
        h("td", null, value ? h("code", null, value) : h("span", { class: "zero" }, "(empty)")), h("td", null, message)))))));
}

// CSV files made in the browser from what a screen shows (RFC 4180, UTF-8 with a byte order mark
// so spreadsheet programs read country names right).

/** One CSV cell: quoted when needed; text that a spreadsheet would run as a formula is defused. */
function cell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return String(value);
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV text of a header row and rows of values. */
export function toCsv(header, rows) {
  return [header, ...rows].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

/** Offers `text` as a CSV download named `name`. */
export function download(name, text) {
  save(name, new Blob(["\uFEFF", text], { type: "text/csv;charset=utf-8" }));
}

/** Offers a file (a Blob) as a download named `name`. */
export function save(name, blob) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// Building the page. Every piece of text goes in through text nodes, never as markup: notes,
// unit names and references are user content, and the page runs under Trusted Types, so an
// assignment of a string to innerHTML would throw rather than render.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Makes an element: h("a", {href: "#/"}, "text", child, [more children]).
 * Attributes whose value is null, undefined or false are left out; `on*` keys add listeners;
 * `class` may be a string. Children are nodes, strings (as text), numbers, arrays or null.
 */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** The same for SVG elements. */
export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A section with a heading of the given level and an id for its heading (for aria-labelledby). */
export function section(id, title, level, ...children) {
  return h("section", { class: "panel", "aria-labelledby": id }, h(`h${level}`, { id }, title), ...children);
}

/** A message shown where content could not be loaded. */
export function problemBox(error) {
  return h("div", { class: "problem", role: "alert" }, h("strong", null, error.title || "Something went wrong"), " ",
    error.detail || error.message || "");
}

/** Keeps a screen reader informed: text put here is announced politely. */
export function announce(text) {
  const region = document.getElementById("announce");
  if (region) region.textContent = text;
}

/**
 * Asks a question in a modal dialog (the browser's own <dialog>: it holds the focus, Escape
 * cancels, and so does leaving the screen: `signal`). `body` is nodes or text; the safe answer
 * (`cancel`) has the focus. Resolves to true when the person confirms.
 */
export function confirmDialog({ title, body, confirm, cancel, testid, signal }) {
  return new Promise((resolve) => {
    const id = `dialog-${Math.random().toString(36).slice(2)}`;
    const yes = h("button", { type: "button", class: "danger", value: "yes" }, confirm);
    const no = h("button", { type: "button", class: "secondary", value: "no", autofocus: true }, cancel);
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": id, "data-testid": testid },
      h("h2", { id }, title), h("div", { class: "confirm-body" }, body), h("div", { class: "confirm-actions" }, yes, no));
    let answer = false;
    yes.addEventListener("click", () => { answer = true; dialog.close(); });
    no.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    // Leaving the screen (the Back button) closes the question unanswered.
    signal?.addEventListener("abort", () => dialog.open && dialog.close());
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

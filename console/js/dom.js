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

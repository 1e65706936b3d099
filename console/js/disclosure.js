// Releases in words: what the method did to a figure, where the public reads a release, and
// who may see the releases screens (the API asks for releases:read and every country).

import * as session from "./session.js";
import { h } from "./dom.js";
import { int, moment } from "./format.js";

/** Whether the token may review releases: `releases:read` for every country, as the API asks. */
export const mayRead = () => session.can("releases:read") && session.allCountries();
/** Whether it may also make, publish and discard them. */
export const mayWrite = () => mayRead() && session.can("releases:write");

/** What the public reads for a figure of fewer than the base. */
export const fewer = (base) => `fewer than ${int(base)}`;

/** A published figure: its number, or "fewer than 5". */
export const published = (value, base) => (value === null || value === undefined ? fewer(base) : int(value));

/** The address of a published release's public page (`html`), or of its `json` or `csv`. */
export function publicUrl(op, number, form = "html") {
  return `/v1/public/operations/${encodeURIComponent(op)}/releases/${number}.${form}`;
}

/**
 * What the method did to one reviewed figure, in a few words (the published figure stands
 * beside it): `{key, text}`, where `key` is the API's treatment (or `unnamed`) and names the
 * tag's style. For a total, `totalExact` says whether the release marks it exact: one that is
 * not is read as rounded, even where the rounded figure happens to be the count.
 */
export function treatment(fig, base, totalExact = false) {
  const by = Math.abs(fig.rounded - fig.value);
  if (!fig.listed && fig.treatment === "withheld") return { key: "unnamed", text: "Withheld, not named" };
  switch (fig.treatment) {
    case "exact":
      if (!isTotal(fig) || totalExact) return { key: "exact", text: "Exact" };
      return { key: "read_as_rounded", text: "Read as rounded (equals the count)" };
    case "rounded_up":
      return { key: "rounded_up", text: `Rounded up by ${int(by)}` };
    case "rounded_down":
      return { key: "rounded_down", text: `Rounded down by ${int(by)}` };
    case "withheld":
      return { key: "withheld", text: "Withheld" };
    case "zero":
      return { key: "zero", text: "Zero" };
    default:
      return { key: fig.treatment, text: fig.treatment };
  }
}

/** The words of the tags, for the legend beside the tables. */
export function legend(base) {
  const b = int(base);
  return [
    ["Exact", `published as counted: a multiple of ${b}, or a total marked exact`],
    ["Rounded up or down by n", `published as the multiple of ${b} n above or below the count`],
    ["Withheld", `a count from 1 to ${int(base - 1)}, published as “${fewer(base)}”`],
    ["Zero", `a true 0, published as “${fewer(base)}” too, so that it cannot be told from a 1`],
    ["Withheld, not named", `a nationality (or a day outside the operation) under ${b}: one of “the others”`],
    ["Read as rounded", "a total not marked exact: the public reads it as rounded, even where it equals the count"],
  ];
}

/** The tag that says what the method did (its words carry the meaning, not its colour). */
export function treatmentTag(fig, base, totalExact = false) {
  const { key, text } = treatment(fig, base, totalExact);
  return h("span", { class: `treat treat-${key}`, "data-treatment": key }, text);
}

/** The operation's total of a metric (no country, no breakdown). */
export const isTotal = (fig) => fig.country === null && fig.dimension === null;

/** Who did something and when: "console-desk, 12 Sept 2025, 05:40 UTC"; "—" when nobody has. */
export const byWhom = (sub, when) => (sub ? `${sub}, ${moment(when)}` : "—");

// Pieces several screens share: the scope notice, an operation's heading, the "as of" line and
// a figure with its stated and derived values side by side.

import * as session from "../session.js";
import { h, fill } from "../dom.js";
import { clock, country, day, int, word } from "../format.js";
import { VISIBLE_SECONDS } from "../poll.js";
import { operationHome } from "../nav.js";

/** Says whose figures the page shows when the token does not cover every country. */
export function scopeNotice() {
  const current = session.current();
  if (!current || current.claims.countries.includes("*")) return null;
  const names = current.claims.countries.map(country);
  return h("p", { class: "notice scope", "data-testid": "scope-notice" },
    "Your token covers ", h("strong", null, names.join(", ")), " only: every figure and record on this page is ",
    names.length === 1 ? `${names[0]}'s.` : "theirs.");
}

/** The operation's name as the page heading, with its status and dates. */
export function operationHeading(op, title) {
  return [
    h("p", { class: "crumbs" }, h("a", { href: operationHome(op.id) }, op.name)),
    h("h1", { tabindex: "-1" }, title || op.name),
    h("p", { class: "op-meta" },
      h("span", { class: `status status-${op.status}` }, word(op.status)), " ",
      `${day(op.starts_on)} – ${day(op.ends_on)} · ${op.coordinator} · `,
      `${int(op.participating_countries.length)} participating countries`),
  ];
}

/**
 * The line that always says which change-feed position the figures (or `what` else the page
 * shows) are current as of, when they were last checked, and whether the page is following changes.
 */
export function asOfLine(what = "Figures") {
  const seq = h("span", { "data-testid": "as-of-seq" }, "…");
  const checked = h("span", null, "");
  const state = h("span", { class: "follow-state" }, "");
  const line = h("p", { class: "as-of" }, `${what} as of change `, seq, " · ", checked, " ", state);
  return {
    el: line,
    /** Records a successful read current as of `asOf`. */
    update(asOf) {
      fill(seq, int(asOf));
      fill(checked, `checked ${clock(new Date())}`);
    },
    /** Shows the follower's state after a check. */
    following({ ok, error, nextIn }) {
      line.classList.toggle("stale", !ok);
      fill(state, ok
        ? `· following, every ${VISIBLE_SECONDS} s while this tab is shown`
        : `· could not check (${error.message}); trying again in ${nextIn} s`);
    },
  };
}

/**
 * A country's figure for a metric: the standing value and, where the country stated a figure
 * that differs from its records, both side by side.
 */
export function figure(row) {
  if (!row) return h("span", { class: "num zero" }, "0");
  const differs = row.reported !== null && row.reported !== undefined && row.reported !== row.derived;
  return h("span", { class: "fig" },
    h("span", { class: "num" }, int(row.value)),
    row.source === "reported" ? h("span", { class: "src", title: "Figure stated by the country" }, " stated") : null,
    differs ? h("span", { class: "diff" }, `records: ${int(row.derived)}`) : null);
}

// One release under review, for the secretariat: who made and published it, the headline as
// the public reads it beside the true counts, what it withholds and why, every figure beside its
// true value, the method in words; and for a draft, publishing it (for good) or discarding it.

import * as api from "../api.js";
import * as session from "../session.js";
import { h, fill, section, problemBox, announce, confirmDialog } from "../dom.js";
import { int, moment, word, clock } from "../format.js";
import { mayRead, mayWrite, publicUrl, published, byWhom } from "../disclosure.js";
import { notAllowed, newTab, tell } from "./releases.js";
import { reviewPanel, withheldPanel } from "./review.js";
import { operationHome } from "../nav.js";

/** The headline a press office quotes, in the order the public page gives it. */
const HEADLINE = [
  ["victims_safeguarded", "Victims safeguarded"],
  ["migrants_detected", "Migrants detected"],
  ["investigations_opened", "Investigations opened"],
  ["participating_countries", "Participating countries"],
  ["officers_deployed", "Officers deployed"],
];

export async function render(main, ctx) {
  const [opId, n] = ctx.params;
  if (!mayRead()) return notAllowed(main);
  const base = `operations/${encodeURIComponent(opId)}`;
  const path = `${base}/releases/${n}`;
  const [op, first] = await Promise.all([
    api.get(base, {}, { signal: ctx.signal }),
    api.get(path, {}, { signal: ctx.signal }),
  ]);
  const listHref = `#/ops/${encodeURIComponent(opId)}/releases`;
  const message = h("div", { class: "message", tabindex: "-1" });
  const changes = h("div");

  function draw(preview) {
    const r = preview.release;
    const isDraft = r.status === "draft";
    const actions = isDraft && mayWrite()
      ? h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => publish(preview) }, `Publish release ${int(r.number)}…`),
        h("button", { type: "button", class: "secondary", onclick: () => discard(r) }, "Discard this draft…"))
      : null;
    fill(main,
      h("p", { class: "crumbs" }, h("a", { href: operationHome(op.id) }, op.name), " › ",
        h("a", { href: listHref }, "Releases")),
      h("h1", { tabindex: "-1" }, `Release ${int(r.number)} `,
        h("span", { class: `status status-${r.status}`, "data-testid": "release-status" }, word(r.status))),
      message,
      section("h-about", "This release", 2,
        h("dl", { class: "facts", "data-testid": "release-facts" },
          h("dt", null, "Status"), h("dd", null, isDraft
            ? "Draft: not public. Only the secretariat sees it."
            : `Published${op.public ? ": public" : " (the public reads it once the operation is marked public)"}, and it never changes.`),
          h("dt", null, "Kind"), h("dd", null, r.kind === "final" ? "Final figures" : "Interim figures"),
          h("dt", null, "Figures as of"), h("dd", null, `${moment(r.created_at)} (change ${int(r.as_of_seq)})`),
          h("dt", null, "Made by"), h("dd", null, byWhom(r.created_by, r.created_at)),
          h("dt", null, "Published by"), h("dd", { "data-testid": "published-by" }, isDraft ? "Not published" : byWhom(r.published_by, r.published_at)),
          h("dt", null, "Rounding"), h("dd", null, `to multiples of ${int(r.rounding_base)} (the operation's threshold: ${int(r.threshold)})`)),
        isDraft ? changes : publicLinks(op, r),
        actions),
      section("h-headline", "Headline, as the public reads it", 2, headline(preview),
        h("p", { class: "method-line", "data-testid": "headline-method" }, preview.publication.headline.method)),
      section("h-withheld", "What it withholds, and why", 2, withheldPanel(preview)),
      section("h-figures", "Every figure beside its true value", 2, reviewPanel(preview)),
      section("h-method", "The method in words", 2,
        h("p", { class: "method-line", "data-testid": "method-statement" }, preview.publication.method.statement)));
  }

  let asking = false;

  async function publish(preview) {
    if (asking) return;
    asking = true;
    try {
      await askAndPublish(preview);
    } finally {
      asking = false;
    }
  }

  async function askAndPublish(preview) {
    const r = preview.release;
    // Checked again at the moment of asking: a draft that misses changes is published for good.
    const stale = await checkChanges(r, base, changes, ctx.signal);
    const where = publicUrl(op.id, r.number);
    const line = HEADLINE.filter(([key]) => key !== "participating_countries").map(([key, label]) => {
      const f = preview.publication.headline[key];
      return `${label} ${published(f.value, r.rounding_base)}${f.exact ? " (exact)" : ""}`;
    }).join(" · ");
    const yes = await confirmDialog({
      testid: "confirm-publish",
      signal: ctx.signal,
      title: `Publish release ${int(r.number)} for good?`,
      body: [
        h("p", null, h("strong", null, "A published release can never change, be withdrawn or be discarded. "),
          op.public ? `Anyone will read it at ${where}, without a token. ` : "It is served to the public once the operation is marked public. ",
          "A correction can only come in a later release."),
        h("p", null, `The public will read exactly what this page shows as published, as of ${moment(r.created_at)}: ${line}.`),
        stale ? h("p", { class: "notice" }, "The operation has changed since this draft was made: these figures do not include those changes.") : null,
      ],
      confirm: `Publish release ${int(r.number)}`,
      cancel: "Cancel",
    });
    if (!yes) return;
    try {
      const done = await api.post(`${path}/publish`, {});
      draw(done);
      say(h("p", { class: "notice ok", role: "status" }, `Release ${int(r.number)} is published: the public reads it from now on, and it never changes.`));
    } catch (e) {
      say(problemBox(e));
    }
  }

  async function discard(r) {
    if (asking) return;
    asking = true;
    const yes = await confirmDialog({
      testid: "confirm-discard",
      signal: ctx.signal,
      title: `Discard draft release ${int(r.number)}?`,
      body: h("p", null, "Its figures are deleted (the audit trail keeps that you discarded it), and the next draft takes the number ",
        `${int(r.number)}. Nothing was public.`),
      confirm: "Discard the draft",
      cancel: "Keep it",
    });
    asking = false;
    if (!yes) return;
    try {
      await api.del(path);
      tell(`Draft release ${int(r.number)} is discarded.`);
      ctx.navigate(listHref);
    } catch (e) {
      say(problemBox(e));
    }
  }

  function say(node) {
    fill(message, node);
    announce(message.textContent);
    message.focus();
  }

  draw(first);
  if (first.release.status === "draft") await checkChanges(first.release, base, changes, ctx.signal);
}

/** The public page, CSV and JSON of a published release (or why the public cannot read it). */
function publicLinks(op, r) {
  if (!op.public) return h("p", { class: "notice" }, "The operation is not marked public: the public cannot read this release yet.");
  return h("p", { class: "public-links" }, newTab(publicUrl(op.id, r.number), `Open the public page of release ${int(r.number)}`, ""),
    " · ", h("a", { href: publicUrl(op.id, r.number, "csv") }, "CSV"), " · ", h("a", { href: publicUrl(op.id, r.number, "json") }, "JSON"));
}

/** The headline figures: what is published beside the true count. */
function headline(preview) {
  const r = preview.release;
  const totals = Object.fromEntries(preview.review.filter((f) => f.country === null && f.dimension === null).map((f) => [f.metric, f]));
  return h("div", { class: "cards release-cards", "data-testid": "release-headline" }, HEADLINE.map(([key, label]) => {
    const f = preview.publication.headline[key];
    const truth = key === "participating_countries" ? r.participating_countries : totals[key]?.value;
    return h("div", { class: "card", "data-metric": key },
      h("dl", null,
        h("dt", null, label),
        h("dd", { class: "value" }, published(f.value, r.rounding_base)),
        h("dd", { class: "help" }, f.exact ? "exact"
          : f.value === null ? `a count from 0 to ${int(r.rounding_base - 1)}` : `rounded to a multiple of ${int(r.rounding_base)}`),
        h("dd", { class: "truth" }, `true count: ${int(truth ?? 0)}`)));
  }));
}

/**
 * Whether the operation changed after the draft's figures were frozen (the change feed, for a
 * token that may read it), said in `el`: a draft that misses changes is better discarded and
 * made again. Resolves to true when it changed, false when not, null when it cannot tell.
 */
async function checkChanges(r, base, el, signal) {
  if (!session.can("interceptions:read")) return null;
  try {
    const feed = await api.get(`${base}/changes`, { after: r.as_of_seq, limit: 1 }, { signal });
    fill(el, feed.changes.length
      ? h("p", { class: "notice", "data-testid": "draft-stale" },
        `The operation has changed since this draft was made (change ${int(feed.changes[0].seq)} and perhaps more): `,
        "it does not include those changes. To publish the latest figures, discard it and make a new draft.")
      : h("p", { class: "help", "data-testid": "draft-current" },
        `No change since this draft was made (checked ${clock(new Date())}): it holds the latest figures.`));
    return feed.changes.length > 0;
  } catch (e) {
    if (e.name !== "AbortError") fill(el, problemBox(e));
    return null;
  }
}

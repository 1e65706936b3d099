// Releases of an operation, for the secretariat: every release (drafts and published ones, who
// made and published each and when), and making a draft. What a draft would publish is reviewed
// on the release's own screen.

import * as api from "../api.js";
import { h, fill, section, problemBox } from "../dom.js";
import { int, moment, word } from "../format.js";
import { operationHeading } from "./parts.js";
import { scrollBox } from "../table.js";
import { mayRead, mayWrite, publicUrl, byWhom } from "../disclosure.js";

/** A message for the next drawing of the list (a discarded draft), shown once. */
let told = null;

/** Says `text` at the top of the list the next time it is drawn. */
export function tell(text) {
  told = text;
}

export async function render(main, ctx) {
  const [opId] = ctx.params;
  if (!mayRead()) return notAllowed(main);
  const base = `operations/${encodeURIComponent(opId)}`;
  const [op, list] = await Promise.all([
    api.get(base, {}, { signal: ctx.signal }),
    api.get(`${base}/releases`, {}, { signal: ctx.signal }),
  ]);
  const items = [...list.items].sort((a, b) => b.number - a.number);
  const draft = items.find((r) => r.status === "draft");
  const latest = items.find((r) => r.status === "published");
  const href = (n) => `#/ops/${encodeURIComponent(opId)}/releases/${n}`;

  const message = told ? h("p", { class: "notice ok", role: "status" }, told) : null;
  told = null;
  fill(main,
    ...operationHeading(op, "Releases"),
    message,
    h("p", { class: "lead" },
      "A release gives the public the operation's figures as of one moment, rounded so that no small count ",
      "can be told apart. The secretariat makes a draft, reviews what it would publish and withhold, and publishes it; ",
      "a published release never changes. Only published releases are public."),
    publicNote(op, latest),
    mayWrite() ? section("h-make", "Make a draft", 2, draft ? draftExists(draft, href) : makeForm(base, ctx, href)) : null,
    section("h-list", "Every release", 2, items.length === 0
      ? h("p", null, "No release yet.")
      : scrollBox("Releases", h("table", { class: "data", "data-testid": "releases" },
        h("caption", null, "Releases, newest first"),
        h("thead", null, h("tr", null, ["Release", "Kind", "Status", "Figures as of", "Made by", "Published by", "Public page"]
          .map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, items.map((r) => h("tr", { "data-number": r.number },
          h("th", { scope: "row" }, h("a", { href: href(r.number) }, `Release ${int(r.number)}`)),
          h("td", null, word(r.kind)),
          h("td", null, h("span", { class: `status status-${r.status}` }, word(r.status))),
          h("td", null, `change ${int(r.as_of_seq)}`),
          h("td", null, byWhom(r.created_by, r.created_at)),
          h("td", null, byWhom(r.published_by, r.published_at)),
          h("td", null, r.status === "published" && op.public
            ? newTab(publicUrl(op.id, r.number), "Public page", ` of release ${int(r.number)}`)
            : "—"))))))));
}

/** Where the public reads the operation's releases, or why it does not. */
function publicNote(op, latest) {
  if (!op.public) {
    return h("p", { class: "notice" }, "This operation is not marked public: its published releases are kept, but not served to the public.");
  }
  if (!latest) return h("p", { class: "help" }, "Nothing is public yet: the public page answers once a release is published.");
  return h("p", null, "The public reads the latest release at ",
    newTab(publicUrl(op.id, "latest"), publicUrl(op.id, "latest"), ""),
    " (also as ", h("a", { href: publicUrl(op.id, "latest", "csv") }, "CSV"), " and ",
    h("a", { href: publicUrl(op.id, "latest", "json") }, "JSON"), "), without a token.");
}

function draftExists(draft, href) {
  return h("p", null, `Release ${int(draft.number)} is a draft, made by ${byWhom(draft.created_by, draft.created_at)}. `,
    h("a", { href: href(draft.number) }, `Review release ${int(draft.number)}`),
    ", then publish or discard it: an operation has one draft at a time.");
}

function makeForm(base, ctx, href) {
  const error = h("div", { role: "alert" });
  const button = h("button", { type: "submit" }, "Make a draft");
  let key = api.idempotencyKey();
  const kind = (value, label, help, checked) => h("div", { class: "field check" },
    h("input", { type: "radio", name: "kind", id: `kind-${value}`, value, checked }),
    h("label", { for: `kind-${value}` }, label, h("span", { class: "help" }, ` — ${help}`)));
  const form = h("form", { class: "make-release", "aria-describedby": "make-help" },
    h("fieldset", null, h("legend", null, "Kind of release"),
      kind("interim", "Interim", "figures while the operation runs", true),
      kind("final", "Final", "the figures after the operation", false)),
    h("p", { id: "make-help", class: "help" },
      "The draft freezes every figure as the hub holds it now and computes what would be published. ",
      "Nothing is public until you review it and publish it."),
    button, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    fill(error);
    try {
      const made = await api.post(`${base}/releases`, { kind: form.elements.kind.value }, { headers: { "Idempotency-Key": key } });
      ctx.navigate(href(made.release.number));
    } catch (e) {
      // An answer is final: a new attempt is a new request. A cut connection keeps its key.
      if (e instanceof api.ApiError) key = api.idempotencyKey();
      button.disabled = false;
      fill(error, problemBox(e));
    }
  });
  return form;
}

/** A link that opens in a new tab and says so to a screen reader (`more` adds to its name). */
export function newTab(href, text, more) {
  return h("a", { href, target: "_blank", rel: "noopener" }, text, h("span", { class: "sr-only" }, `${more} (opens a new tab)`));
}

/** What a token that may not review releases sees instead (nothing is asked of the API). */
export function notAllowed(main) {
  fill(main,
    h("h1", { tabindex: "-1" }, "Not allowed"),
    h("p", null, "Releases are for the operation secretariat: reviewing them needs a token with the releases:read scope ",
      "for every country (and releases:write to make, publish or discard one)."),
    h("p", null, h("a", { href: "#/" }, "Back to the operations.")));
}

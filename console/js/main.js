// The console's frame: who is signed in, the navigation, and the router that shows one screen
// at a time. Routes live in the fragment (#/ops/liberterra-iii), never the token.

import * as api from "./api.js";
import * as session from "./session.js";
import { h, fill, problemBox } from "./dom.js";
import { country, moment } from "./format.js";
import * as signin from "./screens/signin.js";
import * as operations from "./screens/operations.js";
import * as overview from "./screens/overview.js";
import * as countries from "./screens/countries.js";
import * as countryScreen from "./screens/country.js";
import * as record from "./screens/record.js";
import * as live from "./screens/live.js";
import * as reporting from "./screens/reporting.js";
import * as releases from "./screens/releases.js";
import * as release from "./screens/release.js";
import { operationScreens } from "./nav.js";

// Route patterns: the fragment's path → the screen module and the nav entry it belongs to.
const ROUTES = [
  [/^\/signin$/, signin, null],
  [/^\/?$/, operations, null],
  [/^\/ops\/([^/]+)$/, overview, "overview"],
  [/^\/ops\/([^/]+)\/countries$/, countries, "countries"],
  [/^\/ops\/([^/]+)\/countries\/([A-Z]{2})$/, countryScreen, "countries"],
  [/^\/ops\/([^/]+)\/countries\/([A-Z]{2})\/records\/(.+)$/, record, "countries"],
  [/^\/ops\/([^/]+)\/reporting$/, reporting, "reporting"],
  [/^\/ops\/([^/]+)\/live$/, live, "live"],
  [/^\/ops\/([^/]+)\/releases$/, releases, "releases"],
  [/^\/ops\/([^/]+)\/releases\/([1-9][0-9]*)$/, release, "releases"],
];

const main = document.getElementById("main");
let disposers = [];
let controller = null;
let expiryTimer = null;
let firstRoute = true;

function dispose() {
  for (const fn of disposers) fn();
  disposers = [];
  controller?.abort();
}

function renderWho() {
  const who = document.getElementById("who");
  const current = session.current();
  if (!current) return fill(who);
  const { sub, countries: codes, scopes, ops, expires } = current.claims;
  const countryText = codes.includes("*") ? "All countries" : codes.map(country).join(", ");
  fill(who,
    h("details", { class: "who-details" },
      h("summary", null,
        h("span", { class: "who-sub" }, sub),
        h("span", { class: "who-scope", "data-testid": "token-countries" }, countryText)),
      h("div", { class: "who-panel" },
        h("dl", { class: "who-claims" },
          h("dt", null, "Signed in as"), h("dd", null, sub),
          h("dt", null, "Countries"), h("dd", null, countryText),
          h("dt", null, "Operations"), h("dd", null, ops.includes("*") ? "All operations" : ops.join(", ")),
          h("dt", null, "Scopes"), h("dd", null, h("ul", { class: "scopes" }, scopes.map((s) => h("li", null, h("code", null, s))))),
          h("dt", null, "Expires"), h("dd", null, expires ? moment(expires.toISOString()) : "never")),
        h("div", { class: "who-actions" },
          h("button", { type: "button", onclick: () => signOut("You signed out.") }, "Sign out"),
          current.claims.jti
            ? h("button", { type: "button", class: "secondary", onclick: revokeAndSignOut }, "Sign out and revoke this token")
            : null))));
}

async function revokeAndSignOut() {
  const jti = session.current()?.claims.jti;
  try {
    await api.post(`tokens/${encodeURIComponent(jti)}/revoke`, {}, { keepSession: true });
    signOut("You signed out and revoked the token: it is refused from now on.");
  } catch (e) {
    signOut(`You signed out, but the token could not be revoked (${e.message}).`);
  }
}

function signOut(why) {
  session.end(why);
  renderWho();
  if (location.hash === "#/signin") route();
  else location.hash = "#/signin";
}

function armExpiry() {
  clearTimeout(expiryTimer);
  const expires = session.current()?.claims.expires;
  if (!expires) return;
  const ms = expires.getTime() - Date.now();
  // setTimeout holds at most 2^31 - 1 ms (24.8 days); a later expiry is caught by the API's 401.
  if (ms < 2 ** 31 - 1) expiryTimer = setTimeout(() => signOut(`Your token expired at ${moment(expires.toISOString())}.`), Math.max(ms, 0));
}

function renderNav(op, active) {
  const nav = document.getElementById("nav");
  if (!op) return fill(nav);
  const screens = operationScreens();
  fill(nav, h("ul", null,
    h("li", null, h("a", { href: "#/" }, "All operations")),
    screens.map((s) => h("li", null,
      h("a", { href: s.href(encodeURIComponent(op)), "aria-current": s.id === active ? "page" : null }, s.label)))));
}

async function route() {
  dispose();
  delete main.dataset.firstRender;
  delete main.dataset.complete;
  const path = location.hash.replace(/^#/, "") || "/";
  if (!session.current() && path !== "/signin") {
    location.replace("#/signin");
    return;
  }
  let match = null;
  let screen = null;
  let navId = null;
  for (const [pattern, module, nav] of ROUTES) {
    match = path.match(pattern);
    if (match) {
      [screen, navId] = [module, nav];
      break;
    }
  }
  const params = match ? match.slice(1).map(decodeURIComponent) : [];
  renderWho();
  renderNav(navId ? params[0] : null, navId);
  controller = new AbortController();
  const ctx = {
    params,
    signal: controller.signal,
    onDispose: (fn) => disposers.push(fn),
    navigate: (hash) => { location.hash = hash; },
    signedIn: () => { armExpiry(); renderWho(); },
  };
  fill(main, h("p", { class: "loading", role: "status" }, "Loading…"));
  if (!screen) {
    fill(main, h("h1", { tabindex: "-1" }, "Not found"), h("p", null, "No screen has this address. ", h("a", { href: "#/" }, "Go to the operations.")));
  } else {
    try {
      await screen.render(main, ctx);
    } catch (e) {
      if (e.name === "AbortError" || e.status === 401) return;
      fill(main, h("h1", { tabindex: "-1" }, e.status === 404 ? "Not found" : e.status === 403 ? "Not allowed" : "Could not load this screen"),
        problemBox(e), h("p", null, h("a", { href: "#/" }, "Back to the operations.")));
    }
  }
  const heading = main.querySelector("h1");
  document.title = `${heading ? heading.textContent : "opcoord"} — opcoord console`;
  if (!firstRoute && heading) heading.focus({ preventScroll: false });
  firstRoute = false;
}

api.whenUnauthorized((error) => {
  const detail = error.detail || error.title;
  if (/expired/i.test(detail)) signOut(`Your token has expired (${detail}). Sign in with a new one.`);
  else if (/revoked/i.test(detail)) signOut("Your token is no longer accepted: it has been revoked. Ask the secretariat for a new one.");
  else signOut(`Your token is no longer accepted: ${detail}. Sign in with a valid one.`);
});

window.addEventListener("hashchange", route);
// The skip link moves the focus without touching the fragment, which holds the route.
document.querySelector(".skip")?.addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
armExpiry();
route();

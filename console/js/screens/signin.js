// Signing in: a person pastes the access token the secretariat issued them.

import * as api from "../api.js";
import * as session from "../session.js";
import { h, fill } from "../dom.js";
import { operationHome } from "../nav.js";

export async function render(main, ctx) {
  const why = session.endedBecause();
  const error = h("div", { id: "signin-error", class: "problem", role: "alert", hidden: true });
  const input = h("textarea", {
    id: "token", name: "token", rows: 5, required: true, spellcheck: "false", autocomplete: "off",
    autocapitalize: "off", "aria-describedby": "token-help signin-error",
  });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "signin", novalidate: true },
    h("label", { for: "token" }, "Access token"),
    input,
    h("p", { id: "token-help", class: "help" },
      "Paste the token the operation secretariat gave you (it starts with ", h("code", null, "eyJ"), "). ",
      "It stays in this browser tab only, until you sign out or close the tab, and is sent to this server alone."),
    button,
    error);

  const showError = (text) => {
    fill(error, text);
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return showError("Paste a token first.");
    let claims;
    try {
      claims = session.claimsOf(token);
    } catch (e) {
      return showError(`This is not an access token: ${e.message}.`);
    }
    if (claims.expires && claims.expires.getTime() < Date.now()) {
      return showError("This token has expired. Ask the secretariat for a new one.");
    }
    button.disabled = true;
    try {
      // Any read proves the server accepts the token (signature, expiry, revocation).
      await api.get("operations", { limit: 1 }, { token });
    } catch (e) {
      button.disabled = false;
      if (e.status === 401) return showError(`The server refused this token: ${e.detail || e.title}.`);
      if (e.status !== 403) return showError(`The server could not be reached: ${e.message}.`);
      // 403: a valid token without operations:read; it may still read what its scopes allow.
    }
    session.start(token);
    input.value = "";
    ctx.signedIn();
    ctx.navigate(claims.ops.length === 1 && claims.ops[0] !== "*" ? operationHome(claims.ops[0]) : "#/");
  });

  fill(main,
    h("div", { class: "signin-page" },
      h("h1", { tabindex: "-1" }, "Sign in"),
      why ? h("p", { class: why.startsWith("You signed out") ? "notice" : "problem", role: "status", "data-testid": "signed-out" }, why) : null,
      h("p", null, "The coordination console shows an operation's figures as the API holds them, for the countries your token covers."),
      form,
      h("details", { class: "help-more" },
        h("summary", null, "No token yet?"),
        h("p", null, "The operation secretariat issues each person a token for the countries and operations they follow, ",
          "with POST /v1/tokens. A coordinator needs the scopes operations:read and tallies:read, and interceptions:read to see records."))));
  input.focus();
}

// The signed-in person's token. It lives in sessionStorage only (this tab, until it closes):
// never in a URL, a cookie or a log line, and it is only ever sent as a bearer token to this origin.

const KEY = "opcoord.console.token";
let ended = null;

/** The claims a token carries, read without checking its signature (the server checks it on every request). */
export function claimsOf(token) {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("an access token has three parts separated by dots");
  let claims;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error("its middle part is not readable claims");
  }
  if (typeof claims !== "object" || claims === null || typeof claims.sub !== "string") {
    throw new Error("it names no subject (sub)");
  }
  return {
    sub: claims.sub,
    jti: typeof claims.jti === "string" ? claims.jti : null,
    scopes: typeof claims.scope === "string" ? claims.scope.split(" ").filter(Boolean) : [],
    countries: Array.isArray(claims.countries) ? claims.countries.map(String) : [],
    ops: Array.isArray(claims.ops) ? claims.ops.map(String) : [],
    expires: typeof claims.exp === "number" ? new Date(claims.exp * 1000) : null,
  };
}

/** The current session `{token, claims}`, or null when nobody is signed in. */
export function current() {
  const token = sessionStorage.getItem(KEY);
  if (!token) return null;
  try {
    return { token, claims: claimsOf(token) };
  } catch {
    sessionStorage.removeItem(KEY);
    return null;
  }
}

/** Keeps a token for this tab. */
export function start(token) {
  sessionStorage.setItem(KEY, token);
  ended = null;
}

/** Forgets the token; `why` is shown on the sign-in screen. */
export function end(why) {
  sessionStorage.removeItem(KEY);
  ended = why || null;
}

/** Why the last session ended, once (then forgotten). */
export function endedBecause() {
  const why = ended;
  ended = null;
  return why;
}

/** Whether the signed-in token holds `scope`. */
export function can(scope) {
  const session = current();
  return Boolean(session && session.claims.scopes.includes(scope));
}

/** Whether the token covers every country. */
export function allCountries() {
  const session = current();
  return Boolean(session && session.claims.countries.includes("*"));
}

/** Whether the token covers `code`. */
export function covers(code) {
  const session = current();
  return Boolean(session && (session.claims.countries.includes("*") || session.claims.countries.includes(code)));
}

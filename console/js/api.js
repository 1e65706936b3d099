// The documented /v1 API, and nothing else. Errors come back as RFC 9457 problems; a 401 ends
// the session (the token expired, was revoked or is not accepted) and leads back to sign-in.

import * as session from "./session.js";

/** An error answered by the API, carrying its problem document. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || `HTTP ${status}`;
    this.detail = problem.detail || "";
    this.type = problem.type || "";
    /** Each field's problem (`pointer`, `message`), for a 422. */
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

let onUnauthorized = () => {};

/** Sets what happens when the API refuses the token (401). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** Builds `/v1/<path>?<query>`, leaving out empty parameters. */
export function url(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== "" && value !== false) params.set(key, String(value));
  }
  const text = params.toString();
  return `/v1/${path}${text ? `?${text}` : ""}`;
}

/**
 * One request to the API with the session's token; resolves to the JSON answer (null for 204).
 * `options`: `query`, `body` (sent as JSON), `headers`, `signal`, and `token` to check another
 * token (sign-in), whose 401 does not end the session; `keepSession` does the same for a request
 * that may be refused on purpose (revoking the token itself).
 */
export async function request(method, path, options = {}) {
  const json = options.body !== undefined && !(options.body instanceof FormData);
  const response = await send(method, path, {
    ...options,
    headers: { accept: "application/json", ...(json ? { "content-type": "application/json" } : {}), ...(options.headers || {}) },
    body: json ? JSON.stringify(options.body) : options.body,
  });
  return response.status === 204 ? null : response.json();
}

/**
 * A file the API serves (a template, an uploaded original), with the session's token:
 * resolves to `{blob, name}`, the name from `Content-Disposition`, else `fallback`.
 */
export async function file(path, query, fallback, options = {}) {
  const response = await send("GET", path, { ...options, query, headers: { accept: "*/*" } });
  const disposition = response.headers.get("content-disposition") || "";
  const name = disposition.match(/filename="?([^";]+)"?/)?.[1] || fallback;
  return { blob: await response.blob(), name };
}

/** Sends one request with the token; resolves to the response when it is a success, else throws its problem. */
async function send(method, path, options) {
  const token = options.token || session.current()?.token;
  const headers = { ...options.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url(path, options.query), {
    method,
    headers,
    body: options.body,
    signal: options.signal,
    cache: "no-store",
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  if (response.ok) return response;
  let problem = {};
  try {
    problem = await response.json();
  } catch {
    problem = { title: response.statusText };
  }
  const error = new ApiError(response.status, problem);
  if (response.status === 401 && !options.token && !options.keepSession) onUnauthorized(error);
  throw error;
}

/** GETs JSON from the API with the session's token. `options.token` checks another token (sign-in). */
export function get(path, query, options = {}) {
  return request("GET", path, { ...options, query });
}

/** POSTs JSON (or a FormData, as multipart) with the session's token. */
export function post(path, body, options = {}) {
  return request("POST", path, { ...options, body });
}

/** DELETEs with the session's token. */
export function del(path, options = {}) {
  return request("DELETE", path, options);
}

/**
 * A fresh `Idempotency-Key`, so a write the network may have cut can be sent again safely.
 * (`crypto.getRandomValues`, unlike `randomUUID`, also works on a plain-HTTP address.)
 */
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Every item of a paged list (`items`, `next_cursor`), up to `max` items. */
export async function all(path, query, max = 10000, options = {}) {
  const items = [];
  let cursor = null;
  do {
    const page = await get(path, { ...query, limit: 1000, cursor }, options);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

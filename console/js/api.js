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

/** GETs JSON from the API with the session's token. `options.token` checks another token (sign-in). */
export async function get(path, query, options = {}) {
  const token = options.token || session.current()?.token;
  const response = await fetch(url(path, query), {
    headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    signal: options.signal,
    cache: "no-store",
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  if (response.ok) return response.json();
  let problem = {};
  try {
    problem = await response.json();
  } catch {
    problem = { title: response.statusText };
  }
  const error = new ApiError(response.status, problem);
  if (response.status === 401 && !options.token) onUnauthorized(error);
  throw error;
}

/** POSTs JSON with the session's token. */
export async function post(path, body) {
  const token = session.current()?.token;
  const response = await fetch(url(path), {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  if (response.ok) return response.json();
  throw new ApiError(response.status, await response.json().catch(() => ({})));
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

// Talking to the gateway over HTTP: its URLs (relative to the page, with the API key) and the
// JSON of GET /api/filings, its errors included.

import { currentKey } from "./key.js";
import { text } from "./record.js";

// Relative to the page, so a gateway behind a path prefix works unchanged.
export function endpoint(path, params) {
  const url = new URL(path, document.baseURI);
  for (const [name, value] of params) url.searchParams.append(name, value);
  const key = currentKey();
  if (key) url.searchParams.set("api_key", key);
  return url;
}

// A refusal by the gateway: `status` the HTTP status, the message the body's (it names the
// parameter of a 400).
export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function fetchJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body && typeof body === "object" && body.message ? text(body.message) : "";
    throw new HttpError(response.status, message || `HTTP ${response.status}`);
  }
  return body;
}

export function recordsOf(body) {
  if (Array.isArray(body)) return body;
  if (body && typeof body === "object") {
    for (const name of ["filings", "results", "data"]) {
      if (Array.isArray(body[name])) return body[name];
    }
  }
  return [];
}

// The filters: read from the form, kept in the page's address (so a filtered view can be
// bookmarked), matched against records here and sent to the gateway as the stream's and the
// REST API's parameters (the same names for both). The search (`q`, full text) is the REST
// API's alone: the stream has no text to match, so it filters the history only.

import { $ } from "./dom.js";
import { setKey } from "./key.js";
import { PRIORITIES } from "./record.js";

const inputs = {
  form: $("filters"),
  ticker: $("filter-ticker"),
  formType: $("filter-form"),
  priority: $("filter-priority"),
  search: $("filter-q"),
};

function splitList(text, upper) {
  const seen = new Set();
  for (const part of text.split(",")) {
    const value = (upper ? part.toUpperCase() : part).trim().replace(/\s+/g, " ");
    if (value) seen.add(value);
  }
  return [...seen];
}

export function filtersFromInputs() {
  return {
    tickers: splitList(inputs.ticker.value.replace(/\s+/g, ","), true),
    forms: splitList(inputs.formType.value, true),
    minPriority: PRIORITIES.includes(inputs.priority.value) ? inputs.priority.value : "",
    q: inputs.search.value.trim(),
  };
}

// Whether the stream's filters are the same (the search is not one of them).
export const sameFilters = (a, b) =>
  a.tickers.join() === b.tickers.join() &&
  a.forms.join() === b.forms.join() &&
  a.minPriority === b.minPriority;

export const anyFilter = (f) => Boolean(f.tickers.length || f.forms.length || f.minPriority);

export function matchesFilters(rec, f) {
  if (f.tickers.length && !rec.allTickers.some((t) => f.tickers.includes(t))) return false;
  if (f.forms.length) {
    const form = rec.form.toUpperCase();
    if (!f.forms.some((want) => form === want || form === `${want}/A`)) return false;
  }
  if (f.minPriority) {
    const rank = PRIORITIES.indexOf(rec.priority);
    if (rank < PRIORITIES.indexOf(f.minPriority)) return false;
  }
  return true;
}

export function filtersToAddress(f) {
  const url = new URL(location.href);
  for (const name of ["ticker", "form", "min_priority", "q", "api_key"]) {
    url.searchParams.delete(name);
  }
  if (f.tickers.length) url.searchParams.set("ticker", f.tickers.join(","));
  if (f.forms.length) url.searchParams.set("form", f.forms.join(","));
  if (f.minPriority) url.searchParams.set("min_priority", f.minPriority);
  if (f.q) url.searchParams.set("q", f.q);
  history.replaceState(null, "", url);
}

export function filtersFromAddress() {
  const params = new URL(location.href).searchParams;
  inputs.ticker.value = params.get("ticker") || "";
  inputs.formType.value = params.get("form") || "";
  inputs.priority.value = PRIORITIES.includes(params.get("min_priority"))
    ? params.get("min_priority")
    : "";
  inputs.search.value = params.get("q") || "";
  const key = params.get("api_key");
  if (key) setKey(key); // then dropped from the address by filtersToAddress
}

function clearInputs() {
  inputs.ticker.value = "";
  inputs.formType.value = "";
  inputs.priority.value = "";
  inputs.search.value = "";
}

// The filters as query parameters of /stream and /api/filings (lists comma-separated).
export function filterParams(f) {
  const params = [];
  if (f.tickers.length) params.push(["tickers", f.tickers.join(",")]);
  if (f.forms.length) params.push(["forms", f.forms.join(",")]);
  if (f.minPriority) params.push(["min_priority", f.minPriority]);
  return params;
}

// The filters as a subscribe frame carries them (lists as arrays; none = any).
export function subscribeFrame(f) {
  const frame = { type: "subscribe", tickers: f.tickers, forms: f.forms };
  if (f.minPriority) frame.min_priority = f.minPriority;
  return JSON.stringify(frame);
}

// `onChange`: the filters may have changed (debounced while typing). The form's buttons and
// fields are wired here; what a change does is the caller's.
export function onFilterChange(onChange, debounceMs) {
  let timer = null;
  const now = () => {
    clearTimeout(timer);
    onChange();
  };
  inputs.form.addEventListener("submit", (event) => {
    event.preventDefault();
    now();
  });
  for (const input of [inputs.ticker, inputs.formType, inputs.search]) {
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(now, debounceMs);
    });
  }
  inputs.priority.addEventListener("change", now);
  $("filters-clear").addEventListener("click", () => {
    clearInputs();
    now();
  });
  return () => clearTimeout(timer); // a change made otherwise (a new key) cancels a pending one
}

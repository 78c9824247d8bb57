// The history: the filings store's answer to the filters and the search (GET /api/filings),
// newest first, a page at a time at the REST API's default size; "Older" follows the answer's
// `next` token until there is none. Every page of one walk answers as of the first page's
// `as_of` (the topic position the store reflected), shown with the count. A refusal (400,
// naming the parameter), an unavailable store (503) or a network failure is said here, with a
// way to try again where that may help.

import { HttpError, endpoint, fetchJson, recordsOf } from "./api.js";
import { $ } from "./dom.js";
import { filterParams } from "./filters.js";
import { normalize } from "./record.js";
import { buildRow, rowEntry, showEmpty } from "./rows.js";

const ID_PREFIX = "history-"; // the feed may show the same filing: ids stay unique

const ui = {
  status: $("history-status"),
  error: $("history-error"),
  errorText: $("history-error-text"),
  retry: $("history-retry"),
  rows: $("history-rows"),
  older: $("history-older"),
};

const walk = {
  generation: 0, // bumped when the walk starts again; a stale answer is dropped
  entries: new Map(), // accession -> entry (rows.js), in the order shown
  next: null, // the token of the page after the last one shown, or null at the end
  asOf: "",
  loading: false,
  started: false, // a first page was asked for under the current filters
  failed: null, // {before}: the page to ask for again after a failure that may pass
};

let current = null; // startHistory's arguments

export const historyRows = ui.rows;
export const historyEntry = (accession) => walk.entries.get(accession) || null;

function pageUrl(before) {
  const f = current.filters();
  const params = filterParams(f);
  if (f.q) params.push(["q", f.q]);
  if (before) params.push(["before", before]);
  return endpoint("api/filings", params);
}

function sayError(message, retriable) {
  ui.errorText.textContent = message;
  ui.error.hidden = !message;
  ui.retry.hidden = !retriable;
}

function render() {
  const n = walk.entries.size;
  const searching = Boolean(current.filters().q);
  let empty = "";
  if (n === 0 && walk.loading) empty = "Loading filings…";
  else if (n === 0 && current.needKey()) empty = "Waiting for an API key.";
  else if (n === 0 && walk.asOf) {
    empty = searching
      ? "No filing in the store matches this search and these filters."
      : "No filing in the store matches these filters.";
  }
  showEmpty(ui.rows, empty);
  ui.status.replaceChildren();
  if (walk.asOf) {
    const position = document.createElement("code");
    position.textContent = walk.asOf;
    position.title = "The analyzed topic's position the store reflected: /stream?from=" +
      "<this> with the same filters continues this list with no gap.";
    ui.status.append(
      `${n.toLocaleString("en-US")} filing${n === 1 ? "" : "s"}, newest first, as of topic ` +
        "position ",
      position,
      walk.next ? "; older ones with Older." : walk.loading ? "." : "; that is all of them.",
    );
  }
  ui.older.hidden = !walk.next;
  ui.older.disabled = walk.loading;
  ui.older.textContent = walk.loading && walk.entries.size ? "Loading…" : "Older";
}

async function load(before) {
  const generation = walk.generation;
  walk.loading = true;
  walk.failed = null;
  sayError("", false);
  render();
  try {
    const body = await fetchJson(pageUrl(before));
    if (generation !== walk.generation) return;
    for (const record of recordsOf(body)) {
      const rec = normalize(record);
      if (!rec || walk.entries.has(rec.accession)) continue;
      const entry = rowEntry(rec, ID_PREFIX);
      entry.tr = buildRow(rec, ID_PREFIX);
      ui.rows.append(entry.tr);
      walk.entries.set(rec.accession, entry);
    }
    walk.next = body && typeof body.next === "string" && body.next ? body.next : null;
    if (!walk.asOf && body && typeof body.as_of === "string") walk.asOf = body.as_of;
  } catch (error) {
    if (generation !== walk.generation) return;
    const status = error instanceof HttpError ? error.status : 0;
    if (status === 401) {
      walk.started = false; // asked again once there is a key
      current.onUnauthorized();
    } else if (status === 400) {
      sayError(`The gateway refused the filters or the search: ${error.message}`, false);
    } else if (status === 503) {
      walk.failed = { before };
      sayError(`The filings store cannot answer now: ${error.message}`, true);
    } else {
      walk.failed = { before };
      sayError(`Could not load the history: ${error.message || error}`, true);
    }
  } finally {
    if (generation === walk.generation) {
      walk.loading = false;
      render();
    }
  }
}

function reset() {
  walk.generation += 1;
  walk.entries.clear();
  walk.next = null;
  walk.asOf = "";
  walk.loading = false;
  walk.failed = null;
  ui.rows.replaceChildren();
  sayError("", false);
}

// The filters, the search or the key changed: a new walk, now if the history is shown, else
// when it is.
export function historyChanged(shown) {
  reset();
  walk.started = false;
  if (shown) showHistory();
  else render();
}

// The history became visible: its first page, unless asked for already.
export function showHistory() {
  if (walk.started) return;
  walk.started = true;
  load(null);
}

// `filters()`: the filters and the search to ask with; `needKey()`: whether the page waits for
// an API key; `onUnauthorized()`: the gateway wants one.
export function startHistory(filters, needKey, onUnauthorized) {
  current = { filters, needKey, onUnauthorized };
  ui.older.addEventListener("click", () => {
    if (walk.next && !walk.loading) load(walk.next);
  });
  ui.retry.addEventListener("click", () => {
    if (walk.failed && !walk.loading) load(walk.failed.before);
  });
  render();
}

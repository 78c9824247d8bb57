// The feed: the table of the newest filings matching the filters, newest first, at most
// MAX_ROWS; filled from the store's newest page, then live from the stream.

import { $ } from "./dom.js";
import { buildRow, removeEntry, rowEntry, showEmpty } from "./rows.js";

const MAX_ROWS = 500;

const tbody = $("rows");
const rowCount = $("row-count");
let entries = []; // newest first
const byAccession = new Map();

export { tbody as feedRows };
export const feedEntry = (accession) => byAccession.get(accession) || null;

// Newest first: accepted time descending, then accession number descending.
function before(a, b) {
  if (a.sortKey !== b.sortKey) return a.sortKey > b.sortKey;
  return a.accession > b.accession;
}

function insertPosition(entry) {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (before(entries[mid], entry)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// `live`: arrived on the stream (highlighted). False when already shown (history and live
// overlap) or older than everything kept.
export function addToFeed(rec, live) {
  if (byAccession.has(rec.accession)) return false;
  const entry = rowEntry(rec, "");
  const at = insertPosition(entry);
  if (at >= MAX_ROWS) return false;
  entry.tr = buildRow(rec, entry.idPrefix);
  if (live) entry.tr.classList.add("new");
  const next = entries[at];
  tbody.insertBefore(entry.tr, next ? next.tr : null);
  entries.splice(at, 0, entry);
  byAccession.set(rec.accession, entry);
  while (entries.length > MAX_ROWS) {
    const dropped = entries.pop();
    removeEntry(dropped);
    byAccession.delete(dropped.accession);
  }
  return true;
}

export function clearFeed() {
  entries = [];
  byAccession.clear();
  tbody.replaceChildren();
}

export const feedSize = () => entries.length;

// `emptyMessage`: what an empty feed says (loading, waiting for a key, nothing matches).
export function renderFeedCount(emptyMessage) {
  const n = entries.length;
  showEmpty(tbody, n === 0 ? emptyMessage : "");
  rowCount.textContent =
    n === 0 ? "" : `${n} filing${n === 1 ? "" : "s"} shown (at most ${MAX_ROWS}).`;
}

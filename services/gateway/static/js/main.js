// sec-digester dashboard: the newest filings from GET /api/filings, then live over the
// WebSocket /stream, with charts and each filing's facts; the history pages through the filings
// store with a search. Native ES modules, no build step, no dependencies (docs/dashboard.md
// lists them). This module is the seam between the views: it holds the filters and the key,
// and tells each view what arrived or changed; the views do not import each other.

import { HttpError, endpoint, fetchJson, recordsOf } from "./api.js";
import { chartAdd, chartsChanged, startCharts } from "./charts.js";
import { openDetailsIn } from "./detail.js";
import { $ } from "./dom.js";
import { addToFeed, clearFeed, feedEntry, feedRows, feedSize, renderFeedCount } from "./feed.js";
import {
  anyFilter,
  filterParams,
  filtersFromAddress,
  filtersFromInputs,
  filtersToAddress,
  matchesFilters,
  onFilterChange,
  sameFilters,
} from "./filters.js";
import { HOUR_MS } from "./format.js";
import { historyChanged, historyEntry, historyRows, showHistory, startHistory } from "./history.js";
import { currentKey, setKey } from "./key.js";
import { normalize } from "./record.js";
import { setConnection, showNotice } from "./status.js";
import { openStream } from "./stream.js";
import { showView, shownView, startTabs } from "./tabs.js";

const RECENT_LIMIT = 100;
const CHART_HISTORY_LIMIT = 1_000; // the REST maximum
const FILTER_DEBOUNCE_MS = 400;

const auth = {
  form: $("auth"),
  title: $("auth-title"),
  key: $("api-key"),
};

const state = {
  filters: { tickers: [], forms: [], minPriority: "", q: "" },
  generation: 0, // bumped on every filter or key change; stale async work checks it
  recentLoaded: false,
  loading: false,
  needKey: false,
  refusal: "", // the gateway's answer to filters it refused, shown until the next change
  gap: "", // records removed before this page read them (a `gap` frame), shown likewise
};

function renderCount() {
  renderFeedCount(
    state.needKey
      ? "Waiting for an API key."
      : state.loading
        ? "Loading filings…"
        : anyFilter(state.filters)
          ? "No filings match these filters yet."
          : "No filings yet.",
  );
}

function askForKey(refused) {
  state.needKey = true;
  renderCount();
  auth.title.textContent = refused
    ? "The gateway refused the API key. Enter a valid key."
    : "This gateway needs an API key.";
  auth.form.hidden = false;
  setConnection("error", "API key required");
  auth.key.focus();
}

// A record from the store or the stream; `arrivedMs` when a live frame reached this page (0
// for the store's and replayed frames). True when the feed shows it now.
function receive(raw, live, arrivedMs) {
  const rec = normalize(raw);
  if (!rec || !matchesFilters(rec, state.filters)) return false;
  chartAdd(rec, arrivedMs);
  return addToFeed(rec, live);
}

const stream = openStream(() => state.filters, {
  onWelcome() {
    if (!state.recentLoaded) loadRecent(state.generation);
  },
  onFiling(data, arrivedMs) {
    if (receive(data, true, arrivedMs)) renderCount();
  },
  onGap(missing) {
    state.gap =
      `${missing.toLocaleString("en-US")} records that came after the last one shown ` +
      "here were removed by retention before the dashboard could read them; the stream " +
      "goes on from the first one left.";
    showNotice(state.gap);
  },
  onRefused(message) {
    state.refusal = `The gateway refused the filters: ${message}`;
    showNotice(state.refusal);
  },
  onUnauthorized() {
    askForKey(Boolean(currentKey()));
  },
});

// One request: the filings store takes the stream's filters, lists included.
function filingsUrl(limit, since = "") {
  const params = [["limit", String(limit)]];
  if (since) params.push(["since", since]);
  return endpoint("api/filings", [...params, ...filterParams(state.filters)]);
}

// The store's newest filings into the feed. Returns false when the gateway wants a key (the
// caller then waits for one).
async function loadRecent(generation) {
  state.loading = !feedSize();
  renderCount();
  try {
    const body = await fetchJson(filingsUrl(RECENT_LIMIT));
    if (generation !== state.generation) return true;
    for (const record of recordsOf(body)) receive(record, false, 0);
    state.recentLoaded = true;
    showNotice(state.refusal || state.gap);
    // A full page may not reach back an hour: the charts then ask for the rest of it.
    if (recordsOf(body).length >= RECENT_LIMIT) loadChartHistory(generation);
    return true;
  } catch (error) {
    if (generation !== state.generation) return true;
    if (error instanceof HttpError && error.status === 401) {
      askForKey(Boolean(currentKey()));
      return false;
    }
    if (error instanceof HttpError && error.status === 400) {
      // The same filters the stream is refused: said once, in the stream's words.
      state.refusal = `The gateway refused the filters: ${error.message}`;
      showNotice(state.refusal);
      return true;
    }
    showNotice(`Could not load recent filings: ${error.message || error}`);
    return true;
  } finally {
    if (generation === state.generation) {
      state.loading = false;
      renderCount();
    }
  }
}

// The last hour for the charts only (the feed keeps its newest RECENT_LIMIT); the charts show
// what the page already holds if this fails.
async function loadChartHistory(generation) {
  const since = new Date(Date.now() - HOUR_MS).toISOString();
  try {
    const body = await fetchJson(filingsUrl(CHART_HISTORY_LIMIT, since));
    if (generation !== state.generation) return;
    for (const record of recordsOf(body)) {
      const rec = normalize(record);
      if (rec && matchesFilters(rec, state.filters)) chartAdd(rec, 0);
    }
  } catch {
    /* nothing more to chart */
  }
}

function startOver() {
  state.generation += 1;
  clearFeed();
  chartsChanged(); // same records, other filters
  state.recentLoaded = false;
  state.refusal = "";
  state.gap = "";
}

// Filters changed on an open stream: the feed anew from the store, and the same socket told
// the new filters (`subscribe`) instead of being reopened; what it sends from now on is
// filtered the same way, and the store fills in what came before.
function refilter() {
  startOver();
  showNotice("");
  stream.subscribe();
  loadRecent(state.generation);
}

// Filters or key changed: the feed anew, the store first, then live from the last position.
async function restart() {
  startOver();
  const generation = state.generation;
  stream.close();
  setConnection("connecting", "connecting");
  const proceed = await loadRecent(generation);
  if (generation !== state.generation || !proceed) return;
  stream.reopen();
}

// `force`: the key changed, so the stream must be opened again; a filter change alone goes to
// the open stream as a `subscribe` frame. The search is the history's alone: a new one shows
// the history, and leaves the feed as it is.
function applyFilters(force) {
  cancelPendingChange();
  const next = filtersFromInputs();
  const sameStream = !force && sameFilters(next, state.filters);
  const sameSearch = next.q === state.filters.q;
  if (sameStream && sameSearch) return;
  state.filters = next;
  filtersToAddress(next);
  const toHistory = !sameSearch && next.q && shownView() !== "history";
  historyChanged(shownView() === "history");
  if (toHistory) showView("history");
  if (sameStream) return;
  if (!force && stream.isOpen()) refilter();
  else restart();
}

const cancelPendingChange = onFilterChange(() => applyFilters(false), FILTER_DEBOUNCE_MS);
openDetailsIn(feedRows, feedEntry);
openDetailsIn(historyRows, historyEntry);
startHistory(
  () => state.filters,
  () => state.needKey,
  () => askForKey(Boolean(currentKey())),
);

auth.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = auth.key.value.trim();
  if (!key) return;
  setKey(key);
  auth.key.value = "";
  auth.form.hidden = true;
  state.needKey = false;
  applyFilters(true);
});

filtersFromAddress();
state.filters = filtersFromInputs();
filtersToAddress(state.filters);
startCharts(() => state.filters);
restart();
startTabs((view) => {
  if (view === "history") showHistory();
}, state.filters.q ? "history" : "live");
document.documentElement.dataset.dashboard = "started"; // boot.js stands down

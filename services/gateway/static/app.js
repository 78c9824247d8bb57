// sec-digester dashboard: history from GET /api/filings, then live over the WebSocket /stream.
// Plain browser JavaScript, no build step, no dependencies. Record data only ever reaches the
// page through textContent and setAttribute (never innerHTML), and links only when http(s).
"use strict";

(() => {
  const MAX_ROWS = 500;
  const HISTORY_LIMIT = 100;
  const MAX_HISTORY_REQUESTS = 12; // REST filters take one value: one request per combination
  const PING_INTERVAL_MS = 25_000;
  const BACKOFF_BASE_MS = 1_000;
  const BACKOFF_CAP_MS = 30_000;
  const STABLE_AFTER_MS = 10_000; // a connection up this long resets the backoff
  const FILTER_DEBOUNCE_MS = 400;
  const KEY_STORAGE = "sec-digester.api_key";
  const PRIORITIES = ["low", "medium", "high", "critical"];
  const CURSOR = /^\d+:\d+(,\d+:\d+)*$/;
  // Close codes after which reconnecting with the same parameters cannot help.
  const CLOSE_UNAUTHORIZED = 4401;
  const CLOSE_BAD_PARAMETER = 4400;
  const CLOSE_UNKNOWN_TOPIC = 4404;
  const CLOSE_UNSUPPORTED_DATA = 1003;

  const $ = (id) => document.getElementById(id);
  const ui = {
    connection: $("connection"),
    connectionText: $("connection-text"),
    connectionAnnounce: $("connection-announce"),
    filters: $("filters"),
    ticker: $("filter-ticker"),
    form: $("filter-form"),
    priority: $("filter-priority"),
    clear: $("filters-clear"),
    auth: $("auth"),
    authTitle: $("auth-title"),
    apiKey: $("api-key"),
    notice: $("notice"),
    rows: $("rows"),
    rowCount: $("row-count"),
  };

  const state = {
    filters: { tickers: [], forms: [], minPriority: "" },
    rows: [], // newest first: {accession, sortKey, tr}
    byAccession: new Map(),
    cursor: null, // position just after the last record received ("P:O,P:O")
    ws: null,
    generation: 0, // bumped on every filter or key change; stale async work checks it
    historyLoaded: false,
    loading: false,
    attempt: 0,
    liveSince: 0,
    needKey: false,
    reconnectTimer: null,
    countdownTimer: null,
    pingTimer: null,
    debounceTimer: null,
  };

  // ---------------------------------------------------------------- API key (sessionStorage)

  function getKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE) || "";
    } catch {
      return "";
    }
  }

  function setKey(key) {
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      /* storage disabled: the key lives as long as this page */
    }
    memoryKey = key;
  }
  let memoryKey = "";
  const currentKey = () => getKey() || memoryKey;

  function askForKey(refused) {
    state.needKey = true;
    renderCount();
    ui.authTitle.textContent = refused
      ? "The gateway refused the API key. Enter a valid key."
      : "This gateway needs an API key.";
    ui.auth.hidden = false;
    setConnection("error", "API key required");
    ui.apiKey.focus();
  }

  // ------------------------------------------------------------------------------ filters

  function splitList(text, upper) {
    const seen = new Set();
    for (const part of text.split(",")) {
      const value = (upper ? part.toUpperCase() : part).trim().replace(/\s+/g, " ");
      if (value) seen.add(value);
    }
    return [...seen];
  }

  function filtersFromInputs() {
    return {
      tickers: splitList(ui.ticker.value.replace(/\s+/g, ","), true),
      forms: splitList(ui.form.value, true),
      minPriority: PRIORITIES.includes(ui.priority.value) ? ui.priority.value : "",
    };
  }

  const sameFilters = (a, b) =>
    a.tickers.join() === b.tickers.join() &&
    a.forms.join() === b.forms.join() &&
    a.minPriority === b.minPriority;

  function matchesFilters(rec, f) {
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

  // Filters live in the page's address too, so a filtered view can be bookmarked.
  function filtersToAddress(f) {
    const url = new URL(location.href);
    for (const name of ["ticker", "form", "min_priority", "api_key"]) url.searchParams.delete(name);
    if (f.tickers.length) url.searchParams.set("ticker", f.tickers.join(","));
    if (f.forms.length) url.searchParams.set("form", f.forms.join(","));
    if (f.minPriority) url.searchParams.set("min_priority", f.minPriority);
    history.replaceState(null, "", url);
  }

  function filtersFromAddress() {
    const params = new URL(location.href).searchParams;
    ui.ticker.value = params.get("ticker") || "";
    ui.form.value = params.get("form") || "";
    ui.priority.value = PRIORITIES.includes(params.get("min_priority"))
      ? params.get("min_priority")
      : "";
    const key = params.get("api_key");
    if (key) setKey(key); // then dropped from the address by filtersToAddress
  }

  function applyFilters(force) {
    clearTimeout(state.debounceTimer);
    const next = filtersFromInputs();
    if (!force && sameFilters(next, state.filters)) return;
    state.filters = next;
    filtersToAddress(next);
    restart();
  }

  // ---------------------------------------------------------------------------- URLs

  function endpoint(path, params) {
    // Relative to the page, so a gateway behind a path prefix works unchanged.
    const url = new URL(path, document.baseURI);
    for (const [name, value] of params) url.searchParams.append(name, value);
    const key = currentKey();
    if (key) url.searchParams.set("api_key", key);
    return url;
  }

  function streamUrl() {
    const f = state.filters;
    const params = [
      ["topic", "analyzed"],
      ["from", state.cursor || "latest"],
    ];
    if (f.tickers.length) params.push(["tickers", f.tickers.join(",")]);
    if (f.forms.length) params.push(["forms", f.forms.join(",")]);
    if (f.minPriority) params.push(["min_priority", f.minPriority]);
    const url = endpoint("stream", params);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  // ------------------------------------------------------------------------ the records

  const text = (v) => (typeof v === "string" ? v : v == null ? "" : String(v));
  const strings = (v) => (Array.isArray(v) ? v.map(text).filter(Boolean) : []);

  function toMillis(value) {
    if (typeof value === "number") return value;
    const ms = Date.parse(text(value));
    return Number.isNaN(ms) ? 0 : ms;
  }

  // A FilingAnalysis as JSON (the record itself, or a frame / envelope carrying it in `data`).
  function normalize(raw) {
    let data = raw;
    if (data && typeof data === "object" && data.data && typeof data.data === "object") {
      data = data.data;
    }
    if (!data || typeof data !== "object") return null;
    const filing = data.filing && typeof data.filing === "object" ? data.filing : {};
    const analysis = data.analysis && typeof data.analysis === "object" ? data.analysis : {};
    const accession = text(filing.accession_number);
    if (!accession) return null;
    const entities = Array.isArray(filing.entities) ? filing.entities : [];
    const tickers = strings(filing.tickers).map((t) => t.toUpperCase());
    const allTickers = new Set(tickers);
    for (const entity of entities) {
      if (entity && typeof entity === "object") {
        for (const t of strings(entity.tickers)) allTickers.add(t.toUpperCase());
      }
    }
    const items = strings(data.items).length ? strings(data.items) : strings(filing.items);
    const sentiment = Number(analysis.sentiment);
    return {
      accession,
      acceptedAt: text(filing.accepted_at),
      sortKey: toMillis(filing.accepted_at),
      tickers,
      allTickers: [...allTickers],
      entityNames: entities
        .map((e) => (e && typeof e === "object" ? text(e.name) : ""))
        .filter(Boolean),
      form: text(filing.form_type),
      items,
      priority: text(analysis.priority).toLowerCase(),
      sentiment: Number.isFinite(sentiment) ? Math.max(-1, Math.min(1, sentiment)) : null,
      summary: text(analysis.summary),
      indexUrl: safeHttpUrl(filing.index_url),
    };
  }

  function safeHttpUrl(value) {
    try {
      const url = new URL(text(value), document.baseURI);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : "";
    } catch {
      return "";
    }
  }

  const easternParts = (() => {
    try {
      return new Intl.DateTimeFormat("en-US", {
        timeZone: "America/New_York",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hourCycle: "h23",
      });
    } catch {
      return null;
    }
  })();

  function formatEastern(ms) {
    if (!ms) return "";
    const date = new Date(ms);
    if (!easternParts) return date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
    const p = Object.fromEntries(easternParts.formatToParts(date).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  }

  function h(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content != null) node.textContent = content;
    return node;
  }

  function buildRow(rec) {
    const tr = h("tr");
    tr.dataset.accession = rec.accession;
    tr.dataset.priority = PRIORITIES.includes(rec.priority) ? rec.priority : "unknown";

    const timeCell = h("td", "col-time");
    const time = h("time", null, formatEastern(rec.sortKey) || rec.acceptedAt || "—");
    if (rec.sortKey) {
      time.setAttribute("datetime", new Date(rec.sortKey).toISOString());
      time.title = `${new Date(rec.sortKey).toISOString()} (UTC)`;
    }
    timeCell.append(time);

    const tickerCell = h("td", "col-tickers");
    tickerCell.append(h("span", "tickers", rec.tickers.join(", ") || "—"));
    if (rec.entityNames.length) {
      const more = rec.entityNames.length > 1 ? ` +${rec.entityNames.length - 1}` : "";
      const name = h("span", "entity", rec.entityNames[0] + more);
      name.title = rec.entityNames.join("; ");
      tickerCell.append(name);
    }

    const formCell = h("td", "col-form", rec.form || "—");
    const itemsCell = h("td", "col-items", rec.items.join(", ") || "—");

    const priorityCell = h("td", "col-priority");
    const known = PRIORITIES.includes(rec.priority);
    priorityCell.append(
      h("span", `priority priority-${known ? rec.priority : "unknown"}`, rec.priority || "—"),
    );

    const sentimentCell = h("td", "col-sentiment");
    if (rec.sentiment === null) {
      sentimentCell.textContent = "—";
    } else {
      const value = rec.sentiment;
      const label = (value > 0 ? "+" : "") + value.toFixed(2);
      sentimentCell.append(h("span", "sentiment-value", label));
      const bar = h("span", "bar");
      bar.setAttribute("aria-hidden", "true");
      const fill = h("span", `fill ${value < 0 ? "negative" : "positive"}`);
      fill.style.width = `${(Math.abs(value) * 50).toFixed(1)}%`;
      bar.append(fill);
      sentimentCell.append(bar);
    }

    const summaryCell = h("td", "col-summary");
    const summary = h("span", "summary", rec.summary || "—");
    if (rec.summary) summary.title = rec.summary;
    summaryCell.append(summary);

    const linkCell = h("td", "col-link");
    if (rec.indexUrl) {
      const a = h("a", null, "EDGAR");
      a.href = rec.indexUrl;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.setAttribute("aria-label", `EDGAR index page of filing ${rec.accession}`);
      a.title = rec.accession;
      linkCell.append(a);
    } else {
      linkCell.textContent = rec.accession;
    }

    tr.append(timeCell, tickerCell, formCell, itemsCell, priorityCell, sentimentCell, summaryCell,
      linkCell);
    return tr;
  }

  // Newest first: accepted time descending, then accession number descending.
  function before(a, b) {
    if (a.sortKey !== b.sortKey) return a.sortKey > b.sortKey;
    return a.accession > b.accession;
  }

  function insertPosition(entry) {
    let lo = 0;
    let hi = state.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(state.rows[mid], entry)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function addRecord(raw, live) {
    const rec = normalize(raw);
    if (!rec || !matchesFilters(rec, state.filters)) return false;
    if (state.byAccession.has(rec.accession)) return false; // history and live overlap
    const entry = { accession: rec.accession, sortKey: rec.sortKey, tr: null };
    const at = insertPosition(entry);
    if (at >= MAX_ROWS) return false; // older than everything kept
    entry.tr = buildRow(rec);
    if (live) entry.tr.classList.add("new");
    const next = state.rows[at];
    ui.rows.insertBefore(entry.tr, next ? next.tr : null);
    state.rows.splice(at, 0, entry);
    state.byAccession.set(rec.accession, entry);
    while (state.rows.length > MAX_ROWS) {
      const dropped = state.rows.pop();
      dropped.tr.remove();
      state.byAccession.delete(dropped.accession);
    }
    return true;
  }

  function clearRows() {
    state.rows = [];
    state.byAccession.clear();
    ui.rows.replaceChildren();
  }

  function renderCount() {
    const n = state.rows.length;
    let empty = ui.rows.querySelector("tr.empty");
    if (n === 0) {
      const message = state.needKey
        ? "Waiting for an API key."
        : state.loading
          ? "Loading filings…"
          : state.filters.tickers.length || state.filters.forms.length || state.filters.minPriority
            ? "No filings match these filters yet."
            : "No filings yet.";
      if (!empty) {
        empty = h("tr", "empty");
        empty.append(h("td"));
        ui.rows.append(empty);
      }
      empty.firstChild.colSpan = 8;
      empty.firstChild.textContent = message;
    } else if (empty) {
      empty.remove();
    }
    ui.rowCount.textContent =
      n === 0 ? "" : `${n} filing${n === 1 ? "" : "s"} shown (at most ${MAX_ROWS}).`;
  }

  // ---------------------------------------------------------------------- history (REST)

  function historyRequests() {
    const f = state.filters;
    const tickers = f.tickers.length ? f.tickers : [null];
    let forms = f.forms.length ? f.forms : [null];
    if (tickers.length * forms.length > MAX_HISTORY_REQUESTS) forms = [null]; // filtered here
    const urls = [];
    for (const ticker of tickers.slice(0, MAX_HISTORY_REQUESTS)) {
      for (const form of forms) {
        const params = [["limit", String(HISTORY_LIMIT)]];
        if (ticker) params.push(["ticker", ticker]);
        if (form) params.push(["form", form]);
        urls.push(endpoint("api/filings", params));
      }
    }
    return urls;
  }

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function fetchJson(url) {
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

  function recordsOf(body) {
    if (Array.isArray(body)) return body;
    if (body && typeof body === "object") {
      for (const name of ["filings", "results", "data"]) {
        if (Array.isArray(body[name])) return body[name];
      }
    }
    return [];
  }

  // Returns false when the gateway wants a key (the caller then waits for one).
  async function loadHistory(generation) {
    state.loading = !state.rows.length;
    renderCount();
    try {
      const bodies = await Promise.all(historyRequests().map(fetchJson));
      if (generation !== state.generation) return true;
      for (const body of bodies) for (const record of recordsOf(body)) addRecord(record, false);
      state.historyLoaded = true;
      showNotice("");
      return true;
    } catch (error) {
      if (generation !== state.generation) return true;
      if (error instanceof HttpError && error.status === 401) {
        askForKey(Boolean(currentKey()));
        return false;
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

  function showNotice(message) {
    ui.notice.textContent = message;
    ui.notice.hidden = !message;
  }

  // --------------------------------------------------------------------- live (WebSocket)

  // The visible text changes every second while waiting; screen readers only hear the state.
  function setConnection(kind, message) {
    const shown = message || kind;
    const changed = ui.connection.dataset.state !== kind;
    if (changed || (kind === "error" && ui.connectionText.textContent !== shown)) {
      ui.connectionAnnounce.textContent = kind === "reconnecting" ? "reconnecting" : shown;
    }
    ui.connection.dataset.state = kind;
    ui.connectionText.textContent = shown;
  }

  function stopTimers() {
    clearTimeout(state.reconnectTimer);
    clearInterval(state.countdownTimer);
    clearInterval(state.pingTimer);
    state.reconnectTimer = state.countdownTimer = state.pingTimer = null;
  }

  function closeSocket() {
    const ws = state.ws;
    state.ws = null; // its handlers check this and stay quiet
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "client closing");
  }

  function connect() {
    stopTimers();
    closeSocket();
    setConnection(state.attempt ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(streamUrl());
    } catch (error) {
      scheduleReconnect(`cannot open the stream: ${error.message || error}`);
      return;
    }
    state.ws = ws;
    let lastError = null;

    ws.onmessage = (event) => {
      if (state.ws !== ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== "object") return;
      switch (frame.type) {
        case "welcome":
          state.liveSince = Date.now();
          // With from=latest the welcome names the position it resolved to: resuming from it
          // after a drop loses nothing even if no record has arrived yet.
          if (!state.cursor && typeof frame.from === "string" && CURSOR.test(frame.from)) {
            state.cursor = frame.from;
          }
          setConnection("live", "live");
          state.pingTimer = setInterval(() => {
            if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ping" }));
          }, PING_INTERVAL_MS);
          if (!state.historyLoaded) loadHistory(state.generation);
          break;
        case "filing":
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          if (addRecord(frame.data, true)) renderCount();
          break;
        case "caught_up":
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          break;
        case "error":
          lastError = frame;
          // A slow consumer is closed with its last cursor: resume from there.
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          break;
        default: // pong and anything newer
          break;
      }
    };

    ws.onclose = (event) => {
      if (state.ws !== ws) return;
      state.ws = null;
      clearInterval(state.pingTimer);
      if (state.liveSince && Date.now() - state.liveSince >= STABLE_AFTER_MS) state.attempt = 0;
      state.liveSince = 0;
      const code = event.code;
      const errorCode = lastError ? text(lastError.code) : "";
      const message = lastError ? text(lastError.message) : text(event.reason);
      if (code === CLOSE_UNAUTHORIZED || errorCode === "unauthorized") {
        askForKey(Boolean(currentKey()));
        return;
      }
      if (code === CLOSE_BAD_PARAMETER && /^from\b/.test(message) && state.cursor) {
        // The saved position is no longer valid (e.g. the topic was recreated): start live.
        state.cursor = null;
        scheduleReconnect("position expired");
        return;
      }
      if (code === CLOSE_BAD_PARAMETER || code === CLOSE_UNKNOWN_TOPIC ||
          code === CLOSE_UNSUPPORTED_DATA) {
        setConnection("error", `error: ${message || `closed (${code})`}`);
        return;
      }
      scheduleReconnect(message || closeReason(code));
    };
  }

  function closeReason(code) {
    if (code === 1000 || code === 1001) return "gateway closed the stream";
    if (code === 1006) return "connection lost";
    return `closed (${code})`;
  }

  // Exponential backoff with "equal jitter": half the step fixed, half random, capped.
  function scheduleReconnect(reason) {
    stopTimers();
    const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** state.attempt);
    const delay = step / 2 + Math.random() * (step / 2);
    state.attempt += 1;
    const due = Date.now() + delay;
    const show = () => {
      const seconds = Math.max(1, Math.ceil((due - Date.now()) / 1000));
      setConnection("reconnecting", `reconnecting in ${seconds}s — ${reason}`);
    };
    show();
    state.countdownTimer = setInterval(show, 250);
    state.reconnectTimer = setTimeout(connect, delay);
  }

  // Filters or key changed: new list, history first, then live from the last position.
  async function restart() {
    state.generation += 1;
    const generation = state.generation;
    stopTimers();
    closeSocket();
    clearRows();
    state.historyLoaded = false;
    state.attempt = 0;
    setConnection("connecting", "connecting");
    const proceed = await loadHistory(generation);
    if (generation !== state.generation || !proceed) return;
    connect();
  }

  // ------------------------------------------------------------------------------ wiring

  ui.filters.addEventListener("submit", (event) => {
    event.preventDefault();
    applyFilters(false);
  });
  for (const input of [ui.ticker, ui.form]) {
    input.addEventListener("input", () => {
      clearTimeout(state.debounceTimer);
      state.debounceTimer = setTimeout(() => applyFilters(false), FILTER_DEBOUNCE_MS);
    });
  }
  ui.priority.addEventListener("change", () => applyFilters(false));
  ui.clear.addEventListener("click", () => {
    ui.ticker.value = "";
    ui.form.value = "";
    ui.priority.value = "";
    applyFilters(false);
  });

  ui.auth.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = ui.apiKey.value.trim();
    if (!key) return;
    setKey(key);
    ui.apiKey.value = "";
    ui.auth.hidden = true;
    state.needKey = false;
    applyFilters(true);
  });

  // Back online while waiting to reconnect: try now instead of at the end of the backoff.
  window.addEventListener("online", () => {
    if (state.reconnectTimer) {
      state.attempt = 0;
      connect();
    }
  });

  filtersFromAddress();
  state.filters = filtersFromInputs();
  filtersToAddress(state.filters);
  restart();
})();

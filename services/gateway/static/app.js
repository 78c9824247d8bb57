// sec-digester dashboard: history from GET /api/filings, then live over the WebSocket /stream.
// Plain browser JavaScript, no build step, no dependencies. Record data only ever reaches the
// page through textContent and setAttribute (never innerHTML), and links only when http(s).
"use strict";

(() => {
  const MAX_ROWS = 500;
  const HISTORY_LIMIT = 100;
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
  // Charts: the last hour, one bar a minute, redrawn at most once a second.
  const MINUTE_MS = 60_000;
  const HOUR_MS = 60 * MINUTE_MS;
  const CHART_MINUTES = 60;
  const CHART_TICK_MS = 1_000;
  const CHART_IDLE_REDRAW_MS = 10_000; // the window slides even when nothing arrives
  const CHART_MAX_RECORDS = 20_000; // a hard bound on memory, whatever the rate
  const CHART_HISTORY_LIMIT = 1_000; // the REST maximum
  const SVG_NS = "http://www.w3.org/2000/svg";
  // Whose ticker a row leads with: the issuer's, else the subject's, else the filer's (the
  // precedence ingest orders entities by); without any, the first of filing.tickers.
  const MAIN_ROLES = new Map([
    ["issuer", 0],
    ["subject", 1],
    ["filer", 2],
  ]);

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
    charts: $("charts"),
    chartMinutes: $("chart-minutes"),
    minutesTotal: $("minutes-total"),
    chartPriority: $("chart-priority"),
    chartFreshness: $("chart-freshness"),
    freshness: $("freshness"),
    freshnessNote: $("freshness-note"),
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
    refusal: "", // the gateway's answer to filters it refused, shown until the next change
    gap: "", // records removed before this page read them (a `gap` frame), shown likewise
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

  // `force`: the key changed, so the stream must be opened again; a filter change alone goes to
  // the open stream as a `subscribe` frame.
  function applyFilters(force) {
    clearTimeout(state.debounceTimer);
    const next = filtersFromInputs();
    if (!force && sameFilters(next, state.filters)) return;
    state.filters = next;
    filtersToAddress(next);
    if (!force && state.ws && state.ws.readyState === WebSocket.OPEN) refilter(state.ws);
    else restart();
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

  // The stream's filters as a subscribe frame carries them (lists as arrays; none = any).
  function subscribeFrame() {
    const f = state.filters;
    const frame = { type: "subscribe", tickers: f.tickers, forms: f.forms };
    if (f.minPriority) frame.min_priority = f.minPriority;
    return JSON.stringify(frame);
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
    const entities = (Array.isArray(filing.entities) ? filing.entities : []).filter(
      (e) => e && typeof e === "object",
    );
    const tickers = strings(filing.tickers).map((t) => t.toUpperCase());
    let mainEntity = null;
    let mainRank = Infinity;
    for (const entity of entities) {
      const rank = MAIN_ROLES.get(text(entity.role).trim().toLowerCase());
      if (rank !== undefined && rank < mainRank && strings(entity.tickers).length) {
        mainEntity = entity;
        mainRank = rank;
      }
    }
    const mainTicker = mainEntity ? strings(mainEntity.tickers)[0].toUpperCase() : tickers[0] || "";
    // The main ticker first, then filing.tickers, then any other entity's.
    const allTickers = new Set(mainTicker ? [mainTicker] : []);
    for (const t of tickers) allTickers.add(t);
    for (const entity of entities) {
      for (const t of strings(entity.tickers)) allTickers.add(t.toUpperCase());
    }
    const named = mainEntity ? [mainEntity, ...entities.filter((e) => e !== mainEntity)] : entities;
    const items = strings(data.items).length ? strings(data.items) : strings(filing.items);
    const sentiment = Number(analysis.sentiment);
    return {
      accession,
      acceptedAt: text(filing.accepted_at),
      sortKey: toMillis(filing.accepted_at),
      detectedMs: toMillis(filing.detected_at),
      tickers,
      allTickers: [...allTickers],
      entityNames: named.map((e) => text(e.name)).filter(Boolean),
      form: text(filing.form_type),
      items,
      priority: text(analysis.priority).toLowerCase(),
      sentiment: Number.isFinite(sentiment) ? Math.max(-1, Math.min(1, sentiment)) : null,
      summary: text(analysis.summary),
      indexUrl: safeHttpUrl(filing.index_url),
      facts: factsOf(data),
    };
  }

  // Schema v2's structured facts, as plain objects and arrays of objects only (a v1 record, or
  // another form: null / empty). Read lazily by the detail view; never markup.
  const objects = (v) => (Array.isArray(v) ? v.filter((x) => x && typeof x === "object") : []);
  const objectOrNull = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : null);

  function factsOf(data) {
    const ownership = objectOrNull(data.ownership);
    const earnings = objectOrNull(data.earnings);
    return {
      ownership: ownership && {
        documentType: text(ownership.document_type),
        periodOfReport: text(ownership.period_of_report),
        issuer: objectOrNull(ownership.issuer) || {},
        owners: objects(ownership.owners),
        transactions: objects(ownership.transactions),
        footnotes: objects(ownership.footnotes),
        remarks: text(ownership.remarks),
      },
      earnings: earnings && {
        figures: objects(earnings.figures),
        guidance: objects(earnings.guidance),
      },
      itemFacts: objects(data.item_facts),
      stake: objectOrNull(data.stake),
      saleNotice: objectOrNull(data.sale_notice),
      financials: objectOrNull(data.financials),
    };
  }

  function hasFacts(facts) {
    return Boolean(facts.ownership || facts.earnings || facts.itemFacts.length || facts.stake ||
      facts.saleNotice || facts.financials);
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
    tickerCell.append(...tickerNodes(rec));
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
    const badge = factsBadge(rec.facts);
    if (badge) summaryCell.append(badge);
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
    // The row opens its detail view: by click, or Enter / Space once focused.
    tr.classList.add("expandable");
    tr.tabIndex = 0;
    tr.setAttribute("aria-expanded", "false");
    tr.setAttribute("aria-label", `${rec.form || "Filing"} ${rec.accession}: show its facts`);
    return tr;
  }

  // What a row's facts are, at a glance: the transaction codes of a Form 3/4/5, "results"
  // for earnings figures, the number of 8-K item facts.
  function factsBadge(facts) {
    const parts = [];
    if (facts.ownership) {
      const codes = new Set(facts.ownership.transactions.map((t) => text(t.code)).filter(Boolean));
      parts.push(codes.size ? [...codes].join(" ") : `Form ${facts.ownership.documentType}`);
    }
    if (facts.earnings && facts.earnings.figures.length) parts.push("results");
    if (facts.stake) {
      const pct = facts.stake.percent_of_class;
      parts.push(`${text(facts.stake.kind) === "active" ? "13D" : "13G"}` +
        (finite(pct) ? ` ${numberFormat.format(pct)}%` : ""));
    }
    if (facts.saleNotice) parts.push("proposed sale");
    if (facts.financials && objects(facts.financials.facts).length) parts.push("XBRL");
    if (facts.itemFacts.length) {
      const n = facts.itemFacts.length;
      parts.push(`${n} item fact${n > 1 ? "s" : ""}`);
    }
    if (!parts.length) return null;
    const badge = h("span", "facts-badge", parts.join(" · "));
    badge.title = "Structured facts: click the row";
    return badge;
  }

  // ---------------------------------------------------------------- detail view (facts)

  const numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });
  const moneyFormat = new Intl.NumberFormat("en-US", {
    style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2,
  });
  const shareMoneyFormat = new Intl.NumberFormat("en-US", {
    style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 4,
  });
  const VERBS = {
    P: "open-market purchase", S: "open-market sale", A: "award", M: "exercise or conversion",
    F: "tax withholding", G: "gift", C: "conversion", X: "exercise", D: "disposition to issuer",
    J: "other", V: "voluntary report", W: "will or inheritance",
  };
  const ROLE_NAMES = {
    is_director: "director", is_officer: "officer", is_ten_percent_owner: "10% owner",
    is_other: "other",
  };
  const FIGURE_NAMES = {
    revenue: "Revenue", net_income: "Net income", eps_diluted: "Diluted EPS",
    eps_basic: "Basic EPS", eps: "EPS",
  };
  const FINANCIAL_NAMES = {
    ...FIGURE_NAMES, operating_cash_flow: "Operating cash flow", cash: "Cash",
    total_assets: "Total assets", shares_outstanding: "Shares outstanding",
  };
  const PERIOD_NAMES = {
    quarter: "quarter", year_to_date: "year to date", full_year: "full year", unknown: "—",
  };

  const finite = (v) => typeof v === "number" && Number.isFinite(v);
  const num = (v) => (finite(v) ? numberFormat.format(v) : "—");

  function money(v) {
    if (!finite(v)) return "—";
    const size = Math.abs(v);
    if (size >= 1e9) return `${v < 0 ? "-" : ""}$${numberFormat.format(+(size / 1e9).toFixed(2))}B`;
    if (size >= 1e6) return `${v < 0 ? "-" : ""}$${numberFormat.format(+(size / 1e6).toFixed(2))}M`;
    return moneyFormat.format(v);
  }

  function amount(v, unit) {
    if (!finite(v)) return "—";
    if (text(unit) === "USD/share") return shareMoneyFormat.format(v);
    return text(unit).startsWith("USD") ? money(v) : `${num(v)} ${text(unit)}`;
  }

  function table(className, headers, rows) {
    const t = h("table", `facts-table ${className}`);
    const head = h("tr");
    for (const name of headers) {
      const th = h("th", null, name);
      th.scope = "col";
      head.append(th);
    }
    t.append(h("thead"), h("tbody"));
    t.tHead.append(head);
    for (const cells of rows) {
      const tr = h("tr");
      for (const cell of cells) {
        const td = h("td");
        if (cell instanceof Node) td.append(cell);
        else td.textContent = cell;
        tr.append(td);
      }
      t.tBodies[0].append(tr);
    }
    return t;
  }

  function section(title, ...content) {
    const part = h("section", "facts-section");
    part.append(h("h3", null, title), ...content);
    return part;
  }

  function ownerText(owner) {
    const roles = Object.entries(ROLE_NAMES)
      .filter(([flag]) => owner[flag] === true)
      .map(([flag, role]) => {
        if (flag === "is_officer" && text(owner.officer_title)) return text(owner.officer_title);
        if (flag === "is_other" && text(owner.other_text)) return text(owner.other_text);
        return role;
      });
    return { name: text(owner.name) || "—", roles: roles.join(", ") || "—" };
  }

  function plan(value) {
    return value === true ? "yes" : value === false ? "no" : "—";
  }

  function ownershipSection(o) {
    const issuer = [text(o.issuer.name), text(o.issuer.trading_symbol)].filter(Boolean);
    const heading = `Form ${o.documentType || "?"} · ${issuer.join(" · ") || "issuer unknown"}` +
      (o.periodOfReport ? ` · period ${o.periodOfReport}` : "");
    const owners = h("ul", "facts-owners");
    for (const owner of o.owners) {
      const { name, roles } = ownerText(owner);
      const li = h("li");
      li.append(h("strong", null, name), ` — ${roles}`);
      owners.append(li);
    }
    const rows = o.transactions.map((t) => {
      const code = text(t.code);
      const codeCell = h("span", "code", code || "—");
      if (VERBS[code]) codeCell.title = VERBS[code];
      const price = finite(t.price_per_share)
        ? shareMoneyFormat.format(t.price_per_share) + (t.weighted_average_price ? " avg" : "")
        : "—";
      const held = [text(t.direct_or_indirect), text(t.nature_of_ownership)].filter(Boolean);
      return [
        text(t.table) === "derivative" ? "II" : "I",
        text(t.kind) === "holding" ? "holding" : text(t.date) || "—",
        codeCell,
        text(t.security_title) || "—",
        num(t.shares),
        price,
        money(t.value_usd),
        text(t.acquired_disposed) || "—",
        num(t.shares_owned_following),
        held.join(": ") || "—",
        plan(t.rule_10b5_1),
      ];
    });
    const content = [h("p", "facts-heading", heading), owners];
    if (rows.length) {
      content.push(table("transactions", ["Table", "Date", "Code", "Security", "Shares", "Price",
        "Value", "A/D", "Owned after", "Ownership", "10b5-1"], rows));
    } else {
      content.push(h("p", "facts-none", "No securities reported."));
    }
    if (o.footnotes.length) {
      const notes = h("ul", "facts-footnotes");
      for (const note of o.footnotes) {
        const li = h("li");
        li.append(h("strong", null, `${text(note.id)} `), text(note.text));
        notes.append(li);
      }
      content.push(notes);
    }
    if (o.remarks) content.push(h("p", "facts-remarks", `Remarks: ${o.remarks}`));
    return section("Insider transactions", ...content);
  }

  function change(figure) {
    if (!finite(figure.change_percent)) return "—";
    return `${figure.change_percent > 0 ? "+" : ""}${numberFormat.format(figure.change_percent)}%`;
  }

  function earningsSection(e) {
    const rows = e.figures.map((f) => [
      FIGURE_NAMES[text(f.name)] || text(f.name),
      PERIOD_NAMES[text(f.period)] || text(f.period),
      f.gaap === false ? "non-GAAP" : "GAAP",
      amount(f.value, f.unit),
      amount(f.prior_value, f.unit),
      change(f),
    ]);
    const content = [table("figures", ["Figure", "Period", "Basis", "Value", "Prior period",
      "Change"], rows)];
    if (e.guidance.length) {
      const list = h("ul", "facts-guidance");
      for (const g of e.guidance) {
        const range = g.low === g.high ? amount(g.low, g.unit)
          : `${amount(g.low, g.unit)} to ${amount(g.high, g.unit)}`;
        const name = FIGURE_NAMES[text(g.name)] || text(g.name);
        list.append(h("li", null, `Guidance, ${name} (${PERIOD_NAMES[text(g.period)] || "—"}): ${range}`));
      }
      content.push(list);
    }
    return section("Earnings", ...content);
  }

  function itemFactsSection(facts) {
    const list = h("ul", "facts-items");
    for (const fact of facts) {
      const li = h("li");
      const about = [text(fact.subject), text(fact.role)].filter(Boolean).join(", ");
      li.append(
        h("span", "item-code", text(fact.item) || "—"),
        " ",
        h("strong", null, text(fact.event_type).replaceAll("_", " ") || "event"),
        about ? `: ${about}` : "",
      );
      if (text(fact.text)) li.append(h("q", null, text(fact.text)));
      list.append(li);
    }
    return section("8-K item facts", list);
  }

  function stakeSection(s) {
    const issuer = [text(s.issuer_name), text(s.issuer_cusip) && `CUSIP ${text(s.issuer_cusip)}`]
      .filter(Boolean);
    const kind = text(s.kind) === "active" ? "Schedule 13D (active)" : "Schedule 13G (passive)";
    const amendment = Number.isInteger(s.amendment_number) ? ` · amendment ${s.amendment_number}` : "";
    const heading = `${kind}${amendment} · ${issuer.join(" · ") || "issuer unknown"}` +
      (text(s.event_date) ? ` · event ${text(s.event_date)}` : "");
    const rows = objects(s.reporting_persons).map((p) => [
      text(p.name) || "—",
      text(p.type) || "—",
      text(p.citizenship) || "—",
      num(p.sole_voting_power),
      num(p.shared_voting_power),
      num(p.sole_dispositive_power),
      num(p.shared_dispositive_power),
      num(p.aggregate_amount),
      finite(p.percent_of_class) ? `${numberFormat.format(p.percent_of_class)}%` : "—",
    ]);
    const content = [h("p", "facts-heading", heading), table("stake", ["Reporting person",
      "Type", "Citizenship", "Sole voting", "Shared voting", "Sole dispositive",
      "Shared dispositive", "Aggregate", "Percent"], rows)];
    if (text(s.purpose)) content.push(h("p", "facts-remarks", `Purpose: ${text(s.purpose)}`));
    if (text(s.incomplete_reason)) {
      content.push(h("p", "facts-none", `Incomplete: ${text(s.incomplete_reason)}`));
    }
    return section("Stake", ...content);
  }

  function saleNoticeSection(n) {
    const issuer = [text(n.issuer_name), text(n.issuer_ticker)].filter(Boolean).join(" · ");
    const roles = (Array.isArray(n.relationships) ? n.relationships : []).map(text).filter(Boolean);
    const heading = `Form 144 · ${text(n.seller_name) || "seller unknown"}` +
      (roles.length ? ` (${roles.join(", ")})` : "") + ` · ${issuer || "issuer unknown"}`;
    const rows = objects(n.securities).map((x) => [
      text(x.security_class) || "—",
      num(x.units_to_be_sold),
      money(x.aggregate_market_value),
      num(x.units_outstanding),
      text(x.approximate_sale_date) || "—",
      text(x.exchange) || "—",
      text(x.broker_name) || "—",
    ]);
    const content = [h("p", "facts-heading", heading), table("sale", ["Class", "Units to sell",
      "Market value", "Units outstanding", "Approx. date", "Exchange", "Broker"], rows)];
    const past = objects(n.sold_past_three_months).map((x) => [
      text(x.security_class) || "—", text(x.sale_date) || "—", num(x.units_sold),
      money(x.gross_proceeds),
    ]);
    if (past.length) {
      content.push(h("p", "facts-heading", "Sold in the past three months"),
        table("past-sales", ["Class", "Date", "Units", "Gross proceeds"], past));
    }
    return section("Proposed sale", ...content);
  }

  function financialsSection(f) {
    const heading = [text(f.document_type), text(f.period_end) && `period ended ${text(f.period_end)}`,
      f.fiscal_year && text(f.fiscal_period) && `FY${f.fiscal_year} ${text(f.fiscal_period)}`]
      .filter(Boolean).join(" · ");
    const rows = objects(f.facts).map((x) => [
      FINANCIAL_NAMES[text(x.name)] || text(x.name),
      text(x.role) === "prior_year" ? "prior year" : "current",
      text(x.period_label).replaceAll("_", " ") + (x.derived ? " (derived)" : ""),
      [text(x.period_start), text(x.period_end)].filter(Boolean).join(" to "),
      text(x.unit) === "USD/shares" ? shareMoneyFormat.format(x.value)
        : text(x.unit) === "USD" ? money(x.value) : `${num(x.value)} ${text(x.unit)}`,
      text(x.concept) || "—",
    ]);
    const content = [h("p", "facts-heading", heading || "XBRL"), table("financials", ["Figure",
      "Role", "Period", "Dates", "Value", "Concept"], rows)];
    if (text(f.incomplete_reason)) {
      content.push(h("p", "facts-none", `Incomplete: ${text(f.incomplete_reason)}`));
    }
    return section("Financials (XBRL)", ...content);
  }

  function buildDetail(rec) {
    const tr = h("tr", "detail");
    const td = h("td");
    td.colSpan = 8;
    const panel = h("div", "facts");
    panel.id = `facts-${rec.accession}`;
    const { ownership, earnings, itemFacts } = rec.facts;
    if (ownership) panel.append(ownershipSection(ownership));
    if (earnings) panel.append(earningsSection(earnings));
    if (itemFacts.length) panel.append(itemFactsSection(itemFacts));
    if (rec.facts.stake) panel.append(stakeSection(rec.facts.stake));
    if (rec.facts.saleNotice) panel.append(saleNoticeSection(rec.facts.saleNotice));
    if (rec.facts.financials) panel.append(financialsSection(rec.facts.financials));
    if (!hasFacts(rec.facts)) {
      panel.append(h("p", "facts-none", "No structured facts for this filing (they are read " +
        "from Form 3/4/5 ownership documents, Schedules 13D and 13G, Form 144, XBRL, results " +
        "reports and 8-K items)."));
    }
    td.append(panel);
    tr.append(td);
    return tr;
  }

  function toggleDetail(entry) {
    if (entry.detail) {
      entry.detail.remove();
      entry.detail = null;
      entry.tr.setAttribute("aria-expanded", "false");
      return;
    }
    entry.detail = buildDetail(entry.rec);
    entry.tr.after(entry.detail);
    entry.tr.setAttribute("aria-expanded", "true");
    entry.tr.setAttribute("aria-controls", entry.detail.querySelector(".facts").id);
  }

  function entryOfEvent(event) {
    // Links and buttons in a row keep their own meaning.
    if (event.target.closest("a, button")) return null;
    const tr = event.target.closest("tr.expandable");
    return tr ? state.byAccession.get(tr.dataset.accession) || null : null;
  }

  // One ticker, or the main one and "+N": a 424B2 listing 30 series is "BAC +29", not a
  // wall. The full list is in the tooltip and, for keyboards and screen readers, behind the
  // "+N" button.
  function tickerNodes(rec) {
    const all = rec.allTickers;
    const tickers = h("span", "tickers");
    if (!all.length) {
      tickers.textContent = "—";
      return [tickers];
    }
    tickers.append(h("span", "main-ticker", all[0]));
    if (all.length === 1) return [tickers];
    const list = h("span", "ticker-list", all.join(", "));
    list.id = `tickers-${rec.accession}`;
    list.hidden = true;
    const more = h("button", "more-tickers", `+${all.length - 1}`);
    more.type = "button";
    more.setAttribute("aria-expanded", "false");
    more.setAttribute("aria-controls", list.id);
    more.setAttribute("aria-label", `Show all ${all.length} tickers`);
    more.addEventListener("click", () => {
      list.hidden = !list.hidden;
      more.setAttribute("aria-expanded", String(!list.hidden));
    });
    tickers.title = all.join(", ");
    tickers.append(" ", more);
    return [tickers, list];
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

  // `arrivedMs`: when a live frame reached this page (0 for history and replayed frames).
  function addRecord(raw, live, arrivedMs) {
    const rec = normalize(raw);
    if (!rec || !matchesFilters(rec, state.filters)) return false;
    chartAdd(rec, arrivedMs || 0);
    if (state.byAccession.has(rec.accession)) return false; // history and live overlap
    const entry = { accession: rec.accession, sortKey: rec.sortKey, tr: null, rec, detail: null };
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
      if (dropped.detail) dropped.detail.remove();
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

  // One request: the filings store takes the stream's filters, lists included.
  function historyRequests(limit = HISTORY_LIMIT, since = "") {
    const f = state.filters;
    const params = [["limit", String(limit)]];
    if (since) params.push(["since", since]);
    if (f.tickers.length) params.push(["tickers", f.tickers.join(",")]);
    if (f.forms.length) params.push(["forms", f.forms.join(",")]);
    if (f.minPriority) params.push(["min_priority", f.minPriority]);
    return [endpoint("api/filings", params)];
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
      showNotice(state.refusal || state.gap);
      // A full page may not reach back an hour: the charts then ask for the rest of it.
      if (bodies.some((body) => recordsOf(body).length >= HISTORY_LIMIT)) {
        loadChartHistory(generation);
      }
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

  // The last hour for the charts only (the table keeps its newest HISTORY_LIMIT); the charts
  // show what the page already holds if this fails.
  async function loadChartHistory(generation) {
    const since = new Date(Date.now() - HOUR_MS).toISOString();
    try {
      const bodies = await Promise.all(
        historyRequests(CHART_HISTORY_LIMIT, since).map(fetchJson),
      );
      if (generation !== state.generation) return;
      for (const body of bodies) {
        for (const record of recordsOf(body)) {
          const rec = normalize(record);
          if (rec && matchesFilters(rec, state.filters)) chartAdd(rec, 0);
        }
      }
    } catch {
      /* nothing more to chart */
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
    // Frames before caught_up are replay (a resumed cursor): delivered late by this page's own
    // absence, not by the pipeline, so they do not count towards freshness.
    let replaying = true;

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
          if (addRecord(frame.data, true, replaying ? 0 : Date.now())) renderCount();
          break;
        case "caught_up":
          replaying = false;
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          break;
        case "gap": {
          // Back after a while, the gateway no longer holds records this page had not shown
          // yet (retention removed them): say so rather than jump over them silently.
          const partitions = Array.isArray(frame.partitions) ? frame.partitions : [];
          const missing = partitions.reduce((sum, p) => sum + (Number(p.missing) || 0), 0);
          state.gap =
            `${missing.toLocaleString("en-US")} records that came after the last one shown ` +
            "here were removed by retention before the dashboard could read them; the stream " +
            "goes on from the first one left.";
          showNotice(state.gap);
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          break;
        }
        case "subscribed":
          // The new filters apply after this cursor: the gateway replays from it (caught_up
          // follows), so what comes until then is not live.
          replaying = true;
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          break;
        case "error":
          if (frame.reply_to === "subscribe") {
            // The gateway kept the previous filters; the stream goes on.
            state.refusal = `The gateway refused the filters: ${text(frame.message)}`;
            showNotice(state.refusal);
            break;
          }
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

  // Filters changed on an open stream: new list from history, and the same socket told the
  // new filters (`subscribe`) instead of being reopened; what it sends from now on is
  // filtered the same way, and history fills in what came before.
  function refilter(ws) {
    state.generation += 1;
    clearRows();
    charts.dirty = true; // same records, other filters
    state.historyLoaded = false;
    state.refusal = "";
    state.gap = "";
    showNotice("");
    ws.send(subscribeFrame());
    loadHistory(state.generation);
  }

  // Filters or key changed: new list, history first, then live from the last position.
  async function restart() {
    state.generation += 1;
    state.refusal = "";
    state.gap = "";
    const generation = state.generation;
    stopTimers();
    closeSocket();
    clearRows();
    charts.dirty = true; // same records, other filters
    state.historyLoaded = false;
    state.attempt = 0;
    setConnection("connecting", "connecting");
    const proceed = await loadHistory(generation);
    if (generation !== state.generation || !proceed) return;
    connect();
  }

  // ----------------------------------------------------------------------------- charts
  //
  // Filings per minute and the priority mix count, by filing.accepted_at, the records this page
  // holds (history, the last-hour top-up, live) that match the filters, over the 60 minutes
  // ending with the current one.
  //
  // Freshness = delivery time - filing.accepted_at, and delivery time - filing.detected_at.
  // The delivery time is when a live frame reached this page (Date.now() on the message), so
  // the samples are the filings that arrived live (after caught_up) within the last hour.
  // History records are not samples: their analyzed_at is when analysis ended, only a lower
  // bound on delivery; mixed in, it would pull the percentiles down and hide the gateway and
  // network part that a p95 is there to show. Percentiles are nearest-rank. The clocks of
  // EDGAR, ingest and this browser are taken to agree: a browser clock off by some seconds
  // shifts every sample by as much (a negative figure is such a skew, shown as it is).

  const charts = {
    records: new Map(), // accession -> {rec, arrivedMs}; insertion order = age in the page
    dirty: true,
    lastDraw: 0,
    lastMinute: 0,
    width: 0,
  };
  const KINDS = [...PRIORITIES, "unknown"];

  const chartCutoff = (now) => now - HOUR_MS - MINUTE_MS;
  const chartTime = (entry) => Math.max(entry.rec.sortKey, entry.arrivedMs);

  function chartAdd(rec, arrivedMs) {
    const known = charts.records.get(rec.accession);
    if (known) {
      if (arrivedMs && !known.arrivedMs) {
        known.arrivedMs = arrivedMs;
        charts.dirty = true;
      }
      return;
    }
    const entry = { rec, arrivedMs };
    if (chartTime(entry) < chartCutoff(Date.now())) return;
    charts.records.set(rec.accession, entry);
    charts.dirty = true;
    if (charts.records.size > CHART_MAX_RECORDS) pruneCharts(Date.now());
  }

  function pruneCharts(now) {
    const cutoff = chartCutoff(now);
    for (const [accession, entry] of charts.records) {
      if (chartTime(entry) < cutoff) charts.records.delete(accession);
    }
    if (charts.records.size <= CHART_MAX_RECORDS) return;
    // Still too many (a burst): the ones held longest go, down to nine tenths of the bound.
    for (const accession of charts.records.keys()) {
      if (charts.records.size <= CHART_MAX_RECORDS * 0.9) break;
      charts.records.delete(accession);
    }
  }

  function chartData(now) {
    const first = Math.floor(now / MINUTE_MS) * MINUTE_MS - (CHART_MINUTES - 1) * MINUTE_MS;
    const zero = () => Object.fromEntries(KINDS.map((kind) => [kind, 0]));
    const minutes = Array.from({ length: CHART_MINUTES }, (_, i) => ({
      start: first + i * MINUTE_MS,
      total: 0,
      counts: zero(),
    }));
    const mix = zero();
    let total = 0;
    const accepted = [];
    const detected = [];
    for (const { rec, arrivedMs } of charts.records.values()) {
      if (!matchesFilters(rec, state.filters)) continue;
      if (rec.sortKey >= first) {
        // A time ahead of this browser's clock counts in the current minute.
        const i = Math.min(CHART_MINUTES - 1, Math.floor((rec.sortKey - first) / MINUTE_MS));
        const kind = PRIORITIES.includes(rec.priority) ? rec.priority : "unknown";
        minutes[i].counts[kind] += 1;
        minutes[i].total += 1;
        mix[kind] += 1;
        total += 1;
      }
      if (arrivedMs && arrivedMs >= now - HOUR_MS) {
        if (rec.sortKey) accepted.push(arrivedMs - rec.sortKey);
        if (rec.detectedMs) detected.push(arrivedMs - rec.detectedMs);
      }
    }
    const ascending = (values) => values.sort((a, b) => a - b);
    return {
      minutes,
      mix,
      total,
      freshness: { accepted: ascending(accepted), detected: ascending(detected) },
    };
  }

  function percentile(sorted, q) {
    if (!sorted.length) return null;
    const rank = Math.ceil(q * sorted.length); // nearest rank, 1-based
    return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
  }

  function formatDuration(ms) {
    const sign = ms < 0 ? "−" : "";
    const a = Math.abs(ms);
    if (a < 10_000) return `${sign}${(a / 1000).toFixed(1)} s`;
    if (a < MINUTE_MS) return `${sign}${Math.round(a / 1000)} s`;
    if (a < HOUR_MS) {
      const s = Math.round(a / 1000);
      return `${sign}${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
    }
    const m = Math.round(a / MINUTE_MS);
    return `${sign}${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
  }

  const easternClock = (() => {
    try {
      return new Intl.DateTimeFormat("en-US", {
        timeZone: "America/New_York",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      });
    } catch {
      return null;
    }
  })();

  const formatClock = (ms) =>
    easternClock ? easternClock.format(ms) : `${new Date(ms).toISOString().slice(11, 16)} UTC`;
  const clockZone = easternClock ? " ET" : "";

  // The smallest of 1, 2, 4, 6, 8, 10, 20, 40, ... at least n: its half is a whole number.
  function niceCount(n) {
    for (let scale = 1; ; scale *= 10) {
      for (const m of [1, 2, 4, 6, 8]) if (m * scale >= n) return m * scale;
    }
  }

  const NICE_DURATIONS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200]
    .map((s) => s * 1000);
  const niceDuration = (ms) => NICE_DURATIONS.find((d) => d >= ms) || Math.ceil(ms / HOUR_MS) * HOUR_MS;

  function svg(tag, attrs, content) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (content != null) node.textContent = content;
    return node;
  }

  // Drawn in CSS pixels at the box's width, so text stays its real size at any width.
  const boxWidth = (box, min) => Math.max(min, Math.floor(box.clientWidth) || 600);

  function drawMinutes(data) {
    const width = boxWidth(ui.chartMinutes, 280);
    const height = 180;
    const m = { top: 10, right: 10, bottom: 24, left: 34 };
    const plotW = width - m.left - m.right;
    const plotH = height - m.top - m.bottom;
    const yMax = niceCount(Math.max(1, ...data.minutes.map((b) => b.total)));
    const y = (v) => m.top + plotH - (v / yMax) * plotH;
    const step = plotW / CHART_MINUTES;
    const gap = step >= 6 ? 2 : step >= 3 ? 1 : 0;
    const busiest = data.minutes.reduce((a, b) => (b.total > a.total ? b : a));
    const root = svg("svg", {
      class: "chart-svg",
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": data.total
        ? `Filings per minute over the last hour: ${data.total} in all; the busiest minute, ` +
          `${formatClock(busiest.start)}${clockZone}, had ${busiest.total}.`
        : "Filings per minute over the last hour: none.",
    });
    for (const tick of yMax === 1 ? [0, 1] : [0, yMax / 2, yMax]) {
      root.append(
        svg("line", { class: tick ? "grid" : "baseline", x1: m.left, x2: width - m.right,
          y1: y(tick), y2: y(tick) }),
        svg("text", { class: "axis", x: m.left - 6, y: y(tick) + 4, "text-anchor": "end" },
          String(tick)),
      );
    }
    data.minutes.forEach((bucket, i) => {
      const x = m.left + i * step;
      const group = svg("g", {
        class: "minute",
        "data-minute": new Date(bucket.start).toISOString(),
        "data-count": bucket.total,
      });
      const parts = KINDS.filter((k) => bucket.counts[k]).map((k) => `${bucket.counts[k]} ${k}`);
      group.append(
        svg("title", null,
          `${formatClock(bucket.start)}${clockZone}: ${bucket.total} ` +
          `filing${bucket.total === 1 ? "" : "s"}${parts.length ? ` (${parts.join(", ")})` : ""}`),
        svg("rect", { class: "hit", x, y: m.top, width: step, height: plotH }),
      );
      let below = 0; // low at the bottom, critical on top
      for (const kind of KINDS) {
        const n = bucket.counts[kind];
        if (!n) continue;
        const top = y(below + n);
        group.append(svg("rect", { class: `seg p-${kind}`, x: x + gap / 2, y: top,
          width: Math.max(1, step - gap), height: y(below) - top }));
        below += n;
      }
      root.append(group);
    });
    for (const i of [0, 15, 30, 45, CHART_MINUTES - 1]) {
      const last = i === CHART_MINUTES - 1;
      root.append(svg("text", {
        class: "axis",
        x: i === 0 ? m.left : last ? width - m.right : m.left + (i + 0.5) * step,
        y: height - 6,
        "text-anchor": i === 0 ? "start" : last ? "end" : "middle",
      }, formatClock(data.minutes[i].start)));
    }
    if (!data.total) {
      root.append(svg("text", { class: "chart-empty", x: m.left + plotW / 2, y: m.top + plotH / 2,
        "text-anchor": "middle" }, "No filings in the last hour"));
    }
    ui.chartMinutes.replaceChildren(root);
    ui.minutesTotal.textContent = `${data.total} in the last hour`;
  }

  function drawPriority(data) {
    const kinds = [...PRIORITIES].reverse(); // critical first
    if (data.mix.unknown) kinds.push("unknown");
    const width = boxWidth(ui.chartPriority, 220);
    const rowH = 30;
    const labelW = 66;
    const countW = 78;
    const barW = Math.max(40, width - labelW - countW - 8);
    const height = rowH * kinds.length + 4;
    const share = (n) => (data.total ? Math.round((100 * n) / data.total) : 0);
    const root = svg("svg", {
      class: "chart-svg",
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": `Priority mix over the last hour: ${kinds
        .map((k) => `${k} ${data.mix[k]}${data.total ? ` (${share(data.mix[k])}%)` : ""}`)
        .join(", ")}.`,
    });
    kinds.forEach((kind, i) => {
      const n = data.mix[kind];
      const mid = 2 + i * rowH + rowH / 2;
      const group = svg("g", { class: "priority-row", "data-priority": kind, "data-count": n });
      group.append(
        svg("text", { class: "label", x: 0, y: mid + 4 }, kind),
        svg("rect", { class: "track", x: labelW, y: mid - 7, width: barW, height: 14, rx: 3 }),
      );
      if (n) {
        group.append(svg("rect", { class: `seg p-${kind}`, x: labelW, y: mid - 7,
          width: Math.max(2, (barW * n) / data.total), height: 14, rx: 3 }));
      }
      group.append(svg("text", { class: "count", x: width - 2, y: mid + 4, "text-anchor": "end" },
        data.total ? `${n} · ${share(n)}%` : String(n)));
      root.append(group);
    });
    ui.chartPriority.replaceChildren(root);
  }

  function drawFreshness(data) {
    const stats = {};
    for (const tr of ui.freshness.tBodies[0].rows) {
      const measure = tr.dataset.measure;
      const sorted = data.freshness[measure] || [];
      stats[measure] = { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
      for (const td of tr.cells) {
        const stat = td.dataset.stat;
        if (!stat) continue;
        const value = stats[measure][stat];
        td.textContent = value === null ? "—" : formatDuration(value);
        if (value === null) delete td.dataset.ms;
        else td.dataset.ms = String(value);
      }
    }
    const n = data.freshness.accepted.length;
    ui.freshnessNote.textContent = n
      ? `From ${n} filing${n === 1 ? "" : "s"} that arrived live in the last hour.`
      : "No filing has arrived live in the last hour yet (history has no delivery time).";

    // p50 solid, p95 the lighter bar behind it, on one scale; the table above has the numbers.
    const width = boxWidth(ui.chartFreshness, 200);
    const height = 62;
    const m = { left: 84, right: 4 };
    const plotW = width - m.left - m.right;
    const top = Math.max(1, ...Object.values(stats).map((s) => s.p95 || 0));
    const scale = niceDuration(top);
    const x = (ms) => m.left + (Math.max(0, Math.min(ms, scale)) / scale) * plotW;
    const root = svg("svg", { class: "chart-svg", width, height, viewBox: `0 0 ${width} ${height}`,
      "aria-hidden": "true" });
    ["accepted", "detected"].forEach((measure, i) => {
      const s = stats[measure];
      const y = 4 + i * 20;
      const group = svg("g", { class: `freshness-row measure-${measure}` });
      group.append(svg("text", { class: "label", x: 0, y: y + 10 },
        measure === "accepted" ? "acceptance" : "detection"));
      group.append(svg("rect", { class: "track", x: m.left, y, width: plotW, height: 12, rx: 3 }));
      if (s.p95 !== null) {
        group.append(svg("rect", { class: "p95", x: m.left, y, width: x(s.p95) - m.left, height: 12,
          rx: 3 }));
        group.append(svg("rect", { class: "p50", x: m.left, y, width: x(s.p50) - m.left, height: 12,
          rx: 3 }));
      }
      root.append(group);
    });
    root.append(
      svg("text", { class: "axis", x: m.left, y: height - 4 }, "0"),
      svg("text", { class: "axis", x: width - m.right, y: height - 4, "text-anchor": "end" },
        n ? formatDuration(scale) : ""),
    );
    ui.chartFreshness.replaceChildren(root);
  }

  function drawCharts(now) {
    pruneCharts(now);
    const data = chartData(now);
    drawMinutes(data);
    drawPriority(data);
    drawFreshness(data);
    charts.dirty = false;
    charts.lastDraw = now;
    charts.lastMinute = Math.floor(now / MINUTE_MS);
  }

  // At most once a second, and only when something changed or the window moved on.
  function chartTick() {
    const now = Date.now();
    const minute = Math.floor(now / MINUTE_MS);
    if (document.hidden) {
      if (minute !== charts.lastMinute) {
        pruneCharts(now); // memory stays bounded in a background tab too
        charts.lastMinute = minute;
        charts.dirty = true;
      }
      return;
    }
    if (charts.dirty || minute !== charts.lastMinute || now - charts.lastDraw >= CHART_IDLE_REDRAW_MS) {
      drawCharts(now);
    }
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
  ui.rows.addEventListener("click", (event) => {
    const entry = entryOfEvent(event);
    if (entry) toggleDetail(entry);
  });
  ui.rows.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    if (!event.target.matches("tr.expandable")) return;
    const entry = entryOfEvent(event);
    if (!entry) return;
    event.preventDefault(); // Space would scroll the page
    toggleDetail(entry);
  });
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

  if (typeof ResizeObserver === "function") {
    new ResizeObserver(() => {
      const width = ui.charts.clientWidth;
      if (width !== charts.width) {
        charts.width = width;
        charts.dirty = true; // redrawn on the next tick, not on every resize event
      }
    }).observe(ui.charts);
  }
  setInterval(chartTick, CHART_TICK_MS);

  filtersFromAddress();
  state.filters = filtersFromInputs();
  filtersToAddress(state.filters);
  drawCharts(Date.now());
  restart();
})();

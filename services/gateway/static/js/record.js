// A FilingAnalysis as the gateway serves it (JSON), read into the few fields the views show.
// Anything may be missing or of the wrong type: every read is defensive, and links are kept
// only when http(s).

export const PRIORITIES = ["low", "medium", "high", "critical"];

// Whose ticker a row leads with: the issuer's, else the subject's, else the filer's (the
// precedence ingest orders entities by); without any, the first of filing.tickers.
const MAIN_ROLES = new Map([
  ["issuer", 0],
  ["subject", 1],
  ["filer", 2],
]);

export const text = (v) => (typeof v === "string" ? v : v == null ? "" : String(v));
const strings = (v) => (Array.isArray(v) ? v.map(text).filter(Boolean) : []);
// Plain objects and arrays of objects only (a v1 record, or another form: null / empty).
export const objects = (v) => (Array.isArray(v) ? v.filter((x) => x && typeof x === "object") : []);
const objectOrNull = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : null);

function toMillis(value) {
  if (typeof value === "number") return value;
  const ms = Date.parse(text(value));
  return Number.isNaN(ms) ? 0 : ms;
}

// The record itself, or a frame / envelope carrying it in `data`.
export function normalize(raw) {
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

// Schema v2's structured facts, as plain objects and arrays of objects only. Read lazily by
// the detail view; never markup.
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

export function hasFacts(facts) {
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

// A filing as one row of a table (the feed's and the history's): time, tickers, form, items,
// priority, sentiment, summary with a badge of its facts, and the EDGAR link. A row opens its
// detail view (detail.js) by click, or Enter / Space once focused.

import { h } from "./dom.js";
import { finite, formatEastern, numberFormat } from "./format.js";
import { PRIORITIES, objects, text } from "./record.js";

export const COLUMNS = 8;

// What a table holds per filing: `tr` its row (buildRow), `detail` its open detail row (set by
// detail.js), which goes when the row goes. `idPrefix` keeps the ids of a filing's nodes unique
// when two tables show it.
export function rowEntry(rec, idPrefix) {
  return { accession: rec.accession, sortKey: rec.sortKey, rec, idPrefix, tr: null, detail: null };
}

export function removeEntry(entry) {
  entry.tr.remove();
  if (entry.detail) entry.detail.remove();
}

export function buildRow(rec, idPrefix) {
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
  tickerCell.append(...tickerNodes(rec, idPrefix));
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

// One ticker, or the main one and "+N": a 424B2 listing 30 series is "BAC +29", not a
// wall. The full list is in the tooltip and, for keyboards and screen readers, behind the
// "+N" button.
function tickerNodes(rec, idPrefix) {
  const all = rec.allTickers;
  const tickers = h("span", "tickers");
  if (!all.length) {
    tickers.textContent = "—";
    return [tickers];
  }
  tickers.append(h("span", "main-ticker", all[0]));
  if (all.length === 1) return [tickers];
  const list = h("span", "ticker-list", all.join(", "));
  list.id = `${idPrefix}tickers-${rec.accession}`;
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

// The one row of an empty table, saying why it is empty.
export function showEmpty(tbody, message) {
  let empty = tbody.querySelector("tr.empty");
  if (!message) {
    if (empty) empty.remove();
    return;
  }
  if (!empty) {
    empty = h("tr", "empty");
    empty.append(h("td"));
    tbody.append(empty);
  }
  empty.firstChild.colSpan = COLUMNS;
  empty.firstChild.textContent = message;
}

// The detail view: a filing's structured facts (insider transactions, earnings, 8-K item facts,
// a stake, a proposed sale, XBRL financials), opened under its row in any table of rows.js.

import { h } from "./dom.js";
import { amount, finite, money, num, numberFormat, shareMoneyFormat } from "./format.js";
import { hasFacts, objects, text } from "./record.js";
import { COLUMNS } from "./rows.js";

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


function buildDetail(entry) {
  const { rec } = entry;
  const tr = h("tr", "detail");
  const td = h("td");
  td.colSpan = COLUMNS;
  const panel = h("div", "facts");
  panel.id = `${entry.idPrefix}facts-${rec.accession}`;
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
  entry.detail = buildDetail(entry);
  entry.tr.after(entry.detail);
  entry.tr.setAttribute("aria-expanded", "true");
  entry.tr.setAttribute("aria-controls", entry.detail.querySelector(".facts").id);
}

// The rows of `tbody` open and close their detail view; `entryOf(accession)` is the table's
// entry (rows.js) of a row, or null.
export function openDetailsIn(tbody, entryOf) {
  const entryOfEvent = (event) => {
    // Links and buttons in a row keep their own meaning.
    if (event.target.closest("a, button")) return null;
    const tr = event.target.closest("tr.expandable");
    return tr ? entryOf(tr.dataset.accession) : null;
  };
  tbody.addEventListener("click", (event) => {
    const entry = entryOfEvent(event);
    if (entry) toggleDetail(entry);
  });
  tbody.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    if (!event.target.matches("tr.expandable")) return;
    const entry = entryOfEvent(event);
    if (!entry) return;
    event.preventDefault(); // Space would scroll the page
    toggleDetail(entry);
  });
}

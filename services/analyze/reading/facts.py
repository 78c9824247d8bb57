"""The structured facts of a filing (schema v2's `ownership`, `earnings` and `item_facts`, v3's
`stake`, `sale_notice` and `financials`), read from its documents independently of the analyzer,
so the offline analyzer and the LLM see the same facts and the record carries them whichever
analyzer ran. Which family a form is: families.py.

- ownership: the Form 3/4/5 XML as the fetcher parsed it (forms/ownership.py).
- earnings: only where results are reported: 8-K item 2.02, or an annual, quarterly or foreign
  current report (forms/earnings_release.py), from the first `MAX_TEXT_CHARS` of the whole text,
  press release included.
- item_facts: from the 8-K item sections (forms/item_facts.py).
- stake: a Schedule 13D or 13G's XML as the fetcher parsed it, or an older SC 13D / SC 13G's
  cover page read from its text (forms/beneficial_ownership.py).
- sale_notice: a Form 144's XML as the fetcher parsed it, attributed to the issuer with the
  ticker of the filing's entity of the issuer's CIK (forms/sale_notice.py).
- financials: a periodic report's XBRL as the fetcher parsed it (forms/financials.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.analyze.reading.families import Family, XmlFacts, family_of
from services.analyze.reading.forms.beneficial_ownership import Stake, read_stake_text
from services.analyze.reading.forms.earnings_release import Earnings, extract_earnings
from services.analyze.reading.forms.financials import Financials
from services.analyze.reading.forms.item_facts import ItemFact, extract_item_facts
from services.analyze.reading.forms.ownership import Ownership, owner_label, ownership_to_avro
from services.analyze.reading.forms.sale_notice import SaleNotice
from services.common.records import Filing

MAX_TEXT_CHARS = 100_000
RESULTS_ITEM = "2.02"  # Results of Operations and Financial Condition
RESULTS_FORMS = frozenset({"10-K", "10-KT", "10-Q", "10-QT", "20-F", "40-F", "6-K"})


@dataclass(frozen=True, slots=True)
class FilingFacts:
    ownership: Ownership | None = None
    earnings: Earnings | None = None
    item_facts: tuple[ItemFact, ...] = ()
    stake: Stake | None = None
    sale_notice: SaleNotice | None = None
    financials: Financials | None = None

    def to_avro_fields(self) -> dict[str, Any]:
        """The facts fields of FilingAnalysis: ownership, earnings and item_facts (v2), stake,
        sale_notice and financials (v3)."""
        return {
            "ownership": ownership_to_avro(self.ownership) if self.ownership else None,
            "earnings": self.earnings.to_avro() if self.earnings else None,
            "item_facts": [fact.to_avro() for fact in self.item_facts],
            "stake": self.stake.to_avro() if self.stake else None,
            "sale_notice": self.sale_notice.to_avro() if self.sale_notice else None,
            "financials": self.financials.to_avro() if self.financials else None,
        }

    def describe(self) -> str:
        """The facts as plain lines, for a reader (the LLM prompt); "" when there are none."""
        lines: list[str] = []
        if ownership := self.ownership:
            issuer = ownership.issuer
            lines.append(
                f"Ownership document (Form {ownership.document_type}) for issuer {issuer.name} "
                f"(CIK {issuer.cik}, ticker {issuer.trading_symbol or 'none'})"
            )
            lines += [f"Reporting owner: {owner_label(owner)}" for owner in ownership.owners]
            for row in ownership.rows:
                lines.append(
                    f"{row.kind.value} ({row.table.value}): {row.security_title}, date {row.date}, "
                    f"code {row.code}, shares {row.shares}, price {row.price_per_share}, "
                    f"{row.acquired_disposed}, owned after {row.shares_owned_following}, "
                    f"{row.direct_or_indirect}, 10b5-1 {row.rule_10b5_1}"
                )
        if earnings := self.earnings:
            for figure in earnings.figures:
                lines.append(
                    f"Reported {figure.name}: {figure.value} {figure.unit}, {figure.period.value}, "
                    f"{'GAAP' if figure.gaap else 'non-GAAP'}, prior {figure.prior_value}, "
                    f"change {figure.change_percent}%"
                )
            for guide in earnings.guidance:
                lines.append(f"Guidance {guide.name}: {guide.low} to {guide.high} {guide.unit}")
        lines += [
            f"Item {fact.item}: {fact.event_type} {fact.subject or ''} {fact.role or ''}".strip()
            for fact in self.item_facts
        ]
        for family in (self.stake, self.sale_notice, self.financials):
            if family is not None:
                lines += family.describe()
        return "\n".join(lines)


def reports_results(filing: Filing, items: Sequence[str]) -> bool:
    original_form = filing.form_type.upper().removesuffix("/A")
    return RESULTS_ITEM in items or original_form in RESULTS_FORMS


def extract_facts(
    filing: Filing,
    text: str | None,
    items: Sequence[str],
    item_texts: Mapping[str, str] | None,
    *,
    parsed: XmlFacts | None = None,
    financials: Financials | None = None,
) -> FilingFacts:
    """The facts of the filing's family: `parsed` is its XML primary document as the fetcher
    read it, `financials` its XBRL."""
    earnings = None
    if text and reports_results(filing, items):
        earnings = extract_earnings(text[:MAX_TEXT_CHARS])
    stake = parsed if isinstance(parsed, Stake) else None
    if stake is None and text and family_of(filing.form_type) is Family.BENEFICIAL_OWNERSHIP:
        stake = read_stake_text(text[:MAX_TEXT_CHARS], filing.form_type)
    sale_notice = parsed if isinstance(parsed, SaleNotice) else None
    if sale_notice is not None:
        sale_notice = sale_notice.with_ticker(_issuer_ticker(filing, sale_notice.issuer_cik))
    return FilingFacts(
        ownership=parsed if isinstance(parsed, Ownership) else None,
        earnings=earnings,
        item_facts=extract_item_facts(item_texts or {}),
        stake=stake,
        sale_notice=sale_notice,
        financials=financials,
    )


def _issuer_ticker(filing: Filing, issuer_cik: str | None) -> str | None:
    """The first ticker of the filing's entity whose CIK is the issuer's (ingest's tickers come
    from company_tickers.json); None when no entity is the issuer or it has no ticker."""
    if not issuer_cik or not issuer_cik.isdigit():
        return None
    for entity in filing.entities:
        if entity.cik.isdigit() and int(entity.cik) == int(issuer_cik) and entity.tickers:
            return entity.tickers[0]
    return None

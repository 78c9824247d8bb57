"""Which reader reads a filing's facts: one table from the form (its base form, so an amendment
goes with its original) to the form family, and for the families whose primary document is XML,
the parser that turns it into facts as it is fetched.

- ownership: Forms 3, 4, 5; the `<ownershipDocument>` XML -> `ownership` (forms/ownership.py).
- beneficial ownership: SCHEDULE 13D and 13G (XML since 2024-12-18) -> `stake`
  (forms/beneficial_ownership.py); the older SC 13D and SC 13G, text -> `stake` from the
  cover page.
- sale notice: Form 144; the `<edgarSubmission>` XML -> `sale_notice` (forms/sale_notice.py).
- financials: 10-Q, 10-K, 10-QT, 10-KT, 20-F, 40-F; their inline XBRL or instance ->
  `financials` (forms/financials.py), and the text -> `earnings`.
- current report: 8-K, 6-K; the text and EX-99 exhibits -> `earnings`
  (forms/earnings_release.py) and `item_facts` (forms/item_facts.py).

Any other form has no family: its record carries no typed facts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum

from services.analyze.reading.documents_index import base_form
from services.analyze.reading.forms.beneficial_ownership import Stake, parse_stake
from services.analyze.reading.forms.financials import FINANCIAL_FORMS
from services.analyze.reading.forms.ownership import OWNERSHIP_FORMS, Ownership, parse_ownership
from services.analyze.reading.forms.sale_notice import (
    SALE_NOTICE_FORMS,
    SaleNotice,
    parse_sale_notice,
)

# What an XML primary document is read into.
XmlFacts = Ownership | Stake | SaleNotice
XmlParser = Callable[[str | bytes, str], XmlFacts]


class Family(StrEnum):
    OWNERSHIP = "ownership"
    BENEFICIAL_OWNERSHIP = "beneficial_ownership"
    SALE_NOTICE = "sale_notice"
    FINANCIALS = "financials"
    CURRENT_REPORT = "current_report"


_XML_STAKE_FORMS = frozenset({"SCHEDULE 13D", "SCHEDULE 13G"})
_TEXT_STAKE_FORMS = frozenset({"SC 13D", "SC 13G"})
_CURRENT_REPORT_FORMS = frozenset({"8-K", "6-K"})

FAMILIES: Mapping[str, Family] = {
    **dict.fromkeys(OWNERSHIP_FORMS, Family.OWNERSHIP),
    **dict.fromkeys(_XML_STAKE_FORMS | _TEXT_STAKE_FORMS, Family.BENEFICIAL_OWNERSHIP),
    **dict.fromkeys(SALE_NOTICE_FORMS, Family.SALE_NOTICE),
    **dict.fromkeys(FINANCIAL_FORMS, Family.FINANCIALS),
    **dict.fromkeys(_CURRENT_REPORT_FORMS, Family.CURRENT_REPORT),
}


def _ownership(document: str | bytes, _form_type: str) -> XmlFacts:
    return parse_ownership(document)


def _sale_notice(document: str | bytes, _form_type: str) -> XmlFacts:
    return parse_sale_notice(document)


_XML_PARSERS: Mapping[str, XmlParser] = {
    **dict.fromkeys(OWNERSHIP_FORMS, _ownership),
    **dict.fromkeys(_XML_STAKE_FORMS, parse_stake),
    **dict.fromkeys(SALE_NOTICE_FORMS, _sale_notice),
}


def family_of(form_type: str) -> Family | None:
    return FAMILIES.get(base_form(form_type))


def xml_parser_for(form_type: str) -> XmlParser | None:
    """The parser of the form's XML primary document; None when its primary is not XML."""
    return _XML_PARSERS.get(base_form(form_type))

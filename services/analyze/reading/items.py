"""8-K items: the catalog of item codes, their detection, and the text of each item's section.

An 8-K reports events under numbered items (Form 8-K, General Instructions B). EDGAR's complete
submission lists them in its SGML header as `ITEM INFORMATION:` lines, by title, not number;
when that header is at hand it is the authority, otherwise the items are read from the
document's headings.

Rules:
- A header title maps to a code when, lower-cased and stripped of punctuation, it equals the
  catalog title (EDGAR writes "...Certain Officers: Compensatory..." with a colon where the form
  has a semicolon) or begins with the same four words as exactly one catalog title. Titles that
  match nothing are dropped, never guessed.
- A heading is a line that starts with "Item 2.02" (also "ITEM 2.02.", "Item 9.01(d).",
  "Items 2.02 and 7.01", "Item2.02 -") followed by nothing or by a capitalised word: "Item 2.02
  of this Current Report is incorporated..." is a reference, not a heading.
- A section runs from its heading to the next heading or to the signature block.
- Priority per item (used by the offline analyzer): critical for events that can wipe out or
  freeze a holder's position (bankruptcy, delisting, non-reliance on past financials, a change
  in control, accelerated debt, a material cyber incident); high for events that move prices
  (earnings, material agreements and their termination, acquisitions, restructuring,
  impairments, auditor changes, officer and director changes); medium for other
  disclosures; low for the exhibit list and routine asset-backed filings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.analyze.analysis import Priority


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    title: str
    event_type: str
    priority: Priority


_L, _M, _H, _C = Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL
CATALOG: Mapping[str, Item] = {
    item.code: item
    for item in (
        Item("1.01", "Entry into a Material Definitive Agreement", "material_agreement", _H),
        Item("1.02", "Termination of a Material Definitive Agreement", "agreement_termination", _H),
        Item("1.03", "Bankruptcy or Receivership", "bankruptcy", _C),
        Item(
            "1.04",
            "Mine Safety - Reporting of Shutdowns and Patterns of Violations",
            "mine_safety",
            _M,
        ),
        Item("1.05", "Material Cybersecurity Incidents", "cybersecurity_incident", _C),
        Item(
            "2.01",
            "Completion of Acquisition or Disposition of Assets",
            "acquisition_disposition",
            _H,
        ),
        Item("2.02", "Results of Operations and Financial Condition", "earnings", _H),
        Item(
            "2.03",
            "Creation of a Direct Financial Obligation or an Obligation under an Off-Balance Sheet "
            "Arrangement of a Registrant",
            "debt_obligation",
            _M,
        ),
        Item(
            "2.04",
            "Triggering Events That Accelerate or Increase a Direct Financial Obligation or an "
            "Obligation under an Off-Balance Sheet Arrangement",
            "debt_acceleration",
            _C,
        ),
        Item("2.05", "Costs Associated with Exit or Disposal Activities", "restructuring", _H),
        Item("2.06", "Material Impairments", "impairment", _H),
        Item(
            "3.01",
            "Notice of Delisting or Failure to Satisfy a Continued Listing Rule or Standard; "
            "Transfer of Listing",
            "delisting",
            _C,
        ),
        Item("3.02", "Unregistered Sales of Equity Securities", "unregistered_sale", _M),
        Item(
            "3.03",
            "Material Modification to Rights of Security Holders",
            "holder_rights_change",
            _M,
        ),
        Item("4.01", "Changes in Registrant's Certifying Accountant", "auditor_change", _H),
        Item(
            "4.02",
            "Non-Reliance on Previously Issued Financial Statements or a Related Audit Report or "
            "Completed Interim Review",
            "non_reliance",
            _C,
        ),
        Item("5.01", "Changes in Control of Registrant", "change_in_control", _C),
        Item(
            "5.02",
            "Departure of Directors or Certain Officers; Election of Directors; Appointment of "
            "Certain Officers; Compensatory Arrangements of Certain Officers",
            "officer_change",
            _H,
        ),
        Item(
            "5.03",
            "Amendments to Articles of Incorporation or Bylaws; Change in Fiscal Year",
            "bylaws_amendment",
            _M,
        ),
        Item(
            "5.04",
            "Temporary Suspension of Trading Under Registrant's Employee Benefit Plans",
            "benefit_plan_blackout",
            _M,
        ),
        Item(
            "5.05",
            "Amendments to the Registrant's Code of Ethics, or Waiver of a Provision of the Code "
            "of Ethics",
            "ethics_code_change",
            _M,
        ),
        Item("5.06", "Change in Shell Company Status", "shell_status_change", _M),
        Item("5.07", "Submission of Matters to a Vote of Security Holders", "shareholder_vote", _M),
        Item("5.08", "Shareholder Director Nominations", "director_nominations", _M),
        Item("6.01", "ABS Informational and Computational Material", "abs_information", _L),
        Item("6.02", "Change of Servicer or Trustee", "abs_servicer_change", _M),
        Item(
            "6.03",
            "Change in Credit Enhancement or Other External Support",
            "abs_credit_change",
            _M,
        ),
        Item("6.04", "Failure to Make a Required Distribution", "abs_missed_distribution", _H),
        Item("6.05", "Securities Act Updating Disclosure", "abs_update", _L),
        Item("6.06", "Static Pool", "abs_static_pool", _L),
        Item("6.10", "Alternative Filings of Asset-Backed Issuers", "abs_alternative_filing", _L),
        Item("7.01", "Regulation FD Disclosure", "regulation_fd", _M),
        Item("8.01", "Other Events", "other_event", _M),
        Item("9.01", "Financial Statements and Exhibits", "exhibits", _L),
    )
}

# The exhibit list: attached to most 8-Ks, it reports no event of its own.
EXHIBITS_ITEM = "9.01"

_CODE = r"\d{1,2}\s*\.\s*\d{2}"
_HEADING = re.compile(
    rf"items?\s*(?P<codes>{_CODE}(?:\s*(?:,|and|&)\s*{_CODE})*)\s*(?:\([a-z]\))?"
    r"[\s.:\-\u2013\u2014]*(?P<rest>.?)",
    re.IGNORECASE,
)
_SIGNATURES = re.compile(
    r"signatures?\W*$|pursuant to the requirements of the securities (?:and )?exchange act",
    re.IGNORECASE,
)
_PREFIX_WORDS = 4


def _normalise(title: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", re.sub("['\u2019]", "", title.lower())))


_BY_TITLE = {_normalise(item.title): item.code for item in CATALOG.values()}


def _sorted_codes(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(codes), key=lambda code: tuple(int(part) for part in code.split("."))))


def code_for_title(title: str) -> str | None:
    normalised = _normalise(title)
    if normalised in _BY_TITLE:
        return _BY_TITLE[normalised]
    prefix = " ".join(normalised.split()[:_PREFIX_WORDS])
    candidates = [code for known, code in _BY_TITLE.items() if prefix and known.startswith(prefix)]
    return candidates[0] if len(candidates) == 1 else None


def items_from_header(item_titles: Iterable[str]) -> tuple[str, ...]:
    """Codes of the SGML header's `ITEM INFORMATION:` titles, in item order."""
    return _sorted_codes(code for title in item_titles if (code := code_for_title(title)))


def _heading_codes(line: str) -> list[str]:
    heading = _HEADING.match(line)
    if heading is None or heading.group("rest").islower():
        return []
    found = (re.sub(r"\s", "", code) for code in re.findall(_CODE, heading.group("codes")))
    return [code for code in found if code in CATALOG]


def item_sections(text: str) -> dict[str, str]:
    """The text under each item heading (heading line excluded), keyed by item code."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []  # lines before the first heading (the cover page) go nowhere
    for line in text.split("\n"):
        if codes := _heading_codes(line.lstrip()):
            # Items named in one heading share its text; an item headed twice continues.
            current = sections.get(codes[0], [])
            sections.update(dict.fromkeys(codes, current))
        elif _SIGNATURES.match(line):
            current = []
        else:
            current.append(line)
    return {code: "\n".join(line for line in lines if line) for code, lines in sections.items()}


def items_from_text(text: str) -> tuple[str, ...]:
    return _sorted_codes(item_sections(text))


def detect_items(item_titles: Sequence[str], text: str | None) -> tuple[str, ...]:
    """The header's items when it lists any, else the items headed in the text."""
    from_header = items_from_header(item_titles)
    if from_header or not text:
        return from_header
    return items_from_text(text)

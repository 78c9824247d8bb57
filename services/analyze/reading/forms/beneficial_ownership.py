"""Schedules 13D and 13G (and /A): who holds how much of which company, read into typed facts.

Two sources:
- The EDGAR XML form (mandatory since 2024-12-18): an `<edgarSubmission>` in the namespace
  `http://www.sec.gov/edgar/schedule13D` or `.../schedule13g` (matched on local names, case
  aside). 13D: `coverPageHeader` (amendmentNo, securitiesClassTitle, dateOfEvent, issuerInfo with
  issuerCIK / issuerCUSIP / issuerName), `reportingPersons/reportingPersonInfo` (one per cover
  page) and `items1To7/item4/transactionPurpose`. 13G: the same header with
  eventDateRequiresFilingThisStatement, and `coverPageHeaderReportingPersonDetails` per person
  (powers under reportingPersonBeneficiallyOwnedNumberOfShares, the aggregate in
  reportingPersonBeneficiallyOwnedAggregateNumberOfShares, the percent in classPercent).
- The cover page of an older text "SC 13D" / "SC 13G": the numbered rows (names of reporting
  persons, citizenship, sole/shared voting and dispositive power, aggregate amount beneficially
  owned, percent of class represented by amount in row (..), type of reporting person) and the
  captions of the title page ("(Name of Issuer)", "(Title of Class of Securities)", "(CUSIP
  Number)", "(Date of Event which Requires Filing of this Statement)").

Rules:
1. A 13D is `active`, a 13G `passive` (from the XML namespace; for text, from the form type).
2. Never guess: a value is read only where the document states it unambiguously (a text row with
   two numbers, or none, is null). What a form has and is missing here is named in
   `incomplete_reason`.
3. The stake's `percent_of_class` is the largest any reporting person states (members of a group
   report the same shares, so percents are never summed); `aggregate_amount` is that person's.
4. XML that is not XML, declares a DTD or entities, or has no 13D/13G root raises
   `SerializationError`. A document cut off or broken part-way is read up to the break: elements
   complete before it are kept, the element open at the break (its value may be cut) is dropped,
   and `incomplete_reason` says the document is cut off. If nothing readable precedes the break,
   `SerializationError`.
5. Dates are ISO (12/31/2024 becomes 2024-12-31); CIKs ten digits with leading zeros; the purpose
   (13D Item 4) is whitespace-normalised and cut to at most 2,000 characters at a word.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from services.analyze.reading.forms.xml import XML_DECLARATION, local_name, namespace_of
from services.common.errors import SerializationError

STAKE_FORMS = frozenset({"SCHEDULE 13D", "SCHEDULE 13G", "SC 13D", "SC 13G"})
PURPOSE_LIMIT = 2_000
_NAMESPACES = {
    "http://www.sec.gov/edgar/schedule13d": "active",
    "http://www.sec.gov/edgar/schedule13g": "passive",
}
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?|\.\d+")


class StakeKind(StrEnum):
    ACTIVE = "active"
    PASSIVE = "passive"


class StakeSource(StrEnum):
    XML = "xml"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class StakeHolder:
    name: str
    cik: str | None = None
    type: str | None = None  # codes as filed, comma-separated: "IA,HC,OO"
    citizenship: str | None = None
    sole_voting_power: float | None = None
    shared_voting_power: float | None = None
    sole_dispositive_power: float | None = None
    shared_dispositive_power: float | None = None
    aggregate_amount: float | None = None
    percent_of_class: float | None = None

    def to_avro(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cik": self.cik,
            "type": self.type,
            "citizenship": self.citizenship,
            "sole_voting_power": self.sole_voting_power,
            "shared_voting_power": self.shared_voting_power,
            "sole_dispositive_power": self.sole_dispositive_power,
            "shared_dispositive_power": self.shared_dispositive_power,
            "aggregate_amount": self.aggregate_amount,
            "percent_of_class": self.percent_of_class,
        }


@dataclass(frozen=True, slots=True)
class Stake:
    kind: StakeKind
    source: StakeSource
    amendment_number: int | None
    issuer_name: str | None
    issuer_cik: str | None
    issuer_cusip: str | None
    security_class: str | None
    event_date: str | None
    reporting_persons: tuple[StakeHolder, ...]
    purpose: str | None
    incomplete_reason: str | None

    @property
    def leading_holder(self) -> StakeHolder | None:
        """The reporting person with the largest percent of class (rule 3); of several with
        that percent, the one with the largest aggregate amount, then the first."""
        stated = [p for p in self.reporting_persons if p.percent_of_class is not None]
        if not stated:
            return None
        return max(stated, key=lambda p: (p.percent_of_class or 0.0, p.aggregate_amount or 0.0))

    @property
    def percent_of_class(self) -> float | None:
        holder = self.leading_holder
        return None if holder is None else holder.percent_of_class

    @property
    def aggregate_amount(self) -> float | None:
        holder = self.leading_holder
        return None if holder is None else holder.aggregate_amount

    def to_avro(self) -> dict[str, Any]:
        """The `Stake` record of io.secdigester.FilingAnalysis."""
        return {
            "kind": self.kind.value,
            "source": self.source.value,
            "amendment_number": self.amendment_number,
            "issuer_name": self.issuer_name,
            "issuer_cik": self.issuer_cik,
            "issuer_cusip": self.issuer_cusip,
            "security_class": self.security_class,
            "event_date": self.event_date,
            "reporting_persons": [person.to_avro() for person in self.reporting_persons],
            "percent_of_class": self.percent_of_class,
            "aggregate_amount": self.aggregate_amount,
            "purpose": self.purpose,
            "incomplete_reason": self.incomplete_reason,
        }

    def describe(self) -> list[str]:
        """Plain lines for an LLM prompt; only what was read."""
        form = (
            "Schedule 13D (active)" if self.kind is StakeKind.ACTIVE else "Schedule 13G (passive)"
        )
        if self.amendment_number is not None:
            form += f", amendment {self.amendment_number}"
        lines = [form]
        issuer = self.issuer_name or "issuer not stated"
        if self.issuer_cusip:
            issuer += f" (CUSIP {self.issuer_cusip})"
        lines.append(f"Issuer: {issuer}")
        if self.security_class:
            lines.append(f"Class: {self.security_class}")
        if self.event_date:
            lines.append(f"Event date: {self.event_date}")
        if self.percent_of_class is not None:
            amount = _figure(self.aggregate_amount)
            lines.append(
                f"Largest stake: {self.percent_of_class:g}% of the class ({amount} shares)"
            )
        for person in self.reporting_persons:
            percent = "percent not stated"
            if person.percent_of_class is not None:
                percent = f"{person.percent_of_class:g}%"
            lines.append(
                f"Reporting person: {person.name}: {_figure(person.aggregate_amount)} shares, "
                f"{percent}"
            )
        if self.purpose:
            lines.append(f"Purpose: {self.purpose}")
        if self.incomplete_reason:
            lines.append(f"Incomplete: {self.incomplete_reason}")
        return lines


def _figure(value: float | None) -> str:
    if value is None:
        return "amount not stated"
    return f"{value:,.0f}" if value == int(value) else f"{value:,}"


# --- XML -----------------------------------------------------------------------------------


class _Builder:
    """A parser target that keeps the tree built so far, so a broken document can be read up
    to its break."""

    def __init__(self) -> None:
        self.root: Element | None = None
        self.stack: list[Element] = []
        self._data: list[str] = []

    def _flush(self) -> None:
        if self.stack and self._data:
            text = "".join(self._data)
            current = self.stack[-1]
            if len(current):
                last = current[-1]
                last.tail = (last.tail or "") + text
            else:
                current.text = (current.text or "") + text
        self._data = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._flush()
        element = Element(tag, attrib)
        if self.stack:
            self.stack[-1].append(element)
        elif self.root is None:
            self.root = element
        self.stack.append(element)

    def end(self, tag: str) -> None:
        self._flush()
        if self.stack:
            self.stack.pop()

    def data(self, text: str) -> None:
        self._data.append(text)

    def close(self) -> Element | None:
        return self.root

    def abandon(self) -> None:
        """At a break: drop the pending text and every open element that has no complete child
        (its value may be cut)."""
        self._data = []
        while self.stack:
            open_element = self.stack.pop()
            if not len(open_element) and self.stack:
                self.stack[-1].remove(open_element)


# This reader compares element names and namespaces lower-cased: a case variant still reads.
def _local(tag: str) -> str:
    return local_name(tag).lower()


def _namespace(tag: str) -> str:
    return namespace_of(tag).lower()


def _child(element: Element | None, *names: str) -> Element | None:
    if element is None:
        return None
    wanted = {name.lower() for name in names}
    return next((child for child in element if _local(child.tag) in wanted), None)


def _children(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == name.lower()]


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    cleaned = " ".join("".join(element.itertext()).split())
    return cleaned or None


def _first_text(element: Element | None, *names: str) -> str | None:
    """The text of the first descendant (or self) named one of `names` that has text."""
    if element is None:
        return None
    wanted = {name.lower() for name in names}
    for node in element.iter():
        if _local(node.tag) in wanted and not len(node):
            value = _text(node)
            if value:
                return value
    return None


def _number(value: str | None) -> float | None:
    raw = (value or "").replace(",", "").replace("%", "").strip()
    if not raw or not re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", raw):
        return None
    return float(raw)


def _cik(value: str | None) -> str | None:
    if value is None or not re.fullmatch(r"\d{1,10}", value.strip()):
        return None
    return value.strip().zfill(10)


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    for pattern in ("%m/%d/%Y", "%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%B %d,%Y"):
        try:
            return dt.datetime.strptime(value.strip(), pattern).date().isoformat()
        except ValueError:
            continue
    return None


def _purpose(value: str | None) -> str | None:
    if not value:
        return None
    text = " ".join(value.split())
    if len(text) <= PURPOSE_LIMIT:
        return text
    cut = text[: PURPOSE_LIMIT + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut[:PURPOSE_LIMIT]).rstrip()


def _root(document: str | bytes) -> tuple[Element, str | None]:
    """The root, and why the document is incomplete (None when it parsed whole)."""
    if isinstance(document, str):
        document = XML_DECLARATION.sub("", document, count=1)
        raw = document.encode("utf-8", "surrogatepass")
    else:
        document = document.lstrip()
        raw = document
    if _DECLARATION.search(raw):
        raise SerializationError("not a readable Schedule 13D/13G: a DTD or entity declaration")
    builder = _Builder()
    broken: str | None = None
    try:
        parser = DefusedXMLParser(target=builder, forbid_dtd=True)
        parser.feed(document)
        parser.close()
    except (DefusedXmlException, ValueError, UnicodeError) as exc:
        raise SerializationError(f"not a readable Schedule 13D/13G: {exc}") from exc
    except ParseError as exc:
        if builder.root is None:
            raise SerializationError(f"not a readable Schedule 13D/13G: {exc}") from exc
        builder.abandon()
        broken = f"document is cut off or broken ({exc}); nothing after that point was read"
    root = builder.root
    if root is None:
        raise SerializationError("not a readable Schedule 13D/13G: no element")
    if _local(root.tag) != "edgarsubmission" or _namespace(root.tag) not in _NAMESPACES:
        raise SerializationError("not a Schedule 13D/13G document: no 13D/13G <edgarSubmission>")
    return root, broken


def _person(element: Element) -> StakeHolder | None:
    name = _first_text(element, "reportingPersonName")
    if name is None:
        return None
    types = [t for node in _children(element, "typeOfReportingPerson") if (t := _text(node))]
    shares = _child(element, "reportingPersonBeneficiallyOwnedNumberOfShares")
    powers = element if shares is None else shares
    return StakeHolder(
        name=name,
        cik=_cik(_first_text(element, "reportingPersonCIK", "reportingPersonCik")),
        type=",".join(types) or None,
        citizenship=_first_text(element, "citizenshipOrOrganization"),
        sole_voting_power=_number(_first_text(powers, "soleVotingPower")),
        shared_voting_power=_number(_first_text(powers, "sharedVotingPower")),
        sole_dispositive_power=_number(_first_text(powers, "soleDispositivePower")),
        shared_dispositive_power=_number(_first_text(powers, "sharedDispositivePower")),
        aggregate_amount=_number(
            _first_text(
                element,
                "aggregateAmountOwned",
                "reportingPersonBeneficiallyOwnedAggregateNumberOfShares",
            )
        ),
        percent_of_class=_number(_first_text(element, "percentOfClass", "classPercent")),
    )


def _missing(persons: tuple[StakeHolder, ...]) -> list[str]:
    if not persons:
        return ["no reporting person is stated"]
    reasons = []
    if any(p.percent_of_class is None for p in persons):
        reasons.append("a reporting person states no percent of class")
    if any(p.aggregate_amount is None for p in persons):
        reasons.append("a reporting person states no aggregate amount")
    return reasons


def parse_stake(document: str | bytes, form_type: str) -> Stake:
    """The XML Schedule 13D/13G. `form_type` is the filing's (SCHEDULE 13D/A, ...); the kind is
    taken from the document's namespace, which says which schedule it is."""
    root, broken = _root(document)
    kind = StakeKind(_NAMESPACES[_namespace(root.tag)])
    form = _child(root, "formData")
    header = _child(form, "coverPageHeader")
    issuer = _child(header, "issuerInfo")
    person_elements = [
        node
        for node in (form.iter() if form is not None else iter(()))
        if _local(node.tag) in {"reportingpersoninfo", "coverpageheaderreportingpersondetails"}
    ]
    persons = tuple(p for node in person_elements if (p := _person(node)) is not None)
    amendment = _text(_child(header, "amendmentNo"))
    purpose = None
    if kind is StakeKind.ACTIVE:
        items = _child(form, "items1To7")
        purpose = _purpose(_text(_child(_child(items, "item4"), "transactionPurpose")))
    reasons = ([broken] if broken else []) + _missing(persons)
    if broken and not persons and issuer is None:
        raise SerializationError(f"not a readable Schedule 13D/13G: {broken}")
    submission = _text(_child(_child(root, "headerData"), "submissionType")) or form_type
    if amendment is None and submission.upper().endswith("/A"):
        reasons.append("an amendment that states no amendment number")
    return Stake(
        kind=kind,
        source=StakeSource.XML,
        amendment_number=int(amendment) if amendment and amendment.isdigit() else None,
        issuer_name=_first_text(issuer, "issuerName"),
        issuer_cik=_cik(_first_text(issuer, "issuerCIK", "issuerCik")),
        issuer_cusip=_first_text(issuer, "issuerCUSIP", "issuerCusip", "issuerCusipNumber"),
        security_class=_text(_child(header, "securitiesClassTitle")),
        event_date=_iso_date(
            _text(_child(header, "dateOfEvent", "eventDateRequiresFilingThisStatement"))
        ),
        reporting_persons=persons,
        purpose=purpose,
        incomplete_reason="; ".join(reasons) or None,
    )


# --- text ----------------------------------------------------------------------------------

_LABELS: dict[str, str] = {
    "name": r"NAMES?\s+OF\s+REPORTING\s+PERSONS?(?:\s*[./]?\s*(?:S\.S\.\s+OR\s+)?I\.?R\.?S\.?\s+"
    r"IDENTIFICATION\s+NOS?\.?\s+OF\s+ABOVE\s+PERSONS?(?:\s*\(ENTITIES\s+ONLY\))?)?",
    "group": r"CHECK\s+THE\s+APPROPRIATE\s+BOX\s+IF\s+A\s+MEMBER\s+OF\s+A\s+GROUP",
    "sec": r"SEC\s+USE\s+ONLY",
    "funds": r"SOURCE\s+OF\s+FUNDS",
    "legal": r"CHECK\s+(?:BOX\s+)?IF\s+DISCLOSURE\s+OF\s+LEGAL\s+PROCEEDINGS",
    "citizenship": r"CITIZENSHIP\s+OR\s+PLACE\s+OF\s+ORGANI[SZ]ATION",
    "sole_voting_power": r"SOLE\s+VOTING\s+POWER",
    "shared_voting_power": r"SHARED\s+VOTING\s+POWER",
    "sole_dispositive_power": r"SOLE\s+DISPOSITIVE\s+POWER",
    "shared_dispositive_power": r"SHARED\s+DISPOSITIVE\s+POWER",
    "aggregate_amount": r"AGGREGATE\s+AMOUNT\s+BENEFICIALLY\s+OWNED(?:\s+BY\s+EACH\s+"
    r"(?:REPORTING\s+)?PERSON)?",
    "excludes": r"CHECK\s+(?:BOX\s+)?IF\s+THE\s+AGGREGATE\s+AMOUNT",
    "percent_of_class": r"PERCENT\s+OF\s+CLASS\s+REPRESENTED\s+BY\s+AMOUNT\s+IN\s+ROW\s*"
    r"\(?\s*\d+\s*\)?",
    "type": r"TYPE\s+OF\s+REPORTING\s+PERSON",
}
_LABEL = re.compile("|".join(f"(?P<{key}>{rx})" for key, rx in _LABELS.items()), re.IGNORECASE)
_NOISE = re.compile(
    r"\(\s*see\s+instructions?\s*\)|\*|NUMBER\s+OF\s+SHARES|BENEFICIALLY\s+OWNED\s+BY|"
    r"EACH\s+REPORTING\s+PERSON\s+WITH|:",
    re.IGNORECASE,
)
_REFERENCE = re.compile(r"\(\s*see\s+(?:[^()]|\([^()]*\))*\)", re.IGNORECASE)  # (See Item 4(a))
_ROW_NUMBER = re.compile(r"(?:^|\s)\(?\d{1,2}\)?\.?\s*$")
# Words of the row's unit and of the side caption "NUMBER OF SHARES BENEFICIALLY OWNED BY EACH
# REPORTING PERSON WITH", which the layout interleaves with rows 7 to 10.
_SIDE_WORDS = re.compile(
    r"\b(?:shares?|of|common|stock|number|beneficially|owned|by|each|reporting|persons?|with)\b",
    re.IGNORECASE,
)
_ZERO = re.compile(r"^(?:-0-|none|nil|0)$", re.IGNORECASE)
_NUMBER_FIELDS = (
    "sole_voting_power",
    "shared_voting_power",
    "sole_dispositive_power",
    "shared_dispositive_power",
    "aggregate_amount",
)


def _region(text: str) -> str:
    """A row's value: the text between its label and the next, noise and row numbers off."""
    cleaned = _NOISE.sub(" ", text)
    cleaned = re.sub(r"[|_=\-]{3,}", " ", cleaned)
    cleaned = _REFERENCE.sub(" ", cleaned)
    # The next row's number, once: a value of 0 just before it stays.
    cleaned = _ROW_NUMBER.sub("", cleaned.rstrip(), count=1)
    return " ".join(cleaned.split())


def _text_number(region: str) -> float | None:
    """The one number the row states; None when none or more than one."""
    if _ZERO.match(region.strip(" .")):
        return 0.0
    found = _NUMBER.findall(region)
    if len(found) != 1:
        return None
    words = _SIDE_WORDS.sub("", _NUMBER.sub("", region))
    if re.search(r"[A-Za-z]", words):  # "See Item 5", "less than 1%", "approximately"
        return None
    return _number(found[0])


def _caption_line(text: str, caption: str) -> str | None:
    """The non-empty line just above a title-page caption such as "(Name of Issuer)", or the
    value before it on its own line when text extraction joined them across the rule of dashes
    ("TRINITY INDUSTRIES INC ------ (Name of Issuer)")."""
    joined = re.search(
        rf"^[ \t]*([^\n]*?[0-9A-Za-z][^\n]*?)[ \t]*[-_]{{3,}}[ \t]*\(\s*{caption}",
        text,
        re.IGNORECASE | re.MULTILINE,
    )
    if joined is not None:
        return " ".join(joined.group(1).split())
    match = re.search(rf"^(.*)\n\s*\(\s*{caption}", text, re.IGNORECASE | re.MULTILINE)
    if match is None:
        return None
    before = text[: match.start(1) + len(match.group(1))].rstrip().splitlines()
    for line in reversed(before):
        cleaned = " ".join(line.replace("_", " ").split())
        if re.search(r"[0-9A-Za-z]", cleaned):  # not a rule of dashes
            return cleaned
    return None


def _text_persons(text: str) -> list[StakeHolder]:
    labels = list(_LABEL.finditer(text))
    blocks: list[dict[str, str]] = []
    for index, match in enumerate(labels):
        key = match.lastgroup or ""
        end = labels[index + 1].start() if index + 1 < len(labels) else len(text)
        raw = text[match.end() : end]
        if key == "type":
            line = next((line for line in raw.splitlines() if _region(line)), "")
            raw = line
        if key == "name":
            blocks.append({})
        if blocks and key not in blocks[-1]:
            blocks[-1][key] = _region(raw)
    persons = []
    for block in blocks:
        name = re.sub(r"\b\d{2}-\d{7}\b", "", block.get("name", "")).lstrip(" .,;:").rstrip(" ,;:")
        if not name or len(name) > 200:
            continue
        numbers = {field: _text_number(block.get(field, "")) for field in _NUMBER_FIELDS}
        codes = re.findall(r"\b[A-Z]{2}\b", block.get("type", ""))
        persons.append(
            StakeHolder(
                name=name,
                type=",".join(codes) or None,
                citizenship=block.get("citizenship") or None,
                percent_of_class=_text_number(block.get("percent_of_class", "")),
                sole_voting_power=numbers["sole_voting_power"],
                shared_voting_power=numbers["shared_voting_power"],
                sole_dispositive_power=numbers["sole_dispositive_power"],
                shared_dispositive_power=numbers["shared_dispositive_power"],
                aggregate_amount=numbers["aggregate_amount"],
            )
        )
    return persons


def read_stake_text(text: str, form_type: str) -> Stake:
    """The cover page of an older text SC 13D / SC 13G (rule 2: only what it states plainly)."""
    upper = form_type.upper()
    if "13D" in upper:
        kind = StakeKind.ACTIVE
    elif "13G" in upper:
        kind = StakeKind.PASSIVE
    else:
        raise SerializationError(f"not a Schedule 13D/13G form type: {form_type!r}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    persons = tuple(_text_persons(text))
    reasons = []
    if not persons:
        reasons.append("cover page names no reporting person")
    else:
        if any(p.percent_of_class is None for p in persons):
            reasons.append("cover page states no percent of class")
        if any(p.aggregate_amount is None for p in persons):
            reasons.append("cover page states no aggregate amount beneficially owned")
    amendment = re.search(r"\(\s*Amendment\s+No\.?\s*:?\s*(\d+)\s*\)", text, re.IGNORECASE)
    cusip_line = _caption_line(text, r"CUSIP\s+Number")
    cusip = None
    if cusip_line and re.fullmatch(r"[0-9A-Z]{6}\s?[0-9A-Z]{2}\s?[0-9A-Z]?", cusip_line):
        cusip = cusip_line.replace(" ", "")
    return Stake(
        kind=kind,
        source=StakeSource.TEXT,
        amendment_number=int(amendment.group(1)) if amendment else None,
        issuer_name=_caption_line(text, r"Name\s+of\s+Issuer"),
        issuer_cik=None,
        issuer_cusip=cusip,
        security_class=_caption_line(text, r"Title\s+of\s+Class\s+of\s+Securities"),
        event_date=_iso_date(_caption_line(text, r"Date\s+of\s+Event")),
        reporting_persons=persons,
        purpose=None,
        incomplete_reason="; ".join(reasons) or None,
    )

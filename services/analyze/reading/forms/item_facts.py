"""Facts 8-K items state in plain words: who leaves or is appointed, and to what (5.02); the
counterparty of an agreement (1.01, 1.02); the business acquired or disposed of (2.01); the
cybersecurity incident (1.05); and, under 8.01 (Other Events), an event another item exists for.

Rules. Each item's section (items.item_sections) is read sentence by sentence, boilerplate and
all, and a fact is taken only from a sentence that matches one of the patterns below; a sentence
that matches none gives no fact (a wrong name is worse than none).
- 5.02: "<Name> [, 61,] ... (will resign | retire | step down | depart)" is a departure;
  "<Name> ... (has been | was | will be) (appointed | elected | named | promoted) [as] <role>"
  and "<Name> became <role>" are appointments; "<Name> transitioned from the role of <A> to <B>"
  is an appointment to <B>. "As a member of the Board", "director" or a board role makes it
  director_*, anything else officer_*. Names are two to four capitalised words.
- 1.01 / 1.02: "entered into (or terminated) ... agreement ... with <Counterparty>" gives the
  counterparty (up to its first comma, parenthesis or "pursuant").
- 2.01: "completed (the | its) [previously announced] (acquisition | sale | disposition |
  divestiture | spin-off) of <business>".
- 1.05: "(detected | identified | became aware of) <incident>" where the incident names a
  cybersecurity incident, unauthorized access or ransomware.
- 8.01: the first sentence describing a completed acquisition or a spin-off/sale of a business
  (2.01), a material agreement entered into (1.01), a cybersecurity incident (1.05) or an officer
  or director leaving or appointed (5.02) is read with that item's rule and tagged with that
  item's event type (`OTHER_ITEM_EVENTS`), e.g. a spin-off announced under 8.01 is
  acquisition_disposition.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from services.analyze.reading.items import CATALOG
from services.analyze.reading.text import sentences

# Words that start a sentence or a date, not a name ("On December 19, 2025, Dina ...").
_NOT_NAMES = (
    "On|The|As|In|At|For|Effective|Following|Pursuant|Company|Board|January|February|March|April"
    "|May|June|July|August|September|October|November|December"
)
_NAME = (
    rf"(?P<name>(?!(?:{_NOT_NAMES})\b)(?:[A-Z][a-zA-Z'.\-]+|[A-Z]\.)"
    r"(?:\s(?:[A-Z][a-zA-Z'.\-]+|[A-Z]\.)){1,3})"
)
# Up to a sentence's end, though abbreviations ("Inc. (the Company)") do not end it.
_WORDS = r"(?:[^.;]|\.(?=\s?[a-z(,\u201c\"]))"
_AGE = r"(?:,\s\d{2},)?"
# A role: capitalised words ("Chief Financial Officer"), up to a comma, "of" or "effective".
_ROLE = r"(?P<role>[A-Z][\w&' -]{2,80}?)"
_ROLE_END = r"(?=[,.;(]|\s(?:of|effective|and)\b)"
_DEPARTURE = re.compile(
    rf"{_NAME}{_AGE}{_WORDS}{{0,160}}?\b(?:will|would|has decided to|intends to|to)?\s?"
    r"(?P<verb>resign(?:ed)?|retire[sd]?|step(?:ped)? down|depart(?:ed)?)\b"
    r"(?:[^.;]{0,40}?\bas\s(?:a\s)?"
    r"(?P<role>(?:member of the Board of Directors|[A-Z][\w&,' -]{2,80}?))"
    r"(?=[,.;]|\s(?:of|effective)\b))?",
)
_APPOINTMENT = re.compile(
    rf"{_NAME}{_AGE}{_WORDS}{{0,120}}?\b(?:has been|have been|was|were|will be|is)\s"
    r"(?:appointed|elected|named|promoted)(?:\sto\sserve)?(?:\s(?:as|to))?\s(?:the\s)?"
    r"(?P<role>[A-Z][\w&' -]{2,80}?)(?=[,.;(]|\s(?:of|effective)\b)",
)
_BECAME = re.compile(rf"{_NAME}\s(?:became|will become)\s{_ROLE}{_ROLE_END}")
_TRANSITION = re.compile(
    rf"{_NAME}\stransitioned\sfrom\sthe\srole\sof\s[A-Z][\w&' -]{{2,80}}?\sto\s{_ROLE}{_ROLE_END}"
)
_DIRECTOR = re.compile(r"\b(?:director|board|chair(?:man|woman|person)?)\b", re.IGNORECASE)
_AGREEMENT = re.compile(
    r"\b(?P<verb>entered into|terminated)\b[^.;]{0,200}?\b(?i:agreement)\b[^.;]{0,160}?"
    r"\b(?:with|by and among|among|between)\s(?:the Company and\s)?(?P<party>[A-Z][^,;(]{2,100}?)"
    r"(?=\s?[,;(]|\s(?:pursuant|to|under|for|and the Company)\b|\.$|\.\s)",
)
_COMPLETED = re.compile(
    r"\b(?:completed|consummated|closed)\s(?:the|its)\s(?:previously announced\s)?"
    r"(?P<kind>acquisition|sale|disposition|divestiture|spin-off|merger)\sof\s(?P<business>[^,.;(]{3,120})",
    re.IGNORECASE,
)
_SPIN_OFF = re.compile(
    r"\b(?:spin-off|separation|sale|divestiture)\b[^.;]{0,40}?\bof\s(?:its|the)\s(?P<business>[^,.;(\u201c\"]{3,80}?)(?=\s?[,.;(\u201c\"]|\swhich\b)",
    re.IGNORECASE,
)
_INCIDENT = re.compile(
    r"\b(?:detected|identified|became aware of|discovered)\s(?P<incident>[^.;]{0,80}?"
    r"(?:cybersecurity incident|unauthorized (?:access|activity)|ransomware)[^.;,]{0,60})",
    re.IGNORECASE,
)
# 8.01 sentences that describe another item's event: (item, pattern).
_OTHER_ITEMS = (
    ("2.01", re.compile(r"\b(?:spin-off|completed the acquisition|completed the sale)\b", re.I)),
    ("1.01", re.compile(r"\bentered into\b[^.;]{0,120}\bagreement\b", re.I)),
    ("1.05", re.compile(r"\bcybersecurity incident\b|\bransomware\b", re.I)),
    ("5.02", re.compile(r"\b(?:resign|retire|step down|appointed|elected)\b", re.I)),
)
OTHER_ITEM_EVENTS = {code: CATALOG[code].event_type for code, _ in _OTHER_ITEMS}


@dataclass(frozen=True, slots=True)
class ItemFact:
    item: str
    event_type: str
    subject: str | None
    role: str | None
    text: str

    def to_avro(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "event_type": self.event_type,
            "subject": self.subject,
            "role": self.role,
            "text": self.text,
        }


def _clean(value: str | None) -> str | None:
    cleaned = " ".join((value or "").split()).strip(" ,.;")
    return cleaned or None


def _people(item: str, sentence: str) -> Iterator[ItemFact]:
    for pattern, action in (
        (_DEPARTURE, "departure"),
        (_APPOINTMENT, "appointment"),
        (_BECAME, "appointment"),
        (_TRANSITION, "appointment"),
    ):
        for match in pattern.finditer(sentence):
            role = _clean(match.group("role"))
            about = role or sentence[match.start() : match.end() + 80]
            who = "director" if _DIRECTOR.search(about) else "officer"
            yield ItemFact(item, f"{who}_{action}", _clean(match.group("name")), role, sentence)


def _agreement(item: str, sentence: str) -> Iterator[ItemFact]:
    if match := _AGREEMENT.search(sentence):
        event = (
            "agreement_termination" if match.group("verb") == "terminated" else "material_agreement"
        )
        yield ItemFact(item, event, _clean(match.group("party")), None, sentence)


def _transaction(item: str, sentence: str) -> Iterator[ItemFact]:
    if match := _COMPLETED.search(sentence):
        event = (
            "acquisition"
            if match.group("kind").lower() in {"acquisition", "merger"}
            else "disposition"
        )
        yield ItemFact(item, event, _clean(match.group("business")), None, sentence)
    elif match := _SPIN_OFF.search(sentence):
        yield ItemFact(item, "disposition", _clean(match.group("business")), None, sentence)


def _incident(item: str, sentence: str) -> Iterator[ItemFact]:
    if match := _INCIDENT.search(sentence):
        yield ItemFact(
            item, "cybersecurity_incident", _clean(match.group("incident")), None, sentence
        )


_READERS = {
    "5.02": _people,
    "1.01": _agreement,
    "1.02": _agreement,
    "2.01": _transaction,
    "1.05": _incident,
}


def _other_event(sentence_list: list[str]) -> Iterator[ItemFact]:
    for sentence in sentence_list:
        for code, pattern in _OTHER_ITEMS:
            if pattern.search(sentence):
                facts = list(_READERS[code]("8.01", sentence))
                subject = facts[0].subject if facts else None
                role = facts[0].role if facts else None
                yield ItemFact("8.01", OTHER_ITEM_EVENTS[code], subject, role, sentence)
                return


def extract_item_facts(item_texts: Mapping[str, str]) -> tuple[ItemFact, ...]:
    """The facts of each item section, in item order, each (event, subject) once."""
    found: list[ItemFact] = []
    for code in sorted(item_texts, key=lambda c: tuple(int(p) for p in c.split("."))):
        parts = [" ".join(s.split()) for s in sentences(item_texts[code])]
        if code == "8.01":
            found.extend(_other_event(parts))
        elif reader := _READERS.get(code):
            for sentence in parts:
                found.extend(reader(code, sentence))
    unique: dict[tuple[str, str, str | None], ItemFact] = {}
    for fact in found:
        unique.setdefault((fact.item, fact.event_type, fact.subject), fact)
    return tuple(unique.values())

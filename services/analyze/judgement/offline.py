"""The offline analyzer: the default when no LLM is configured. No network, no randomness, no
clock: the same filing and text always give the same `Analysis`.

Rules:
- Priority is the highest of the form's rank (table below) and the rank of each 8-K item
  (items.CATALOG). Amendments ("/A") rank as their original unless listed. Unknown forms are low.
- Event types: the form's (if it names one), then each item's, in item order, without the
  exhibit list (9.01).
- The body read is the item sections (exhibit list left out) when there are any, else the whole
  text; of each, at most the first 100,000 characters. Boilerplate sentences are never read:
  forward-looking disclaimers, "shall not be deemed filed", signatures, cover-page instructions,
  and neither are headings.
- Summary: up to three sentences, at most 400 characters, in document order, chosen by score:
  the rank of their item, an opening "On <date>," (how 8-Ks state their event), figures,
  tone words, and how early they come in their section. A best sentence longer than 400
  characters stands alone, cut at a word. With no text (or no sentence worth reading) the
  summary says who filed what: "Form 4 filed by X (reporting) for Y (issuer)".
- Keywords: up to eight terms of the body, by count, weighted up for finance tone words;
  never function words, words every filing uses, or the filer's own name. Word pairs count
  when they occur at least twice; a term sharing a word with a better one is left out. Ties go
  to the term seen first.
- Sentiment: the tone of the body's sentences (sentiment.py); 0 without text.
- Metrics are the GAAP figures of the filing's earnings facts (facts.py: read only where
  results are reported, item 2.02 or an annual, quarterly or foreign current report). When
  there are earnings figures, the summary leads with them ("Revenue $1.52 billion (quarter,
  +2.6%); Net income $47 million (quarter, prior -$6.20 million); Diluted EPS $0.05 (...)":
  revenue, net income, diluted EPS (else basic), GAAP first, then one adjusted figure; at most
  four), then the sentences chosen as above if they fit in the 400 characters. When a critical
  item (a restatement, a bankruptcy) outranks the results, its sentences lead instead.
- Forms 3, 4 and 5 with their ownership facts: priority, summary, event types, keywords and
  tone come from the transactions (insider.py, whose docstring has the rules); the form's own
  rank stays the floor.
- 8.01 sections describing another item's event (item_facts.py) add that item's event type.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from services.analyze.analysis import Analysis, Metric, Priority
from services.analyze.judgement.financial_reports import financials_lead, financials_metrics
from services.analyze.judgement.form_reading import FormReading
from services.analyze.judgement.insider import read_ownership
from services.analyze.judgement.lexicon import FILING_BACKGROUND, STOPWORDS, TONE_WORDS
from services.analyze.judgement.sale_notices import read_sale_notice
from services.analyze.judgement.sentiment import Tone, tokens, tone_of_tokens
from services.analyze.judgement.stakes import read_stake
from services.analyze.reading.facts import FilingFacts, extract_facts
from services.analyze.reading.forms.earnings_release import (
    USD,
    Earnings,
    EarningsFigure,
    FiscalPeriod,
)
from services.analyze.reading.items import CATALOG, EXHIBITS_ITEM
from services.analyze.reading.text import sentences
from services.common.records import Filing

_L, _M, _H, _C = Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL
# (priority, event type) -> the form types that have them.
_FORM_GROUPS: dict[tuple[Priority, str], tuple[str, ...]] = {
    (_C, "tender_offer"): ("SC TO-T",),
    (_H, "tender_offer"): ("SC TO-T/A",),
    (_H, "issuer_tender_offer"): ("SC TO-I",),
    (_H, "tender_offer_response"): ("SC 14D9", "SC14D9C"),
    (_H, "activist_stake"): ("SC 13D", "SCHEDULE 13D"),
    (_H, "going_private"): ("SC 13E3",),
    (_H, "delisting"): ("25-NSE", "25"),
    (_H, "deregistration"): ("15-12B", "15-12G", "15-15D", "15F-12B", "15F-12G", "15F-15D"),
    (_H, "late_filing"): ("NT 10-K", "NT 10-Q", "NT 20-F"),
    (_H, "merger_vote"): ("DEFM14A", "PREM14A", "DEFM14C", "PREM14C"),
    (_H, "proxy_contest"): ("PREC14A", "DEFC14A", "DFAN14A"),
    (_M, ""): ("8-K",),  # its events are its items
    (_M, "current_report"): ("6-K",),
    (_M, "annual_report"): ("10-K", "10-KT", "20-F", "40-F"),
    (_M, "quarterly_report"): ("10-Q", "10-QT"),
    (_M, "merger_registration"): ("S-4", "F-4"),
    (_M, "merger_communication"): ("425",),
    (_M, "securities_registration"): ("S-1", "F-1", "S-3", "F-3", "S-3ASR", "F-3ASR", "S-11"),
    (_M, "proxy_statement"): ("DEF 14A", "PRE 14A", "DEFA14A", "DEF 14C", "PRE 14C"),
    (_L, "passive_stake"): ("SC 13G", "SCHEDULE 13G"),
    (_L, "insider_holding"): ("3",),
    (_L, "insider_transaction"): ("4", "5"),
    (_L, "insider_sale_notice"): ("144",),
    (_L, "private_placement"): ("D",),
    (_L, "institutional_holdings"): ("13F-HR", "13F-NT"),
    (_L, "free_writing_prospectus"): ("FWP",),
    (_L, "employee_plan_registration"): ("S-8", "S-8 POS", "11-K"),
}
_FORMS = {form: rule for rule, forms in _FORM_GROUPS.items() for form in forms}
_FORM_PREFIXES = {
    "424B": (_L, "prospectus"),
    "485": (_L, "fund_prospectus"),
    "497": (_L, "fund_prospectus"),
    "N-": (_L, "fund_filing"),
    "NPORT": (_L, "fund_holdings"),
}
_MAX_BODY_CHARS = 100_000
_MAX_SUMMARY_CHARS = 400
_MAX_SENTENCES = 3
_MAX_KEYWORDS = 8
# Matched against lower-cased text: a case-insensitive search of this many alternatives is
# four times slower, and it runs on every sentence.
_BOILERPLATE = re.compile(
    r"forward[- ]looking|safe harbor|shall not be deemed|deemed (?:to be )?\W?filed|incorporated"
    r" (?:herein )?by reference|pursuant to the requirements|duly (?:caused|authorized)|/s/"
    r"|check the appropriate box|emerging growth company|cautionary|risks,? (?:and )?uncertainties"
    r"|undertakes? no obligation|actual results (?:may|could) differ|exact name of registrant"
    r"|commission file number|telephone number|https?://|www\.|\bfurnished\b|exhibit \d"
    r"|risk factors|offer to (?:sell|buy)|solicitation of an offer"
)
_ENUMERATOR = re.compile(r"^(?:\(?[a-z0-9]{1,4}\)|[\u2022\u25cf*-])\s+", re.IGNORECASE)
_EVENT_OPENING = re.compile(r"^On [A-Z][a-z]+\.? \d{1,2}, \d{4}")
_FIGURE = re.compile(r"\$\s?\d|\d(?:\.\d+)?\s?(?:%|percent)")
_ACTING_ROLES = ("filer", "filed by", "reporting")
_FIGURE_LABELS = {
    "revenue": "Revenue",
    "net_income": "Net income",
    "eps_diluted": "Diluted EPS",
    "eps_basic": "Basic EPS",
    "eps": "EPS",
}
_MAX_LEAD_FIGURES = 4


@dataclass(frozen=True, slots=True)
class _Sentence:
    text: str
    position: int  # in the body, for document order and ties
    words: list[str]
    tone: Tone
    score: float


def _from_reading(reading: FormReading, priority: Priority) -> Analysis:
    return Analysis(
        summary=_shortened(reading.summary),
        sentiment=reading.sentiment,
        priority=priority,
        keywords=reading.keywords,
        event_types=reading.event_types,
        metrics={},
    )


def _subject_ticker(filing: Filing) -> str | None:
    """The ticker of the company a schedule is about (EDGAR's "subject company")."""
    subject = next((e for e in filing.entities if e.role == "subject" and e.tickers), None)
    return subject.tickers[0] if subject else None


def _form_rule(form_type: str) -> tuple[Priority, str]:
    form = " ".join(form_type.upper().split())
    original = form.removesuffix("/A")
    if rule := _FORMS.get(form) or _FORMS.get(original):
        return rule
    prefix = next((prefix for prefix in _FORM_PREFIXES if original.startswith(prefix)), None)
    return _FORM_PREFIXES[prefix] if prefix else (_L, "")


def _is_heading(text: str) -> bool:
    """Title Case without a verb ("Departure of Directors or Certain Officers"), or a lead-in
    to a table or list ("...approved the following actions:")."""
    words = [word for word in re.findall(r"[A-Za-z][\w'-]+", text) if len(word) > 3]
    capitalised = sum(word[0].isupper() for word in words)
    return text.endswith(":") or (bool(words) and capitalised >= 0.8 * len(words))


def _body_sentences(sections: Sequence[tuple[Priority, str]]) -> list[_Sentence]:
    found: list[_Sentence] = []
    for rank, section in sections:
        for in_section, raw in enumerate(sentences(section[:_MAX_BODY_CHARS])):
            text = _ENUMERATOR.sub("", raw.strip())
            if _BOILERPLATE.search(text.lower()) or _is_heading(text):
                continue
            words = tokens(text)
            tone = tone_of_tokens(words)
            score = rank.rank + 1.0 / (1 + in_section)
            score += 1.0 if _EVENT_OPENING.match(text) else 0.0
            score += 0.5 if _FIGURE.search(text) else 0.0
            score += 0.25 * min(tone.hits, 4)
            score -= 0.5 if len(text) < 60 else 0.0
            found.append(_Sentence(text, len(found), words, tone, score))
    return found


def _shortened(text: str) -> str:
    if len(text) <= _MAX_SUMMARY_CHARS:
        return text
    return text[: _MAX_SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "\u2026"


def _summary(body: Sequence[_Sentence]) -> str:
    readable = sorted(
        (s for s in body if len(s.text) >= 40 and len(s.words) >= 6),
        key=lambda s: (-s.score, s.position),
    )
    if readable and len(readable[0].text) > _MAX_SUMMARY_CHARS:
        return _shortened(readable[0].text)  # the best sentence leads, even cut short
    chosen: list[_Sentence] = []
    for sentence in readable:
        used = sum(len(s.text) + 1 for s in chosen)
        if len(chosen) < _MAX_SENTENCES and used + len(sentence.text) <= _MAX_SUMMARY_CHARS:
            chosen.append(sentence)
    return " ".join(s.text for s in sorted(chosen, key=lambda s: s.position))


def _metadata_summary(filing: Filing, items: Sequence[str]) -> str:
    acting = [e for e in filing.entities if e.role in _ACTING_ROLES]
    subjects = [e for e in filing.entities if e.role not in _ACTING_ROLES]
    summary = f"Form {filing.form_type}"
    if acting:
        summary += " filed by " + "; ".join(f"{e.name} ({e.role})" for e in acting)
    if subjects:
        summary += " for " + "; ".join(f"{e.name} ({e.role})" for e in subjects)
    titles = [f"Item {code} {CATALOG[code].title}" for code in items if code in CATALOG]
    summary += (": " + "; ".join(titles)) if titles else ""
    return _shortened(summary)


def _money(value: float, unit: str) -> str:
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if unit != USD:
        return f"{sign}${amount:,.2f}"
    for scale, word in ((1e9, "billion"), (1e6, "million")):
        if amount >= scale:
            return f"{sign}${amount / scale:,.2f} {word}".replace(".00 ", " ")
    return f"{sign}${amount:,.0f}"


def _figure_phrase(figure: EarningsFigure) -> str:
    label = _FIGURE_LABELS.get(figure.name, figure.name)
    label = label if figure.gaap else f"Adjusted {label.lower()}"
    notes = [] if figure.period is FiscalPeriod.UNKNOWN else [figure.period.value.replace("_", " ")]
    if figure.change_percent is not None:
        notes.append(f"{figure.change_percent:+g}%")
    if figure.prior_value is not None:
        notes.append(f"prior {_money(figure.prior_value, figure.unit)}")
    return f"{label} {_money(figure.value, figure.unit)}" + (
        f" ({', '.join(notes)})" if notes else ""
    )


def _figures_lead(earnings: Earnings) -> str:
    """The headline figures: revenue, net income, EPS (diluted over basic), GAAP before
    adjusted, each in the period stated first."""
    chosen: dict[tuple[bool, str], EarningsFigure] = {}
    for figure in earnings.figures:
        chosen.setdefault((figure.gaap, figure.name), figure)
    for gaap in (True, False):
        if (gaap, "eps_diluted") in chosen:
            chosen.pop((gaap, "eps_basic"), None)
    order = list(_FIGURE_LABELS)
    ranked = sorted(chosen.items(), key=lambda item: (not item[0][0], order.index(item[0][1])))
    phrases = [_figure_phrase(figure) for _, figure in ranked[:_MAX_LEAD_FIGURES]]
    return "; ".join(phrases) + "." if phrases else ""


def _with_figures(figures: str, body: str, body_first: bool) -> str:
    """The figures and the body's sentences, in that order unless an item that outranks the
    results (a restatement, a bankruptcy) leads; the second is dropped when both do not fit."""
    first, second = (body, figures) if body_first else (figures, body)
    if not first or not second:
        return _shortened(first or second)
    if len(first) + 1 + len(second) > _MAX_SUMMARY_CHARS:
        return _shortened(first)
    return f"{first} {second}"


def _keywords(body: Sequence[_Sentence], own_names: set[str]) -> tuple[str, ...]:
    excluded = STOPWORDS | own_names
    counts: Counter[str] = Counter()
    for sentence in body:
        salient = [w if len(w) > 2 and w not in excluded else "" for w in sentence.words]
        counts.update(w for w in salient if w and w not in FILING_BACKGROUND)
        counts.update(
            f"{first} {second}"
            for first, second in pairwise(salient)
            if first and second and not (first in FILING_BACKGROUND and second in FILING_BACKGROUND)
        )
    weighted: dict[str, float] = {}
    for term, count in counts.items():
        words = term.split()
        if count >= 2 or len(words) == 1:  # a pair seen once is chance, not a phrase
            tone_bonus = 1.5 if TONE_WORDS.intersection(words) else 1.0
            weighted[term] = count * len(words) * tone_bonus
    # Counter keeps first-seen order, and sorted() is stable: ties go to the earlier term.
    chosen: list[str] = []
    used_words: set[str] = set()  # a term sharing a word with a chosen one adds nothing
    for term in sorted(weighted, key=lambda term: -weighted[term]):
        words = term.split()
        if used_words.isdisjoint(words):
            chosen.append(term)
            used_words.update(words)
            if len(chosen) == _MAX_KEYWORDS:
                break
    return tuple(chosen)


class OfflineAnalyzer:
    """Analyzes a filing from its metadata and, when fetched, its text. Stateless."""

    name = "offline"

    def analyze(
        self,
        filing: Filing,
        text: str | None = None,
        items: Sequence[str] | None = None,
        item_texts: Mapping[str, str] | None = None,
        facts: FilingFacts | None = None,
    ) -> Analysis:
        """`text`: the readable text of what was fetched (primary document, with exhibits such
        as the EX-99.1 press release appended); `items`: detected item codes (default: the
        filing's); `item_texts`: each item's section (items.item_sections); `facts`: what
        facts.extract_facts read (read here from the text when not given)."""
        codes = tuple(items if items is not None else filing.items)
        if facts is None:
            facts = extract_facts(filing, text, codes, item_texts)
        form_priority, form_event = _form_rule(filing.form_type)
        known = [CATALOG[code] for code in codes if code in CATALOG]
        priority = max([form_priority, *(item.priority for item in known)], key=lambda p: p.rank)
        events = [form_event] if form_event else []
        events += [i.event_type for i in known if i.code != EXHIBITS_ITEM]
        events += [fact.event_type for fact in facts.item_facts if fact.item == "8.01"]
        by_code = item_texts or {}
        sections = [
            (item.priority, by_code[code])
            for code, item in CATALOG.items()  # in item order
            if code in by_code and code != EXHIBITS_ITEM
        ] or [(_L, text or "")]
        body = _body_sentences(sections)
        own_names = {word for e in filing.entities for word in tokens(e.name)}
        metrics: dict[str, Metric] = dict(facts.earnings.metrics()) if facts.earnings else {}
        tone = sum((sentence.tone for sentence in body), Tone())
        if facts.ownership is not None:
            reading = read_ownership(facts.ownership)
            return _from_reading(reading, max(priority, reading.priority, key=lambda p: p.rank))
        if facts.stake is not None:
            # The stake decides: an amended 13D is not high for being a 13D (judgement/stakes.py).
            reading = read_stake(facts.stake, filing.form_type, _subject_ticker(filing))
            return _from_reading(reading, reading.priority)
        if facts.sale_notice is not None:
            reading = read_sale_notice(facts.sale_notice)
            return _from_reading(reading, reading.priority)
        figures = _figures_lead(facts.earnings) if facts.earnings else ""
        if facts.financials is not None and (lead := financials_lead(facts.financials)):
            # The XBRL's figures are the report's own, periods checked: they lead, and their
            # metrics stand over any a text extraction found.
            figures = lead
            metrics = {**metrics, **financials_metrics(facts.financials)}
        # Results rank high (item 2.02): only a critical item outranks them in the summary.
        body_first = priority.rank > _H.rank
        return Analysis(
            summary=_with_figures(figures, _summary(body), body_first)
            or _metadata_summary(filing, codes),
            sentiment=round(tone.score, 4),
            priority=priority,
            keywords=_keywords(body, own_names),
            event_types=tuple(dict.fromkeys(events)),
            metrics=metrics,
        )

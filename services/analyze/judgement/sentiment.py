"""The tone of financial text, from the word lists in lexicon.py.

Rules:
- Text is cut into lower-case words after apostrophes and hyphens are dropped,
  so "didn't" is "didnt" and "write-off" is "writeoff".
- Negation looks back three tokens, as Loughran and McDonald do: a negated positive word
  counts as negative ("did not achieve"), a negated negative word counts as nothing ("no
  material adverse effect" is not good news, but it is not bad news either).
- score = (positive - negative) / (positive + negative + 1): within (-1, 1), zero without tone
  words, and a single word moves a sentence by a half, not all the way to an extreme.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.analyze.judgement.lexicon import LITIGIOUS, NEGATIVE, NEGATORS, POSITIVE, UNCERTAINTY

_TOKEN = re.compile(r"[a-z]+")
_JOINERS = str.maketrans("", "", "'\u2019-")
_NEGATION_WINDOW = 3


@dataclass(frozen=True, slots=True)
class Tone:
    """Counts of tone words; tones of parts add up to the tone of the whole."""

    positive: int = 0
    negative: int = 0
    uncertainty: int = 0
    litigious: int = 0
    words: int = 0

    @property
    def score(self) -> float:
        return (self.positive - self.negative) / (self.positive + self.negative + 1)

    @property
    def hits(self) -> int:
        """Tone words of any category: how much the text says about how things are going."""
        return self.positive + self.negative + self.uncertainty + self.litigious

    def __add__(self, other: Tone) -> Tone:
        return Tone(
            self.positive + other.positive,
            self.negative + other.negative,
            self.uncertainty + other.uncertainty,
            self.litigious + other.litigious,
            self.words + other.words,
        )


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().translate(_JOINERS))


def tone_of_tokens(words: Sequence[str]) -> Tone:
    positive = negative = uncertainty = litigious = 0
    for index, word in enumerate(words):
        if word in POSITIVE or word in NEGATIVE:
            window = words[max(0, index - _NEGATION_WINDOW) : index]
            negated = any(previous in NEGATORS for previous in window)
            if word in POSITIVE:
                positive += not negated
                negative += negated
            else:
                negative += not negated
        elif word in UNCERTAINTY:
            uncertainty += 1
        elif word in LITIGIOUS:
            litigious += 1
    return Tone(positive, negative, uncertainty, litigious, len(words))


def tone(text: str) -> Tone:
    return tone_of_tokens(tokens(text))

"""Finance tone on sentences of real filings: a restatement reads negative, a results
release's own claims read positive."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.analyze.judgement import lexicon
from services.analyze.judgement.sentiment import Tone, tokens, tone
from services.analyze.reading.text import extract_text, parse_submission, sentences

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
ABVC = CORPUS / "documents" / "0001213900-25-032135.txt"


def abvc_sentence(document_type: str, start: str) -> str:
    (document,) = parse_submission(ABVC.read_bytes()).documents_of_type(document_type)
    extracted = document.text()
    assert extracted is not None
    return next(s for s in sentences(extracted.text) if s.startswith(start))


NEGATIVE_SENTENCES = [
    # Item 4.02: the financial statements can no longer be relied upon.
    ("8-K", "The Company determined that it (i) incorrectly applied accounting guidance"),
    ("8-K", "Due to the above, the Company determined that it has a material weakness"),
]
POSITIVE_SENTENCES = [
    ("EX-99.1", "We delivered strong revenue growth, executed disciplined cost management"),
    ("EX-99.1", "Importantly, ABVC remains eligible to receive up to an additional $18.3 million"),
]


@pytest.mark.parametrize(("document_type", "start"), NEGATIVE_SENTENCES)
def test_clearly_negative_finance_sentences(document_type: str, start: str) -> None:
    assert tone(abvc_sentence(document_type, start)).score <= -0.5


@pytest.mark.parametrize(("document_type", "start"), POSITIVE_SENTENCES)
def test_clearly_positive_finance_sentences(document_type: str, start: str) -> None:
    assert tone(abvc_sentence(document_type, start)).score >= 0.5


def test_finance_words_that_general_lists_misread_are_neutral() -> None:
    # Liability, tax, cost, capital and vice are negative words in general-purpose lists.
    sentence = (
        "The Company's liabilities, tax expense and capital costs rose, said the vice president."
    )
    assert tone(sentence) == Tone(words=len(tokens(sentence)))


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The Company did not achieve its targets.", Tone(negative=1, words=7)),
        ("There was no material adverse effect.", Tone(words=6)),
        ("The Company achieved its targets.", Tone(positive=1, words=5)),
    ],
)
def test_negation_within_three_words(sentence: str, expected: Tone) -> None:
    assert tone(sentence) == expected


def test_uncertainty_and_litigation_are_counted_but_do_not_move_the_score() -> None:
    found = tone("The plaintiffs filed a lawsuit; the outcome is uncertain and may vary.")
    assert (found.litigious, found.uncertainty, found.score) == (2, 2, 0.0)


def test_score_stays_within_bounds_on_every_corpus_document() -> None:
    for path in sorted(p for p in (CORPUS / "documents").iterdir() if p.is_file()):
        found = tone(extract_text(path.read_bytes(), path.name).text)
        assert -1.0 < found.score < 1.0
        assert found.words > 100


def test_tokens_drop_apostrophes_and_hyphens() -> None:
    assert tokens("We didn\u2019t write-off the Company's assets") == [
        "we",
        "didnt",
        "writeoff",
        "the",
        "companys",
        "assets",
    ]


def test_lexicon_categories_are_disjoint_lowercase_words() -> None:
    categories = [lexicon.NEGATIVE, lexicon.POSITIVE, lexicon.UNCERTAINTY, lexicon.LITIGIOUS]
    assert sum(len(category) for category in categories) == len(lexicon.TONE_WORDS) > 400
    for word in lexicon.TONE_WORDS | lexicon.NEGATORS:
        assert tokens(word) == [word], f"{word!r} can never match a token"

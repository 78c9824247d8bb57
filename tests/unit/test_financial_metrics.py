"""Headline figures read from real press releases, checked against the figures the same
document prints in its financial tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.analyze.reading.forms.earnings_release import USD, USD_PER_SHARE, extract_metrics
from services.analyze.reading.text import extract_text, parse_submission

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
ARCHIVES = CORPUS / "www.sec.gov" / "Archives" / "edgar" / "data"
BUCKLE_RELEASE = CORPUS / "documents" / "BuckleInc.8-K.EX99.1.html"


def table_figure(text: str, row: str) -> float:
    """The first column of a row of the release's income statement ("NET INCOME $ 44,172 ...")."""
    match = re.search(rf"^{re.escape(row)} \$ ([\d,]+(?:\.\d+)?) ", text, re.MULTILINE)
    assert match, f"no table row {row!r}"
    return float(match.group(1).replace(",", ""))


def exhibit_text(submission: Path, document_type: str) -> str:
    (document,) = parse_submission(submission.read_bytes()).documents_of_type(document_type)
    extracted = document.text()
    assert extracted is not None
    return extracted.text


def test_earnings_release_metrics_agree_with_its_income_statement() -> None:
    text = extract_text(BUCKLE_RELEASE.read_bytes()).text
    metrics = extract_metrics(text)
    assert set(metrics) == {"revenue", "net_income", "eps_basic", "eps_diluted"}
    assert "(Amounts in Thousands Except Per Share Amounts)" in text
    thousands = 1_000.0
    sales = table_figure(text, "SALES, Net of returns and allowances") * thousands
    net_income = table_figure(text, "NET INCOME") * thousands
    # The prose rounds to a tenth of a million: "$293.6 million", "$44.2 million".
    assert metrics["revenue"].value == 293.6e6
    assert metrics["revenue"].value == pytest.approx(sales, abs=0.05e6)
    assert metrics["net_income"].value == 44.2e6
    assert metrics["net_income"].value == pytest.approx(net_income, abs=0.05e6)
    assert metrics["eps_basic"].value == table_figure(text, "Basic") == 0.89
    assert metrics["eps_diluted"].value == table_figure(text, "Diluted") == 0.88
    assert {metrics[name].unit for name in ("revenue", "net_income")} == {USD}
    assert {metrics[name].unit for name in ("eps_basic", "eps_diluted")} == {USD_PER_SHARE}


def test_each_metric_names_the_phrase_it_was_read_from() -> None:
    text = extract_text(BUCKLE_RELEASE.read_bytes()).text
    metrics = extract_metrics(text)
    for metric in metrics.values():
        assert metric.text in text
    assert metrics["net_income"].text.endswith("was $44.2 million")
    assert metrics["eps_diluted"].text == "$0.88 per share on a diluted basis"


def test_unscaled_revenue_and_figures_stated_from_prior_to_current() -> None:
    text = exhibit_text(CORPUS / "documents" / "0001213900-25-032135.txt", "EX-99.1")
    metrics = extract_metrics(text)
    assert metrics["revenue"].value == 509_589.0
    assert metrics["revenue"].text == "total revenues of $509,589"
    # "Net loss ... narrowed from $7.79 million in 2023 to $4.90 million in 2024" and "loss per
    # share improved significantly from $(1.80) to $(0.42)" state the prior year first: the
    # current figure is the one after "to".
    assert metrics["net_income"].value == -4.90e6
    assert metrics["eps_basic"].value == metrics["eps_diluted"].value == -0.42


@pytest.mark.parametrize(
    "path",
    [
        ARCHIVES / "19617" / "000001961726000241" / "jpm-20260624.htm",
        ARCHIVES / "1326801" / "000162828025058337" / "meta-20251219.htm",
        CORPUS / "documents" / "BuckleInc.8-K.html",
        CORPUS / "documents" / "Oracle.8-K.html",
        CORPUS / "documents" / "form8k.Nordstrom.html",
    ],
    ids=lambda path: path.name,
)
def test_no_metrics_where_no_results_are_reported(path: Path) -> None:
    # Salaries, vote counts and option prices are dollar figures, but not results.
    assert extract_metrics(extract_text(path.read_bytes()).text) == {}


def test_another_companys_revenue_is_not_read() -> None:
    # 3M's spin-off release: "... with $8.2 billion in revenue in 2023" is Solventum's.
    text = exhibit_text(
        ARCHIVES / "66740" / "000006674024000023" / "0000066740-24-000023.txt", "EX-99.1"
    )
    assert "$8.2 billion in revenue" in text
    assert extract_metrics(text) == {}


@pytest.mark.parametrize(
    ("sentence", "name", "value", "unit"),
    [
        ("Total revenues for the fourth quarter were $1.2 billion.", "revenue", 1.2e9, USD),
        ("Net loss for the quarter was $(3.1) million.", "net_income", -3.1e6, USD),
        (
            "Net loss was $12,345,000, or $0.41 per diluted share.",
            "eps_diluted",
            -0.41,
            USD_PER_SHARE,
        ),
        ("Diluted earnings per share were $2.05.", "eps_diluted", 2.05, USD_PER_SHARE),
        ("Net income was $5.0 million, or $0.12 per share.", "eps", 0.12, USD_PER_SHARE),
    ],
)
def test_scaling_sign_and_labels(sentence: str, name: str, value: float, unit: str) -> None:
    metric = extract_metrics(sentence)[name]
    assert metric.value == pytest.approx(value)
    assert metric.unit == unit


@pytest.mark.parametrize(
    "sentence",
    [
        "The Board declared a quarterly dividend of $0.35 per share.",
        "The offer price of $18.25 per share represents a premium.",
        "Online sales increased 1.1 percent to $46.6 million.",
        "Adjusted net income was $51.2 million.",
        "The Company expects revenue of $1.2 billion to $1.3 billion for fiscal 2025.",
        "Net income (loss) was $4.1 million.",
        "Revenue was $512.",
    ],
)
def test_what_is_not_a_headline_figure(sentence: str) -> None:
    assert extract_metrics(sentence) == {}


def test_extraction_is_deterministic() -> None:
    text = extract_text(BUCKLE_RELEASE.read_bytes()).text
    assert extract_metrics(text) == extract_metrics(text)

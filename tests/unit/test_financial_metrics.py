"""Headline figures read from real press releases, checked against the figures the same
document prints in its financial tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.analyze.reading.forms.earnings_release import (
    USD,
    USD_PER_SHARE,
    extract_earnings,
    extract_metrics,
)
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


# Figures real releases outside the corpus were read wrong from (a comparison sentence's prior
# quarter taken as the current quarter, special items taken as the net loss).
COMPARISON_RELEASE = (
    "Acme Reports First Quarter 2020 Results\n"
    "First Quarter 2020 GAAP Financial Results\n"
    "Total revenue was $320.9 million. Net income was $9.4 million or $0.24 and $0.23 per basic"
    " and diluted share, respectively. This compares to total revenue of $286.4 million, and net"
    " loss of $10.3 million or $(0.26) per basic share in the prior quarter.\n"
    "First Quarter 2020 Non-GAAP Financial Results\n"
    "On a non-GAAP basis, gross margin was 20.9%, and net income was $21.0 million or $0.52 per"
    " diluted share excluding stock-based compensation. This compares to net income of $16.0"
    " million or $0.40 per diluted share, excluding stock-based compensation, in the prior"
    " quarter.\n"
)


def _figures(text: str) -> list[tuple[str, float, str, bool]]:
    earnings = extract_earnings(text)
    assert earnings is not None
    return [(f.name, f.value, f.period.value, f.gaap) for f in earnings.figures]


def test_a_prior_quarters_non_gaap_eps_is_not_the_current_gaap_eps() -> None:
    figures = _figures(COMPARISON_RELEASE)
    assert ("eps_diluted", 0.40, "quarter", True) not in figures
    assert not [f for f in figures if f[0] == "eps_diluted" and f[1] == 0.40]
    assert ("eps_diluted", 0.52, "quarter", False) in figures
    assert ("net_income", 21.0e6, "quarter", False) in figures


def test_a_prior_quarters_basic_loss_per_share_is_not_the_current_basic_eps() -> None:
    figures = _figures(COMPARISON_RELEASE)
    assert not [f for f in figures if f[1] in (-0.26, -10.3e6, 286.4e6)]
    assert ("revenue", 320.9e6, "quarter", True) in figures
    assert ("net_income", 9.4e6, "quarter", True) in figures


def test_special_items_are_not_the_net_loss() -> None:
    text = (
        "Oilco Announces First Quarter 2020 Results\n"
        "HOUSTON, April 29, 2020 -- Oilco, Inc. (NYSE: OIL) reported a net loss for the first"
        " quarter of 2020 of $405.0 million, or $6.79 per share, on revenues of $219.7 million."
        " The reported first quarter 2020 net loss included the following significant items,"
        " which totaled $396.8 million after-tax, or $6.65 per share:\n"
    )
    figures = _figures(text)
    assert ("net_income", -405.0e6, "quarter", True) in figures
    assert ("revenue", 219.7e6, "quarter", True) in figures
    assert not [f for f in figures if f[1] in (-396.8e6, 396.8e6, 6.65, -6.65)]


# The held-out releases that were read wrong (James River Group and ManTech, Q1 2020, 8-K
# EX-99.1 from wp1122/edgar-fillings-parser's test data), shortened to the lines that matter.
def test_an_adjusted_measure_named_after_a_gaap_figure_leaves_that_figure_gaap() -> None:
    figures = _figures(
        "JAMES RIVER ANNOUNCES FIRST QUARTER 2020 RESULTS\n"
        "First Quarter 2020 Net Loss of $36.8 million -- $1.21 per diluted share and Adjusted Net"
        " Operating Income of $15.4 million -- $0.50 per diluted share\n"
    )
    assert ("net_income", -36.8e6, "quarter", True) in figures
    assert ("eps_diluted", -1.21, "quarter", True) in figures
    assert ("eps_diluted", 0.50, "quarter", False) in figures  # income per share: positive
    assert not [f for f in figures if f[1] in (-36.8e6, -1.21) and not f[3]]


def test_a_table_rows_basis_is_no_heading_of_the_prose_after_the_table() -> None:
    figures = _figures(
        "ManTech Reports First Quarter 2020 Results\n"
        "Non-GAAP Financial Measures*\nAdjusted Diluted EPS\n$0.81\n$0.62\n"
        "*Information about ManTech's use of non-GAAP financial measures, including a"
        " reconciliation of the non-GAAP financial measures to the most comparable financial"
        ' measures calculated in accordance with GAAP, is provided under "Non-GAAP Measures."\n'
        "As a result of strong continued demand for our services and solutions, revenue was"
        " $611 million, up 22% from the first quarter of 2019.\n"
    )
    assert ("revenue", 611e6, "quarter", True) in figures
    assert not [f for f in figures if f[0] == "revenue" and not f[3]]


def test_changes_paired_by_respectively_are_left_out() -> None:
    earnings = extract_earnings(
        "ManTech Reports First Quarter 2020 Results\n"
        "Net income was $28.7 million and diluted EPS was $0.71, up 36% and 34% from the first"
        " quarter of 2019, respectively.\n"
    )
    assert earnings is not None
    by_name = {figure.name: figure for figure in earnings.figures}
    assert (by_name["net_income"].value, by_name["eps_diluted"].value) == (28.7e6, 0.71)
    assert by_name["eps_diluted"].change_percent is None  # not 36: that is net income's
    assert by_name["net_income"].change_percent is None


def test_the_statement_table_gives_innovivas_net_income_and_eps() -> None:
    path = CORPUS / "documents" / "earnings" / "inva-8k-ex991-1.html"
    earnings = extract_earnings(extract_text(path.read_bytes(), path.name).text)
    assert earnings is not None
    table = {(f.name, f.period.value, f.gaap): f for f in earnings.figures if f.source == "table"}
    net_income = table["net_income", "quarter", True]
    # "Net income attributable to Innoviva stockholders $ 65,437 $ 33,790", in thousands; not
    # the "Net income 78,952" that includes the noncontrolling interest.
    assert (net_income.value, net_income.prior_value) == (65_437_000.0, 33_790_000.0)
    assert net_income.unit == USD
    diluted, basic = table["eps_diluted", "quarter", True], table["eps_basic", "quarter", True]
    assert (diluted.value, diluted.prior_value) == (0.59, 0.31)
    assert (basic.value, basic.prior_value) == (0.65, 0.33)
    assert basic.to_avro()["source"] == "table"
    revenue = next(f for f in earnings.figures if f.name == "revenue")
    assert (revenue.value, revenue.source) == (78.7e6, "prose")


def test_table_columns_give_period_and_current_and_where_they_disagree_the_table_wins() -> None:
    text = (
        "Widget Corp Reports Fourth Quarter Results\n"
        "Net income for the fourth quarter was $5.0 million.\n"
        "WIDGET CORP\n"
        "Consolidated Statements of Operations\n"
        "(In thousands, except per share data)\n"
        "Three Months Ended December 31, Twelve Months Ended December 31,\n"
        "2024 2023 2024 2023\n"
        "Total revenues $ 120,500 $ 110,000 $ 450,000 $ 400,000\n"
        "Net income (loss) $ 4,200 $ (1,300 ) $ 20,000 $ 15,000\n"
        "Net income (loss) per share:\n"
        "Basic $ 0.42 $ (0.13 ) $ 2.00 $ 1.50\n"
        "Diluted $ 0.41 $ (0.13 ) $ 1.98 $ 1.49\n"
        "Weighted average shares:\n"
        "Basic 10,000 10,000 10,000 10,000\n"
    )
    earnings = extract_earnings(text)
    assert earnings is not None
    found = {(f.name, f.period.value): (f.value, f.prior_value, f.source) for f in earnings.figures}
    assert found["net_income", "quarter"] == (4_200_000.0, -1_300_000.0, "table")
    assert found["net_income", "full_year"] == (20_000_000.0, 15_000_000.0, "table")
    assert found["revenue", "quarter"] == (120_500_000.0, 110_000_000.0, "table")
    assert found["eps_basic", "quarter"] == (0.42, -0.13, "table")
    assert found["eps_diluted", "full_year"] == (1.98, 1.49, "table")
    assert ("eps_basic", "unknown") not in found

"""A periodic report's XBRL figures (reading/forms/financials.py) as the lead of its summary
and as metrics. Deterministic.

Rules: the current period's figures only, the shortest span first (a 10-Q's quarter before its
year to date; a 10-K's fiscal year): revenue, net income, diluted EPS (basic when diluted is
absent), each with the same span of the prior year when the document has it. Metrics take the
same figures under the earnings names (revenue, net_income, eps_diluted, eps_basic), so a
report's metrics read alike whether they came from its XBRL or a press release.
"""

from __future__ import annotations

from typing import Any

from services.analyze.analysis import Metric
from services.analyze.reading.forms.financials import Financials

_LEAD = ("revenue", "net_income", "eps_diluted", "eps_basic")
_LABELS = {
    "revenue": "Revenue",
    "net_income": "Net income",
    "eps_diluted": "Diluted EPS",
    "eps_basic": "Basic EPS",
}
_SPANS = ("quarter", "six_months", "nine_months", "fiscal_year")
_UNITS = {"USD": "USD", "USD/shares": "USD/share"}


def _amount(value: float, unit: str) -> str:
    if unit == "USD/shares":
        return f"{'-' if value < 0 else ''}${abs(value):,.2f}"
    if unit != "USD":
        return f"{value:,.0f} {unit}"
    sign, size = ("-" if value < 0 else ""), abs(value)
    for scale, suffix in ((1e9, "B"), (1e6, "M")):
        if size >= scale:
            return f"{sign}${size / scale:,.2f}{suffix}"
    return f"{sign}${size:,.0f}"


def _current(financials: Financials) -> dict[str, dict[str, Any]]:
    """Each lead figure of the current period, its shortest span."""
    facts: list[dict[str, Any]] = financials.to_avro()["facts"]
    chosen: dict[str, dict[str, Any]] = {}
    for span in _SPANS:
        for fact in facts:
            if fact["role"] == "current" and fact["period_label"] == span:
                chosen.setdefault(fact["name"], fact)
    if "eps_diluted" in chosen:
        chosen.pop("eps_basic", None)
    return {name: chosen[name] for name in _LEAD if name in chosen}


def _prior(financials: Financials, name: str, span: str) -> dict[str, Any] | None:
    facts: list[dict[str, Any]] = financials.to_avro()["facts"]
    return next(
        (
            fact
            for fact in facts
            if fact["role"] == "prior_year"
            and fact["name"] == name
            and fact["period_label"] == span
        ),
        None,
    )


def financials_lead(financials: Financials) -> str:
    """ "Revenue (quarter) $25.50B, prior year $24.93B; Net income (quarter) $1.48B; ..."."""
    phrases = []
    for name, fact in _current(financials).items():
        phrase = f"{_LABELS[name]} ({fact['period_label'].replace('_', ' ')}) "
        phrase += _amount(fact["value"], fact["unit"])
        if prior := _prior(financials, name, fact["period_label"]):
            phrase += f", prior year {_amount(prior['value'], prior['unit'])}"
        phrases.append(phrase)
    return "; ".join(phrases) + "." if phrases else ""


def financials_metrics(financials: Financials) -> dict[str, Metric]:
    return {
        name: Metric(
            value=fact["value"],
            unit=_UNITS.get(fact["unit"], fact["unit"]),
            text=f"{fact['concept']} {fact['period_start'] or ''} to {fact['period_end']}".strip(),
        )
        for name, fact in _current(financials).items()
    }

"""What a Form 144 means for a reader, from its sale notice (reading/forms/sale_notice.py):
priority, summary, event types and keywords. Deterministic.

Rules: a proposed sale worth at least LARGE_SALE_USD (the market value the notice states, summed
over its classes) is medium, as an insider's open-market sale of that size is (judgement/
insider.py); any other is low. The summary names the seller and their relationship, the units
and their value, the issuer with its ticker, the approximate date and the broker.
"""

from __future__ import annotations

from typing import Any

from services.analyze.analysis import Priority
from services.analyze.judgement.form_reading import FormReading
from services.analyze.judgement.insider import LARGE_SALE_USD
from services.analyze.reading.forms.sale_notice import SaleNotice


def _money(value: float) -> str:
    for scale, suffix in ((1e9, "B"), (1e6, "M")):
        if value >= scale:
            return f"${value / scale:,.2f}{suffix}"
    return f"${value:,.0f}"


def read_sale_notice(notice: SaleNotice) -> FormReading:
    record = notice.to_avro()
    securities: list[dict[str, Any]] = list(record.get("securities") or [])
    values = [s.get("aggregate_market_value") for s in securities]
    total = sum(v for v in values if v is not None) if securities else None
    units = [s.get("units_to_be_sold") for s in securities]
    seller = record.get("seller_name") or "An insider"
    if record.get("relationships"):
        seller += f" ({', '.join(record['relationships'])})"
    issuer = record.get("issuer_name") or "the issuer"
    if record.get("issuer_ticker"):
        issuer += f" ({record['issuer_ticker']})"
    what = "securities"
    if units and all(u is not None for u in units):
        what = f"{sum(u for u in units if u is not None):,.0f} units"
    summary = f"{seller} gives notice of a proposed sale of {what} of {issuer}"
    if total:
        summary += f" worth about {_money(total)}"
    first = securities[0] if securities else {}
    if first.get("approximate_sale_date"):
        summary += f", around {first['approximate_sale_date']}"
    if first.get("broker_name"):
        summary += f", through {first['broker_name']}"
    large = total is not None and total >= LARGE_SALE_USD
    return FormReading(
        priority=Priority.MEDIUM if large else Priority.LOW,
        summary=summary + ".",
        event_types=("insider_sale_notice",),
        keywords=("Form 144", "proposed sale"),
        sentiment=-0.1 if large else 0.0,
    )

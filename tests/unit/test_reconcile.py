"""Which days reconciliation covers, and how far back the emitted set is read."""

from __future__ import annotations

import datetime as dt

from services.ingest.daily_index import EDGAR_TIME_ZONE
from services.ingest.emitted import RECOVERY_MARGIN, written_since
from services.ingest.reconcile import recent_business_days


def test_the_window_is_the_last_weekdays_up_to_today_oldest_first() -> None:
    tuesday = dt.date(2026, 12, 1)
    assert recent_business_days(tuesday, 3) == [
        dt.date(2026, 11, 27),  # Friday
        dt.date(2026, 11, 30),  # Monday
        tuesday,
    ]


def test_on_a_weekend_the_window_ends_on_friday() -> None:
    sunday = dt.date(2026, 11, 29)
    assert recent_business_days(sunday, 2) == [dt.date(2026, 11, 26), dt.date(2026, 11, 27)]
    assert recent_business_days(sunday, 1) == [dt.date(2026, 11, 27)]


def test_a_holiday_is_still_in_the_window_it_just_has_no_index() -> None:
    # Thanksgiving 2026 (Thursday 26 November): EDGAR answers 404 for its index, which
    # reconciliation reports as not published; the window does not guess holidays.
    assert dt.date(2026, 11, 26) in recent_business_days(dt.date(2026, 11, 30), 3)


def test_the_emitted_set_is_read_from_a_margin_before_the_first_filing_day() -> None:
    since = written_since(dt.date(2026, 11, 27))
    midnight = dt.datetime(2026, 11, 27, tzinfo=EDGAR_TIME_ZONE)
    assert since == midnight - RECOVERY_MARGIN
    # A filing accepted after 17:30 ET the evening before its filing date is inside it.
    evening_before = dt.datetime(2026, 11, 26, 17, 45, tzinfo=EDGAR_TIME_ZONE)
    assert since < evening_before
    assert dt.timedelta(days=3) <= RECOVERY_MARGIN

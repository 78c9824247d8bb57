"""Form names in one spelling, for matching a filter or a query against a filing's form.

EDGAR renamed the beneficial-ownership schedules when it made them XML (2024-12-18): "SC 13D"
and "SC 13G" became "SCHEDULE 13D" and "SCHEDULE 13G". They are the same schedules, so a reader
naming either gets both; an amendment ("/A") keeps its suffix, so "8-K/A" still names only the
amendments while "8-K" names the form and its amendments.
"""

from __future__ import annotations

AMENDMENT = "/A"
_RENAMED = {"SC 13D": "SCHEDULE 13D", "SC 13G": "SCHEDULE 13G"}


def form_spelling(form_type: str) -> str:
    """Upper case, single spaces, the current name: "sc 13d/a" -> "SCHEDULE 13D/A"."""
    spaced = " ".join(form_type.upper().split())
    base = spaced.removesuffix(AMENDMENT)
    return _RENAMED.get(base, base) + spaced[len(base) :]


def form_family(form_type: str) -> str:
    """The form an amendment amends, in the current spelling: "SC 13D/A" -> "SCHEDULE 13D"."""
    return form_spelling(form_type).removesuffix(AMENDMENT)


def form_matches(form_type: str, wanted: str) -> bool:
    """The filing's form is `wanted` or an amendment of it, spelled either way."""
    form, asked = form_spelling(form_type), form_spelling(wanted)
    return form in (asked, asked + AMENDMENT)

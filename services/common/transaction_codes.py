"""The transaction codes of Forms 3, 4 and 5 (Form 4, General Instruction 8), in one table.

Analyze writes them into a filing's summary and keywords, the gateway filters on them and the
alerts spell them out; all three read this table, so a code cannot mean one thing in a record
and another in its alert.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TransactionCode:
    code: str
    verb: str  # what the insider did, as a sentence says it: "sold"
    keyword: str | None  # the filing's keyword for it, for the codes worth one


TRANSACTION_CODES: dict[str, TransactionCode] = {
    entry.code: entry
    for entry in (
        TransactionCode("A", "was awarded", "award"),
        TransactionCode("C", "converted", "conversion"),
        TransactionCode("D", "disposed of to the issuer", None),
        TransactionCode("E", "had a short derivative position expire", None),
        TransactionCode("F", "had withheld for taxes", "tax withholding"),
        TransactionCode("G", "gave or received as a gift", "gift"),
        TransactionCode("H", "had a long derivative position expire or be cancelled", None),
        TransactionCode("I", "made a discretionary transaction", None),
        TransactionCode("J", "acquired or disposed of", None),
        TransactionCode("K", "entered into an equity swap", None),
        TransactionCode("L", "made a small acquisition", None),
        TransactionCode("M", "exercised or converted", "option exercise"),
        TransactionCode("O", "exercised out-of-the-money derivatives", None),
        TransactionCode("P", "bought", "open-market purchase"),
        TransactionCode("S", "sold", "open-market sale"),
        TransactionCode("U", "disposed of in a tender of shares", None),
        TransactionCode("V", "voluntarily reported", None),
        TransactionCode("W", "acquired or disposed of by will", None),
        TransactionCode("X", "exercised", "option exercise"),
        TransactionCode("Z", "deposited into or withdrew from a voting trust", None),
    )
}


def verb_of(code: str) -> str | None:
    entry = TRANSACTION_CODES.get(code)
    return entry.verb if entry else None


def keyword_of(code: str) -> str | None:
    entry = TRANSACTION_CODES.get(code)
    return entry.keyword if entry else None

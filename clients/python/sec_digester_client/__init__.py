"""A client for the sec-digester gateway: typed filings over WebSocket, handled once each.

    config = ClientConfig(url="ws://localhost:8000/stream", client_id="bot-1")
    async with StreamClient(config) as client:
        async for filing in client:
            print(filing.filing.tickers, filing.analysis.summary)

Reconnects by itself (exponential backoff with full jitter), resumes where it got to,
acknowledges a record only once it has been handled, drops redeliveries, and detects a gateway
that stops answering. `await client.subscribe(tickers=[...])` changes the filters on the open
connection. Auth failures and bad parameters are raised, not retried; records removed before
they were read (a gap) are raised as GapError, or reported (`on_gap="report"`).
"""

from sec_digester_client.client import GapHandler, Handler, StreamClient
from sec_digester_client.config import ClientConfig
from sec_digester_client.errors import (
    AuthenticationError,
    BadParameterError,
    ClientClosedError,
    ClientError,
    GapError,
    ProtocolError,
    SupersededError,
)
from sec_digester_client.protocol import Gap, PartitionGap
from sec_digester_client.records import (
    Analysis,
    AnalyzerInfo,
    Delivery,
    DocumentStatus,
    Earnings,
    EarningsFigure,
    Entity,
    FactRole,
    Filing,
    FilingAnalysis,
    FilingSource,
    FinancialFact,
    Financials,
    FiscalPeriod,
    GuidanceFigure,
    InsiderTransaction,
    ItemFact,
    Metric,
    Ownership,
    OwnershipFootnote,
    OwnershipIssuer,
    OwnershipRowKind,
    OwnershipTable,
    PeriodLabel,
    Priority,
    ReportingOwner,
    SaleNotice,
    SaleNoticePastSale,
    SaleNoticeSecurity,
    Stake,
    StakeHolder,
    StakeKind,
    StakeSource,
    XbrlSource,
)

__all__ = [
    "Analysis",
    "AnalyzerInfo",
    "AuthenticationError",
    "BadParameterError",
    "ClientClosedError",
    "ClientConfig",
    "ClientError",
    "Delivery",
    "DocumentStatus",
    "Earnings",
    "EarningsFigure",
    "Entity",
    "FactRole",
    "Filing",
    "FilingAnalysis",
    "FilingSource",
    "FinancialFact",
    "Financials",
    "FiscalPeriod",
    "Gap",
    "GapError",
    "GapHandler",
    "GuidanceFigure",
    "Handler",
    "InsiderTransaction",
    "ItemFact",
    "Metric",
    "Ownership",
    "OwnershipFootnote",
    "OwnershipIssuer",
    "OwnershipRowKind",
    "OwnershipTable",
    "PartitionGap",
    "PeriodLabel",
    "Priority",
    "ProtocolError",
    "ReportingOwner",
    "SaleNotice",
    "SaleNoticePastSale",
    "SaleNoticeSecurity",
    "Stake",
    "StakeHolder",
    "StakeKind",
    "StakeSource",
    "StreamClient",
    "SupersededError",
    "XbrlSource",
]

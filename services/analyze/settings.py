"""Settings of `sec-digester analyze`."""

from __future__ import annotations

import socket
from typing import Annotated

from pydantic import Field

from services.common.settings import CommaList, EdgarSettings, Port, comma_separated

# Forms whose documents say something a reader acts on; the rest are analyzed from metadata.
# Forms 3, 4 and 5 (a quarter of all filings) cost one small request each: their XML holds
# every transaction.
# The forms with typed facts (reading/families.py) and the deal forms the summary is read from.
# Amendments go with their form (documents_index.base_form), so 10-K covers 10-K/A.
_DEFAULT_FETCH_FORMS = (
    "8-K,6-K,10-K,10-KT,10-Q,10-QT,20-F,40-F,SC 13D,SCHEDULE 13D,SC 13G,SCHEDULE 13G,144,"
    "SC TO-T,SC 14D9,DEFM14A,S-4,425,3,4,5"
)


class AnalyzeSettings(EdgarSettings):
    analyze_group_id: str = "sec-digester-analyze"
    # Stable per instance (a pod name, a host name): a restarted instance's first act is to
    # abort what its previous life left open, instead of readers waiting for a timeout.
    analyze_instance_id: str = socket.gethostname()
    # Records read ahead and in flight at most (those waiting for EDGAR included), and how
    # many are analyzed at once.
    analyze_batch_size: Annotated[int, Field(ge=1, le=10_000)] = 200
    analyze_concurrency: Annotated[int, Field(ge=1, le=256)] = 16
    # SEC allows 10 requests/s for the whole deployment: ingest's share is 4 by default, and
    # this share is divided among the analyze replicas.
    analyze_max_requests_per_second: Annotated[float, Field(gt=0, le=10)] = 5.0
    analyze_replicas: Annotated[int, Field(ge=1, le=1000)] = 1
    analyze_fetch_forms: CommaList = comma_separated(_DEFAULT_FETCH_FORMS)
    analyze_max_document_bytes: Annotated[int, Field(ge=10_000)] = 5_000_000
    # The bound of each filing's text on the text topic, in UTF-8 bytes (text_record.py says
    # why 256 KiB); under Kafka's default 1 MB message limit.
    analyze_text_max_bytes: Annotated[int, Field(ge=1024, le=900_000)] = 262_144
    analyze_health_host: str = "0.0.0.0"  # noqa: S104 (probes come from outside the pod)
    analyze_health_port: Port = 8002
    llm_model: str | None = None
    llm_api_base: str | None = None
    llm_timeout_s: Annotated[float, Field(gt=0)] = 60.0
    llm_max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    llm_max_concurrency: Annotated[int, Field(ge=1, le=256)] = 4
    llm_max_input_chars: Annotated[int, Field(ge=1000)] = 24_000

    @property
    def uses_edgar(self) -> bool:
        return bool(self.fetch_forms)  # with no form to fetch, analyze never calls EDGAR

    @property
    def fetch_forms(self) -> frozenset[str]:
        return frozenset(form.upper() for form in self.analyze_fetch_forms)

    @property
    def edgar_requests_per_second(self) -> float:
        return self.analyze_max_requests_per_second / self.analyze_replicas

    @property
    def transactional_id(self) -> str:
        return f"{self.analyze_group_id}-{self.analyze_instance_id}"

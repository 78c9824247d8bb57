"""The corpus' recorded files (everything but getcurrent pages), found by request path.

www.sec.gov responses are served at their own path (/Archives/edgar/data/...), data.sec.gov
ones under /data.sec.gov/..., so one server stands in for both hosts. Each file carries an
ETag and a Last-Modified date, because EDGAR's Archives answer conditional requests and a
careful client uses them.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from services.ingest.corpus import read_manifest

DATA_PREFIX = "/data.sec.gov"
_HOST_PREFIXES = {"www.sec.gov": "", "data.sec.gov": DATA_PREFIX}


@dataclass(frozen=True, slots=True)
class RecordedFile:
    path: Path
    status: int
    content_type: str
    etag: str  # strong, quoted
    last_modified: dt.datetime  # UTC, whole seconds (the resolution of the HTTP date)

    @property
    def validators(self) -> dict[str, str]:
        return {
            "etag": self.etag,
            "last-modified": email.utils.format_datetime(self.last_modified, usegmt=True),
        }

    def not_modified(self, headers: Mapping[str, str]) -> bool:
        """Whether a conditional GET may be answered 304 (RFC 9110 13.2.2: If-None-Match,
        when present, decides; If-Modified-Since only counts without it)."""
        if self.status != 200:
            return False
        if_none_match = headers.get("if-none-match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or self.etag in tags
        if_modified_since = headers.get("if-modified-since")
        if if_modified_since is None:
            return False
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unparseable date is ignored, as RFC 9110 says
        return since.tzinfo is not None and self.last_modified <= since


class RecordedFiles:
    def __init__(self, files: Mapping[str, RecordedFile]) -> None:
        self._files = dict(files)

    @classmethod
    def from_corpus(cls, corpus_dir: Path) -> RecordedFiles:
        files: dict[str, RecordedFile] = {}
        for record in read_manifest(corpus_dir):
            url = urlsplit(record.url)
            prefix = _HOST_PREFIXES.get(url.hostname or "")
            # getcurrent pages are answered from the merged snapshot, not replayed one by one.
            if record.snapshot is not None or prefix is None:
                continue
            target = prefix + url.path + (f"?{url.query}" if url.query else "")
            files[target] = _recorded_file(
                corpus_dir / record.path, record.status, record.content_type
            )
        return cls(files)

    def alias(self, target: str, recorded_target: str) -> None:
        """Answer `target` with the file recorded at `recorded_target` from now on."""
        found = self._files.get(recorded_target)
        if found is None:
            raise KeyError(f"nothing is recorded at {recorded_target}")
        self._files[target] = found

    def find(self, target: str) -> RecordedFile | None:
        """The file recorded for a path (and query, if it was recorded with one)."""
        return self._files.get(target)


def _recorded_file(path: Path, status: int, content_type: str) -> RecordedFile:
    content = path.read_bytes()
    modified = dt.datetime.fromtimestamp(int(path.stat().st_mtime), tz=dt.UTC)
    return RecordedFile(
        path=path,
        status=status,
        content_type=content_type,
        etag=f'"{hashlib.sha256(content).hexdigest()[:32]}"',
        last_modified=modified,
    )

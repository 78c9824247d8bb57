"""The EDGAR emulator over real HTTP (httpx against the started server)."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.errors import MalformedResponseError
from services.emulator import EmulatorHandle, Fault, FaultKind, run_emulator, serve_emulator
from services.ingest.feed import parse_feed

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "samples" / "edgar-corpus"
MANIFEST = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines()]
SNAPSHOTS = sorted({record["snapshot"] for record in MANIFEST if record.get("snapshot")})
STATIC: list[dict[str, Any]] = [record for record in MANIFEST if not record.get("snapshot")]
USER_AGENT = "sec-digester tests tests@example.com"
FEED = "/cgi-bin/browse-edgar"


@pytest.fixture(scope="module")
def edgar() -> Iterator[EmulatorHandle]:
    with run_emulator(CORPUS) as handle:
        yield handle


@pytest.fixture
def client(edgar: EmulatorHandle) -> Iterator[httpx.Client]:
    edgar.control.faults.clear()
    edgar.control.requests.clear()
    edgar.control.switch_snapshot(SNAPSHOTS[0])
    with httpx.Client(base_url=edgar.base_url, headers={"User-Agent": USER_AGENT}) as client:
        yield client


def getcurrent(client: httpx.Client, **params: int) -> httpx.Response:
    query = {"action": "getcurrent", "type": "", "owner": "include", "output": "atom"}
    return client.get(FEED, params={**query, **{k: str(v) for k, v in params.items()}})


def recorded_page(snapshot: str, start: int, count: int) -> bytes:
    return (CORPUS / f"getcurrent/{snapshot}/start-{start:05d}-count-{count}.xml").read_bytes()


def distinct_entries(snapshot: str) -> int:
    """Entries of the snapshot's files, counted once per (accession, CIK, role)."""
    keys = set()
    for path in (CORPUS / "getcurrent" / snapshot).glob("*.xml"):
        for entry in re.findall(rb"<entry>.*?</entry>", path.read_bytes(), re.DOTALL):
            title = re.search(rb"\((\d{10})\) \(([^()]+)\)</title>", entry)
            accession = re.search(rb"accession-number=([\d-]+)", entry)
            assert title is not None
            assert accession is not None
            keys.add((accession.group(1), title.group(1), title.group(2)))
    return len(keys)


def test_first_pages_are_the_recorded_pages_byte_for_byte(client: httpx.Client) -> None:
    response = getcurrent(client, start=0, count=40)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml"
    assert response.content == recorded_page(SNAPSHOTS[0], 0, 40)


def test_irregular_pages_tile_the_whole_feed(client: httpx.Client, edgar: EmulatorHandle) -> None:
    total = distinct_entries(SNAPSHOTS[0])
    sweep: list[bytes] = []
    start, sizes = 0, [7, 33, 1, 100, 59]
    while start < total:
        count = sizes[len(sweep) % len(sizes)]
        body = getcurrent(client, start=start, count=count).content
        page = parse_feed(body)
        assert len(page.entries) == min(count, total - start)
        sweep.extend(re.findall(rb"<entry>.*?</entry>", body, re.DOTALL))
        start += count
    assert len(sweep) == total
    everything = b"".join(p.read_bytes() for p in (CORPUS / "getcurrent" / SNAPSHOTS[0]).glob("*"))
    assert all(entry in everything for entry in sweep)
    assert len(set(sweep)) == total


def test_count_is_capped_at_100_and_defaults_to_40(client: httpx.Client) -> None:
    assert len(parse_feed(getcurrent(client, start=3, count=500).content).entries) == 100
    default = client.get(FEED, params={"action": "getcurrent", "output": "atom"})
    assert len(parse_feed(default.content).entries) == 40


def test_past_the_end_comes_the_recorded_error_page(client: httpx.Client) -> None:
    response = getcurrent(client, start=5100, count=100)
    assert response.status_code == 503
    assert response.content == recorded_page(SNAPSHOTS[0], 5100, 100)


def test_switching_snapshot_changes_the_feed(client: httpx.Client, edgar: EmulatorHandle) -> None:
    edgar.control.switch_snapshot(SNAPSHOTS[1])
    assert getcurrent(client, start=0, count=100).content == recorded_page(SNAPSHOTS[1], 0, 100)
    switched = client.put("/_emulator/snapshot", json={"name": SNAPSHOTS[0]})
    assert switched.json() == {"current": SNAPSHOTS[0], "available": SNAPSHOTS}
    assert getcurrent(client, start=0, count=40).content == recorded_page(SNAPSHOTS[0], 0, 40)
    assert client.put("/_emulator/snapshot", json={"name": "nope"}).status_code == 404


@pytest.mark.parametrize("record", STATIC, ids=lambda record: record["path"])
def test_recorded_files_are_served_as_recorded(
    client: httpx.Client, record: dict[str, Any]
) -> None:
    url = httpx.URL(record["url"])
    response = client.get(url.raw_path.decode())
    assert response.status_code == record["status"]
    assert response.headers["content-type"] == record["content_type"]
    assert response.content == (CORPUS / record["path"]).read_bytes()


def test_unknown_paths_are_404(client: httpx.Client, edgar: EmulatorHandle) -> None:
    assert (
        client.get("/Archives/edgar/data/1/000000000125000001/0000000001-25-000001.txt").status_code
        == 404
    )
    assert client.get(f"{edgar.data_url}/submissions/CIK0000320193.json").status_code == 404
    assert client.get(FEED, params={"action": "getcompany", "output": "atom"}).status_code == 404
    assert (
        client.get(
            FEED, params={"action": "getcurrent", "start": "x", "output": "atom"}
        ).status_code
        == 400
    )


def test_conditional_requests_get_304(client: httpx.Client) -> None:
    path = "/files/company_tickers.json"
    first = client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    stale = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(path, headers={"If-Modified-Since": stale}).status_code == 200


def test_rate_limit_injection_with_a_path_prefix(
    client: httpx.Client, edgar: EmulatorHandle
) -> None:
    edgar.control.faults.add(
        Fault(FaultKind.RATE_LIMITED, count=2, path_prefix=FEED, retry_after=7)
    )
    assert client.get("/files/company_tickers.json").status_code == 200  # other paths unaffected
    limited = [getcurrent(client, start=0, count=10) for _ in range(2)]
    assert [(r.status_code, r.headers["retry-after"]) for r in limited] == [(429, "7")] * 2
    assert getcurrent(client, start=0, count=10).status_code == 200


def test_forbidden_and_malformed_pages(client: httpx.Client, edgar: EmulatorHandle) -> None:
    edgar.control.faults.add(Fault(FaultKind.FORBIDDEN))
    edgar.control.faults.add(Fault(FaultKind.MALFORMED))
    forbidden = getcurrent(client, start=0, count=10)
    assert forbidden.status_code == 403
    assert b"Undeclared Automated Tool" in forbidden.content
    malformed = getcurrent(client, start=0, count=10)
    assert malformed.status_code == 200
    with pytest.raises(MalformedResponseError):
        parse_feed(malformed.content, url=str(malformed.url))


def test_truncated_page(client: httpx.Client, edgar: EmulatorHandle) -> None:
    whole = getcurrent(client, start=0, count=40).content
    edgar.control.faults.add(Fault(FaultKind.TRUNCATE))
    cut = getcurrent(client, start=0, count=40)
    assert cut.content == whole[: len(whole) // 2]
    with pytest.raises(MalformedResponseError):
        parse_feed(cut.content)


def test_stall_delays_the_answer(client: httpx.Client, edgar: EmulatorHandle) -> None:
    edgar.control.faults.add(Fault(FaultKind.STALL, count=2, stall_seconds=0.4))
    began = time.monotonic()
    assert client.get("/files/company_tickers.json").status_code == 200
    assert time.monotonic() - began >= 0.4
    with pytest.raises(httpx.ReadTimeout):
        client.get("/files/company_tickers.json", timeout=0.1)


def test_reset_drops_the_connection(client: httpx.Client, edgar: EmulatorHandle) -> None:
    edgar.control.faults.add(Fault(FaultKind.RESET))
    with pytest.raises(httpx.TransportError):
        getcurrent(client, start=0, count=10)
    assert getcurrent(client, start=0, count=10).status_code == 200
    assert [r.status for r in edgar.control.requests.snapshot()] == [None, 200]


def test_faults_through_the_http_control_endpoints(client: httpx.Client) -> None:
    fault = {"kind": "429", "count": 1, "path_prefix": "/files/", "retry_after": 3}
    assert client.post("/_emulator/faults", json=fault).status_code == 201
    assert client.get("/_emulator/faults").json()[0]["kind"] == "429"
    assert client.get("/files/company_tickers.json").status_code == 429
    assert client.post("/_emulator/faults", json={"kind": "teapot"}).status_code == 400
    assert client.post("/_emulator/faults", json={"kind": "429", "count": 0}).status_code == 400
    client.post("/_emulator/faults", json={"kind": "403", "count": 5})
    assert client.delete("/_emulator/faults").status_code == 204
    assert client.get("/files/company_tickers.json").status_code == 200


def test_request_log(client: httpx.Client, edgar: EmulatorHandle) -> None:
    for start in range(12):
        getcurrent(client, start=start, count=1)
    client.get("/nowhere", headers={"User-Agent": "other"})

    logged = edgar.control.requests.snapshot()
    assert len(logged) == 13  # control requests are not logged
    assert [r.user_agent for r in logged] == [USER_AGENT] * 12 + ["other"]
    assert [r.status for r in logged] == [200] * 12 + [404]
    assert logged[3].target.startswith(f"{FEED}?action=getcurrent")
    assert "start=3" in logged[3].target
    arrivals = [r.monotonic for r in logged]
    by_hand = max(sum(1 for t in arrivals if a <= t < a + 1.0) for a in arrivals)
    assert edgar.control.requests.max_in_window(1.0) == by_hand
    over_http = client.get("/_emulator/requests").json()
    assert [r["target"] for r in over_http] == [r.target for r in logged]
    assert over_http[0]["wall_time"].endswith("+00:00")
    assert client.delete("/_emulator/requests").status_code == 204
    assert edgar.control.requests.snapshot() == []


@pytest.mark.asyncio
async def test_serve_emulator_in_async_code() -> None:
    async with serve_emulator(CORPUS, SNAPSHOTS[1]) as handle, httpx.AsyncClient() as client:
        response = await client.get(
            f"{handle.base_url}{FEED}?action=getcurrent&count=100&output=atom"
        )
        assert response.content == recorded_page(SNAPSHOTS[1], 0, 100)


def test_runs_as_its_own_process_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "services.emulator", "--corpus", str(CORPUS), "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        base_url = re.search(r"base_url=(\S+)", ready).group(1)  # type: ignore[union-attr]
        assert httpx.get(f"{base_url}/files/company_tickers.json").status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_data_sec_gov_files_are_served_under_their_prefix(tmp_path: Path) -> None:
    # The corpus records no data.sec.gov response yet: a corpus of one feed page and one
    # data.sec.gov file (real bytes, from the corpus) shows where such files are served.
    page = next(r for r in MANIFEST if r.get("snapshot") and r["status"] == 200)
    tickers = next(r for r in STATIC if r["path"].endswith("company_tickers.json"))
    data_record: dict[str, Any] = {
        "url": "https://data.sec.gov/api/xbrl/companytickers.json",
        "status": 200,
        "content_type": "application/json",
        "path": "data.sec.gov/api/xbrl/companytickers.json",
    }
    for record, source in ((page, page["path"]), (data_record, tickers["path"])):
        (tmp_path / record["path"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / record["path"]).write_bytes((CORPUS / source).read_bytes())
    lines = [json.dumps(record) for record in (page, data_record)]
    (tmp_path / "manifest.jsonl").write_text("\n".join(lines) + "\n")

    with run_emulator(tmp_path) as edgar, httpx.Client() as client:
        response = client.get(f"{edgar.data_url}/api/xbrl/companytickers.json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content == (CORPUS / tickers["path"]).read_bytes()
        assert client.get(f"{edgar.base_url}/api/xbrl/companytickers.json").status_code == 404


def test_a_snapshot_without_its_newest_entries_is_the_feed_as_it_stood_earlier(
    client: httpx.Client, edgar: EmulatorHandle
) -> None:
    full = parse_feed(getcurrent(client, start=100, count=100).content).entries
    edgar.control.switch_snapshot(SNAPSHOTS[0], without_newest=100)
    earlier = parse_feed(getcurrent(client, start=0, count=100).content).entries
    assert [e.accession_number for e in earlier] == [e.accession_number for e in full]
    # Via the control API too, for an emulator in another process.
    answer = client.put("/_emulator/snapshot", json={"name": SNAPSHOTS[0], "without_newest": 200})
    assert answer.status_code == 200
    shifted = parse_feed(getcurrent(client, start=0, count=100).content).entries
    assert shifted[0].accession_number != earlier[0].accession_number


def test_a_recorded_daily_index_can_be_published_as_another_days_index(
    client: httpx.Client, edgar: EmulatorHandle
) -> None:
    recorded = "/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx"
    target = "/Archives/edgar/daily-index/2026/QTR4/form.20261130.idx"
    assert client.get(target).status_code == 404
    edgar.control.publish_daily_index(dt.date(2026, 11, 30), recorded)
    assert client.get(target).content == client.get(recorded).content
    answer = client.post("/_emulator/daily-index", json={"day": "2026-11-27", "recorded": recorded})
    assert answer.status_code == 204
    assert client.get(target.replace("20261130", "20261127")).status_code == 200
    unknown = client.post("/_emulator/daily-index", json={"day": "2026-11-27", "recorded": "/x"})
    assert unknown.status_code == 404
    assert client.post("/_emulator/daily-index", json={"day": "soon"}).status_code == 400

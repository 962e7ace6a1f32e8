"""EventStream: cursor, read timeout, gaps, restarts, reconnection with backoff."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses
from multidict import CIMultiDict, CIMultiDictProxy

from peerdeck.client import Reply
from peerdeck.exceptions import PeerdeckAuthenticationError, PeerdeckInvalidResponseError
from peerdeck.syncthing import EventStream, SyncthingClient, SyncthingEvent
from peerdeck.syncthing.client import EVENT_READ_MARGIN
from peerdeck.syncthing.events import parse_time

from ..samples import sample_json
from .conftest import URL

EVENTS = re.compile(rf"^{re.escape(URL)}/rest/events\?.*$")


def event(event_id: int, kind: str = "StateChanged") -> dict[str, Any]:
    return {"id": event_id, "globalID": event_id + 100, "time": "2026-11-22T23:50:12.878188416Z", "type": kind}


def queries(mocked: aioresponses) -> list[dict[str, str]]:
    return [
        dict(url.query)
        for (method, url), calls in mocked.requests.items()
        if method == "GET" and url.path == "/rest/events"
        for _ in calls
    ]


async def test_subscribe_moves_the_cursor_without_waiting(mocked: aioresponses, client: SyncthingClient) -> None:
    mocked.get(EVENTS, payload=[event(12)])
    stream = EventStream(client, events=["FolderPaused"])
    assert await stream.subscribe() == 12
    assert stream.since == 12
    assert queries(mocked) == [{"since": "0", "limit": "1", "timeout": "0", "events": "FolderPaused"}]


async def test_long_poll_reads_batches_with_a_read_timeout_above_the_servers(
    mocked: aioresponses, client: SyncthingClient
) -> None:
    recorded = sample_json("syncthing", "events_filtered_after_subscribe")
    mocked.get(EVENTS, payload=recorded)
    stream = EventStream(client, events=["StateChanged"], timeout=30)
    batch = await anext(aiter(stream))
    assert not batch.resync
    assert [e.id for e in batch.events] == [e["id"] for e in recorded]
    assert stream.since == recorded[-1]["id"]
    assert batch.events[0].type == "FolderPaused"
    assert batch.events[0].data == {"id": "demo", "label": "Demo"}
    assert queries(mocked)[0]["timeout"] == "30"


async def test_read_timeout_is_above_the_server_wait(monkeypatch: pytest.MonkeyPatch, client: SyncthingClient) -> None:
    seen: list[float | None] = []

    async def fake_request(method: str, path: str, **kwargs: Any) -> Reply:
        seen.append(kwargs.get("timeout"))
        return Reply(200, CIMultiDictProxy(CIMultiDict()), [])

    monkeypatch.setattr(client, "_request", fake_request)
    await client.events(timeout=30)
    await client.events()
    assert seen == [30 + EVENT_READ_MARGIN, 60 + EVENT_READ_MARGIN]


async def test_gap_in_ids_asks_for_a_resync(mocked: aioresponses, client: SyncthingClient) -> None:
    mocked.get(EVENTS, payload=[event(11), event(12)])
    mocked.get(EVENTS, payload=[event(40), event(41)])
    stream = EventStream(client, since=10)
    batches = aiter(stream)
    first = await anext(batches)
    second = await anext(batches)
    assert not first.resync
    assert second.resync
    assert second.reason == "gap"
    assert [e.id for e in second.events] == [40, 41]
    assert stream.gaps == 1


async def test_failure_then_restart_resets_the_cursor_and_resyncs(
    mocked: aioresponses, client: SyncthingClient
) -> None:
    mocked.get(EVENTS, exception=aiohttp.ClientConnectionError("refused"))
    mocked.get(EVENTS, exception=aiohttp.ServerDisconnectedError())
    mocked.get(EVENTS, payload=[event(3)])  # the restarted daemon's newest id
    mocked.get(EVENTS, payload=[event(4)])
    stream = EventStream(client, since=500, backoff_initial=0.001)
    batches = aiter(stream)
    recovered = await anext(batches)
    assert recovered.resync
    assert recovered.reason == "restart"
    assert stream.since == 3
    assert stream.restarts == 1
    assert stream.connected
    after = await anext(batches)
    assert [e.id for e in after.events] == [4]
    # the poll fails, then the first restart probe (since=0) fails too, the second answers
    assert sorted(q["since"] for q in queries(mocked)) == ["0", "0", "3", "500"]


async def test_a_restart_between_two_polls_is_found_by_the_empty_poll(
    mocked: aioresponses, client: SyncthingClient
) -> None:
    """A daemon restarted between two polls (no failed request) numbers from 1 again, and answers a
    cursor above its newest id by waiting in vain (Syncthing's ``BufferedSubscription.Since``)."""
    newest = 3
    waits = 0

    def daemon(url: Any, **kwargs: Any) -> CallbackResult:
        nonlocal waits
        since = int(url.query["since"])
        if since >= newest:
            waits += 1
            # Old code polls like this for ever: end the test there.
            return CallbackResult(payload=[]) if waits < 5 else CallbackResult(status=403, body="CSRF Error\n")
        fresh = [event(i) for i in range(since + 1, newest + 1)]
        return CallbackResult(payload=fresh[-1:] if url.query.get("limit") == "1" else fresh)

    mocked.get(EVENTS, callback=daemon, repeat=True)
    stream = EventStream(client, since=50)
    batch = await anext(aiter(stream))
    assert (batch.resync, batch.reason) == (True, "restart")
    assert (stream.since, stream.restarts) == (3, 1)
    assert queries(mocked) == [
        {"since": "50", "timeout": "60"},
        {"since": "0", "limit": "1", "timeout": "0"},
    ]


async def test_failure_without_restart_keeps_the_cursor(mocked: aioresponses, client: SyncthingClient) -> None:
    mocked.get(EVENTS, exception=TimeoutError())
    mocked.get(EVENTS, payload=[event(60)])
    mocked.get(EVENTS, payload=[event(51)])
    stream = EventStream(client, since=50, backoff_initial=0.001)
    batches = aiter(stream)
    recovered = await anext(batches)
    assert (recovered.resync, recovered.reason) == (True, "reconnect")
    assert stream.since == 50
    assert [e.id for e in (await anext(batches)).events] == [51]
    assert stream.reconnects == 1


async def test_backoff_grows_and_is_capped(client: SyncthingClient) -> None:
    stream = EventStream(client, backoff_initial=1.0, backoff_max=8.0)
    delays = []
    for failures in (1, 2, 3, 4, 10):
        stream.failures = failures
        delays.append(stream._delay())
    assert 0.5 <= delays[0] <= 1.0
    assert 1.0 <= delays[1] <= 2.0
    assert all(4.0 <= d <= 8.0 for d in delays[3:])


async def test_rejected_key_ends_the_stream(mocked: aioresponses, client: SyncthingClient) -> None:
    mocked.get(EVENTS, status=403, body="CSRF Error\n")
    with pytest.raises(PeerdeckAuthenticationError):
        await anext(aiter(EventStream(client)))


async def test_empty_polls_yield_nothing_until_events_come(mocked: aioresponses, client: SyncthingClient) -> None:
    calls = 0

    def answer(url: Any, **kwargs: Any) -> CallbackResult:
        nonlocal calls
        calls += 1
        return CallbackResult(payload=[] if calls < 3 else [event(1)])

    mocked.get(EVENTS, callback=answer, repeat=True)
    batch = await anext(aiter(EventStream(client)))
    assert calls == 3
    assert [e.id for e in batch.events] == [1]


def test_event_parsing() -> None:
    parsed = SyncthingEvent.from_json({"id": 5, "type": "ConfigSaved", "data": None, "time": "bad"})
    assert (parsed.data, parsed.time, parsed.global_id) == ({}, None, None)
    with pytest.raises(PeerdeckInvalidResponseError):
        SyncthingEvent.from_json({"type": "x"})
    assert parse_time("2026-11-22T23:50:12.878188416Z") == datetime(2026, 11, 22, 23, 50, 12, 878188, tzinfo=UTC)
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("2026-11-22T23:50:12+01:00") is not None

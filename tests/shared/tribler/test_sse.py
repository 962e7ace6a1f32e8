"""The event-stream parser, event decoding, and reconnection (scripted and against the conformance core)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

from peerdeck import PeerdeckAuthenticationError, PeerdeckConnectionError, PeerdeckServerError
from peerdeck.tribler import (
    Backoff,
    EventsStart,
    OtherEvent,
    RemoteQueryResults,
    SseFrame,
    SseParser,
    TorrentFinished,
    TorrentStatusChanged,
    TriblerClient,
    TriblerEvent,
    decode_event,
    read_events,
)

from .conftest import FAST, Core

TRIBLER_FRAME = b'event: torrent_status_changed\ndata: {"infohash": "AB", "status": "SEEDING"}\n\n'


def parse_all(chunks: Sequence[bytes]) -> list[SseFrame]:
    parser = SseParser()
    return [frame for chunk in chunks for frame in parser.feed(chunk)]


def test_tribler_frame() -> None:
    assert parse_all([TRIBLER_FRAME]) == [SseFrame("torrent_status_changed", '{"infohash": "AB", "status": "SEEDING"}')]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 50])
def test_frame_split_anywhere(size: int) -> None:
    stream = TRIBLER_FRAME * 3
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    assert parse_all(chunks) == parse_all([stream])
    assert len(parse_all(chunks)) == 3


def test_multibyte_character_split_across_chunks() -> None:
    frame = 'event: torrent_finished\ndata: {"name": "Amélie"}\n\n'.encode()
    cut = frame.index("é".encode()) + 1
    assert parse_all([frame[:cut], frame[cut:]])[0].data == '{"name": "Amélie"}'


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert parse_all([b"data: first\ndata:second\ndata:  third\n\n"]) == [SseFrame("message", "first\nsecond\n third")]


def test_comments_and_unknown_fields_are_ignored() -> None:
    frames = parse_all([b": keep-alive\nfoo: bar\nevent: x\n:another\ndata: 1\n\n"])
    assert frames == [SseFrame("x", "1")]


def test_frames_without_data_are_not_dispatched_and_event_resets() -> None:
    frames = parse_all([b"event: lonely\n\ndata: 2\n\n"])
    assert frames == [SseFrame("message", "2")]


@pytest.mark.parametrize("ending", [b"\r\n", b"\r", b"\n"])
def test_all_line_endings(ending: bytes) -> None:
    stream = ending.join([b"event: a", b"data: 1", b"", b"event: b", b"data: 2", b"", b""])
    assert parse_all([stream]) == [SseFrame("a", "1"), SseFrame("b", "2")]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert parse_all([b"data: 1\r", b"\ndata: 2\r", b"\n\r", b"\n"]) == [SseFrame("message", "1\n2")]


def test_field_without_colon_and_value_without_space() -> None:
    assert parse_all([b"data\ndata:x\n\n"]) == [SseFrame("message", "\nx")]


def test_id_and_retry() -> None:
    frames = parse_all([b"id: 7\nretry: 1500\ndata: a\n\nretry: soon\ndata: b\n\n"])
    assert frames == [SseFrame("message", "a", "7", 1500), SseFrame("message", "b", "7", None)]


def test_incomplete_frame_waits_for_its_end() -> None:
    parser = SseParser()
    assert parser.feed(b"event: a\ndata: 1\n") == []
    assert parser.feed(b"") == []
    assert parser.feed(b"\n") == [SseFrame("a", "1")]


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            SseFrame("events_start", '{"public_key": "pk", "version": "8.4.3", "sessions": "1"}'),
            EventsStart("pk", "8.4.3", 1),
        ),
        (
            SseFrame("torrent_status_changed", '{"infohash": "AB", "status": "STOPPED"}'),
            TorrentStatusChanged("ab", "STOPPED"),
        ),
        (
            SseFrame("torrent_finished", '{"infohash": "ab", "name": "n", "hidden": true}'),
            TorrentFinished("ab", "n", True),
        ),
        (
            SseFrame("remote_query_results", '{"query": "q", "results": [{"name": "x"}, 3], "uuid": "u", "peer": "p"}'),
            RemoteQueryResults("q", ({"name": "x"},), "u", "p"),
        ),
        (
            SseFrame("low_space", '{"disk_usage_data": {"free": 1}}'),
            OtherEvent("low_space", {"disk_usage_data": {"free": 1}}),
        ),
        (SseFrame("torrent_finished", '{"name": "no hash"}'), OtherEvent("torrent_finished", {"name": "no hash"})),
        (SseFrame("tribler_exception", "not json"), OtherEvent("tribler_exception", "not json")),
        (SseFrame("message", "[1, 2]"), OtherEvent("message", [1, 2])),
    ],
)
def test_decode_event(frame: SseFrame, expected: TriblerEvent) -> None:
    assert decode_event(frame) == expected


# ---------------------------------------------------------------------- scripted reconnection


class FakeContent:
    def __init__(self, chunks: Sequence[bytes], error: BaseException | None) -> None:
        self._chunks = chunks
        self._error = error

    async def iter_any(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        if self._error is not None:
            raise self._error


class FakeResponse:
    def __init__(self, chunks: Sequence[bytes], error: BaseException | None) -> None:
        self.content = FakeContent(chunks, error)


def start_frame(sessions: int = 0) -> bytes:
    data = json.dumps({"public_key": "pk", "version": "8.4.3", "sessions": str(sessions)})
    return f"event: events_start\ndata: {data}\n\n".encode()


class Script:
    """Connections that fail to open, break, or end as scripted; records the back-off sleeps."""

    def __init__(self, outcomes: list[BaseException | tuple[list[bytes], BaseException | None]]) -> None:
        self.outcomes = outcomes
        self.opened = 0
        self.sleeps: list[float] = []

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Any]:
        outcome = self.outcomes[min(self.opened, len(self.outcomes) - 1)]
        self.opened += 1
        if isinstance(outcome, BaseException):
            raise outcome
        yield FakeResponse(*outcome)

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)


async def take(events: AsyncIterator[TriblerEvent], count: int) -> list[TriblerEvent]:
    return [await anext(events) for _ in range(count)]


async def test_backoff_doubles_and_resets_after_a_good_connection() -> None:
    refused = PeerdeckConnectionError("refused")
    script = Script(
        [
            refused,
            refused,
            refused,
            ([start_frame(), TRIBLER_FRAME], PeerdeckConnectionError("cut")),
            refused,
            ([start_frame(1)], None),
        ]
    )
    events = read_events(script.open, backoff=Backoff(initial=1, maximum=3), sleep=script.sleep)
    got = await take(events, 3)
    assert got == [EventsStart("pk", "8.4.3", 0), TorrentStatusChanged("ab", "SEEDING"), EventsStart("pk", "8.4.3", 1)]
    assert script.sleeps == [1, 2, 3, 1, 2]
    await events.aclose()


async def test_gives_up_after_max_attempts() -> None:
    script = Script([PeerdeckServerError("boom", 500)])
    events = read_events(script.open, backoff=Backoff(initial=1, max_attempts=3), sleep=script.sleep)
    with pytest.raises(PeerdeckConnectionError, match="failed 3 times"):
        await anext(events)
    assert script.sleeps == [1, 2]


async def test_wrong_key_is_not_retried() -> None:
    script = Script([PeerdeckAuthenticationError("401")])
    with pytest.raises(PeerdeckAuthenticationError):
        await anext(read_events(script.open, sleep=script.sleep))
    assert script.opened == 1


# ---------------------------------------------------------------------- against the core


async def test_stream_starts_with_events_start_and_delivers(core: Core, client: TriblerClient) -> None:
    events = client.events(backoff=FAST)
    first = await anext(events)
    assert first == EventsStart(core.server.public_key, "8.4.3", 0)
    core.server.notify("torrent_status_changed", infohash="AB", status="DOWNLOADING")
    core.server.notify("tunnel_removed", circuit_id=1, circuit_class="Circuit", bytes_up=0, bytes_down=0, uptime=1.0)
    assert await anext(events) == TorrentStatusChanged("ab", "DOWNLOADING")
    assert await anext(events) == OtherEvent(
        "tunnel_removed", {"circuit_id": 1, "circuit_class": "Circuit", "bytes_up": 0, "bytes_down": 0, "uptime": 1.0}
    )
    await events.aclose()


async def test_slow_stream_trickling_bytes(core: Core, client: TriblerClient) -> None:
    core.server.slow_chunk = 3
    events = client.events(backoff=FAST)
    assert isinstance(await anext(events), EventsStart)
    core.server.notify("torrent_finished", infohash="ab", name="Amélie", hidden=False)
    assert await anext(events) == TorrentFinished("ab", "Amélie", False)
    await events.aclose()


async def test_reconnects_after_a_broken_stream(core: Core, client: TriblerClient) -> None:
    events = client.events(backoff=FAST)
    assert isinstance(await anext(events), EventsStart)
    core.server.break_streams()
    assert isinstance(await anext(events), EventsStart)
    assert core.server.stream_count == 2
    core.server.notify("torrent_status_changed", infohash="ab", status="SEEDING")
    assert await anext(events) == TorrentStatusChanged("ab", "SEEDING")
    await events.aclose()


async def test_reconnects_after_the_core_ends_the_stream(core: Core, client: TriblerClient) -> None:
    events = client.events(backoff=FAST)
    assert isinstance(await anext(events), EventsStart)
    core.server.end_streams()
    assert isinstance(await anext(events), EventsStart)
    assert core.server.stream_count == 2
    await events.aclose()


async def test_silent_stream_is_replaced(core: Core, client: TriblerClient) -> None:
    core.server.stall_streams = 1
    client.events_idle_timeout = 0.1
    events = client.events(backoff=FAST)
    assert isinstance(await anext(events), EventsStart)
    assert core.server.stream_count == 2
    await events.aclose()


async def test_closing_the_iterator_closes_the_connection(core: Core, client: TriblerClient) -> None:
    events = client.events(backoff=FAST)
    await anext(events)
    await events.aclose()
    await core.server.wait_streams(0)
    assert (await client.events_info())["sessions"] == "0"


async def test_wrong_key_on_the_stream_is_an_authentication_error(core: Core) -> None:
    async with TriblerClient(core.url, api_key="wrong") as client:
        with pytest.raises(PeerdeckAuthenticationError):
            await anext(client.events(backoff=FAST))
    assert core.server.stream_count == 0

"""Tribler's server-sent event stream: a frame parser, typed events and a reconnecting reader.

Tribler pushes torrent changes and remote search results only over ``GET /api/events``
(frames ``event: <topic>`` + ``data: <json kwargs>``), and only to clients connected at
that moment: nothing is replayed. Every connection starts with an ``events_start`` frame,
so a consumer that sees one knows it may have missed events and should resynchronise.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import aiohttp

from ..exceptions import PeerdeckConnectionError, PeerdeckServerError

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SseFrame:
    """One dispatched server-sent event, before its data is interpreted."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SseParser:
    """Incremental parser of the ``text/event-stream`` format (WHATWG HTML §9.2).

    Bytes may arrive split anywhere (a slow stream sends a frame a few bytes at a time,
    even inside a UTF-8 character or between ``\\r`` and ``\\n``), so lines are cut from a
    byte buffer and decoded only once complete.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._pending_cr = False
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[SseFrame]:
        """Add received bytes; return the frames they complete."""
        if not chunk:
            return []
        if self._pending_cr and chunk.startswith(b"\n"):
            # The "\n" of a "\r\n" split across two chunks: the line already ended.
            chunk = chunk[1:]
        self._pending_cr = False
        self._buffer += chunk
        frames: list[SseFrame] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                break
            end, width = cut
            line = self._buffer[:end].decode("utf-8", errors="replace")
            if width == 1 and self._buffer[end : end + 1] == b"\r" and end + 1 == len(self._buffer):
                self._pending_cr = True
            self._buffer = self._buffer[end + width :]
            frame = self._line(line)
            if frame is not None:
                frames.append(frame)
        return frames

    def _line(self, line: str) -> SseFrame | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment, used as keep-alive by some servers
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SseFrame | None:
        event, data = self._event or "message", self._data
        self._event, self._data = "", []
        retry, self._retry = self._retry, None
        if not data:
            return None
        return SseFrame(event=event, data="\n".join(data), id=self._id, retry=retry)


def _line_end(buffer: bytes) -> tuple[int, int] | None:
    """Position and width of the first line terminator (``\\r\\n``, ``\\n`` or ``\\r``)."""
    cr = buffer.find(b"\r")
    lf = buffer.find(b"\n")
    if cr == -1 and lf == -1:
        return None
    if cr == -1 or (lf != -1 and lf < cr):
        return lf, 1
    if buffer[cr + 1 : cr + 2] == b"\n":
        return cr, 2
    return cr, 1


# ---------------------------------------------------------------------- typed events


@dataclass(frozen=True, slots=True)
class EventsStart:
    """First frame of every connection: the core's identity (and a cue to resynchronise)."""

    public_key: str
    version: str
    sessions: int


@dataclass(frozen=True, slots=True)
class TorrentStatusChanged:
    """A download's ``DownloadStatus`` changed (``status`` is its name, e.g. ``SEEDING``)."""

    infohash: str
    status: str


@dataclass(frozen=True, slots=True)
class TorrentFinished:
    """A download finished; ``hidden`` ones are Tribler's own (not in the downloads list)."""

    infohash: str
    name: str
    hidden: bool


@dataclass(frozen=True, slots=True)
class RemoteQueryResults:
    """Results of a remote search from one peer, matched to the search by ``uuid``."""

    query: str
    results: tuple[Mapping[str, Any], ...]
    uuid: str
    peer: str


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """Any other topic (``torrent_health_updated``, ``low_space``, ``tribler_exception`` …), as sent."""

    topic: str
    data: Any = field(default=None)


TriblerEvent: TypeAlias = EventsStart | TorrentStatusChanged | TorrentFinished | RemoteQueryResults | OtherEvent


def decode_event(frame: SseFrame) -> TriblerEvent:
    """Interpret a frame; malformed data of a known topic becomes an :class:`OtherEvent`, never an error."""
    try:
        data = json.loads(frame.data)
    except ValueError:
        return OtherEvent(frame.event, frame.data)
    if not isinstance(data, dict):
        return OtherEvent(frame.event, data)
    try:
        if frame.event == "events_start":
            return EventsStart(str(data["public_key"]), str(data["version"]), int(data["sessions"]))
        if frame.event == "torrent_status_changed":
            return TorrentStatusChanged(str(data["infohash"]).lower(), str(data["status"]))
        if frame.event == "torrent_finished":
            return TorrentFinished(str(data["infohash"]).lower(), str(data["name"]), bool(data.get("hidden", False)))
        if frame.event == "remote_query_results":
            results = tuple(r for r in data["results"] if isinstance(r, dict))
            return RemoteQueryResults(str(data.get("query", "")), results, str(data["uuid"]), str(data.get("peer", "")))
    except (KeyError, TypeError, ValueError):
        _LOGGER.debug("Tribler sent a malformed %s event: %.200s", frame.event, frame.data)
    return OtherEvent(frame.event, data)


# ---------------------------------------------------------------------- reconnecting reader

StreamOpener: TypeAlias = Callable[[], AbstractAsyncContextManager[aiohttp.ClientResponse]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between reconnections: ``initial`` doubling up to ``maximum``; reset by a good connection."""

    initial: float = 0.5
    maximum: float = 30.0
    max_attempts: int | None = None
    """Failed connections in a row before giving up (None: never give up)."""


async def read_events(
    open_stream: StreamOpener,
    *,
    backoff: Backoff | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncGenerator[TriblerEvent, None]:
    """Yield events for ever, reconnecting after a broken, silent or refused stream.

    Only connection failures (a core still starting among them) and 5xx answers are retried:
    waiting cannot fix a wrong key or a daemon without the endpoint.
    A reconnection shows up as a new :class:`EventsStart`.
    """
    policy = backoff or Backoff()
    delay = policy.initial
    failures = 0
    while True:
        try:
            async with open_stream() as response:
                parser = SseParser()
                async for chunk in response.content.iter_any():
                    for frame in parser.feed(chunk):
                        event = decode_event(frame)
                        if isinstance(event, EventsStart):
                            delay, failures = policy.initial, 0
                        yield event
            _LOGGER.debug("Tribler closed the event stream; reconnecting")
        except (PeerdeckConnectionError, PeerdeckServerError) as err:
            _LOGGER.debug("Tribler event stream failed: %s", err)
        failures += 1
        if policy.max_attempts is not None and failures >= policy.max_attempts:
            raise PeerdeckConnectionError(f"the Tribler event stream failed {failures} times in a row")
        await sleep(delay)
        delay = min(delay * 2, policy.maximum)

"""Tribler 8 (REST API under ``/api``): the full client, its event stream and the unified backend."""

from .backend import TriblerBackend, to_search_hit, to_transfer
from .client import RemoteSearch, TriblerClient, TriblerNotReadyError
from .sse import (
    Backoff,
    EventsStart,
    OtherEvent,
    RemoteQueryResults,
    SseFrame,
    SseParser,
    TorrentFinished,
    TorrentStatusChanged,
    TriblerEvent,
    decode_event,
    read_events,
)

__all__ = [
    "Backoff",
    "EventsStart",
    "OtherEvent",
    "RemoteQueryResults",
    "RemoteSearch",
    "SseFrame",
    "SseParser",
    "TorrentFinished",
    "TorrentStatusChanged",
    "TriblerBackend",
    "TriblerClient",
    "TriblerEvent",
    "TriblerNotReadyError",
    "decode_event",
    "read_events",
    "to_search_hit",
    "to_transfer",
]

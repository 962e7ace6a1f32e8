"""Tribler 8 (REST API under ``/api``): the full client, its event stream and the unified backend."""

from .actions import has_handle
from .backend import TriblerBackend, to_search_hit, to_transfer
from .client import (
    RemoteSearch,
    TriblerActionError,
    TriblerClient,
    TriblerComponentOffError,
    TriblerNotReadyError,
)
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
    "TriblerActionError",
    "TriblerBackend",
    "TriblerClient",
    "TriblerComponentOffError",
    "TriblerEvent",
    "TriblerNotReadyError",
    "decode_event",
    "has_handle",
    "read_events",
    "to_search_hit",
    "to_transfer",
]

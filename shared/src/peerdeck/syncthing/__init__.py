"""Syncthing: REST client, event stream and unified backend."""

from .backend import SyncthingBackend
from .client import SyncthingClient, normalize_device_id
from .events import EventBatch, EventStream, SyncthingEvent
from .ids import InvalidSyncthingIdError

__all__ = [
    "EventBatch",
    "EventStream",
    "InvalidSyncthingIdError",
    "SyncthingBackend",
    "SyncthingClient",
    "SyncthingEvent",
    "normalize_device_id",
]

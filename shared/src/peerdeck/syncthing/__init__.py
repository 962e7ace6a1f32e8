"""Syncthing: REST client, event stream and unified backend."""

from .backend import InvalidSyncthingIdError, SyncthingBackend
from .client import SyncthingClient, normalize_device_id
from .events import EventBatch, EventStream, SyncthingEvent

__all__ = [
    "EventBatch",
    "EventStream",
    "InvalidSyncthingIdError",
    "SyncthingBackend",
    "SyncthingClient",
    "SyncthingEvent",
    "normalize_device_id",
]

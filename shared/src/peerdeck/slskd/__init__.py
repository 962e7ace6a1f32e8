"""slskd (Soulseek daemon, REST API v0, 0.22 to 0.26): the full client and the unified backend."""

from .backend import SlskdBackend, split_id, to_transfer
from .client import EnqueueFailure, EnqueueResult, EventsPage, SlskdClient, event_data
from .states import parse_flags, transfer_state

__all__ = [
    "EnqueueFailure",
    "EnqueueResult",
    "EventsPage",
    "SlskdBackend",
    "SlskdClient",
    "event_data",
    "parse_flags",
    "split_id",
    "to_transfer",
    "transfer_state",
]

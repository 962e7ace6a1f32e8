"""Who hears about a finished transfer, and in which message: pure bookkeeping on the saved state."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import replace

from peerdeck import TransferEvent, TransferEventKind

from .config import BotConfig
from .state import BotState, Delivery

_LOGGER = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
SUMMARY_LINES = 20
"""Notices per channel summary message."""


def queue_notices(state: BotState, config: BotConfig, backend: str, event: TransferEvent, *, listed: bool) -> None:
    """Queue the notices for one event; items that are not listed transfers of their own (a
    Syncthing file) are told only to whoever asked for them, never to the channel."""
    requests = state.requests.setdefault(backend, {})
    watching = state.watchers.setdefault(backend, {})
    tid = event.transfer.id
    if event.kind is TransferEventKind.REMOVED:
        requests.pop(tid, None)
        watching.pop(tid, None)
        return
    if event.kind is TransferEventKind.COMPLETED:
        request = requests.pop(tid, None)
        watchers = watching.pop(tid, [])
        outcome = "completed"
    elif event.kind is TransferEventKind.FAILED:
        request = requests.get(tid)
        watchers = watching.get(tid, [])
        outcome = "failed"
    else:
        return
    if request is None and not watchers and not (config.announce_all and listed):
        return
    name = event.transfer.name
    has_channel = config.notify_channel_id is not None
    prefs = state.prefs
    others = [(u, prefs.get(u, config.default_notify)) for u in watchers if request is None or u != request.user_id]
    wanted = ([(request.user_id, request.mode)] if request is not None else []) + others
    deliveries = [
        Delivery(backend, tid, name, outcome, "dm", user_id, own=request is not None and user_id == request.user_id)
        for user_id, mode in wanted
        if mode == "dm" or (mode == "channel" and not has_channel)
    ]
    pings = tuple(u for u, mode in others if mode == "channel")
    if has_channel and (request is not None or pings or (config.announce_all and listed)):
        mention = request is not None and request.mode == "channel"
        user_id = request.user_id if request is not None else None
        deliveries.append(Delivery(backend, tid, name, outcome, "channel", user_id, mention, pings))
    known = {d.key for d in state.outbox}
    state.outbox.extend(d for d in deliveries if d.key not in known)


def settle(outbox: Sequence[Delivery], message: str, *, done: bool) -> list[Delivery]:
    """The outbox after one try of ``message``: gone when done, else tried once more (given up after
    :data:`MAX_ATTEMPTS`)."""
    remaining: list[Delivery] = []
    for delivery in outbox:
        if delivery.message != message:
            remaining.append(delivery)
        elif done:
            continue
        elif delivery.attempts + 1 >= MAX_ATTEMPTS:
            _LOGGER.warning(
                "giving up on a %s notice for %s after %d attempts", delivery.target, delivery.key, MAX_ATTEMPTS
            )
        else:
            remaining.append(replace(delivery, attempts=delivery.attempts + 1))
    return remaining


def plan_messages(outbox: Sequence[Delivery]) -> list[Delivery]:
    """Give every notice without a message one: a DM each, channel lines by :data:`SUMMARY_LINES`."""
    planned: list[Delivery] = []
    open_batch: str | None = None
    open_size = 0
    for delivery in outbox:
        if delivery.message is not None:
            planned.append(delivery)
            continue
        if delivery.target == "dm":
            planned.append(replace(delivery, message=secrets.token_hex(8)))
            continue
        if open_batch is None or open_size >= SUMMARY_LINES:
            open_batch, open_size = secrets.token_hex(8), 0
        open_size += 1
        planned.append(replace(delivery, message=open_batch))
    return planned

"""What the Peerdeck card does besides watching: act on rows, show a row's details, add, search.

Actions and adds go through the integration's own actions (``peerdeck.pause`` …, ``peerdeck.enqueue``)
with the user's context, so Home Assistant's rules for who may call them apply exactly as from
Developer tools. What the card adds is speed: after acting, the daemon is read back until it shows
the change (or ``CONFIRM_DELAYS`` run out), and that read goes to every open card as a feed diff.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping
from typing import Any, Final

from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_HOME_ASSISTANT_ERROR, ERR_INVALID_FORMAT, ERR_NOT_FOUND
from homeassistant.components.websocket_api.decorators import async_response, websocket_command
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util.hass_dict import HassKey

from peerdeck import EnqueueOptions, PeerdeckError, SearchHit, SearchKind, TorrentFile, Transfer, TransferState
from peerdeck.validation import MAX_TORRENT_FILE_SIZE, validate_enqueue_options, validate_enqueue_target, validate_query

from .const import DOMAIN, EVENT_TAGS_LIMIT
from .coordinator import PeerdeckConfigEntry, PeerdeckCoordinator, bounded
from .schema import vol
from .services import checked, run_action
from .websocket import ATTR_ENTRY_ID, readable_entry, transfer_kind, transfer_ratio, transfer_status

WS_ACT: Final = "peerdeck/transfers/act"
WS_DETAILS: Final = "peerdeck/transfers/details"
WS_ADD: Final = "peerdeck/transfers/add"
WS_SEARCH: Final = "peerdeck/search/subscribe"

CONFIRM_DELAYS: Final = (0.1, 0.15, 0.2, 0.25, 0.25, 0.25, 0.25, 0.25, 0.5)
"""Seconds between read-backs after an action. qBittorrent shows a change 0.1 to 0.8 s after it (issue 26);
a read every quarter second puts it on the card at most a quarter second (plus one read) after the daemon
shows it. At most nine reads in 2.2 s, one at a time per daemon, so a burst of clicks never hammers it."""
SEARCH_TIMEOUT: Final = 30.0
SEARCH_LIMIT: Final = 100
SEARCH_BATCH_SECONDS: Final = 0.25
"""Hits are sent as they come, gathered for this long so a fast daemon costs a few messages, not one each."""

_CONFIRM_LOCKS: HassKey[dict[str, asyncio.Lock]] = HassKey(f"{DOMAIN}_confirm_locks")
_SEARCH_LOCKS: HassKey[dict[str, asyncio.Lock]] = HassKey(f"{DOMAIN}_search_locks")


def _lock(hass: HomeAssistant, key: HassKey[dict[str, asyncio.Lock]], entry_id: str) -> asyncio.Lock:
    """One lock per entry and purpose, so reads and searches reach a daemon one at a time."""
    return hass.data.setdefault(key, {}).setdefault(entry_id, asyncio.Lock())


def applied(action: str, ids: list[str], transfers: Mapping[str, Transfer]) -> bool:
    """Whether the daemon's list shows ``action`` done on every one of ``ids``."""
    for transfer_id in ids:
        transfer = transfers.get(transfer_id) or transfers.get(transfer_id.lower())
        if action == "remove":
            if transfer is not None:
                return False
        elif action == "add":
            if transfer is None:
                return False
        elif transfer is not None and (transfer.state is TransferState.PAUSED) != (action == "pause"):
            return False
    return True


async def read_back(hass: HomeAssistant, coordinator: PeerdeckCoordinator, action: str, ids: list[str]) -> bool:
    """Refresh until the daemon shows ``action`` applied; every refresh reaches open cards as a diff."""
    async with _lock(hass, _CONFIRM_LOCKS, coordinator.config_entry.entry_id):
        for delay in CONFIRM_DELAYS:
            if coordinator.last_update_success and applied(action, ids, coordinator.data.transfers):
                return True
            await asyncio.sleep(delay)
            await coordinator.async_refresh()
        return coordinator.last_update_success and applied(action, ids, coordinator.data.transfers)


def _send_ha_error(connection: ActiveConnection, msg_id: int, err: HomeAssistantError) -> None:
    """A refused or failed action, translated as the action's own error is."""
    connection.send_error(
        msg_id,
        ERR_HOME_ASSISTANT_ERROR,
        str(err),
        translation_domain=err.translation_domain,
        translation_key=err.translation_key,
        translation_placeholders=err.translation_placeholders,
    )


@websocket_command(
    {
        vol.Required("type"): WS_ACT,
        vol.Required(ATTR_ENTRY_ID): str,
        vol.Required("action"): vol.In(["pause", "resume", "remove"]),
        vol.Optional("ids"): vol.All([str], vol.Length(min=1)),
        vol.Optional("delete_data"): bool,
    }
)
@async_response
async def ws_act(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Pause, resume or remove through the action of that name, then read the daemon back.

    Answers once the daemon shows the change (``confirmed``) or the read-backs ran out; the
    change itself reaches the card first, as a diff of its feed.
    """
    msg_id: int = msg["id"]
    entry = readable_entry(hass, connection, msg_id, msg[ATTR_ENTRY_ID])
    if entry is None:
        return
    action: str = msg["action"]
    data: dict[str, Any] = {"config_entry_id": entry.entry_id}
    ids: list[str] | None = msg.get("ids")
    if ids is not None:
        data["ids"] = ids
    if action == "remove" and "delete_data" in msg:
        data["delete_data"] = msg["delete_data"]
    try:
        await hass.services.async_call(DOMAIN, action, data, blocking=True, context=connection.context(msg))
    except HomeAssistantError as err:
        _send_ha_error(connection, msg_id, err)
        return
    coordinator = entry.runtime_data.coordinator
    targets = list(coordinator.data.transfers) if ids is None else ids  # pause or resume all: every row
    connection.send_result(msg_id, {"confirmed": await read_back(hass, coordinator, action, targets)})


@websocket_command(
    {vol.Required("type"): WS_DETAILS, vol.Required(ATTR_ENTRY_ID): str, vol.Required("transfer_id"): str}
)
@callback
def ws_details(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Everything the last refresh knows of one row, for the card's details panel (no daemon call)."""
    msg_id: int = msg["id"]
    entry = readable_entry(hass, connection, msg_id, msg[ATTR_ENTRY_ID])
    if entry is None:
        return
    transfer = entry.runtime_data.coordinator.data.transfers.get(msg["transfer_id"])
    if transfer is None:
        connection.send_error(
            msg_id, ERR_NOT_FOUND, "The transfer is gone", translation_domain=DOMAIN, translation_key="transfer_gone"
        )
        return
    connection.send_result(msg_id, transfer_details(transfer, entry))


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text_or_none(value: Any) -> str | None:
    return bounded(value) if isinstance(value, str) and value else None


def transfer_details(transfer: Transfer, entry: PeerdeckConfigEntry) -> dict[str, Any]:
    """One row's details: where it is, what it is, who it trades with, where it comes from.

    qBittorrent counts seeds and peers connected (and in the whole swarm); Syncthing's rows say
    whether they are a folder or a peer (device), with a folder's type and a peer's address.
    """
    raw = transfer.raw
    kind = transfer_kind(transfer)
    return {
        "id": transfer.id,
        "name": bounded(transfer.name),
        "status": transfer_status(transfer, entry.runtime_data.backend.kind),
        "path": _text_or_none(transfer.save_path),
        "category": None if kind else _text_or_none(transfer.category),
        "tags": [bounded(tag) for tag in transfer.tags[:EVENT_TAGS_LIMIT]],
        "ratio": transfer_ratio(transfer),
        "seeds": _int_or_none(raw.get("num_seeds")),
        "seeds_total": _int_or_none(raw.get("num_complete")),
        "peers": _int_or_none(raw.get("num_leechs")),
        "peers_total": _int_or_none(raw.get("num_incomplete")),
        "added_at": transfer.added_at.isoformat() if transfer.added_at else None,
        "completed_at": transfer.completed_at.isoformat() if transfer.completed_at else None,
        "tracker": _text_or_none(raw.get("tracker")),
        "source": _text_or_none(raw.get("username") or raw.get("source")),
        "error": _text_or_none(raw.get("last_error") or raw.get("error")),
        "kind": kind,
        "folder_type": _text_or_none(raw.get("type")) if kind == "folder" else None,
        "address": _text_or_none(raw.get("address")) if kind == "peer" else None,
        "connected": raw.get("connected") if kind == "peer" and isinstance(raw.get("connected"), bool) else None,
    }


_ADD_TARGETS = ("magnet", "url", "hit", "torrent")


@websocket_command(
    {
        vol.Required("type"): WS_ADD,
        vol.Required(ATTR_ENTRY_ID): str,
        vol.Exclusive("magnet", "target"): str,
        vol.Exclusive("url", "target"): str,
        vol.Exclusive("hit", "target"): str,
        vol.Exclusive("torrent", "target"): str,
        vol.Optional("filename"): str,
        vol.Optional("category"): str,
        vol.Optional("save_path"): str,
        vol.Optional("start_paused"): bool,
    }
)
@async_response
async def ws_add(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Add a magnet, URL, search hit or an uploaded .torrent (base64), then read the daemon back.

    Magnets, URLs and hits go through ``peerdeck.enqueue`` (its checks and rules). A .torrent
    from the browser has no path Home Assistant may read, so it is checked here by the same
    library checks and handed to the daemon directly; adding it needs an administrator, as
    uploading a file to Home Assistant does.
    """
    msg_id: int = msg["id"]
    entry = readable_entry(hass, connection, msg_id, msg[ATTR_ENTRY_ID])
    if entry is None:
        return
    given = [target for target in _ADD_TARGETS if target in msg]
    if not given:
        connection.send_error(
            msg_id,
            ERR_INVALID_FORMAT,
            "Give a magnet, URL, search hit or .torrent file",
            translation_domain=DOMAIN,
            translation_key="no_target",
        )
        return
    options = {key: msg[key] for key in ("category", "save_path", "start_paused") if msg.get(key) not in (None, "")}
    coordinator = entry.runtime_data.coordinator
    try:
        if given[0] == "torrent":
            ids = await _add_torrent_file(connection, msg, entry, options)
        else:
            data = {"config_entry_id": entry.entry_id, given[0]: msg[given[0]], **options}
            response = await hass.services.async_call(
                DOMAIN, "enqueue", data, blocking=True, context=connection.context(msg), return_response=True
            )
            found = (response or {}).get("ids")
            ids = [str(one) for one in found] if isinstance(found, list) else []
    except HomeAssistantError as err:
        _send_ha_error(connection, msg_id, err)
        return
    confirmed = await read_back(hass, coordinator, "add", ids) if ids else False
    connection.send_result(msg_id, {"ids": ids, "confirmed": confirmed})


async def _add_torrent_file(
    connection: ActiveConnection, msg: dict[str, Any], entry: PeerdeckConfigEntry, options: dict[str, Any]
) -> list[str]:
    """Hand an uploaded .torrent to the daemon; refused to non-administrators and on a bad file."""
    if not connection.user.is_admin:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="admin_required")
    coordinator = entry.runtime_data.coordinator
    if not coordinator.backend.capabilities.enqueue:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="action_not_supported",
            translation_placeholders={"daemon": coordinator.daemon_name, "action": "enqueue"},
        )
    text: str = msg["torrent"]
    if len(text) > (MAX_TORRENT_FILE_SIZE * 4) // 3 + 8:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="torrent_too_big")
    try:
        content = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="torrent_unreadable") from err
    target = TorrentFile(content, filename=str(msg.get("filename") or "upload.torrent")[:200])
    enqueue_options = EnqueueOptions(
        save_path=options.get("save_path"),
        category=options.get("category"),
        start_paused=bool(options.get("start_paused", False)),
    )
    checked(lambda: validate_enqueue_options(enqueue_options))
    checked(lambda: validate_enqueue_target(target))
    ids = await run_action(coordinator, coordinator.backend.enqueue(target, enqueue_options))
    return [str(found) for found in ids]


def _hit_row(hit: SearchHit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "title": bounded(hit.title),
        "size": hit.size,
        "source": None if hit.source is None else bounded(hit.source),
        "seeders": hit.seeders,
        "leechers": hit.leechers,
        "bitrate": hit.bitrate,
        "free_slot": hit.free_slot,
    }


@websocket_command(
    {
        vol.Required("type"): WS_SEARCH,
        vol.Required(ATTR_ENTRY_ID): str,
        vol.Required("query"): vol.All(str, vol.Strip, vol.Length(min=1)),
        vol.Optional("limit", default=SEARCH_LIMIT): vol.All(int, vol.Range(min=1, max=500)),
    }
)
@callback
def ws_search(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Search through the daemon and stream the hits as they come; ends with ``{"done": true}``.

    One search per daemon at a time (slskd rejects concurrent searches): a second waits for the
    first. Each hit is kept for ``peerdeck/transfers/add`` (and ``peerdeck.enqueue``) by its id.
    Unsubscribing stops the search.
    """
    msg_id: int = msg["id"]
    entry = readable_entry(hass, connection, msg_id, msg[ATTR_ENTRY_ID])
    if entry is None:
        return
    data = entry.runtime_data
    coordinator = data.coordinator
    if data.backend.capabilities.search is SearchKind.NONE:
        connection.send_error(
            msg_id,
            ERR_HOME_ASSISTANT_ERROR,
            f"{coordinator.daemon_name} cannot search",
            translation_domain=DOMAIN,
            translation_key="action_not_supported",
            translation_placeholders={"daemon": coordinator.daemon_name, "action": "search"},
        )
        return
    try:
        query = checked(lambda: validate_query(msg["query"]))
    except HomeAssistantError as err:
        _send_ha_error(connection, msg_id, err)
        return

    def send(event: dict[str, Any]) -> None:
        connection.send_message(event_message(msg_id, event))

    async def stream() -> None:
        try:
            async with _lock(hass, _SEARCH_LOCKS, entry.entry_id):
                data.search_hits = {}
                batch: list[dict[str, Any]] = []
                sent_at = asyncio.get_running_loop().time()
                async for hit in data.backend.search(query, timeout=SEARCH_TIMEOUT, limit=msg["limit"]):
                    data.search_hits[hit.id] = hit
                    batch.append(_hit_row(hit))
                    now = asyncio.get_running_loop().time()
                    if now - sent_at >= SEARCH_BATCH_SECONDS:
                        send({"hits": batch})
                        batch, sent_at = [], now
                if batch:
                    send({"hits": batch})
            send({"done": True})
        except PeerdeckError as err:
            try:
                await run_action(coordinator, _raise(err))
            except HomeAssistantError as translated:
                send({"done": True, "error": str(translated)})

    connection.send_result(msg_id)  # first: the search may send its hits before the task yields
    task = entry.async_create_background_task(hass, stream(), f"peerdeck card search {msg_id}")

    @callback
    def stop() -> None:
        task.cancel()

    connection.subscriptions[msg_id] = stop


async def _raise(err: PeerdeckError) -> None:
    """Re-raise ``err`` inside ``run_action``, which turns it into the translated error users see."""
    raise err


@callback
def async_setup_card_commands(hass: HomeAssistant) -> None:
    """Register the card's commands (once, from ``async_setup``)."""
    for command in (ws_act, ws_details, ws_add, ws_search):
        async_register_command(hass, command)

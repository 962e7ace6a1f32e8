"""Actions of the Peerdeck integration, registered once and targeted at a config entry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from math import inf
from pathlib import Path
from typing import Any, Final
from weakref import WeakKeyDictionary

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.json import JsonValueType

from peerdeck import (
    ALL,
    Enqueued,
    EnqueueOptions,
    EnqueueTarget,
    InputLimitError,
    InvalidTextError,
    Magnet,
    PeerdeckAuthenticationError,
    PeerdeckError,
    PeerdeckInputError,
    PeerdeckNotSupportedError,
    SearchHit,
    SearchKind,
    TextRequest,
    TorrentFile,
    TorrentUrl,
    TransferSelector,
    TransferState,
)
from peerdeck.hits import MAX_BITRATE, filter_hits, hit_formats, normalise_formats
from peerdeck.validation import (
    MAX_PATH_LENGTH,
    MAX_TORRENT_FILE_SIZE,
    validate_enqueue_options,
    validate_enqueue_target,
    validate_ids,
    validate_query,
    validate_text,
)

from .const import DOMAIN
from .coordinator import PeerdeckConfigEntry, PeerdeckCoordinator, PeerdeckData, bounded, transfer_payload
from .schema import vol

SERVICE_SEARCH = "search"
SERVICE_ENQUEUE = "enqueue"
SERVICE_PAUSE = "pause"
SERVICE_RESUME = "resume"
SERVICE_REMOVE = "remove"
SERVICE_GET_TRANSFERS = "get_transfers"

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_QUERY = "query"
ATTR_TIMEOUT = "timeout"
ATTR_LIMIT = "limit"
ATTR_FORMATS = "formats"
ATTR_MIN_BITRATE = "min_bitrate"
ATTR_MAGNET = "magnet"
ATTR_URL = "url"
ATTR_TORRENT_FILE = "torrent_file"
ATTR_HIT = "hit"
ATTR_TEXT = "text"
ATTR_SAVE_PATH = "save_path"
ATTR_CATEGORY = "category"
ATTR_TAGS = "tags"
ATTR_START_PAUSED = "start_paused"
ATTR_IDS = "ids"
ATTR_DELETE_DATA = "delete_data"
ATTR_STATES = "states"

UNKNOWN_IDS_SHOWN = 5
UNKNOWN_ID_PREVIEW = 80
"""How many unknown ids an error names, and how many characters of each."""

TARGETS = (ATTR_MAGNET, ATTR_URL, ATTR_TORRENT_FILE, ATTR_HIT, ATTR_TEXT)

_ENTRY: dict[vol.Marker, Any] = {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string}
_TARGET_FIELDS: dict[vol.Marker, Any] = {vol.Exclusive(target, "target"): cv.string for target in TARGETS}
_IDS = vol.All(cv.ensure_list, [cv.string], vol.Length(min=1))

SEARCH_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_QUERY): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
        vol.Optional(ATTR_TIMEOUT, default=30): vol.All(vol.Coerce(float), vol.Range(min=1, max=300)),
        vol.Optional(ATTR_LIMIT, default=50): vol.All(vol.Coerce(int), vol.Range(min=1, max=500)),
        vol.Optional(ATTR_FORMATS, default=list): vol.All(cv.ensure_list, [cv.string], vol.Length(max=20)),
        vol.Optional(ATTR_MIN_BITRATE): vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_BITRATE)),
    }
)
ENQUEUE_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        **_TARGET_FIELDS,
        vol.Optional(ATTR_SAVE_PATH): cv.string,
        vol.Optional(ATTR_CATEGORY): cv.string,
        vol.Optional(ATTR_TAGS, default=list): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_START_PAUSED, default=False): cv.boolean,
    }
)
PAUSE_RESUME_SCHEMA = vol.Schema({**_ENTRY, vol.Optional(ATTR_IDS): _IDS})
REMOVE_SCHEMA = vol.Schema(
    {**_ENTRY, vol.Required(ATTR_IDS): _IDS, vol.Optional(ATTR_DELETE_DATA, default=False): cv.boolean}
)
GET_TRANSFERS_SCHEMA = vol.Schema(
    {**_ENTRY, vol.Optional(ATTR_STATES): vol.All(cv.ensure_list, [vol.Coerce(TransferState)])}
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, from ``async_setup``)."""
    hass.services.async_register(
        DOMAIN, SERVICE_SEARCH, _async_search, schema=SEARCH_SCHEMA, supports_response=SupportsResponse.ONLY
    )
    hass.services.async_register(
        DOMAIN, SERVICE_ENQUEUE, _async_enqueue, schema=ENQUEUE_SCHEMA, supports_response=SupportsResponse.OPTIONAL
    )
    hass.services.async_register(DOMAIN, SERVICE_PAUSE, _async_pause, schema=PAUSE_RESUME_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_RESUME, _async_resume, schema=PAUSE_RESUME_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_REMOVE, _async_remove, schema=REMOVE_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_TRANSFERS,
        _async_get_transfers,
        schema=GET_TRANSFERS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


LIMIT_KEYS: Final = {"characters": "input_too_long", "values": "too_many_values", "bytes": "file_too_big"}
"""The translated error of each kind of size limit (``InputLimitError.unit``), so the message names its unit."""


def checked[T](validate: Callable[[], T]) -> T:
    """Run a library input check, turning its refusal into a translated error naming the field."""
    try:
        return validate()
    except InputLimitError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=LIMIT_KEYS[err.unit],
            translation_placeholders={"field": err.field, "limit": f"{err.limit:,}"},
        ) from err
    except InvalidTextError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_characters",
            translation_placeholders={"field": err.field, "error": str(err)},
        ) from err
    except PeerdeckInputError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_value",
            translation_placeholders={"error": str(err)},
        ) from err


async def run_action[T](coordinator: PeerdeckCoordinator, action: Awaitable[T]) -> T:
    """Await a daemon call, turning library errors into translated Home Assistant errors."""
    placeholders = {"daemon": coordinator.daemon_name}
    try:
        return await action
    except PeerdeckNotSupportedError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_supported",
            translation_placeholders={**placeholders, "error": str(err)},
        ) from err
    except PeerdeckInputError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_input",
            translation_placeholders={**placeholders, "error": str(err)},
        ) from err
    except PeerdeckAuthenticationError as err:
        coordinator.config_entry.async_start_reauth(coordinator.hass)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders={**placeholders, "error": str(err)},
        ) from err
    except PeerdeckError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="action_failed",
            translation_placeholders={**placeholders, "error": str(err)},
        ) from err


def _loaded_entry(call: ServiceCall) -> PeerdeckConfigEntry:
    """The config entry an action targets; it must be a loaded Peerdeck entry."""
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
    entry: PeerdeckConfigEntry | None = call.hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": bounded(entry_id, UNKNOWN_ID_PREVIEW)},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


def _require(coordinator: PeerdeckCoordinator, supported: bool, action: str) -> None:
    """Refuse an action the daemon cannot do, naming the daemon."""
    if not supported:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="action_not_supported",
            translation_placeholders={"daemon": coordinator.daemon_name, "action": action},
        )


def _hit_data(hit: SearchHit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "title": hit.title,
        "size": hit.size,
        "source": hit.source,
        "seeders": hit.seeders,
        "leechers": hit.leechers,
        "bitrate": hit.bitrate,
        "queue_length": hit.queue_length,
        "free_slot": hit.free_slot,
        "link": hit.link,
        **_folder_data(hit),
    }


def _folder_data(hit: SearchHit) -> dict[str, Any]:
    """What a folder (album) hit adds: enqueueing it downloads the whole folder."""
    if hit.folder is None:
        return {"kind": "file", "formats": list(hit_formats(hit))}
    return {
        "kind": "folder",
        "folder": hit.folder.path,
        "file_count": len(hit.folder.files),
        "formats": list(hit.folder.formats),
        "bitrate_min": hit.folder.bitrate_min,
        "bitrate_max": hit.folder.bitrate_max,
    }


async def _filtered_hits(data: PeerdeckData, query: str, call: ServiceCall) -> list[SearchHit]:
    """The search's hits that pass the call's format and bit rate filters, up to its limit."""
    formats = checked(lambda: normalise_formats(call.data[ATTR_FORMATS]))
    min_bitrate: int | None = call.data.get(ATTR_MIN_BITRATE)
    limit: int = call.data[ATTR_LIMIT]
    filtering = bool(formats) or min_bitrate is not None
    kept: list[SearchHit] = []
    async for hit in data.backend.search(query, timeout=call.data[ATTR_TIMEOUT], limit=None if filtering else limit):
        if not filtering or filter_hits([hit], formats=formats, min_bitrate=min_bitrate):
            kept.append(hit)
            if len(kept) >= limit:
                break
    return kept


async def _async_search(call: ServiceCall) -> ServiceResponse:
    """Search through the daemon and return the hits (kept for ``enqueue``)."""
    entry = _loaded_entry(call)
    data = entry.runtime_data
    coordinator = data.coordinator
    _require(coordinator, data.backend.capabilities.search is not SearchKind.NONE, SERVICE_SEARCH)
    query = checked(lambda: validate_query(call.data[ATTR_QUERY]))

    hits = await run_action(coordinator, _filtered_hits(data, query, call))
    data.search_hits = {hit.id: hit for hit in hits}
    return {"hits": [_hit_data(hit) for hit in hits]}


async def _enqueue_target(call: ServiceCall, entry: PeerdeckConfigEntry) -> EnqueueTarget:
    """The one thing to download the call names."""
    given = [target for target in TARGETS if target in call.data]
    if not given:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_target")
    value: str = call.data[given[0]]
    if given[0] in (ATTR_HIT, ATTR_TORRENT_FILE):
        checked(lambda: validate_text(value, field=given[0], limit=MAX_PATH_LENGTH))
    if given[0] == ATTR_MAGNET:
        return Magnet(value)
    if given[0] == ATTR_URL:
        return TorrentUrl(value)
    if given[0] == ATTR_TEXT:
        return TextRequest(value)
    if given[0] == ATTR_HIT:
        if (hit := entry.runtime_data.search_hits.get(value)) is None:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="hit_not_found")
        return hit
    if not call.hass.config.is_allowed_path(value):
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="path_not_allowed", translation_placeholders={"path": value}
        )
    path = Path(value)
    try:
        content = await call.hass.async_add_executor_job(_read_torrent_file, path)
    except OSError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="file_unreadable",
            translation_placeholders={"path": value, "error": err.strerror or str(err)},
        ) from err
    return TorrentFile(content, filename=path.name)


def _read_torrent_file(path: Path) -> bytes:
    """The file's bytes, read only up to the size limit (a bigger file is refused, not loaded)."""
    with path.open("rb") as file:
        return file.read(MAX_TORRENT_FILE_SIZE + 1)


async def _async_enqueue(call: ServiceCall) -> ServiceResponse:
    """Start a download; answers with the new transfers' ids where the daemon tells them."""
    entry = _loaded_entry(call)
    coordinator = entry.runtime_data.coordinator
    _require(coordinator, coordinator.backend.capabilities.enqueue, SERVICE_ENQUEUE)
    options = EnqueueOptions(
        save_path=call.data.get(ATTR_SAVE_PATH),
        category=call.data.get(ATTR_CATEGORY),
        tags=tuple(call.data[ATTR_TAGS]),
        start_paused=call.data[ATTR_START_PAUSED],
    )
    checked(lambda: validate_enqueue_options(options))
    target = await _enqueue_target(call, entry)
    checked(lambda: validate_enqueue_target(target))
    ids = await run_action(coordinator, coordinator.backend.enqueue(target, options))
    await coordinator.async_request_refresh()
    response: list[JsonValueType] = list(ids)
    if not call.return_response:
        return None
    if isinstance(ids, Enqueued) and ids.notice:
        # SoulSync: sent straight to the Soulseek daemon (never seen again), or left on its wishlist.
        return {"ids": response, "tracked": not ids.untracked, "notice": ids.notice}
    return {"ids": response}


async def _selection(call: ServiceCall, coordinator: PeerdeckCoordinator) -> TransferSelector:
    """``ALL``, or the ids the call names once each is known to the daemon.

    Checked before acting, so an action on a mistyped id changes nothing instead of part of the
    list or nothing silently. Ids missing from the last refresh get one fresh refresh first (a
    download just added); if that refresh fails, the daemon's own answer decides.
    """
    given: list[str] | None = call.data.get(ATTR_IDS)
    if given is None:
        return ALL
    ids = checked(lambda: validate_ids(given))
    unknown = _unknown_ids(coordinator, ids)
    if unknown:
        await _refresh_once(coordinator)
        if not coordinator.last_update_success:
            return ids
        unknown = _unknown_ids(coordinator, ids)
    if unknown:
        shown = ", ".join(bounded(transfer_id, UNKNOWN_ID_PREVIEW) for transfer_id in unknown[:UNKNOWN_IDS_SHOWN])
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_transfers",
            translation_placeholders={"daemon": coordinator.daemon_name, "ids": shown, "count": str(len(unknown))},
        )
    return ids


@dataclass
class _SharedRefresh:
    """The refresh actions naming new ids wait for, one at a time."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    done_at: float = -inf


_SHARED_REFRESHES: WeakKeyDictionary[PeerdeckCoordinator, _SharedRefresh] = WeakKeyDictionary()


async def _refresh_once(coordinator: PeerdeckCoordinator) -> None:
    """Refresh, unless another action refreshed since this one asked: a burst of actions naming new ids
    costs the daemon one read, not one each."""
    shared = _SHARED_REFRESHES.setdefault(coordinator, _SharedRefresh())
    asked = time.monotonic()
    async with shared.lock:
        if shared.done_at < asked:
            await coordinator.async_refresh()
            shared.done_at = time.monotonic()


def _unknown_ids(coordinator: PeerdeckCoordinator, ids: list[str]) -> list[str]:
    """The ids the last refresh did not see (info-hashes match in either case)."""
    known = coordinator.data.transfers
    return [transfer_id for transfer_id in ids if transfer_id not in known and transfer_id.lower() not in known]


async def _async_pause(call: ServiceCall) -> None:
    """Pause the given transfers, or all of them."""
    coordinator = _loaded_entry(call).runtime_data.coordinator
    _require(coordinator, coordinator.backend.capabilities.pause, SERVICE_PAUSE)
    selection = await _selection(call, coordinator)
    await run_action(coordinator, coordinator.backend.pause(selection))
    await coordinator.async_request_refresh()


async def _async_resume(call: ServiceCall) -> None:
    """Resume the given transfers, or all of them."""
    coordinator = _loaded_entry(call).runtime_data.coordinator
    _require(coordinator, coordinator.backend.capabilities.resume, SERVICE_RESUME)
    selection = await _selection(call, coordinator)
    await run_action(coordinator, coordinator.backend.resume(selection))
    await coordinator.async_request_refresh()


async def _async_remove(call: ServiceCall) -> None:
    """Remove transfers, and their data when asked."""
    coordinator = _loaded_entry(call).runtime_data.coordinator
    capabilities = coordinator.backend.capabilities
    delete_data: bool = call.data[ATTR_DELETE_DATA]
    _require(coordinator, capabilities.remove and (capabilities.delete_data or not delete_data), SERVICE_REMOVE)
    selection = await _selection(call, coordinator)
    await run_action(coordinator, coordinator.backend.remove(selection, delete_data=delete_data))
    await coordinator.async_request_refresh()


async def _async_get_transfers(call: ServiceCall) -> ServiceResponse:
    """The transfers as the daemon shows them now, optionally only those in some states."""
    coordinator = _loaded_entry(call).runtime_data.coordinator
    await coordinator.async_refresh_details()
    states: list[TransferState] | None = call.data.get(ATTR_STATES)
    transfers = coordinator.data.transfers.values()
    return {
        "transfers": [
            transfer_payload(transfer) for transfer in transfers if states is None or transfer.state in states
        ]
    }

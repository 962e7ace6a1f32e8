"""The Peerdeck integration: qBittorrent, Syncthing, slskd, SoulSync and Tribler in Home Assistant."""

from __future__ import annotations

from aiohttp import CookieJar
from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_create_clientsession
from homeassistant.helpers.typing import ConfigType
from yarl import URL

from peerdeck import BackendKind, PeerdeckInputError

from .card import async_setup_card
from .card_commands import async_setup_card_commands
from .const import CONF_KIND, CREDENTIAL_FIELDS, DEFAULT_VERIFY_SSL, DOMAIN, LOGGER
from .coordinator import (
    ISSUE_BANNED,
    ISSUE_UNSUPPORTED_VERSION,
    PeerdeckConfigEntry,
    PeerdeckCoordinator,
    PeerdeckData,
)
from .entity import daemon_device_info
from .helpers import build_backend, public_url
from .services import async_setup_services
from .store import async_remove_event_store
from .websocket import async_setup_websocket

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.EVENT, Platform.SENSOR, Platform.SWITCH]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions, the card's live feed and the card itself."""
    async_setup_services(hass)
    async_setup_websocket(hass)
    async_setup_card_commands(hass)
    await async_setup_card(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PeerdeckConfigEntry) -> bool:
    """Connect to the daemon, fetch a first refresh and set up the platforms."""
    # A session of our own: qBittorrent's cookie must be kept for bare-IP hosts too.
    session = async_create_clientsession(
        hass, verify_ssl=entry.data.get(CONF_VERIFY_SSL, DEFAULT_VERIFY_SSL), cookie_jar=CookieJar(unsafe=True)
    )
    try:
        backend = build_backend(entry.data, session)
    except PeerdeckInputError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN, translation_key="invalid_config", translation_placeholders={"error": str(err)}
        ) from err
    entry.async_on_unload(backend.close)
    coordinator = PeerdeckCoordinator(hass, entry, backend)
    entry.async_on_unload(coordinator.async_flush_state)
    await coordinator.async_first_refresh_bounded()
    # Created first, so Syncthing's folder and peer devices can link to it.
    daemon_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **daemon_device_info(coordinator)
    )
    entry.runtime_data = PeerdeckData(backend=backend, coordinator=coordinator, daemon_device_id=daemon_device.id)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_remove_stale_devices()
    entry.async_on_unload(coordinator.async_add_listener(coordinator.async_remove_stale_devices))
    coordinator.async_follow_events()
    coordinator.async_deliver_when_started()
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: PeerdeckConfigEntry) -> bool:
    """Bring an entry of an older version up to date (1.1 → 1.2: URL without credentials, no URL unique id)."""
    if entry.version > 1:
        return False
    if entry.minor_version < 2:
        data = {**entry.data}
        url = URL(data[CONF_URL])
        fields = {name for name, _ in CREDENTIAL_FIELDS[BackendKind(data[CONF_KIND])]}
        # Credentials typed into the URL move to their own fields (unless those are set already).
        for name, value in ((CONF_USERNAME, url.user), (CONF_PASSWORD, url.password)):
            if value and name in fields and not data.get(name):
                data[name] = value
        if url.is_absolute():  # a URL that never parsed is left for the set-up to report
            data[CONF_URL] = public_url(data[CONF_URL])
        unique_id = None if entry.unique_id is None or "://" in entry.unique_id else entry.unique_id
        hass.config_entries.async_update_entry(entry, data=data, unique_id=unique_id, minor_version=2)
        LOGGER.debug("Migrated entry %s to version 1.2", entry.title)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: PeerdeckConfigEntry) -> bool:
    """Unload the platforms; the session and backend are closed by the unload callbacks."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: PeerdeckConfigEntry) -> None:
    """Forget the entry's persisted event state, and its repair issues."""
    await async_remove_event_store(hass, entry.entry_id)
    for issue in (ISSUE_BANNED, ISSUE_UNSUPPORTED_VERSION):
        ir.async_delete_issue(hass, DOMAIN, f"{issue}_{entry.entry_id}")

"""Config flow of the Peerdeck integration: pick the daemon, connect, test; reauth, reconfigure, options."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from ipaddress import IPv6Address, ip_address
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlowWithReload
from homeassistant.const import CONF_PASSWORD, CONF_SCAN_INTERVAL, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from yarl import URL

from peerdeck import (
    BackendInfo,
    BackendKind,
    PeerdeckAuthenticationError,
    PeerdeckBannedError,
    PeerdeckConnectionError,
    PeerdeckError,
    PeerdeckForbiddenError,
    PeerdeckHostRejectedError,
    PeerdeckInputError,
    PeerdeckNotSupportedError,
)
from peerdeck.validation import validate_http_url, validate_text

from .const import (
    CONF_ADVANCED,
    CONF_API_KEY,
    CONF_EXTRA_SENSORS,
    CONF_KIND,
    CONF_TIMEOUT,
    CREDENTIAL_FIELDS,
    DEFAULT_SCAN_INTERVALS,
    DEFAULT_TIMEOUT,
    DEFAULT_URLS,
    DEFAULT_VERIFY_SSL,
    DOMAIN,
    EXTRA_SENSOR_KINDS,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
)
from .coordinator import PeerdeckConfigEntry
from .helpers import build_backend, daemon_name, public_url
from .schema import vol

SECRETS = (CONF_PASSWORD, CONF_API_KEY)
MAX_CREDENTIAL_LENGTH = 1_024
"""Characters of a user name, password or API key (real ones are far shorter)."""
_TEXT = TextSelector()
_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


def _credentials_schema(kind: BackendKind, *, keep_secrets: bool = False) -> dict[vol.Marker, Any]:
    """The credential fields of a daemon kind; with ``keep_secrets`` secrets may be left blank."""
    fields: dict[vol.Marker, Any] = {}
    for name, required in CREDENTIAL_FIELDS[kind]:
        optional = not required or (keep_secrets and name in SECRETS)
        marker = vol.Optional(name) if optional else vol.Required(name)
        fields[marker] = _SECRET if name in SECRETS else _TEXT
    return fields


def _connection_schema(kind: BackendKind, *, keep_secrets: bool = False) -> vol.Schema:
    """URL, credentials and the collapsed advanced section."""
    advanced = vol.Schema(
        {
            vol.Required(CONF_VERIFY_SSL, default=DEFAULT_VERIFY_SSL): BooleanSelector(),
            vol.Required(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): vol.All(
                NumberSelector(
                    NumberSelectorConfig(min=1, max=120, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX)
                ),
                vol.Coerce(int),
            ),
        }
    )
    return vol.Schema(
        {
            vol.Required(CONF_URL): _URL,
            **_credentials_schema(kind, keep_secrets=keep_secrets),
            vol.Required(CONF_ADVANCED): section(advanced, {"collapsed": True}),
        }
    )


def _entry_data(kind: BackendKind, user_input: Mapping[str, Any], keep: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten the checked form (:func:`_input_errors`) into entry data; secrets left blank keep the values in ``keep``.

    The URL is kept without query, fragment and trailing slash, one spelling per daemon, so a
    second entry for the same daemon is recognised by it.
    """
    data: dict[str, Any] = {CONF_KIND: kind.value, CONF_URL: public_url(str(user_input[CONF_URL]).strip())}
    for name, _ in CREDENTIAL_FIELDS[kind]:
        value = user_input.get(name) or (keep.get(name) if name in SECRETS else None)
        if value:
            data[name] = value
    data[CONF_VERIFY_SSL] = user_input[CONF_ADVANCED][CONF_VERIFY_SSL]
    data[CONF_TIMEOUT] = user_input[CONF_ADVANCED][CONF_TIMEOUT]
    return data


def _input_errors(kind: BackendKind, user_input: Mapping[str, Any]) -> dict[str, str]:
    """Form errors found without asking the daemon: a URL carrying credentials (they belong in their
    own fields, never stored in the URL), an unusable URL, an overlong or control-character credential."""
    try:
        parsed = validate_http_url(str(user_input[CONF_URL]))
    except PeerdeckInputError:
        return {CONF_URL: "invalid_url"}
    if parsed.user is not None or parsed.password is not None:
        return {CONF_URL: "url_credentials"}
    errors: dict[str, str] = {}
    for name, _ in CREDENTIAL_FIELDS[kind]:
        try:
            validate_text(str(user_input.get(name) or ""), field=name, limit=MAX_CREDENTIAL_LENGTH)
        except PeerdeckInputError:
            errors[name] = "invalid_credential"
    return errors


async def _async_test(hass: HomeAssistant, data: Mapping[str, Any]) -> tuple[BackendInfo | None, dict[str, str]]:
    """Connect with ``data``; returns the daemon's info, or the form errors."""
    session = async_get_clientsession(hass, data.get(CONF_VERIFY_SSL, DEFAULT_VERIFY_SSL))
    # Every step checks its form first (_input_errors: the URL and credential checks the library's constructors
    # make), so building the backend cannot fail here.
    backend = build_backend(data, session)
    try:
        return await backend.info(), {}
    except PeerdeckBannedError:
        error = "banned"
    except PeerdeckHostRejectedError:
        error = "host_rejected"
    except (PeerdeckAuthenticationError, PeerdeckForbiddenError):
        error = "invalid_auth"
    except PeerdeckNotSupportedError:
        error = "unsupported_version"
    except PeerdeckConnectionError:
        error = "cannot_connect"
    except PeerdeckError:
        LOGGER.debug("The daemon answered the connection test unexpectedly", exc_info=True)
        error = "cannot_connect"
    except Exception:
        LOGGER.exception("Unexpected error while testing the connection")
        error = "unknown"
    finally:
        await backend.close()
    return None, {"base": error}


async def _async_endpoint(hass: HomeAssistant, url: str) -> tuple[frozenset[str], int | None, str] | None:
    """Where ``url`` leads: its host's resolved addresses (IPv4-mapped IPv6 as IPv4), its port and its
    path; None if the host does not resolve."""
    parsed = URL(url)
    if parsed.host is None:
        return None
    try:
        found = await hass.loop.getaddrinfo(parsed.host, parsed.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    addresses: set[str] = set()
    for *_, sockaddr in found:
        address = ip_address(str(sockaddr[0]).split("%", 1)[0])
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        addresses.add(str(address))
    return frozenset(addresses), parsed.port, parsed.path.rstrip("/")


def _title(kind: BackendKind, url: str) -> str:
    parsed = URL(public_url(url))
    return f"{daemon_name(kind)} ({parsed.host}:{parsed.port})"


class PeerdeckConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a daemon: its kind, then where it is and how to log in."""

    VERSION = 1
    MINOR_VERSION = 2
    """1.2: URLs are stored without credentials, and are no longer unique ids."""

    def __init__(self) -> None:
        """Start with no daemon kind chosen."""
        self._kind = BackendKind.QBITTORRENT

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: PeerdeckConfigEntry) -> PeerdeckOptionsFlow:
        """The options flow (refresh interval)."""
        return PeerdeckOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick the daemon kind."""
        if user_input is not None:
            self._kind = BackendKind(user_input[CONF_KIND])
            return await self.async_step_connection()
        selector = SelectSelector(
            SelectSelectorConfig(
                options=[kind.value for kind in BackendKind], translation_key=CONF_KIND, mode=SelectSelectorMode.LIST
            )
        )
        return self.async_show_form(step_id="user", data_schema=vol.Schema({vol.Required(CONF_KIND): selector}))

    async def async_step_connection(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the URL and credentials, and test them."""
        errors: dict[str, str] = {}
        if user_input is not None and not (errors := _input_errors(self._kind, user_input)):
            data = _entry_data(self._kind, user_input, {})
            # Daemons without an identity of their own are told apart by their URL (never a unique id).
            self._async_abort_entries_match({CONF_URL: data[CONF_URL]})
            info, errors = await _async_test(self.hass, data)
            if info is not None:
                if info.identity is not None:
                    await self.async_set_unique_id(info.identity)
                    self._abort_if_unique_id_configured()
                elif other := await self._async_entry_at_same_address(self._kind, data[CONF_URL]):
                    return self._async_abort_same_address(other)
                return self.async_create_entry(title=_title(self._kind, data[CONF_URL]), data=data)
        suggested = user_input or {CONF_URL: DEFAULT_URLS[self._kind]}
        return self.async_show_form(
            step_id="connection",
            data_schema=self.add_suggested_values_to_schema(_connection_schema(self._kind), suggested),
            errors=errors,
            description_placeholders={"daemon": daemon_name(self._kind)},
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The daemon rejected the credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for new credentials."""
        entry = self._get_reauth_entry()
        kind = BackendKind(entry.data[CONF_KIND])
        errors: dict[str, str] = {}
        if user_input is not None and not (errors := _input_errors(kind, {**entry.data, **user_input})):
            # What the form leaves blank is removed, never stored as "" (a blank secret is no secret).
            data = {key: value for key, value in entry.data.items() if key not in dict(CREDENTIAL_FIELDS[kind])}
            data.update({name: value for name, _ in CREDENTIAL_FIELDS[kind] if (value := user_input.get(name))})
            info, errors = await _async_test(self.hass, data)
            if info is not None:
                await self._async_abort_if_other_daemon(info, entry)
                return self.async_update_reload_and_abort(entry, data=data)
        suggested = {CONF_USERNAME: entry.data[CONF_USERNAME]} if CONF_USERNAME in entry.data else {}
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(_credentials_schema(kind)), suggested),
            errors=errors,
            description_placeholders={"daemon": daemon_name(kind), "title": entry.title},
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the URL, credentials or advanced settings of an entry."""
        entry = self._get_reconfigure_entry()
        kind = BackendKind(entry.data[CONF_KIND])
        errors: dict[str, str] = {}
        if user_input is not None and not (errors := _input_errors(kind, user_input)):
            data = _entry_data(kind, user_input, entry.data)
            if any(
                other.entry_id != entry.entry_id and other.data.get(CONF_URL) == data[CONF_URL]
                for other in self._async_current_entries(include_ignore=False)
            ):
                return self.async_abort(reason="already_configured")
            info, errors = await _async_test(self.hass, data)
            if info is not None:
                await self._async_abort_if_other_daemon(info, entry)
                if info.identity is None and (
                    other := await self._async_entry_at_same_address(kind, data[CONF_URL], entry.entry_id)
                ):
                    return self._async_abort_same_address(other)
                return self.async_update_reload_and_abort(entry, title=_title(kind, data[CONF_URL]), data=data)
        suggested = user_input or {
            **{key: value for key, value in entry.data.items() if key not in SECRETS},
            CONF_ADVANCED: {
                CONF_VERIFY_SSL: entry.data.get(CONF_VERIFY_SSL, DEFAULT_VERIFY_SSL),
                CONF_TIMEOUT: entry.data.get(CONF_TIMEOUT, DEFAULT_TIMEOUT),
            },
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(_connection_schema(kind, keep_secrets=True), suggested),
            errors=errors,
            description_placeholders={"daemon": daemon_name(kind)},
        )

    async def _async_entry_at_same_address(
        self, kind: BackendKind, url: str, exclude: str | None = None
    ) -> ConfigEntry[Any] | None:
        """Another entry of a daemon that shows no identity of its own (qBittorrent, SoulSync) whose URL
        reaches the same addresses, port and path: ``localhost`` and ``[::ffff:127.0.0.1]`` are one daemon."""
        mine = await _async_endpoint(self.hass, url)
        if mine is None:
            return None
        for other in self._async_current_entries(include_ignore=False):
            if other.entry_id == exclude or other.data.get(CONF_KIND) != kind.value:
                continue
            theirs = await _async_endpoint(self.hass, str(other.data.get(CONF_URL, "")))
            if theirs is not None and mine[1:] == theirs[1:] and mine[0] & theirs[0]:
                return other
        return None

    @callback
    def _async_abort_same_address(self, other: ConfigEntry[Any]) -> ConfigFlowResult:
        kind = BackendKind(other.data[CONF_KIND])
        return self.async_abort(
            reason="already_configured_address",
            description_placeholders={"daemon": daemon_name(kind), "title": other.title},
        )

    async def _async_abort_if_other_daemon(self, info: BackendInfo, entry: PeerdeckConfigEntry) -> None:
        """Refuse new credentials or a new URL that lead to another daemon than the entry's."""
        if info.identity is not None and entry.unique_id is not None:
            await self.async_set_unique_id(info.identity)
            self._abort_if_unique_id_mismatch(reason="wrong_daemon")


class PeerdeckOptionsFlow(OptionsFlowWithReload):
    """Options: how often to refresh, and optional extra sensors."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and save the options; the entry reloads with them."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        kind = BackendKind(self.config_entry.data[CONF_KIND])
        fields: dict[vol.Marker, Any] = {
            vol.Required(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVALS[kind]): vol.All(
                NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_SCAN_INTERVAL,
                        max=MAX_SCAN_INTERVAL,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Coerce(int),
            ),
        }
        if extra := EXTRA_SENSOR_KINDS.get(kind):
            fields[vol.Optional(CONF_EXTRA_SENSORS, default=[])] = SelectSelector(
                SelectSelectorConfig(
                    options=list(extra),
                    multiple=True,
                    translation_key=CONF_EXTRA_SENSORS,
                    mode=SelectSelectorMode.LIST,
                )
            )
        schema = vol.Schema(fields)
        return self.async_show_form(
            step_id="init", data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options)
        )

"""Async client for Syncthing's REST API (Syncthing 1.x and 2.x).

Every route is a coroutine named after it (``db/completion`` → :meth:`SyncthingClient.db_completion`).
The key goes in ``X-API-Key``, which every version accepts; ``Authorization: Bearer`` only
works from 1.23.7 (1.19.2 answers it with 403), so it is opt-in. A valid key bypasses
Syncthing's CSRF check, so a "CSRF Error" 403 always means a missing or wrong key, and a
"Host check error" 403 means the URL's host name is not one Syncthing trusts.

``db/status`` is expensive for the daemon (its docs say "use sparingly"): the unified
backend derives folder state from events and ``db/completion`` instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast
from urllib.parse import quote

import aiohttp
from multidict import MultiDict

from ..client import DEFAULT_TIMEOUT, HttpClient, Reply
from ..exceptions import (
    PeerdeckAuthenticationError,
    PeerdeckHostRejectedError,
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
)

JsonObject = dict[str, Any]
Params = dict[str, str | int | float]

DEFAULT_EVENT_TIMEOUT = 60
"""Syncthing's own long-poll timeout when none is given, in seconds."""
EVENT_READ_MARGIN = 15.0
"""How much longer than the server's long-poll timeout we wait for an answer."""

_DEVICE_ID = re.compile(r"^[A-Z2-7]{56}$")
_NOT_FOUND_BODIES = (b"no such folder", b"no folder with given id", b"no such device", b"no such object")


def normalize_device_id(value: str) -> str:
    """Return a device id in Syncthing's canonical ``ABCDEFG-HIJKLMN-…`` form, or raise :class:`PeerdeckInputError`.

    Checked locally so a typo fails before anything is sent (Syncthing answers 500 for it).
    """
    compact = value.strip().upper().replace("-", "").replace(" ", "")
    if not _DEVICE_ID.match(compact):
        shown = value if len(value) <= 80 else value[:79] + "…"
        raise PeerdeckInputError(
            f"{shown!r} is not a Syncthing device id (expected 56 letters A-Z and digits 2-7, "
            "usually in eight dash-separated groups of seven)"
        )
    return "-".join(compact[i : i + 7] for i in range(0, 56, 7))


def parse_version(text: str) -> tuple[int, ...]:
    """``"v1.19.2-ds1"`` → ``(1, 19, 2)``; unknown parts are dropped."""
    match = re.match(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    if match is None:
        return ()
    return tuple(int(part) for part in match.groups() if part is not None)


class SyncthingClient(HttpClient):
    """Every Syncthing REST call as a typed coroutine."""

    daemon_name = "Syncthing"

    def __init__(
        self,
        url: str,
        *,
        api_key: str,
        use_bearer: bool = False,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(url, session=session, verify_ssl=verify_ssl, request_timeout=request_timeout)
        if not api_key or not api_key.strip():
            raise PeerdeckInputError("Syncthing needs its API key (Actions → Settings → GUI → API Key)")
        self._api_key = api_key.strip()
        self._use_bearer = use_bearer
        self._version: tuple[int, ...] | None = None

    # ------------------------------------------------------------------ plumbing

    def _auth_headers(self) -> dict[str, str]:
        if self._use_bearer:
            return {"Authorization": f"Bearer {self._api_key}"}
        return {"X-API-Key": self._api_key}

    def _raise_for_status(self, what: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        text = body.strip().lower()
        if status == 403 and text.startswith(b"host check error"):
            raise PeerdeckHostRejectedError(
                f"{what}: Syncthing's host check refused the request. Its GUI listens on localhost, so use "
                "http://127.0.0.1:<port> or http://localhost:<port> as the URL, or tick "
                "'insecureSkipHostcheck' in Syncthing's Settings → Advanced → GUI"
            )
        if status == 403 and text.startswith(b"csrf error"):
            hint = (
                " Syncthing before 1.23.7 does not accept 'Authorization: Bearer'; send the key as X-API-Key."
                if self._use_bearer
                else ""
            )
            raise PeerdeckAuthenticationError(
                f"{what}: Syncthing refused the API key (403 CSRF Error). Copy the key from "
                f"Syncthing's Actions → Settings → GUI → API Key.{hint}"
            )
        if status == 401:
            raise PeerdeckAuthenticationError(
                f"{what}: Syncthing asked for the GUI user name and password (401); give the API key instead"
            )
        if status in (404, 500) and any(text.startswith(marker) for marker in _NOT_FOUND_BODIES):
            detail = body.strip().decode(errors="replace")
            raise PeerdeckNotFoundError(f"{what}: Syncthing does not know it ({detail})", status)
        if status == 404 and text.startswith(b"404 page not found"):
            raise PeerdeckNotSupportedError(f"{what}: this Syncthing version has no such endpoint")
        if status == 500 and b"device id invalid" in text:
            detail = body.strip().decode(errors="replace")
            raise PeerdeckInputError(f"{what}: Syncthing rejected the device id ({detail})")
        super()._raise_for_status(what, status, headers, body)

    async def _get(self, route: str, params: Mapping[str, str | int | float] | None = None, **kw: Any) -> Any:
        reply = await self._request("GET", f"rest/{route}", params=params, decode="json", **kw)
        return reply.data

    async def _send(
        self,
        method: str,
        route: str,
        params: Mapping[str, str | int | float] | None = None,
        body: Any = None,
        *,
        text: str | None = None,
    ) -> Reply:
        return await self._request(
            method,
            f"rest/{route}",
            params=params,
            json_body=body,
            data=text,
            decode="auto",
        )

    async def version_tuple(self) -> tuple[int, ...]:
        """Syncthing's version as a tuple, fetched once and cached."""
        if self._version is None:
            self._version = parse_version(str((await self.system_version()).get("version", "")))
        return self._version

    # ------------------------------------------------------------------ system

    async def system_browse(self, current: str | None = None) -> list[str]:
        """Directories on the daemon's host that match ``current`` (a path prefix or glob)."""
        return cast(list[str], await self._get("system/browse", _clean({"current": current})))

    async def system_config(self) -> JsonObject:
        """The whole configuration (deprecated route; prefer :meth:`config`)."""
        return _object(await self._get("system/config"), "system/config")

    async def system_config_insync(self) -> bool:
        """False when a config change waits for a restart (deprecated route)."""
        return bool(_object(await self._get("system/config/insync"), "system/config/insync").get("configInSync"))

    async def system_connections(self) -> JsonObject:
        """Per-device connection state and byte counters, plus ``total``."""
        return _object(await self._get("system/connections"), "system/connections")

    async def system_debug(self) -> JsonObject:
        """Debug facilities and which are enabled (1.x; 2.x renamed it, see :meth:`log_levels`)."""
        return _object(await self._get("system/debug"), "system/debug")

    async def system_set_debug(self, *, enable: Iterable[str] = (), disable: Iterable[str] = ()) -> None:
        """Enable or disable debug facilities (1.x)."""
        await self._send("POST", "system/debug", _clean({"enable": ",".join(enable), "disable": ",".join(disable)}))

    async def system_loglevels(self) -> JsonObject:
        """Log facilities and their levels (2.x)."""
        return _object(await self._get("system/loglevels"), "system/loglevels")

    async def system_set_loglevels(self, levels: Mapping[str, str]) -> None:
        """Set log levels per facility (2.x), e.g. ``{"model": "DEBUG"}``."""
        await self._send("POST", "system/loglevels", dict(levels))

    async def log_levels(self) -> JsonObject:
        """Logging facilities on any version: ``system/loglevels`` on 2.x, ``system/debug`` on 1.x."""
        if (await self.version_tuple() or (1,))[0] >= 2:
            return await self.system_loglevels()
        return await self.system_debug()

    async def system_discovery(self) -> JsonObject:
        """The discovery cache: device id → addresses."""
        return _object(await self._get("system/discovery"), "system/discovery")

    async def system_add_discovery(self, device: str, address: str) -> None:
        """Add an entry to the discovery cache."""
        await self._send("POST", "system/discovery", {"device": normalize_device_id(device), "addr": address})

    async def system_error(self) -> list[JsonObject]:
        """Recent errors (``when``, ``message``, ``level``)."""
        data = _object(await self._get("system/error"), "system/error")
        return list(data.get("errors") or [])

    async def system_error_clear(self) -> None:
        """Forget the recent errors."""
        await self._send("POST", "system/error/clear")

    async def system_post_error(self, message: str) -> None:
        """Show an error message in every open GUI."""
        await self._send("POST", "system/error", text=message)

    async def system_log(self, since: str | None = None) -> list[JsonObject]:
        """Recent log lines (``when``, ``message``, ``level``), optionally after an RFC 3339 time."""
        data = _object(await self._get("system/log", _clean({"since": since})), "system/log")
        return list(data.get("messages") or [])

    async def system_log_text(self) -> str:
        """Recent log lines as plain text."""
        reply = await self._request("GET", "rest/system/log.txt", decode="text")
        return str(reply.data or "")

    async def system_paths(self) -> dict[str, str]:
        """Where Syncthing keeps its config, database, certificates and logs."""
        return cast(dict[str, str], _object(await self._get("system/paths"), "system/paths"))

    async def system_pause(self, device: str | None = None) -> None:
        """Pause one device, or every device when ``device`` is None."""
        params = {"device": normalize_device_id(device)} if device is not None else None
        await self._send("POST", "system/pause", params)

    async def system_resume(self, device: str | None = None) -> None:
        """Resume one device, or every device when ``device`` is None."""
        params = {"device": normalize_device_id(device)} if device is not None else None
        await self._send("POST", "system/resume", params)

    async def system_ping(self) -> bool:
        """True when the API answers ``pong`` (a cheap connection and key test)."""
        data = _object(await self._get("system/ping"), "system/ping")
        return data.get("ping") == "pong"

    async def system_reset(self, folder: str | None = None) -> None:
        """Erase the index database (of one folder, or all) and restart Syncthing."""
        await self._send("POST", "system/reset", _clean({"folder": folder}))

    async def system_restart(self) -> None:
        """Restart Syncthing."""
        await self._send("POST", "system/restart")

    async def system_shutdown(self) -> None:
        """Stop Syncthing."""
        await self._send("POST", "system/shutdown")

    async def system_status(self) -> JsonObject:
        """``myID``, uptime, start time, memory and connection-service state."""
        return _object(await self._get("system/status"), "system/status")

    async def system_upgrade(self) -> JsonObject:
        """Whether a newer release exists (Syncthing asks its upgrade server)."""
        return _object(await self._get("system/upgrade"), "system/upgrade")

    async def system_do_upgrade(self) -> None:
        """Upgrade to the newest release and restart."""
        await self._send("POST", "system/upgrade")

    async def system_version(self) -> JsonObject:
        """Version, codename, OS and architecture."""
        return _object(await self._get("system/version"), "system/version")

    # ------------------------------------------------------------------ config

    async def config(self) -> JsonObject:
        """The whole configuration."""
        return _object(await self._get("config"), "config")

    async def config_put(self, config: Mapping[str, Any]) -> None:
        """Replace the whole configuration."""
        await self._send("PUT", "config", None, dict(config))

    async def config_restart_required(self) -> bool:
        """True when a saved config change waits for a restart."""
        data = _object(await self._get("config/restart-required"), "config/restart-required")
        return bool(data.get("requiresRestart"))

    async def config_folders(self) -> list[JsonObject]:
        """Every configured folder."""
        return _list(await self._get("config/folders"), "config/folders")

    async def config_folders_put(self, folders: Sequence[Mapping[str, Any]]) -> None:
        """Replace the folder list."""
        await self._send("PUT", "config/folders", None, [dict(f) for f in folders])

    async def config_folder(self, folder_id: str) -> JsonObject:
        """One folder's configuration."""
        return _object(await self._get(f"config/folders/{_segment(folder_id)}"), "config/folders/{id}")

    async def config_folder_add(self, folder: Mapping[str, Any]) -> None:
        """Add a folder, or replace the one with the same id (POST merges into the defaults)."""
        await self._send("POST", "config/folders", None, dict(folder))

    async def config_folder_put(self, folder_id: str, folder: Mapping[str, Any]) -> None:
        """Replace one folder's configuration."""
        await self._send("PUT", f"config/folders/{_segment(folder_id)}", None, dict(folder))

    async def config_folder_patch(self, folder_id: str, changes: Mapping[str, Any]) -> None:
        """Change some fields of one folder (``{"paused": true}`` pauses it)."""
        await self._send("PATCH", f"config/folders/{_segment(folder_id)}", None, dict(changes))

    async def config_folder_delete(self, folder_id: str) -> None:
        """Stop sharing a folder (its files stay on disk)."""
        await self._send("DELETE", f"config/folders/{_segment(folder_id)}")

    async def config_devices(self) -> list[JsonObject]:
        """Every configured device, this one included."""
        return _list(await self._get("config/devices"), "config/devices")

    async def config_devices_put(self, devices: Sequence[Mapping[str, Any]]) -> None:
        """Replace the device list."""
        await self._send("PUT", "config/devices", None, [dict(d) for d in devices])

    async def config_device(self, device_id: str) -> JsonObject:
        """One device's configuration."""
        device = _segment(normalize_device_id(device_id))
        return _object(await self._get(f"config/devices/{device}"), "config/devices/{id}")

    async def config_device_add(self, device: Mapping[str, Any]) -> None:
        """Add a device, or replace the one with the same id."""
        await self._send("POST", "config/devices", None, dict(device))

    async def config_device_put(self, device_id: str, device: Mapping[str, Any]) -> None:
        """Replace one device's configuration."""
        await self._send("PUT", f"config/devices/{_segment(normalize_device_id(device_id))}", None, dict(device))

    async def config_device_patch(self, device_id: str, changes: Mapping[str, Any]) -> None:
        """Change some fields of one device."""
        await self._send("PATCH", f"config/devices/{_segment(normalize_device_id(device_id))}", None, dict(changes))

    async def config_device_delete(self, device_id: str) -> None:
        """Forget a device."""
        await self._send("DELETE", f"config/devices/{_segment(normalize_device_id(device_id))}")

    async def config_section(self, section: str) -> JsonObject:
        """``options``, ``gui``, ``ldap``, ``defaults/folder``, ``defaults/device`` or ``defaults/ignores``."""
        return _object(await self._get(f"config/{_section(section)}"), f"config/{section}")

    async def config_section_put(self, section: str, value: Mapping[str, Any]) -> None:
        """Replace a config section."""
        await self._send("PUT", f"config/{_section(section)}", None, dict(value))

    async def config_section_patch(self, section: str, changes: Mapping[str, Any]) -> None:
        """Change some fields of a config section."""
        await self._send("PATCH", f"config/{_section(section)}", None, dict(changes))

    async def config_options(self) -> JsonObject:
        """The ``options`` section."""
        return await self.config_section("options")

    async def config_options_patch(self, changes: Mapping[str, Any]) -> None:
        """Change some options."""
        await self.config_section_patch("options", changes)

    # ------------------------------------------------------------------ cluster

    async def cluster_pending_devices(self) -> JsonObject:
        """Devices that tried to connect and are not configured."""
        return _object(await self._get("cluster/pending/devices"), "cluster/pending/devices")

    async def cluster_pending_folders(self, device: str | None = None) -> JsonObject:
        """Folders offered by peers and not yet accepted."""
        params = {"device": normalize_device_id(device)} if device is not None else None
        return _object(await self._get("cluster/pending/folders", params), "cluster/pending/folders")

    # ------------------------------------------------------------------ db

    async def db_browse(self, folder: str, *, prefix: str | None = None, levels: int | None = None) -> Any:
        """The global index tree of a folder (1.x ≥ 1.9: a list of ``{name, type, size, modTime, children}``)."""
        return await self._get("db/browse", _clean({"folder": folder, "prefix": prefix, "levels": levels}))

    async def db_completion(self, folder: str | None = None, device: str | None = None) -> JsonObject:
        """Completion of ``device`` (the local one when None) for ``folder`` (all when None)."""
        params = _clean({"folder": folder, "device": normalize_device_id(device) if device else None})
        return _object(await self._get("db/completion", params), "db/completion")

    async def db_file(self, folder: str, file: str) -> JsonObject:
        """Global and local records of one file, and which devices have it."""
        return _object(await self._get("db/file", {"folder": folder, "file": file}), "db/file")

    async def db_ignores(self, folder: str) -> JsonObject:
        """The ``.stignore`` lines (``ignore``) and their expansion (``expanded``)."""
        return _object(await self._get("db/ignores", {"folder": folder}), "db/ignores")

    async def db_set_ignores(self, folder: str, patterns: Sequence[str]) -> JsonObject:
        """Replace the ``.stignore`` lines."""
        reply = await self._send("POST", "db/ignores", {"folder": folder}, {"ignore": list(patterns)})
        return _object(reply.data, "db/ignores")

    async def db_localchanged(self, folder: str, *, page: int | None = None, perpage: int | None = None) -> JsonObject:
        """Local changes of a receive-only folder, paged."""
        params = _clean({"folder": folder, "page": page, "perpage": perpage})
        return _object(await self._get("db/localchanged", params), "db/localchanged")

    async def db_need(self, folder: str, *, page: int | None = None, perpage: int | None = None) -> JsonObject:
        """Files this device still needs: ``progress`` (being pulled), ``queued``, ``rest``; paged."""
        params = _clean({"folder": folder, "page": page, "perpage": perpage})
        return _object(await self._get("db/need", params), "db/need")

    async def db_need_all(self, folder: str, *, perpage: int = 500, max_items: int = 10_000) -> list[JsonObject]:
        """Every needed file (``progress`` first), fetched page by page up to ``max_items``."""
        items: list[JsonObject] = []
        page = 1
        while len(items) < max_items:
            data = await self.db_need(folder, page=page, perpage=perpage)
            chunk = [*(data.get("progress") or []), *(data.get("queued") or []), *(data.get("rest") or [])]
            items.extend(chunk)
            if len(chunk) < perpage:
                break
            page += 1
        return items[:max_items]

    async def db_remoteneed(
        self, folder: str, device: str, *, page: int | None = None, perpage: int | None = None
    ) -> JsonObject:
        """Files ``device`` still needs from us, paged."""
        params = _clean({"folder": folder, "device": normalize_device_id(device), "page": page, "perpage": perpage})
        return _object(await self._get("db/remoteneed", params), "db/remoteneed")

    async def db_override(self, folder: str) -> None:
        """Make a send-only folder's local state the global one."""
        await self._send("POST", "db/override", {"folder": folder})

    async def db_revert(self, folder: str) -> None:
        """Undo the local changes of a receive-only folder."""
        await self._send("POST", "db/revert", {"folder": folder})

    async def db_prio(self, folder: str, file: str) -> JsonObject:
        """Move a needed file to the front of the pull queue; returns the first page of the need list."""
        reply = await self._send("POST", "db/prio", {"folder": folder, "file": file})
        return _object(reply.data, "db/prio")

    async def db_scan(self, folder: str | None = None, *, subs: Sequence[str] = (), next_s: int | None = None) -> None:
        """Rescan a folder (or every folder), optionally only some sub-paths; ``next_s`` delays the next rescan."""
        if subs and folder is None:
            raise PeerdeckInputError("scanning sub-paths needs a folder")
        params: list[tuple[str, str]] = [(k, str(v)) for k, v in _clean({"folder": folder, "next": next_s}).items()]
        params.extend(("sub", sub) for sub in subs)
        await self._request("POST", "rest/db/scan", params=MultiDict(params), decode="none")

    async def db_status(self, folder: str) -> JsonObject:
        """A folder's full summary. **Expensive** for the daemon: prefer events and :meth:`db_completion`."""
        return _object(await self._get("db/status", {"folder": folder}), "db/status")

    # ------------------------------------------------------------------ folder

    async def folder_errors(self, folder: str, *, page: int | None = None, perpage: int | None = None) -> JsonObject:
        """A folder's scan and pull errors (``errors``: ``{path, error}``), paged."""
        params = _clean({"folder": folder, "page": page, "perpage": perpage})
        return _object(await self._get("folder/errors", params), "folder/errors")

    # ------------------------------------------------------------------ events

    async def events(
        self,
        *,
        since: int = 0,
        limit: int | None = None,
        timeout: int | None = None,
        events: Sequence[str] = (),
        disk: bool = False,
    ) -> list[JsonObject]:
        """One long poll: events after ``since``, waiting up to ``timeout`` s (Syncthing's default 60).

        Each distinct ``events`` mask is its own subscription, created at its first use.
        ``disk=True`` reads ``/rest/events/disk`` (LocalChangeDetected, RemoteChangeDetected).
        """
        params = _clean(
            {"since": since, "limit": limit, "timeout": timeout, "events": ",".join(events) if events else None}
        )
        wait = DEFAULT_EVENT_TIMEOUT if timeout is None else timeout
        data = await self._get(
            "events/disk" if disk else "events", params, timeout=wait + max(EVENT_READ_MARGIN, self.request_timeout)
        )
        return _list(data, "events")

    async def disk_events(
        self, *, since: int = 0, limit: int | None = None, timeout: int | None = None
    ) -> list[JsonObject]:
        """One long poll of the disk events (local and remote changes)."""
        return await self.events(since=since, limit=limit, timeout=timeout, disk=True)

    # ------------------------------------------------------------------ stats

    async def stats_device(self) -> JsonObject:
        """Per device: ``lastSeen`` and ``lastConnectionDurationS``."""
        return _object(await self._get("stats/device"), "stats/device")

    async def stats_folder(self) -> JsonObject:
        """Per folder: ``lastScan`` and ``lastFile``."""
        return _object(await self._get("stats/folder"), "stats/folder")

    # ------------------------------------------------------------------ svc / misc

    async def svc_deviceid(self, device_id: str) -> str:
        """Syncthing's own check and canonical form of a device id."""
        data = _object(await self._get("svc/deviceid", {"id": device_id}), "svc/deviceid")
        if "error" in data:
            raise PeerdeckInputError(f"Syncthing says the device id is invalid: {data['error']}")
        return str(data.get("id", ""))

    async def svc_lang(self) -> list[str]:
        """Languages from the request's Accept-Language header."""
        return cast(list[str], _list(await self._get("svc/lang"), "svc/lang"))

    async def svc_random_string(self, length: int = 32) -> str:
        """A random alphanumeric string made by the daemon."""
        data = _object(await self._get("svc/random/string", {"length": length}), "svc/random/string")
        return str(data.get("random", ""))

    async def svc_report(self) -> JsonObject:
        """The anonymous usage report Syncthing would send."""
        return _object(await self._get("svc/report"), "svc/report")

    async def noauth_health(self) -> bool:
        """True when ``/rest/noauth/health`` answers OK (needs no key on recent versions)."""
        data = _object(await self._get("noauth/health"), "noauth/health")
        return data.get("status") == "OK"


def _clean(params: Mapping[str, str | int | float | None]) -> Params:
    """Drop absent parameters (None or empty text)."""
    return {k: v for k, v in params.items() if v is not None and v != ""}


def _segment(value: str) -> str:
    """Percent-encode one path segment (folder ids may hold any character)."""
    if not value:
        raise PeerdeckInputError("an empty folder or device id")
    return quote(value, safe="")


def _section(section: str) -> str:
    allowed = ("options", "gui", "ldap", "defaults/folder", "defaults/device", "defaults/ignores")
    if section not in allowed:
        raise PeerdeckInputError(f"unknown config section {section!r}; expected one of {', '.join(allowed)}")
    return section


def _object(data: Any, route: str) -> JsonObject:
    if not isinstance(data, dict):
        raise PeerdeckInvalidResponseError(f"Syncthing answered {route} with {type(data).__name__}, not an object")
    return data


def _list(data: Any, route: str) -> list[JsonObject]:
    if not isinstance(data, list):
        raise PeerdeckInvalidResponseError(f"Syncthing answered {route} with {type(data).__name__}, not a list")
    return data

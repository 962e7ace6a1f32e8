"""Async client for qBittorrent's WebUI API v2 (qBittorrent 4.1 to 5.2).

Every route of the WebUI API is a method here, named after the route. Version
differences are handled inside: ``stop``/``start`` replaced ``pause``/``resume`` in
WebAPI 2.11, login answers changed in 5.2, and API keys (Bearer) arrived in 5.2.

Logins are precious: qBittorrent bans an address after five failures. The client logs
in lazily, re-logs in at most once when a session expires (a 403), and after the
daemon rejects the credentials it refuses to try again until ``reset_login`` is called.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import aiohttp

from ..client import DEFAULT_TIMEOUT, Decode, HttpClient, Reply
from ..exceptions import (
    PeerdeckAuthenticationError,
    PeerdeckBannedError,
    PeerdeckConflictError,
    PeerdeckForbiddenError,
    PeerdeckHostRejectedError,
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckResponseError,
)
from ..validation import validate_info_hash, validate_magnet

JsonObject = dict[str, Any]
Hashes = Sequence[str] | str
"""One hash, several hashes, or the literal ``"all"``."""

_STOP_START_API = (2, 11, 0)
_COUNT_API = (2, 10, 0)
_API_KEY_API = (2, 14, 1)
_SHARE_LIMIT_ACTION_API = (2, 12, 0)  # setShareLimits requires shareLimitAction
_SHARE_LIMITS_MODE_API = (2, 15, 3)  # setShareLimits requires shareLimitsMode
_SEED_MODE_API = (2, 16, 0)  # torrents/add: seedMode replaces skip_checking


def parse_api_version(text: str) -> tuple[int, ...]:
    """``"2.8.19"`` → ``(2, 8, 19)``; raises on anything else."""
    try:
        return tuple(int(part) for part in text.strip().split("."))
    except ValueError as err:
        raise PeerdeckInvalidResponseError(f"qBittorrent sent an unreadable API version {text[:20]!r}") from err


def join_hashes(hashes: Hashes) -> str:
    """Validate hashes and join them the way qBittorrent wants (``a|b``), or pass ``all``."""
    if isinstance(hashes, str):
        return "all" if hashes == "all" else validate_info_hash(hashes)
    if not hashes:
        raise PeerdeckInputError("no torrent hashes given")
    return "|".join(validate_info_hash(h) for h in hashes)


class QBittorrentClient(HttpClient):
    """Every WebUI API v2 call as a typed coroutine."""

    daemon_name = "qBittorrent"

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(url, session=session, verify_ssl=verify_ssl, request_timeout=request_timeout)
        self._username = username or ""
        self._password = password or ""
        self._api_key = api_key
        self._logged_in = False
        self._login_rejected = False
        self._login_lock = asyncio.Lock()
        self._api_version: tuple[int, ...] | None = None
        self._sid: str | None = None
        self.logins = 0
        """Sessions opened so far: a new one after the first may mean the daemon restarted (it forgets
        every session), so whoever keeps state across calls can check."""

    # ------------------------------------------------------------------ plumbing

    def _auth_headers(self) -> dict[str, str]:
        if self._api_key:
            return {"Authorization": f"Bearer {self._api_key}"}
        if self._sid is not None:
            # Sent explicitly, so an injected session whose cookie jar drops cookies of
            # bare-IP hosts (Home Assistant's shared one) still carries the session.
            return {"Cookie": self._sid}
        return {}

    def _raise_for_status(self, what: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        if status == 403 and what.endswith("/auth/login"):
            raise PeerdeckBannedError(
                "qBittorrent has banned this address after too many failed logins; "
                "wait for the ban to expire (1 hour by default) or restart qBittorrent"
            )
        if status == 404 and b"Endpoint does not exist" in body:
            raise PeerdeckNotSupportedError(f"{what}: this qBittorrent version has no such endpoint")
        if status == 405:
            raise PeerdeckResponseError(f"{what}: qBittorrent wants another HTTP method (405)", status)
        if status == 415:
            raise PeerdeckInputError(f"{what}: qBittorrent could not read the torrent file (415)")
        super()._raise_for_status(what, status, headers, body)

    async def login(self) -> None:
        """Open a cookie session. A rejection is final for this client (no login loops)."""
        if self._api_key:
            return
        async with self._login_lock:
            if self._logged_in:
                return
            if self._login_rejected:
                raise PeerdeckAuthenticationError(
                    "qBittorrent rejected these credentials before; not retrying, to avoid an IP ban"
                )
            self._sid = None
            reply = await self._request(
                "POST",
                "api/v2/auth/login",
                data={"username": self._username, "password": self._password},
                decode="text",
                ok_statuses=(401,),
            )
            text = (reply.data or "").strip()
            if reply.status == 401 and await self._host_rejected():
                raise PeerdeckHostRejectedError(
                    "qBittorrent refused the Host header (its log: 'Invalid Host header'): behind a reverse "
                    "proxy on another port, have the proxy send qBittorrent's own host and port, or turn off "
                    "'Enable Host header validation' in qBittorrent's Web UI options"
                )
            if reply.status == 401 or text == "Fails.":
                self._login_rejected = True
                raise PeerdeckAuthenticationError("qBittorrent rejected the username or password")
            if reply.status not in (200, 204) or (reply.status == 200 and text not in ("Ok.", "")):
                raise PeerdeckInvalidResponseError(f"qBittorrent answered the login with {reply.status}")
            self._sid = _session_cookie(reply)
            self._logged_in = True
            self.logins += 1

    async def _host_rejected(self) -> bool:
        """After a 401 on login: whether qBittorrent's Host header check answered it, not the password.

        The check runs before anything else and answers 401 to every request, where an unauthenticated
        ``app/version`` otherwise gets 403 (qBittorrent 4.5 and 5.3 alike; a wrong password gets 200
        ``Fails.`` on 4.x and 401 on 5.x). This probe is no login: it cannot count towards a ban.
        """
        reply = await self._request("GET", "api/v2/app/version", decode="text", ok_statuses=(401, 403))
        return reply.status == 401

    def reset_login(self) -> None:
        """Allow a new login attempt (after the user fixed the credentials)."""
        self._login_rejected = False
        self._logged_in = False
        self._sid = None

    def forget_session(self) -> None:
        """Drop the session cookie, as if it had expired (the next call logs in again)."""
        self._logged_in = False
        self._sid = None

    async def _api(
        self,
        method: str,
        route: str,
        *,
        params: Mapping[str, str | int | float] | None = None,
        data: Any = None,
        decode: Decode = "auto",
        timeout: float | None = None,
    ) -> Reply:
        """Call ``/api/v2/<route>`` logged in, re-logging in once if the session expired."""
        if not self._api_key and not self._logged_in:
            await self.login()
        try:
            return await self._request(
                method,
                f"api/v2/{route}",
                params=params,
                data=data,
                decode=decode,
                timeout=timeout,
            )
        except PeerdeckForbiddenError:
            if self._api_key:
                raise PeerdeckAuthenticationError("qBittorrent refused the API key (403)") from None
            self.forget_session()
            await self.login()
            try:
                return await self._request(
                    method,
                    f"api/v2/{route}",
                    params=params,
                    data=data,
                    decode=decode,
                    timeout=timeout,
                )
            except PeerdeckForbiddenError as err:
                raise PeerdeckAuthenticationError("qBittorrent refused the request even after a fresh login") from err

    async def _get_json(self, route: str, **params: str | int | float | None) -> Any:
        reply = await self._api("GET", route, params=_clean(params), decode="json")
        return reply.data

    async def _post(self, route: str, **fields: str | int | float | bool | None) -> Reply:
        return await self._api("POST", route, data=_form(fields), decode="text")

    async def api_version(self) -> tuple[int, ...]:
        """The WebAPI version as a tuple, fetched once and cached."""
        if self._api_version is None:
            reply = await self._api("GET", "app/webapiVersion", decode="text")
            self._api_version = parse_api_version(str(reply.data))
        return self._api_version

    def forget_version(self) -> None:
        """Read the WebAPI version again at its next use (the daemon restarted, maybe upgraded)."""
        self._api_version = None

    async def _uses_stop_start(self) -> bool:
        return await self.api_version() >= _STOP_START_API

    # ------------------------------------------------------------------ auth

    async def logout(self) -> None:
        """End the cookie session."""
        if self._logged_in and not self._api_key:
            await self._post("auth/logout")
        self.forget_session()

    # ------------------------------------------------------------------ app

    async def app_version(self) -> str:
        """qBittorrent's version, e.g. ``v4.5.2``."""
        return str((await self._api("GET", "app/version", decode="text")).data)

    async def app_webapi_version(self) -> str:
        """The WebAPI version string, e.g. ``2.8.19``."""
        return ".".join(str(p) for p in await self.api_version())

    async def app_build_info(self) -> JsonObject:
        """Versions of Qt, libtorrent, Boost, OpenSSL and the bitness."""
        return cast(JsonObject, await self._get_json("app/buildInfo"))

    async def app_shutdown(self) -> None:
        """Ask qBittorrent to quit."""
        await self._post("app/shutdown")

    async def app_preferences(self) -> JsonObject:
        """Every application preference."""
        return cast(JsonObject, await self._get_json("app/preferences"))

    async def app_set_preferences(self, preferences: Mapping[str, Any]) -> None:
        """Change some preferences (only the keys given)."""
        await self._post("app/setPreferences", json=json.dumps(dict(preferences)))

    async def app_default_save_path(self) -> str:
        """The default save path."""
        return str((await self._api("GET", "app/defaultSavePath", decode="text")).data)

    async def app_network_interfaces(self) -> list[JsonObject]:
        """Network interfaces qBittorrent can bind to."""
        return cast(list[JsonObject], await self._get_json("app/networkInterfaceList"))

    async def app_network_interface_addresses(self, iface: str = "") -> list[str]:
        """Addresses of one interface (all when empty)."""
        return cast(list[str], await self._get_json("app/networkInterfaceAddressList", iface=iface))

    async def app_rotate_api_key(self) -> str:
        """Create a new API key (qBittorrent 5.2+); returns it."""
        if await self.api_version() < _API_KEY_API:
            raise PeerdeckNotSupportedError("API keys need qBittorrent 5.2 (WebAPI 2.14.1) or newer")
        reply = await self._api("POST", "app/rotateAPIKey", decode="json")
        data = reply.data
        return str(data.get("apiKey", "")) if isinstance(data, dict) else str(data)

    # ------------------------------------------------------------------ log

    async def log_main(
        self,
        *,
        normal: bool = True,
        info: bool = True,
        warning: bool = True,
        critical: bool = True,
        last_known_id: int = -1,
    ) -> list[JsonObject]:
        """Application log entries newer than ``last_known_id``."""
        return cast(
            list[JsonObject],
            await self._get_json(
                "log/main",
                normal=_bool(normal),
                info=_bool(info),
                warning=_bool(warning),
                critical=_bool(critical),
                last_known_id=last_known_id,
            ),
        )

    async def log_peers(self, *, last_known_id: int = -1) -> list[JsonObject]:
        """Peer log entries (banned peers and why)."""
        return cast(list[JsonObject], await self._get_json("log/peers", last_known_id=last_known_id))

    # ------------------------------------------------------------------ sync

    async def sync_maindata(self, rid: int = 0) -> JsonObject:
        """The raw main data since ``rid`` (a delta unless ``full_update``); see :class:`MaindataState`."""
        return cast(JsonObject, await self._get_json("sync/maindata", rid=rid))

    async def sync_torrent_peers(self, torrent_hash: str, rid: int = 0) -> JsonObject:
        """Peers of one torrent, as a delta since ``rid``."""
        return cast(
            JsonObject, await self._get_json("sync/torrentPeers", hash=validate_info_hash(torrent_hash), rid=rid)
        )

    # ------------------------------------------------------------------ transfer

    async def transfer_info(self) -> JsonObject:
        """Global speeds, session totals and connection status (cheap)."""
        return cast(JsonObject, await self._get_json("transfer/info"))

    async def transfer_speed_limits_mode(self) -> bool:
        """True when the alternative speed limits are on."""
        reply = await self._api("GET", "transfer/speedLimitsMode", decode="text")
        return str(reply.data).strip() == "1"

    async def transfer_toggle_speed_limits_mode(self) -> None:
        """Flip the alternative speed limits."""
        await self._post("transfer/toggleSpeedLimitsMode")

    async def transfer_set_speed_limits_mode(self, alternative: bool) -> None:
        """Turn the alternative speed limits on or off (idempotent, unlike toggling)."""
        if await self.transfer_speed_limits_mode() != alternative:
            await self.transfer_toggle_speed_limits_mode()

    async def transfer_download_limit(self) -> int:
        """Global download limit in B/s (0 = none)."""
        return _int_text((await self._api("GET", "transfer/downloadLimit", decode="text")).data)

    async def transfer_set_download_limit(self, limit: int) -> None:
        """Set the global download limit in B/s (0 = none)."""
        await self._post("transfer/setDownloadLimit", limit=_non_negative(limit, "limit"))

    async def transfer_upload_limit(self) -> int:
        """Global upload limit in B/s (0 = none)."""
        return _int_text((await self._api("GET", "transfer/uploadLimit", decode="text")).data)

    async def transfer_set_upload_limit(self, limit: int) -> None:
        """Set the global upload limit in B/s (0 = none)."""
        await self._post("transfer/setUploadLimit", limit=_non_negative(limit, "limit"))

    async def transfer_ban_peers(self, peers: Iterable[str]) -> None:
        """Ban peers given as ``host:port``."""
        await self._post("transfer/banPeers", peers="|".join(peers))

    # ------------------------------------------------------------------ torrents: reading

    async def torrents_info(
        self,
        *,
        status_filter: str | None = None,
        category: str | None = None,
        tag: str | None = None,
        sort: str | None = None,
        reverse: bool | None = None,
        limit: int | None = None,
        offset: int | None = None,
        hashes: Hashes | None = None,
    ) -> list[JsonObject]:
        """Torrents, optionally filtered; use :meth:`status_filter_name` for version-proof filters."""
        return cast(
            list[JsonObject],
            await self._get_json(
                "torrents/info",
                filter=status_filter,
                category=category,
                tag=tag,
                sort=sort,
                reverse=None if reverse is None else _bool(reverse),
                limit=limit,
                offset=offset,
                hashes=None if hashes is None else join_hashes(hashes),
            ),
        )

    async def status_filter_name(self, generic: str) -> str:
        """Map ``paused``/``resumed`` onto the names this version knows (``stopped``/``running`` on 5.x).

        qBittorrent silently treats an unknown filter as "all", so the name must be right.
        """
        renames = {"paused": "stopped", "resumed": "running"}
        if await self._uses_stop_start():
            return renames.get(generic, generic)
        return {v: k for k, v in renames.items()}.get(generic, generic)

    async def can_count(self) -> bool:
        """Whether this version has ``torrents/count`` (5.0+, whose lists also sort before they serialise)."""
        return await self.api_version() >= _COUNT_API

    async def torrents_count(self) -> int:
        """Number of torrents (WebAPI 2.10+)."""
        if not await self.can_count():
            raise PeerdeckNotSupportedError("torrents/count needs qBittorrent 5.0 or newer")
        return _int_text((await self._api("GET", "torrents/count", decode="text")).data)

    async def torrents_properties(self, torrent_hash: str) -> JsonObject:
        """Generic properties of one torrent."""
        return cast(JsonObject, await self._get_json("torrents/properties", hash=validate_info_hash(torrent_hash)))

    async def torrents_trackers(self, torrent_hash: str) -> list[JsonObject]:
        """Trackers of one torrent."""
        return cast(list[JsonObject], await self._get_json("torrents/trackers", hash=validate_info_hash(torrent_hash)))

    async def torrents_webseeds(self, torrent_hash: str) -> list[JsonObject]:
        """Web seeds of one torrent."""
        return cast(list[JsonObject], await self._get_json("torrents/webseeds", hash=validate_info_hash(torrent_hash)))

    async def torrents_files(self, torrent_hash: str, indexes: Iterable[int] | None = None) -> list[JsonObject]:
        """Files of one torrent."""
        return cast(
            list[JsonObject],
            await self._get_json(
                "torrents/files",
                hash=validate_info_hash(torrent_hash),
                indexes=None if indexes is None else "|".join(str(i) for i in indexes),
            ),
        )

    async def torrents_piece_states(self, torrent_hash: str) -> list[int]:
        """Per-piece state (0 missing, 1 downloading, 2 have)."""
        return cast(list[int], await self._get_json("torrents/pieceStates", hash=validate_info_hash(torrent_hash)))

    async def torrents_piece_hashes(self, torrent_hash: str) -> list[str]:
        """Per-piece SHA-1 hashes."""
        return cast(list[str], await self._get_json("torrents/pieceHashes", hash=validate_info_hash(torrent_hash)))

    async def torrents_download_limit(self, hashes: Hashes) -> dict[str, int]:
        """Per-torrent download limits in B/s."""
        reply = await self._api("POST", "torrents/downloadLimit", data={"hashes": join_hashes(hashes)}, decode="json")
        return cast(dict[str, int], reply.data)

    async def torrents_upload_limit(self, hashes: Hashes) -> dict[str, int]:
        """Per-torrent upload limits in B/s."""
        reply = await self._api("POST", "torrents/uploadLimit", data={"hashes": join_hashes(hashes)}, decode="json")
        return cast(dict[str, int], reply.data)

    # ------------------------------------------------------------------ torrents: acting

    async def torrents_stop(self, hashes: Hashes) -> None:
        """Pause (≤ 4.6) or stop (5.x) torrents; the route is picked by API version."""
        joined = join_hashes(hashes)
        route = "torrents/stop" if await self._uses_stop_start() else "torrents/pause"
        await self._post(route, hashes=joined)

    async def torrents_start(self, hashes: Hashes) -> None:
        """Resume (≤ 4.6) or start (5.x) torrents; the route is picked by API version."""
        joined = join_hashes(hashes)
        route = "torrents/start" if await self._uses_stop_start() else "torrents/resume"
        await self._post(route, hashes=joined)

    async def torrents_delete(self, hashes: Hashes, *, delete_files: bool = False) -> None:
        """Remove torrents, and their data when ``delete_files``."""
        await self._post("torrents/delete", hashes=join_hashes(hashes), deleteFiles=_bool(delete_files))

    async def torrents_recheck(self, hashes: Hashes) -> None:
        """Re-verify the data of torrents."""
        await self._post("torrents/recheck", hashes=join_hashes(hashes))

    async def torrents_reannounce(self, hashes: Hashes) -> None:
        """Announce to trackers again now."""
        await self._post("torrents/reannounce", hashes=join_hashes(hashes))

    async def torrents_add(
        self,
        *,
        urls: Sequence[str] = (),
        torrent_files: Sequence[tuple[str, bytes]] = (),
        save_path: str | None = None,
        category: str | None = None,
        tags: Sequence[str] = (),
        stopped: bool = False,
        skip_checking: bool = False,
        rename: str | None = None,
        upload_limit: int | None = None,
        download_limit: int | None = None,
        ratio_limit: float | None = None,
        seeding_time_limit: int | None = None,
        auto_tmm: bool | None = None,
        sequential: bool | None = None,
        first_last_piece_priority: bool | None = None,
    ) -> Any:
        """Add torrents by magnet/URL or .torrent content.

        Returns the daemon's answer: ``None`` before WebAPI 2.14, the JSON summary after.
        ``Fails.`` (older daemons) and 409/415 become typed errors.
        """
        if not urls and not torrent_files:
            raise PeerdeckInputError("nothing to add: give a magnet link, a URL or a .torrent file")
        form = aiohttp.FormData()
        if urls:
            form.add_field("urls", "\n".join(urls))
        for filename, content in torrent_files:
            if not content.startswith(b"d"):
                raise PeerdeckInputError(f"{filename!r} is not a .torrent file (not bencoded)")
            form.add_field("torrents", content, filename=filename, content_type="application/x-bittorrent")
        fields: dict[str, str | int | float | bool | None] = {
            "savepath": save_path,
            "category": category,
            "tags": ",".join(tags) if tags else None,
            "stopped" if await self._uses_stop_start() else "paused": _bool(stopped),
            "seedMode" if await self.api_version() >= _SEED_MODE_API else "skip_checking": (
                _bool(skip_checking) if skip_checking else None
            ),
            "rename": rename,
            "upLimit": upload_limit,
            "dlLimit": download_limit,
            "ratioLimit": ratio_limit,
            "seedingTimeLimit": seeding_time_limit,
            "autoTMM": None if auto_tmm is None else _bool(auto_tmm),
            "sequentialDownload": None if sequential is None else _bool(sequential),
            "firstLastPiecePrio": None if first_last_piece_priority is None else _bool(first_last_piece_priority),
        }
        for key, value in _form(fields).items():
            form.add_field(key, value)
        try:
            reply = await self._api("POST", "torrents/add", data=form, decode="auto")
        except PeerdeckConflictError as err:
            raise PeerdeckInputError("qBittorrent could not add the torrent (already added, or invalid)") from err
        if isinstance(reply.data, str) and reply.data.strip() == "Fails.":
            raise PeerdeckInputError("qBittorrent could not add the torrent (already added, or invalid)")
        return reply.data

    async def torrents_add_trackers(self, torrent_hash: str, urls: Sequence[str]) -> None:
        """Add tracker URLs to a torrent."""
        await self._post("torrents/addTrackers", hash=validate_info_hash(torrent_hash), urls="\n".join(urls))

    async def torrents_edit_tracker(self, torrent_hash: str, orig_url: str, new_url: str) -> None:
        """Replace a tracker URL (``origUrl`` became ``url`` in WebAPI 2.13)."""
        old_name = "url" if await self.api_version() >= (2, 13, 0) else "origUrl"
        await self._api(
            "POST",
            "torrents/editTracker",
            data={"hash": validate_info_hash(torrent_hash), old_name: orig_url, "newUrl": new_url},
            decode="text",
        )

    async def torrents_remove_trackers(self, torrent_hash: str, urls: Sequence[str]) -> None:
        """Remove trackers from a torrent."""
        await self._post("torrents/removeTrackers", hash=validate_info_hash(torrent_hash), urls="|".join(urls))

    async def torrents_add_peers(self, hashes: Hashes, peers: Sequence[str]) -> None:
        """Add peers (``host:port``) to torrents."""
        await self._post("torrents/addPeers", hashes=join_hashes(hashes), peers="|".join(peers))

    async def torrents_increase_priority(self, hashes: Hashes) -> None:
        """Move torrents up the queue."""
        await self._queue_op("torrents/increasePrio", hashes)

    async def torrents_decrease_priority(self, hashes: Hashes) -> None:
        """Move torrents down the queue."""
        await self._queue_op("torrents/decreasePrio", hashes)

    async def torrents_top_priority(self, hashes: Hashes) -> None:
        """Move torrents to the top of the queue."""
        await self._queue_op("torrents/topPrio", hashes)

    async def torrents_bottom_priority(self, hashes: Hashes) -> None:
        """Move torrents to the bottom of the queue."""
        await self._queue_op("torrents/bottomPrio", hashes)

    async def _queue_op(self, route: str, hashes: Hashes) -> None:
        try:
            await self._post(route, hashes=join_hashes(hashes))
        except PeerdeckConflictError as err:
            raise PeerdeckNotSupportedError("torrent queueing is turned off in qBittorrent") from err

    async def torrents_file_priority(self, torrent_hash: str, file_ids: Iterable[int], priority: int) -> None:
        """Set the priority (0 skip, 1 normal, 6 high, 7 max) of some files."""
        if priority not in (0, 1, 6, 7):
            raise PeerdeckInputError("file priority must be 0, 1, 6 or 7")
        await self._post(
            "torrents/filePrio",
            hash=validate_info_hash(torrent_hash),
            id="|".join(str(i) for i in file_ids),
            priority=priority,
        )

    async def torrents_set_download_limit(self, hashes: Hashes, limit: int) -> None:
        """Per-torrent download limit in B/s."""
        await self._post("torrents/setDownloadLimit", hashes=join_hashes(hashes), limit=_non_negative(limit, "limit"))

    async def torrents_set_upload_limit(self, hashes: Hashes, limit: int) -> None:
        """Per-torrent upload limit in B/s."""
        await self._post("torrents/setUploadLimit", hashes=join_hashes(hashes), limit=_non_negative(limit, "limit"))

    async def torrents_set_share_limits(
        self,
        hashes: Hashes,
        *,
        ratio_limit: float,
        seeding_time_limit: int,
        inactive_seeding_time_limit: int = -2,
    ) -> None:
        """Share limits (-2 = global, -1 = none).

        Each WebAPI version requires what it knows: the inactive limit from 2.9, the action taken at the limit
        from 2.12 and how limits combine from 2.15.3; those two are left to the global settings ("Default").
        """
        version = await self.api_version()
        await self._post(
            "torrents/setShareLimits",
            hashes=join_hashes(hashes),
            ratioLimit=ratio_limit,
            seedingTimeLimit=seeding_time_limit,
            inactiveSeedingTimeLimit=inactive_seeding_time_limit,
            shareLimitAction="Default" if version >= _SHARE_LIMIT_ACTION_API else None,
            shareLimitsMode="Default" if version >= _SHARE_LIMITS_MODE_API else None,
        )

    async def torrents_set_location(self, hashes: Hashes, location: str) -> None:
        """Move torrents' data to another directory."""
        try:
            await self._post("torrents/setLocation", hashes=join_hashes(hashes), location=location)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(f"qBittorrent cannot write to {location!r}") from err

    async def torrents_rename(self, torrent_hash: str, name: str) -> None:
        """Rename a torrent."""
        await self._post("torrents/rename", hash=validate_info_hash(torrent_hash), name=name)

    async def torrents_set_category(self, hashes: Hashes, category: str) -> None:
        """Put torrents in a category ("" removes it)."""
        try:
            await self._post("torrents/setCategory", hashes=join_hashes(hashes), category=category)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(f"qBittorrent has no category {category!r}") from err

    async def torrents_categories(self) -> dict[str, JsonObject]:
        """Every category with its save path."""
        return cast(dict[str, JsonObject], await self._get_json("torrents/categories"))

    async def torrents_create_category(self, name: str, save_path: str = "") -> None:
        """Create a category."""
        try:
            await self._post("torrents/createCategory", category=name, savePath=save_path)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(f"category name {name!r} is invalid or already exists") from err

    async def torrents_edit_category(self, name: str, save_path: str) -> None:
        """Change a category's save path."""
        try:
            await self._post("torrents/editCategory", category=name, savePath=save_path)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(f"category {name!r} cannot be edited") from err

    async def torrents_remove_categories(self, names: Iterable[str]) -> None:
        """Delete categories."""
        await self._post("torrents/removeCategories", categories="\n".join(names))

    async def torrents_add_tags(self, hashes: Hashes, tags: Iterable[str]) -> None:
        """Tag torrents."""
        await self._post("torrents/addTags", hashes=join_hashes(hashes), tags=",".join(tags))

    async def torrents_remove_tags(self, hashes: Hashes, tags: Iterable[str] = ()) -> None:
        """Untag torrents (all tags when none given)."""
        await self._post("torrents/removeTags", hashes=join_hashes(hashes), tags=",".join(tags))

    async def torrents_tags(self) -> list[str]:
        """Every tag."""
        return cast(list[str], await self._get_json("torrents/tags"))

    async def torrents_create_tags(self, tags: Iterable[str]) -> None:
        """Create tags."""
        await self._post("torrents/createTags", tags=",".join(tags))

    async def torrents_delete_tags(self, tags: Iterable[str]) -> None:
        """Delete tags."""
        await self._post("torrents/deleteTags", tags=",".join(tags))

    async def torrents_set_auto_management(self, hashes: Hashes, enable: bool) -> None:
        """Automatic torrent management on or off."""
        await self._post("torrents/setAutoManagement", hashes=join_hashes(hashes), enable=_bool(enable))

    async def torrents_toggle_sequential_download(self, hashes: Hashes) -> None:
        """Flip sequential download."""
        await self._post("torrents/toggleSequentialDownload", hashes=join_hashes(hashes))

    async def torrents_toggle_first_last_piece_priority(self, hashes: Hashes) -> None:
        """Flip first/last piece priority."""
        await self._post("torrents/toggleFirstLastPiecePrio", hashes=join_hashes(hashes))

    async def torrents_set_force_start(self, hashes: Hashes, value: bool) -> None:
        """Force start on or off."""
        await self._post("torrents/setForceStart", hashes=join_hashes(hashes), value=_bool(value))

    async def torrents_set_super_seeding(self, hashes: Hashes, value: bool) -> None:
        """Super seeding on or off."""
        await self._post("torrents/setSuperSeeding", hashes=join_hashes(hashes), value=_bool(value))

    async def torrents_rename_file(self, torrent_hash: str, old_path: str, new_path: str) -> None:
        """Rename a file inside a torrent."""
        await self._rename("torrents/renameFile", torrent_hash, old_path, new_path)

    async def torrents_rename_folder(self, torrent_hash: str, old_path: str, new_path: str) -> None:
        """Rename a folder inside a torrent."""
        await self._rename("torrents/renameFolder", torrent_hash, old_path, new_path)

    async def _rename(self, route: str, torrent_hash: str, old_path: str, new_path: str) -> None:
        try:
            await self._post(route, hash=validate_info_hash(torrent_hash), oldPath=old_path, newPath=new_path)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(f"cannot rename {old_path!r} to {new_path!r}") from err

    # ------------------------------------------------------------------ RSS

    async def rss_add_folder(self, path: str) -> None:
        """Create an RSS folder (``a\\b`` for nesting)."""
        await self._rss_op("rss/addFolder", path=path)

    async def rss_add_feed(self, url: str, path: str = "") -> None:
        """Subscribe to a feed."""
        await self._rss_op("rss/addFeed", url=url, path=path)

    async def rss_remove_item(self, path: str) -> None:
        """Remove a feed or folder."""
        await self._rss_op("rss/removeItem", path=path)

    async def rss_move_item(self, item_path: str, dest_path: str) -> None:
        """Move or rename a feed or folder."""
        await self._rss_op("rss/moveItem", itemPath=item_path, destPath=dest_path)

    async def rss_items(self, *, with_data: bool = False) -> JsonObject:
        """Every feed and folder (with articles when ``with_data``)."""
        return cast(JsonObject, await self._get_json("rss/items", withData=_bool(with_data)))

    async def rss_mark_as_read(self, item_path: str, article_id: str | None = None) -> None:
        """Mark a feed, or one article, as read."""
        await self._rss_op("rss/markAsRead", itemPath=item_path, articleId=article_id)

    async def rss_refresh_item(self, item_path: str) -> None:
        """Refresh a feed or folder now."""
        await self._rss_op("rss/refreshItem", itemPath=item_path)

    async def rss_set_rule(self, name: str, definition: Mapping[str, Any]) -> None:
        """Create or replace an auto-downloading rule."""
        await self._rss_op("rss/setRule", ruleName=name, ruleDef=json.dumps(dict(definition)))

    async def rss_rename_rule(self, name: str, new_name: str) -> None:
        """Rename an auto-downloading rule."""
        await self._rss_op("rss/renameRule", ruleName=name, newRuleName=new_name)

    async def rss_remove_rule(self, name: str) -> None:
        """Delete an auto-downloading rule."""
        await self._rss_op("rss/removeRule", ruleName=name)

    async def rss_rules(self) -> dict[str, JsonObject]:
        """Every auto-downloading rule."""
        return cast(dict[str, JsonObject], await self._get_json("rss/rules"))

    async def rss_matching_articles(self, name: str) -> dict[str, list[str]]:
        """Articles matching a rule, per feed."""
        return cast(dict[str, list[str]], await self._get_json("rss/matchingArticles", ruleName=name))

    async def _rss_op(self, route: str, **fields: str | None) -> None:
        try:
            await self._post(route, **fields)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(
                f"qBittorrent refused the RSS change ({route.rsplit('/', maxsplit=1)[-1]})"
            ) from err

    # ------------------------------------------------------------------ search

    async def search_start(self, pattern: str, *, plugins: str = "enabled", category: str = "all") -> int:
        """Start a search job; returns its id."""
        if not pattern.strip():
            raise PeerdeckInputError("the search text is empty")
        try:
            reply = await self._api(
                "POST",
                "search/start",
                data={"pattern": pattern, "plugins": plugins, "category": category},
                decode="json",
            )
        except PeerdeckConflictError as err:
            raise PeerdeckNotSupportedError(
                "qBittorrent cannot search now (no Python on its host, or too many searches running)"
            ) from err
        return int(reply.data["id"])

    async def search_stop(self, search_id: int) -> None:
        """Stop a search job."""
        await self._search_op("search/stop", search_id)

    async def search_status(self, search_id: int | None = None) -> list[JsonObject]:
        """Status of one search job, or of all."""
        try:
            return cast(list[JsonObject], await self._get_json("search/status", id=search_id))
        except PeerdeckNotFoundError as err:
            raise PeerdeckNotFoundError(f"qBittorrent has no search job {search_id}", 404) from err

    async def search_results(self, search_id: int, *, limit: int = 0, offset: int = 0) -> JsonObject:
        """Results of a search job: ``{status, results, total}``."""
        try:
            return cast(JsonObject, await self._get_json("search/results", id=search_id, limit=limit, offset=offset))
        except PeerdeckNotFoundError as err:
            raise PeerdeckNotFoundError(f"qBittorrent has no search job {search_id}", 404) from err

    async def search_delete(self, search_id: int) -> None:
        """Delete a search job and its results."""
        await self._search_op("search/delete", search_id)

    async def _search_op(self, route: str, search_id: int) -> None:
        try:
            await self._post(route, id=search_id)
        except PeerdeckNotFoundError as err:
            raise PeerdeckNotFoundError(f"qBittorrent has no search job {search_id}", 404) from err

    async def search_plugins(self) -> list[JsonObject]:
        """Installed search plugins (empty list: search cannot work)."""
        return cast(list[JsonObject], await self._get_json("search/plugins"))

    async def search_install_plugin(self, sources: Iterable[str]) -> None:
        """Install plugins from URLs or file paths."""
        await self._post("search/installPlugin", sources="|".join(sources))

    async def search_uninstall_plugin(self, names: Iterable[str]) -> None:
        """Uninstall plugins."""
        await self._post("search/uninstallPlugin", names="|".join(names))

    async def search_enable_plugin(self, names: Iterable[str], enable: bool) -> None:
        """Enable or disable plugins."""
        await self._post("search/enablePlugin", names="|".join(names), enable=_bool(enable))

    async def search_update_plugins(self) -> None:
        """Update every plugin."""
        await self._post("search/updatePlugins")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _clean(params: Mapping[str, str | int | float | None]) -> dict[str, str | int | float]:
    return {k: v for k, v in params.items() if v is not None}


def _form(fields: Mapping[str, str | int | float | bool | None]) -> dict[str, str]:
    return {k: (_bool(v) if isinstance(v, bool) else str(v)) for k, v in fields.items() if v is not None}


def _int_text(value: object) -> int:
    try:
        return int(str(value).strip())
    except ValueError as err:
        raise PeerdeckInvalidResponseError("qBittorrent sent a non-numeric answer") from err


def _non_negative(value: int, name: str) -> int:
    if value < 0:
        raise PeerdeckInputError(f"{name} must be 0 or more")
    return value


def _session_cookie(reply: Reply) -> str | None:
    """The ``Cookie`` header value for the session set by the login (``SID`` or ``QBT_SID_<port>``)."""
    for header in reply.headers.getall("Set-Cookie", []):
        pair = header.split(";", 1)[0].strip()
        name, _, value = pair.partition("=")
        if (name == "SID" or name.startswith("QBT_SID")) and value:
            return pair
    return None


__all__ = ["Hashes", "JsonObject", "QBittorrentClient", "join_hashes", "parse_api_version", "validate_magnet"]

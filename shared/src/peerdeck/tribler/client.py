"""Async client for Tribler 8's REST API (``/api`` routes, ``X-Api-Key``).

Two quirks of the core shape this client. Routes whose component is not up answer 404
"Required components not initialized"; such requests never reach their handler. While the
core is still starting that passes, so the request (even an add) is retried for a bounded
time; once the core has finished starting (its IPv8 overlays are listed) the component is
switched off for good, so the answer is "not supported" at once. And Tribler 7.x has the
same routes without the ``/api`` prefix; a 404 for a missing route is checked once against
a 7.x route so the user is told to upgrade rather than "not found".
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Literal
from urllib.parse import quote, unquote

import aiohttp

from ..client import DEFAULT_TIMEOUT, HttpClient, Reply
from ..exceptions import (
    PeerdeckAuthenticationError,
    PeerdeckConnectionError,
    PeerdeckError,
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckResponseError,
    PeerdeckServerError,
)
from ..validation import validate_http_url, validate_info_hash, validate_magnet
from .sse import Backoff, TriblerEvent, read_events

JsonObject = dict[str, Any]
DownloadState = Literal["resume", "stop", "recheck", "move_storage"]
QueueMove = Literal["queue_up", "queue_top", "queue_down", "queue_bottom"]

TORRENT_CONTENT_TYPE = "applications/x-bittorrent"
"""Tribler compares the content type to this exact, misspelt value to accept a raw .torrent body."""

_NOT_READY = "Required components not initialized"
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")


class TriblerNotReadyError(PeerdeckConnectionError):
    """The core is still starting: the route's components are not initialized yet."""


class TriblerComponentOffError(PeerdeckNotSupportedError):
    """The core runs but the route's component is switched off (content discovery disabled, say)."""


class TriblerActionError(PeerdeckError):
    """An action on several downloads failed for some of them; the others were done.

    ``failed`` maps each info-hash that failed to why, ``done`` lists those that succeeded.
    """

    def __init__(self, action: str, failed: Mapping[str, PeerdeckError], done: Sequence[str]) -> None:
        reasons = "; ".join(f"{infohash}: {err}" for infohash, err in failed.items())
        super().__init__(f"{action}: {len(failed)} of {len(failed) + len(done)} downloads failed ({reasons})")
        self.failed = dict(failed)
        self.done = tuple(done)


class _MissingRouteError(PeerdeckNotFoundError):
    """A 404 for the route itself (not for a download); resolved into a clearer error."""


class _UnexplainedServerError(PeerdeckServerError):
    """A 5xx with an empty message; routes that know the usual cause say it instead."""


@dataclass(frozen=True, slots=True)
class RemoteSearch:
    """A remote search that was sent: results arrive on the event stream under ``request_uuid``."""

    request_uuid: str
    peers: tuple[str, ...]


def error_message(body: bytes) -> str:
    """Tribler's error text from ``{"error": {"message": …}}`` (8.x) or ``{"error": "…"}`` (7.x)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        error = error.get("message")
    if not isinstance(error, str):
        return ""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    # Unhandled errors carry a whole traceback; its last line says what happened.
    return lines[-1].strip()[:300] if lines else ""


def file_uri(path: str) -> str:
    """A ``file:`` URI for an absolute path on the Tribler host (POSIX or Windows)."""
    # Built by hand: PurePath.as_uri() is deprecated from Python 3.14, and Path.as_uri() would read this host's
    # file system, not the Tribler host's.
    if _WINDOWS_PATH.match(path):
        return "file:///" + quote(PureWindowsPath(path).as_posix(), safe="/:")
    if path.startswith("/"):
        return "file://" + quote(PurePosixPath(path).as_posix(), safe="/")
    raise PeerdeckInputError(f"{path!r} is not an absolute path on the Tribler host")


def check_uri(uri: str) -> str:
    """Accept the URIs Tribler can start a download from: magnet, http(s) and file."""
    scheme = uri.strip().split(":", 1)[0].lower()
    if scheme == "magnet":
        return validate_magnet(uri)
    if scheme in ("http", "https"):
        return str(validate_http_url(uri))
    if scheme == "file" and uri.strip().startswith("file:/"):
        return uri.strip()
    raise PeerdeckInputError("Tribler starts downloads from a magnet link, an http(s) URL or a file: URI only")


def _flag(value: bool) -> str:
    return "1" if value else "0"


class TriblerClient(HttpClient):
    """Every Tribler 8 REST route Peerdeck needs, as typed coroutines."""

    daemon_name = "Tribler"

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
        startup_wait: float = 30.0,
        startup_retry_interval: float = 1.0,
        events_idle_timeout: float | None = 300.0,
    ) -> None:
        super().__init__(url, session=session, verify_ssl=verify_ssl, request_timeout=request_timeout)
        # Users often paste the API root; routes below carry the prefix themselves.
        path = self._base.path.rstrip("/")
        if path.endswith("/api"):
            self._base = self._base.with_path(path[: -len("/api")] or "/")
        self._api_key = api_key
        self.startup_wait = startup_wait
        self.startup_retry_interval = startup_retry_interval
        self.events_idle_timeout = events_idle_timeout
        """Reconnect when the event stream is silent this long (Tribler sends no keep-alives)."""
        self._legacy: bool | None = None

    # ------------------------------------------------------------------ plumbing

    def _auth_headers(self) -> dict[str, str]:
        return {"X-Api-Key": self._api_key} if self._api_key else {}

    def _raise_for_status(self, what: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        message = error_message(body)
        detail = f"{what}: Tribler answered {status}" + (f" ({message})" if message else "")
        if status == 401:
            raise PeerdeckAuthenticationError(
                f"{what}: Tribler rejected the API key (401); use api/key from its configuration.json or CORE_API_KEY"
            )
        if status == 404 and message.startswith(_NOT_READY):
            raise TriblerNotReadyError(f"{what}: Tribler is still starting ({message})")
        if status >= 500 and not message:
            raise _UnexplainedServerError(detail, status)
        if status == 404 and (not message or message.startswith("Could not find")):
            raise _MissingRouteError(detail, status)
        if status == 404:
            raise PeerdeckNotFoundError(detail, status)
        if status >= 500:
            raise PeerdeckServerError(detail, status)
        if status == 400:
            raise PeerdeckResponseError(detail, status)
        super()._raise_for_status(what, status, headers, body)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | float] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        decode: Literal["json", "bytes"] = "json",
        ok_statuses: tuple[int, ...] = (),
    ) -> Reply:
        """``_request`` plus the start-up retry and the Tribler 7.x check."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.startup_wait
        started = False
        while True:
            try:
                return await self._request(
                    method,
                    path,
                    params=params,
                    json_body=json_body,
                    data=data,
                    headers=headers,
                    decode=decode,
                    ok_statuses=ok_statuses,
                )
            except TriblerNotReadyError as err:
                if started:
                    raise TriblerComponentOffError(
                        f"{self._describe(method, path)}: Tribler has the part that serves this switched off "
                        "(content discovery or its database, say); turn it on in Tribler's settings"
                    ) from err
                # Once started, the component may have come up since this answer: one more try tells.
                if started := await self.has_started():
                    continue
                if loop.time() + self.startup_retry_interval > deadline:
                    raise TriblerNotReadyError(
                        f"{err} and was still not ready after {self.startup_wait:g} s; try again in a moment"
                    ) from err
                await asyncio.sleep(self.startup_retry_interval)
            except _MissingRouteError as err:
                raise await self._missing_route(err) from err

    async def _json(self, method: str, path: str, **kwargs: Any) -> JsonObject:
        data = (await self._call(method, path, **kwargs)).data
        if not isinstance(data, dict):
            raise PeerdeckInvalidResponseError(f"{self._describe(method, path)}: Tribler sent no JSON object")
        return data

    async def _missing_route(self, err: _MissingRouteError) -> PeerdeckError:
        """Tell Tribler 7.x (routes without ``/api``) from an 8.x that lacks one route."""
        if await self.is_legacy():
            return PeerdeckNotSupportedError(
                "this is Tribler 7.x, whose REST API has no /api prefix; Peerdeck supports Tribler 8 and later"
            )
        return PeerdeckNotSupportedError(f"{err}: this Tribler version has no such route")

    async def has_started(self) -> bool:
        """True once the core has finished starting (its last step lists the IPv8 overlays).

        Components load before that step, so a component still missing then stays missing.
        """
        try:
            reply = await self._request("GET", "api/ipv8/overlays", decode="json")
        except PeerdeckError:
            return False
        return isinstance(reply.data, dict) and bool(reply.data.get("overlays"))

    async def is_legacy(self) -> bool:
        """True for Tribler 7.x: ``/settings`` is a route there (8.x redirects it to its web UI)."""
        if self._legacy is None:
            try:
                reply = await self._request("GET", "settings", decode="none", ok_statuses=(301, 302, 307, 401, 404))
            except PeerdeckError:
                return False
            self._legacy = reply.status in (200, 401)
        return self._legacy

    # ------------------------------------------------------------------ downloads

    async def downloads(
        self,
        *,
        get_peers: bool = False,
        get_pieces: bool = False,
        get_files: bool = False,
        get_availability: bool = False,
        infohash: str | None = None,
        excluded: str | None = None,
    ) -> JsonObject:
        """``GET /api/downloads``: ``{"downloads": [...], "checkpoints": {...}}``.

        Peers, pieces and availability cost the core time; ``infohash`` limits them to one
        download (the list itself stays complete). ``get_files`` dates from the 7.x API and
        8.x ignores it, so each record then gets its ``files`` from ``/files`` here.
        """
        params: dict[str, str] = {}
        for name, wanted in (
            ("get_peers", get_peers),
            ("get_pieces", get_pieces),
            ("get_availability", get_availability),
        ):
            if wanted:
                params[name] = "1"
        if infohash is not None:
            params["infohash"] = validate_info_hash(infohash)
        if excluded is not None:
            params["excluded"] = validate_info_hash(excluded)
        data = await self._json("GET", "api/downloads", params=params)
        if not isinstance(data.get("downloads"), list):
            raise PeerdeckInvalidResponseError("GET /api/downloads: Tribler sent no downloads list")
        if get_files:
            records = [r for r in data["downloads"] if isinstance(r, dict)]
            if infohash is not None:
                records = [r for r in records if r.get("infohash") == params["infohash"]]
            listed = await asyncio.gather(*(self.files(str(r.get("infohash"))) for r in records))
            for record, files in zip(records, listed, strict=True):
                record["files"] = files
        return data

    async def add_download(
        self,
        uri: str,
        *,
        anon_hops: int | None = None,
        safe_seeding: bool | None = None,
        destination: str | None = None,
    ) -> str:
        """``PUT /api/downloads`` from a magnet, http(s) URL or ``file:`` URI; returns the info-hash.

        Tribler refuses hops > 0 without safe seeding, so safe seeding is switched on with them
        unless said otherwise.
        """
        checked = check_uri(uri)
        body: JsonObject = {"uri": checked, **_add_options(anon_hops, safe_seeding, destination)}
        try:
            return _infohash(await self._json("PUT", "api/downloads", json_body=body))
        except _UnexplainedServerError as err:
            # The core's answer to a file: URI it cannot read; a URL may hold a passkey, so it is not named.
            if checked.startswith("file:"):
                reason = f"{unquote(checked[len('file://') :])} does not exist on the Tribler host or cannot be read"
            else:
                reason = "it gave no reason; check that the link works from the Tribler host"
            raise PeerdeckServerError(f"Tribler could not start the download: {reason}", err.status) from err

    async def add_torrent_path(self, path: str, **options: Any) -> str:
        """Start a download from a .torrent file on the Tribler host (an absolute path)."""
        return await self.add_download(file_uri(path), **options)

    async def add_torrent(
        self,
        content: bytes,
        *,
        anon_hops: int | None = None,
        safe_seeding: bool | None = None,
        destination: str | None = None,
    ) -> str:
        """``PUT /api/downloads`` with a raw .torrent body (options travel in the query)."""
        if not content.startswith(b"d"):
            raise PeerdeckInputError("this is not a .torrent file (it is not a bencoded dictionary)")
        params = {
            key: (str(value).lower() if isinstance(value, bool) else str(value))
            for key, value in _add_options(anon_hops, safe_seeding, destination).items()
        }
        data = await self._json(
            "PUT", "api/downloads", params=params, data=content, headers={"Content-Type": TORRENT_CONTENT_TYPE}
        )
        return _infohash(data)

    async def update_download(
        self,
        infohash: str,
        *,
        state: DownloadState | None = None,
        dest_dir: str | None = None,
        completed_dir: str | None = None,
        selected_files: Sequence[int] | None = None,
        anon_hops: int | None = None,
        upload_limit: int | None = None,
        download_limit: int | None = None,
        seeding_ratio: float | None = None,
        queue_position: QueueMove | None = None,
        auto_managed: bool | None = None,
    ) -> None:
        """``PATCH /api/downloads/{infohash}``.

        ``anon_hops`` must travel alone (Tribler answers 400 otherwise). A limit of 0 is
        ignored by Tribler, so 0 or less is sent as -1 ("unlimited" to libtorrent).
        ``move_storage`` needs ``dest_dir``, a directory that exists on the Tribler host.
        """
        body: JsonObject = {}
        if state is not None:
            body["state"] = state
        if state == "move_storage":
            if not dest_dir:
                raise PeerdeckInputError("moving a download needs a destination directory")
            body["dest_dir"] = dest_dir
            if completed_dir:
                body["completed_dir"] = completed_dir
        if selected_files is not None:
            body["selected_files"] = [int(i) for i in selected_files]
        if upload_limit is not None:
            body["upload_limit"] = upload_limit if upload_limit > 0 else -1
        if download_limit is not None:
            body["download_limit"] = download_limit if download_limit > 0 else -1
        if seeding_ratio is not None:
            body["seeding_ratio"] = seeding_ratio
        if queue_position is not None:
            body["queue_position"] = queue_position
        if auto_managed is not None:
            body["auto_managed"] = auto_managed
        if anon_hops is not None:
            if body:
                raise PeerdeckInputError("Tribler changes anonymity hops only in a request of its own")
            body["anon_hops"] = anon_hops
        if not body:
            raise PeerdeckInputError("nothing to change")
        await self._json("PATCH", f"api/downloads/{validate_info_hash(infohash)}", json_body=body)

    async def stop(self, infohash: str) -> None:
        """Stop (pause) a download; Tribler remembers it was stopped by the user."""
        await self.update_download(infohash, state="stop")

    async def resume(self, infohash: str) -> None:
        """Resume a stopped download."""
        await self.update_download(infohash, state="resume")

    async def recheck(self, infohash: str) -> None:
        """Force a hash check of the downloaded data."""
        await self.update_download(infohash, state="recheck")

    async def move_storage(self, infohash: str, dest_dir: str, completed_dir: str | None = None) -> None:
        """Move the data to an existing directory on the Tribler host."""
        await self.update_download(infohash, state="move_storage", dest_dir=dest_dir, completed_dir=completed_dir)

    async def set_hops(self, infohash: str, anon_hops: int) -> None:
        """Change a download's anonymity (0 = plain BitTorrent)."""
        await self.update_download(infohash, anon_hops=anon_hops)

    async def remove_download(self, infohash: str, *, remove_data: bool) -> None:
        """``DELETE /api/downloads/{infohash}``, with or without the downloaded data.

        Tribler 8.4.3 answers 500 to removing a download it streamed since it started (and
        then ignores a shutdown request until it is interrupted); the error says to restart it.
        """
        try:
            await self._json(
                "DELETE", f"api/downloads/{validate_info_hash(infohash)}", json_body={"remove_data": remove_data}
            )
        except PeerdeckServerError as err:
            raise PeerdeckServerError(
                f"{err}; Tribler fails to remove a download it has streamed since it started: restart Tribler "
                "(stop it with Ctrl+C or SIGINT if it does not stop) and remove it again",
                err.status,
                err.code,
            ) from err

    async def files(self, infohash: str) -> list[JsonObject]:
        """``GET /api/downloads/{infohash}/files``: index, name, size, included, progress per file."""
        data = await self._json("GET", f"api/downloads/{validate_info_hash(infohash)}/files")
        files = data.get("files")
        if not isinstance(files, list):
            raise PeerdeckInvalidResponseError("Tribler sent no files list")
        return files

    async def torrent(self, infohash: str) -> bytes:
        """``GET /api/downloads/{infohash}/torrent``: the .torrent file."""
        reply = await self._call("GET", f"api/downloads/{validate_info_hash(infohash)}/torrent", decode="bytes")
        content: bytes = reply.data
        return content

    async def stream(
        self, infohash: str, file_index: int, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """``GET /api/downloads/{infohash}/stream/{fileindex}``: a file's bytes ``start``..``end`` (inclusive).

        Tribler serves pieces as they arrive, so a read may wait for the swarm; the wait
        is bounded by the request timeout per chunk, not overall.
        """
        if start < 0 or (end is not None and end < start):
            raise PeerdeckInputError("the byte range to stream is empty or negative")
        headers = {"Range": f"bytes={start}-{'' if end is None else end}"} if start or end is not None else {}
        path = f"api/downloads/{validate_info_hash(infohash)}/stream/{int(file_index)}"
        try:
            async with self._stream("GET", path, headers=headers, read_timeout=self.request_timeout) as response:
                async for chunk in response.content.iter_any():
                    yield chunk
        except _MissingRouteError as err:
            raise await self._missing_route(err) from err

    async def add_tracker(self, infohash: str, url: str) -> None:
        """``PUT /api/downloads/{infohash}/trackers``."""
        await self._json("PUT", f"api/downloads/{validate_info_hash(infohash)}/trackers", json_body={"url": url})

    async def remove_tracker(self, infohash: str, url: str) -> None:
        """``DELETE /api/downloads/{infohash}/trackers``."""
        await self._json("DELETE", f"api/downloads/{validate_info_hash(infohash)}/trackers", json_body={"url": url})

    async def force_announce(self, infohash: str, url: str) -> None:
        """``PUT /api/downloads/{infohash}/tracker_force_announce``."""
        path = f"api/downloads/{validate_info_hash(infohash)}/tracker_force_announce"
        await self._json("PUT", path, json_body={"url": url})

    # ------------------------------------------------------------------ search

    async def remote_search(
        self,
        query: str,
        *,
        text_filter: str | None = None,
        metadata_type: str | None = None,
        first: int | None = None,
        last: int | None = None,
    ) -> RemoteSearch:
        """``PUT /api/search/remote``: ask random peers; their answers come as ``remote_query_results`` events."""
        if not query.strip():
            raise PeerdeckInputError("the search text is empty")
        params: dict[str, str | int] = {"fts_text": query}
        if text_filter:
            params["filter"] = text_filter
        if metadata_type:
            params["metadata_type"] = metadata_type
        if first is not None:
            params["first"] = first
        if last is not None:
            params["last"] = last
        data = await self._json("PUT", "api/search/remote", params=params)
        request_uuid = data.get("request_uuid")
        if not isinstance(request_uuid, str):
            raise PeerdeckInvalidResponseError("Tribler sent no request_uuid for the remote search")
        return RemoteSearch(request_uuid, tuple(str(p) for p in data.get("peers") or ()))

    async def local_search(
        self,
        query: str,
        *,
        first: int = 1,
        last: int = 50,
        include_total: bool = False,
        metadata_type: str | None = None,
        sort_by: str | None = None,
        sort_desc: bool = True,
        hide_xxx: bool = False,
    ) -> JsonObject:
        """``GET /api/metadata/search/local``: the core's own database (what peers told it earlier)."""
        if not query.strip():
            raise PeerdeckInputError("the search text is empty")
        params: dict[str, str | int] = {
            "fts_text": query,
            "first": first,
            "last": last,
            "sort_desc": _flag(sort_desc),
            "hide_xxx": _flag(hide_xxx),
        }
        if include_total:
            params["include_total"] = "1"
        if metadata_type:
            params["metadata_type"] = metadata_type
        if sort_by:
            params["sort_by"] = sort_by
        return await self._json("GET", "api/metadata/search/local", params=params)

    async def completions(self, prefix: str) -> list[str]:
        """``GET /api/metadata/search/completions``: search terms the database suggests."""
        data = await self._json("GET", "api/metadata/search/completions", params={"q": prefix})
        return [str(term) for term in data.get("completions") or ()]

    async def popular_torrents(self) -> list[JsonObject]:
        """``GET /api/metadata/torrents/popular``: the healthiest torrents the core knows."""
        data = await self._json("GET", "api/metadata/torrents/popular")
        return [r for r in data.get("results") or () if isinstance(r, dict)]

    # ------------------------------------------------------------------ core

    async def settings(self) -> JsonObject:
        """``GET /api/settings``: the whole configuration."""
        data = await self._json("GET", "api/settings")
        settings = data.get("settings")
        if not isinstance(settings, dict):
            raise PeerdeckInvalidResponseError("Tribler sent no settings object")
        return settings

    async def update_settings(self, changes: Mapping[str, Any]) -> None:
        """``POST /api/settings`` with nested partial settings (merged by the core)."""
        if not changes:
            raise PeerdeckInputError("no settings to change")
        await self._json("POST", "api/settings", json_body=dict(changes))

    async def statistics_tribler(self) -> JsonObject:
        """``GET /api/statistics/tribler``: peers, database size, libtorrent byte counters."""
        return (await self._json("GET", "api/statistics/tribler")).get("tribler_statistics") or {}

    async def statistics_ipv8(self) -> JsonObject:
        """``GET /api/statistics/ipv8``: the overlay's traffic counters."""
        return (await self._json("GET", "api/statistics/ipv8")).get("ipv8_statistics") or {}

    async def overlays(self) -> list[JsonObject]:
        """``GET /api/ipv8/overlays``: the IPv8 communities (empty until the core has started)."""
        data = await self._json("GET", "api/ipv8/overlays")
        return [o for o in data.get("overlays") or () if isinstance(o, dict)]

    async def peer_key(self) -> str | None:
        """The core's own IPv8 public key (hex): stable for its state directory, unlike the
        ``public_key`` of ``events/info``, which every 8.x release leaves empty."""
        keys = [str(o.get("my_peer") or "") for o in await self.overlays()]
        keys = [key for key in keys if key]
        # Every community uses the "anonymous id" key; the most common one is it.
        return max(sorted(set(keys)), key=keys.count) if keys else None

    async def events_info(self) -> JsonObject:
        """``GET /api/events/info``: version and public key, a cheap liveness check."""
        return await self._json("GET", "api/events/info")

    def events(self, *, backoff: Backoff | None = None) -> AsyncGenerator[TriblerEvent, None]:
        """The event stream, reconnected after failures (each connection starts with ``EventsStart``)."""
        return read_events(self._open_events, backoff=backoff)

    @asynccontextmanager
    async def _open_events(self) -> AsyncIterator[aiohttp.ClientResponse]:
        try:
            async with self._stream("GET", "api/events", read_timeout=self.events_idle_timeout) as response:
                if response.content_type != "text/event-stream":
                    raise PeerdeckInvalidResponseError(
                        f"GET {response.url.path}: Tribler answered {response.status} "
                        f"{response.content_type}, not an event stream; check the URL"
                    )
                yield response
        except _MissingRouteError as err:
            raise await self._missing_route(err) from err


def _add_options(anon_hops: int | None, safe_seeding: bool | None, destination: str | None) -> JsonObject:
    options: JsonObject = {}
    if anon_hops is not None:
        if anon_hops < 0:
            raise PeerdeckInputError("anonymity hops cannot be negative")
        options["anon_hops"] = anon_hops
        if safe_seeding is None and anon_hops > 0:
            safe_seeding = True
    if safe_seeding is not None:
        options["safe_seeding"] = safe_seeding
    if destination:
        options["destination"] = destination
    return options


def _infohash(data: Mapping[str, Any]) -> str:
    infohash = data.get("infohash")
    if not data.get("started") or not isinstance(infohash, str) or not infohash:
        raise PeerdeckInvalidResponseError(
            "Tribler did not start the download (it may be asking its web UI for download settings)"
        )
    return infohash.lower()

"""A conformance server for Tribler 8's REST API, built from the core's own handlers.

Tribler cannot be installed here, so this aiohttp app reproduces, route by route, what
``Tribler/tribler@50469d2`` (8.4.3) answers. Where each part comes from:

* middlewares (``core/restapi/rest_manager.py``): ``ui_middleware`` redirects every path
  outside ``/docs``, ``/static``, ``/ui`` and ``/api`` to ``/ui``; ``ApiKeyMiddleware``
  takes the key from the ``X-Api-Key`` header, the ``key`` query parameter or the
  ``api_key`` cookie and answers 401 ``{"error":{"handled":true,"message":"Unauthorized
  access"}}``; ``error_middleware`` turns unknown routes into 404 "Could not find …";
  ``required_components_middleware`` answers 404 "Required components not initialized to
  serve …" for the search and metadata endpoints until their components exist
  (``starting_requests`` here counts how many such answers are still due);
* downloads (``core/libtorrent/restapi/downloads_endpoint.py``): record shape, the
  ``checkpoints`` block (``all_loaded`` is false while the core loads its downloads), adds by
  JSON ``uri`` (magnet, http(s) fetched for real, ``file:``) or by a raw body whose content
  type must be the misspelt ``applications/x-bittorrent``, "Cannot set anonymous download
  without safe seeding enabled", DELETE's required ``remove_data``, PATCH's rules (anon_hops
  alone, selected_files range, falsy limits ignored, move_storage to an existing directory,
  unknown state), a 404 for a download whose checkpoint is not loaded yet (``_get``); files,
  .torrent, ranged stream and trackers are :mod:`.server_files`;
* events (``core/restapi/events_endpoint.py``): ``text/event-stream`` frames
  ``event: <topic>\\ndata: <json>\\n\\n``, ``events_start`` first, events delivered only to
  streams open at that moment, no keep-alives; ``/api/events/info`` (sessions as a string);
* search: :mod:`.server_search`; settings and statistics: :mod:`.server_core`.

What the real 8.4.3 core was seen to do when run headless from its own source on loopback
and driven through ``TriblerClient`` and ``create_backend("tribler")`` (issue 16), and that
this server therefore reproduces:

* libtorrent's handle for a download comes a moment after it is added, after a restart and
  after safe seeding re-adds it; until then the record reads STOPPED (0 hops) or EXIT_NODES
  with an integer ``progress`` of 0 (``FakeDownload.has_handle``; ``handle_delay`` after an
  add, :meth:`TriblerServer.restart` then :meth:`TriblerServer.attach_handles`);
* a stop before the handle exists only sets ``user_stopped``: the handle then starts the
  download anyway (a .torrent goes HASHCHECKING → DOWNLOADING or SEEDING, a magnet METADATA),
  also after a restart (issue 24: two pauses in the first second were lost, STOPPED → SEEDING;
  one 4.9 s after held); a resume then sticks, and a removal keeps the data (``download.py``,
  ``download_manager.py``); a reloaded download announces only a status that differs from
  its placeholder (``update_lt_status``);
* PATCH waits for the core's one-second alert tick (``alert_tick``; ``max_in_flight`` shows
  how many changes a client sends at once);
* a recheck returns to SEEDING (or DOWNLOADING) by itself; ``torrent_finished`` is sent only
  when bytes were downloaded in this session; safe seeding moves a finished 0-hop download
  to the default hops;
* 404 "Required components not initialized" also comes from a running core whose component
  is switched off (``components_off``), for good; ``/api/ipv8/overlays`` is empty until the
  core has started, then names the core's own key (``public_key`` of ``events/info`` is empty
  in every 8.x release);
* shutdown sends ``tribler_shutdown_state`` frames and then cuts the chunked stream
  (:meth:`TriblerServer.shut_down`); while ``down`` every connection is dropped;
* a non-hex info-hash is a 500 traceback, a bad ``first``/``sort_desc`` a 400, speeds are
  integers, ``seeding_ratio`` a float, ``/api/settings`` the whole configuration, a missing
  ``file:`` path a 500 with an empty message, and removing a download that was streamed in
  this session answers 500 (issue 24; ``failing_removals`` sets other answers).

Switches for what a real core does only sometimes: ``slow_chunk`` (frames trickle a few
bytes at a time), ``stall_streams`` (streams that send headers and then nothing),
``break_streams()`` (connections cut mid-stream), ``end_streams()`` (streams closed
cleanly). A Tribler 7.x app (no ``/api`` prefix, ``apikey`` query, string errors) is
:func:`legacy_app`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp
from aiohttp import web

from ..torrents import bencode
from .legacy import API_KEY, Handler, legacy_app
from .records import (
    FakeDownload,
    bdecode,
    full_settings,
    handled,
    rest,
    torrent_metadata,
    traceback_error,
)
from .server_core import CoreRoutes
from .server_files import FileRoutes
from .server_search import SearchRoutes

__all__ = ["API_KEY", "PEER_KEY", "FakeDownload", "TriblerServer", "legacy_app", "serve", "torrent_metadata"]

FIXTURES = web.AppKey("fixtures", dict[str, bytes])
_COMPONENT_ROUTES = ("/api/search", "/api/metadata", "/api/rss", "/api/versioning")
PEER_KEY = "4c69624e61434c504b3a" + "ab" * 64
"""The core's IPv8 key as ``/api/ipv8/overlays`` shows it ("LibNaCLPK:" + 64 bytes, in hex)."""
SHUTDOWN_STATES = (
    "Shutting down torrent checker.",
    "Shutting down IPv8 peer-to-peer overlays.",
    "Shutting down download manager.",
    "Shutting down local SOCKS5 interface.",
    "Shutting down metadata database.",
    "Shutting down GUI connection. Going dark.",
)
_CUT = b"\0cut"
"""Queued on an event stream: write half a chunk, then drop the connection (a core going dark)."""


@dataclass
class _Stream:
    request: web.Request
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    """Frames to write; None ends the stream cleanly, ``_CUT`` drops it mid-chunk."""


class TriblerServer(FileRoutes, SearchRoutes, CoreRoutes):
    """State and handlers of one fake core; tests drive its downloads and event stream."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.version = "8.4.3"
        self.public_key = ""
        """What ``events/info`` and ``events_start`` say: empty in every 8.x release."""
        self.peer_key = PEER_KEY
        self.downloads: dict[str, FakeDownload] = {}
        self.removed: dict[str, bool] = {}
        """Info-hash → remove_data of every DELETE that succeeded."""
        self.settings: dict[str, Any] = full_settings(api_key)
        self.remote_catalogue: list[dict[str, Any]] = []
        """What peers answer to remote searches (matched on the words of the query)."""
        self.peer_catalogues: list[list[dict[str, Any]]] = []
        """What each peer of ``search_peers`` has, when they differ."""
        self.local_catalogue: list[dict[str, Any]] = []
        """What the core's own database holds."""
        self.search_peers = ["50e9a2ce646c373985a8e827e328830e053025c6", "107c84e5d9636c17b46c88c3ddb54842d80081b0"]
        self.search_delay = 0.01
        self.starting_requests = 0
        """How many more component requests answer "not initialized" while the core starts."""
        self.components_off: set[str] = set()
        """Route prefixes whose component is switched off: "not initialized" for good."""
        self.checkpoints_loaded = True
        self.handle_delay: float | None = 0.0
        """Seconds from an add to libtorrent's handle (None: only :meth:`attach_handles`)."""
        self.alert_tick = 0.0
        """How long a PATCH waits (the real core waits for its one-second alert tick)."""
        self.recheck_delay = 0.01
        self.in_flight = 0
        self.max_in_flight = 0
        """The most PATCH/DELETE requests that were being handled at once."""
        self.failing_removals: dict[str, str] = {}
        """Info-hash → the error a DELETE of it answers (a download that was streamed)."""
        self.down = False
        """While true every connection is dropped, as if the core were not running."""
        self.notified: list[tuple[str, dict[str, Any]]] = []
        """Every event sent, in order."""
        self.slow_chunk: int | None = None
        self.stall_streams = 0
        """How many of the next event streams send headers and then stay silent."""
        self.streams: list[_Stream] = []
        self.stream_count = 0
        self.requests: list[tuple[str, str]] = []
        self._pulse = asyncio.Event()
        """Set (and replaced) whenever something a test may wait for changes."""
        self.url = ""
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ app

    def app(self) -> web.Application:
        app = web.Application(
            middlewares=[
                self._ui_middleware,
                self._down_middleware,
                self._key_middleware,
                self._error_middleware,
                self._components_middleware,
            ]
        )
        app.add_routes(
            [
                web.get("/api/downloads", self.get_downloads),
                web.put("/api/downloads", self.add_download),
                web.delete("/api/downloads/{infohash}", self.delete_download),
                web.patch("/api/downloads/{infohash}", self.update_download),
                web.get("/api/downloads/{infohash}/torrent", self.get_torrent),
                web.put("/api/downloads/{infohash}/trackers", self.add_tracker),
                web.delete("/api/downloads/{infohash}/trackers", self.remove_tracker),
                web.put("/api/downloads/{infohash}/tracker_force_announce", self.force_announce),
                web.get("/api/downloads/{infohash}/files", self.get_files),
                web.get("/api/downloads/{infohash}/stream/{fileindex}", self.stream, allow_head=False),
                web.get("/api/events", self.events),
                web.get("/api/events/info", self.events_info),
                web.get("/api/ipv8/overlays", self.overlays),
                web.put("/api/search/remote", self.remote_search),
                web.get("/api/metadata/search/local", self.local_search),
                web.get("/api/metadata/search/completions", self.completions),
                web.get("/api/metadata/torrents/popular", self.popular),
                web.get("/api/settings", self.get_settings),
                web.post("/api/settings", self.update_settings),
                web.get("/api/statistics/tribler", self.statistics_tribler),
                web.get("/api/statistics/ipv8", self.statistics_ipv8),
                web.get("/ui/fixtures/{name}", self.fixture_file),
            ]
        )
        app.on_shutdown.append(self._on_shutdown)
        app[FIXTURES] = {}
        return app

    def host_file(self, app: web.Application, name: str, content: bytes) -> str:
        """Serve bytes under ``/ui`` (exempt from the key, like the web UI's files); returns the URL."""
        app[FIXTURES][name] = content
        return f"{self.url}/ui/fixtures/{name}"

    async def fixture_file(self, request: web.Request) -> web.Response:
        content = request.app[FIXTURES].get(request.match_info["name"])
        if content is None:
            raise web.HTTPNotFound
        return web.Response(body=content, content_type="application/x-bittorrent")

    async def _on_shutdown(self, _: web.Application) -> None:
        self.end_streams()
        for task in list(self._tasks):
            task.cancel()

    @web.middleware
    async def _down_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.down and request.transport is not None:
            request.transport.abort()
            return web.Response(status=503)  # never sent: the connection is gone
        return await handler(request)

    @web.middleware
    async def _ui_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        self.changed()
        if not request.path.startswith(("/docs", "/static", "/ui", "/api")):
            raise web.HTTPFound("/ui" + request.rel_url.path)
        return await handler(request)

    @web.middleware
    async def _key_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(("/docs", "/static", "/ui")):
            return await handler(request)
        key = request.headers.get("X-Api-Key") or request.query.get("key") or request.cookies.get("api_key")
        if self.api_key and key != self.api_key:
            return handled("Unauthorized access", 401)
        return await handler(request)

    @web.middleware
    async def _error_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            # Handlers ``unhexlify`` the info-hash first: anything else is an unhandled error.
            bytes.fromhex(request.match_info.get("infohash", ""))
        except ValueError as err:
            return traceback_error(err)
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return handled(f"Could not find {request.path}", 404)

    @web.middleware
    async def _components_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(tuple(self.components_off)):
            return handled(f"Required components not initialized to serve {request.path}", 404)
        if self.starting_requests > 0 and request.path.startswith(_COMPONENT_ROUTES):
            self.starting_requests -= 1
            return handled(f"Required components not initialized to serve {request.path}", 404)
        return await handler(request)

    # ------------------------------------------------------------------ events

    def notify(self, topic: str, **kwargs: Any) -> None:
        """Send one event to every stream open now (Tribler keeps nothing for later ones)."""
        self.notified.append((topic, kwargs))
        self.changed()
        frame = b"event: " + topic.encode() + b"\ndata: " + json.dumps(kwargs).encode() + b"\n\n"
        for stream in self.streams:
            stream.queue.put_nowait(frame)

    def break_streams(self) -> None:
        """Cut every open stream mid-flight (a crash or a dropped connection)."""
        for stream in list(self.streams):
            if stream.request.transport is not None:
                stream.request.transport.abort()
            stream.queue.put_nowait(None)
        self.streams.clear()

    def end_streams(self) -> None:
        """Close every open stream cleanly."""
        for stream in self.streams:
            stream.queue.put_nowait(None)

    def shut_down(self) -> None:
        """What a core does on shutdown: ``tribler_shutdown_state`` frames (about twelve, as
        components report), then the chunked stream is cut; the core is down from then on."""
        for state in SHUTDOWN_STATES * 2:
            self.notify("tribler_shutdown_state", state=state)
        for stream in self.streams:
            stream.queue.put_nowait(_CUT)
        self.down = True

    def restart(self) -> None:
        """The core is back: checkpoints load, and every download waits for its handle again."""
        for download in self.downloads.values():
            download.has_handle, download.resume_data = False, True
            download.stopped_at_load, download.streamed = download.user_stopped, False
            download.speed_down = download.speed_up = 0
        self.checkpoints_loaded = False
        self.down = False

    def attach(self, infohash: str) -> None:
        """libtorrent has a handle for one download."""
        self._attach(self.downloads[infohash])

    def attach_handles(self) -> None:
        """libtorrent has a handle for every download: each shows its real status again."""
        for download in self.downloads.values():
            if not download.has_handle:
                self._attach(download)

    def _start_frame(self) -> bytes:
        info = self._info()
        return b"event: events_start\ndata: " + json.dumps(info).encode() + b"\n\n"

    def _info(self) -> dict[str, str]:
        return {"public_key": self.public_key, "version": self.version, "sessions": str(len(self.streams))}

    async def events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200,
            reason="OK",
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "Connection": "keep-alive"},
        )
        await response.prepare(request)
        self.stream_count += 1
        stream = _Stream(request)
        if self.stall_streams > 0:
            self.stall_streams -= 1
        else:
            start = self._start_frame()
            # Tribler registers the stream as soon as its first write returns, long before the
            # client has read it; registering first keeps that guarantee under ``slow_chunk``.
            self.streams.append(stream)
            self.changed()
            await self._write(response, start)
        try:
            while (frame := await stream.queue.get()) is not None:
                if frame is _CUT:
                    await response.write(b"event: tribler_shutdown_st")
                    if request.transport is not None:
                        request.transport.abort()
                    break
                await self._write(response, frame)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass
        finally:
            if stream in self.streams:
                self.streams.remove(stream)
            self.changed()
        return response

    def changed(self) -> None:
        """Wake whoever waits in :meth:`wait_until`."""
        self._pulse.set()
        self._pulse = asyncio.Event()

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition`` holds (checked after every request, stream, event and handle)."""
        while not condition():
            await self._pulse.wait()

    async def wait_requests(self, method: str, path: str, count: int) -> None:
        """Wait until ``method path`` has been requested ``count`` times."""
        await self.wait_until(lambda: self.requests.count((method, path)) >= count)

    async def wait_streams(self, count: int, *, connections: int | None = None) -> None:
        """Wait until exactly ``count`` streams are open (after ``connections`` were made in all)."""
        await self.wait_until(
            lambda: len(self.streams) == count and (connections is None or self.stream_count >= connections)
        )

    async def _write(self, response: web.StreamResponse, frame: bytes) -> None:
        if self.slow_chunk is None:
            await response.write(frame)
            return
        for at in range(0, len(frame), self.slow_chunk):
            await response.write(frame[at : at + self.slow_chunk])
            await asyncio.sleep(0.002)

    async def events_info(self, _: web.Request) -> web.Response:
        return rest(self._info())

    async def overlays(self, _: web.Request) -> web.Response:
        """IPv8's overlays: none until the core has started, then each with the core's own key."""
        if self.starting_requests > 0:
            return rest({"overlays": []})
        names = ("DiscoveryCommunity", "ContentDiscoveryCommunity", "TriblerTunnelCommunity")
        overlays = [
            {
                "id": hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest(),
                "my_peer": self.peer_key,
                "global_time": 1,
                "peers": [],
                "overlay_name": name,
            }
            for name in names
        ]
        return rest({"overlays": overlays})

    # ------------------------------------------------------------------ downloads

    def _get(self, request: web.Request) -> FakeDownload | None:
        """The download a route names; None (404) also while its checkpoint has not been loaded.

        The core serves REST before it loads its checkpoints (``session.py`` ``start``:
        ``rest_manager.start`` first, ``download_manager.start`` → ``load_checkpoints`` after IPv8),
        and ``update_download``/``delete_download`` answer 404 for a download not loaded yet
        (``downloads_endpoint.py`` lines 555-557 and 508-510 at v8.4.3).
        """
        if not self.checkpoints_loaded:
            return None
        return self.downloads.get(request.match_info["infohash"].lower())

    async def get_downloads(self, request: web.Request) -> web.Response:
        params = request.query
        wanted = params.get("infohash")
        result = []
        loaded = self.downloads if self.checkpoints_loaded else {}
        for download in loaded.values():
            if params.get("excluded") == download.infohash:
                continue
            info = download.record(self.settings["libtorrent"]["download_defaults"]["seeding_ratio"])
            if not wanted or wanted == download.infohash:
                if params.get("get_peers", "0") == "1":
                    info["peers"] = []
                if params.get("get_pieces", "0") == "1":
                    done = download.has_handle and download.progress >= 1
                    pieces = bytes([0xFF if done else 0]) * ((info["total_pieces"] + 7) // 8)
                    info["pieces"] = base64.b64encode(pieces).decode()
                if params.get("get_availability", "0") == "1":
                    info["availability"] = 0.0
            result.append(info)
        checkpoints = {
            "total": len(self.downloads),
            "loaded": len(loaded),
            "all_loaded": self.checkpoints_loaded,
        }
        return rest({"downloads": result, "checkpoints": checkpoints})

    async def add_download(self, request: web.Request) -> web.Response:
        metainfo: dict[bytes, Any] | None = None
        uri: str | None = None
        if request.content_type == "applications/x-bittorrent":
            params: dict[str, Any] = {}
            for key, value in request.query.items():
                if key == "anon_hops":
                    params[key] = int(value)
                elif key in ("auto_managed", "safe_seeding"):
                    params[key] = value != "false"
                else:
                    params[key] = value
            try:
                metainfo = bdecode(await request.read())
            except ValueError as err:
                return handled(f"corrupt torrent file ({err!s})", 500)
        else:
            params = await request.json()
            uri = params.get("uri")
            if not uri:
                return handled("uri parameter missing", 400)
        defaults = self.settings["libtorrent"]["download_defaults"]
        anon_hops = params.get("anon_hops")
        safe_seeding = bool(params.get("safe_seeding", defaults["safeseeding_enabled"]))
        if anon_hops is not None and anon_hops > 0 and not safe_seeding:
            return handled("Cannot set anonymous download without safe seeding enabled", 400)
        try:
            download = await self._from_uri(uri) if uri is not None else self._from_metainfo(metainfo)
        except Exception as err:  # the core reports any failure this way
            return handled(str(err), 500)
        download.hops = anon_hops if anon_hops is not None and anon_hops >= 0 else defaults["number_hops"]
        download.safe_seeding = safe_seeding
        download.destination = str(params.get("destination") or defaults["saveas"])
        if download.infohash not in self.downloads:
            self.downloads[download.infohash] = download
            download.has_handle = download.resume_data = False
            if self.handle_delay is not None:
                self._later(self.handle_delay, lambda: self._attach(download))
        return rest({"started": True, "infohash": download.infohash})

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            action()

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _attach(self, download: FakeDownload) -> None:
        """libtorrent's handle exists. A new download runs even if a stop came before (the add
        alert resumes it to check what is on disk). A reloaded one takes up the state its resume
        data holds: a stop given while it had no handle is lost (issue 24: STOPPED → SEEDING a
        second later), a resume sticks (``download.py`` ``on_add_torrent_alert`` resumes a download
        not marked stopped). A change from the placeholder status is announced, as
        ``update_lt_status`` does; the same status is not."""
        if self.downloads.get(download.infohash) is not download or download.has_handle:
            return
        placeholder = download.shown_status
        download.has_handle = True
        self.changed()
        before, download.status = download.status, placeholder
        if download.resume_data:
            if download.stopped_at_load and not download.user_stopped:
                before = "SEEDING" if download.progress >= 1 else "DOWNLOADING"
            self.set_status(download.infohash, before)
        elif download.metainfo is None:
            self.set_status(download.infohash, "METADATA")
        else:
            self.set_status(download.infohash, "HASHCHECKING")
            self.set_status(download.infohash, "SEEDING" if download.progress >= 1 else "DOWNLOADING")

    async def _from_uri(self, uri: str) -> FakeDownload:
        scheme = urlsplit(uri).scheme
        if scheme in ("http", "https"):
            async with aiohttp.ClientSession() as session, session.get(uri) as response:
                response.raise_for_status()
                return self._from_metainfo(bdecode(await response.read()))
        if scheme == "magnet":
            query = parse_qs(urlsplit(uri).query)
            topic = next(t for t in query.get("xt", []) if t.lower().startswith("urn:btih:"))[9:]
            infohash = base64.b32decode(topic.upper()).hex() if len(topic) == 32 else topic.lower()
            name = query.get("dn", [infohash])[0]
            return FakeDownload(infohash=infohash, name=name, status="METADATA")
        if scheme == "file":
            try:
                content = await asyncio.to_thread(Path(unquote(urlsplit(uri).path)).read_bytes)
            except OSError as err:
                raise RuntimeError from err  # what the real core answers: a 500 with an empty message
            return self._from_metainfo(bdecode(content))
        raise ValueError("invalid uri")

    @staticmethod
    def _from_metainfo(metainfo: Any) -> FakeDownload:
        info = metainfo[b"info"]
        infohash = hashlib.sha1(bencode(info), usedforsecurity=False).hexdigest()
        name = info[b"name"].decode()
        if b"files" in info:
            files = [("/".join(p.decode() for p in f[b"path"]), f[b"length"]) for f in info[b"files"]]
        else:
            files = [(name, info[b"length"])]
        return FakeDownload(infohash=infohash, name=name, files=files, metainfo=bencode(metainfo))

    async def delete_download(self, request: web.Request) -> web.Response:
        parameters = await request.json()
        if "remove_data" not in parameters:
            return handled("remove_data parameter missing", 400)
        download = self._get(request)
        if download is None:
            return handled("this download does not exist", 404)
        async with self._changing():
            if failure := self.failing_removals.get(download.infohash):
                return handled(failure, 500)
            if download.streamed:
                # The real 8.4.3 core answered 500 to removing a download it had streamed (issue 24).
                return handled("RuntimeError: invalid torrent handle used", 500)
            del self.downloads[download.infohash]
            # Without a handle the core only drops its record: the data stays (``remove_download``).
            self.removed[download.infohash] = bool(parameters["remove_data"]) and download.has_handle
            return rest({"removed": True, "infohash": download.infohash})

    @contextlib.asynccontextmanager
    async def _changing(self) -> AsyncIterator[None]:
        """Count concurrent changes; each waits for the core's alert tick."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.alert_tick)
            yield
        finally:
            self.in_flight -= 1

    async def update_download(self, request: web.Request) -> web.Response:
        download = self._get(request)
        if download is None:
            return handled("this download does not exist", 404)
        parameters = await request.json()
        async with self._changing():
            return await self._update(download, parameters)

    async def _update(self, download: FakeDownload, parameters: dict[str, Any]) -> web.Response:
        if len(parameters) > 1 and "anon_hops" in parameters:
            return handled("anon_hops must be the only parameter in this request", 400)
        if "anon_hops" in parameters:
            download.hops = int(parameters["anon_hops"])
            return rest({"modified": True, "infohash": download.infohash})
        if "selected_files" in parameters:
            if not all(0 <= i < len(download.files) for i in parameters["selected_files"]):
                return handled("index out of range", 400)
            download.selected_files = list(parameters["selected_files"])
        # The core uses ``if limit := ...``: a limit of 0 is silently ignored.
        if upload_limit := parameters.get("upload_limit"):
            download.upload_limit = upload_limit
        if download_limit := parameters.get("download_limit"):
            download.download_limit = download_limit
        if (seeding_ratio := parameters.get("seeding_ratio")) is not None:
            download.seeding_ratio = seeding_ratio
        if queue_position := parameters.get("queue_position"):
            moves = {"queue_up": -1, "queue_top": -download.queue_position, "queue_down": 1, "queue_bottom": 100}
            if queue_position not in moves:
                return handled("invalid value for queue_position", 400)
            download.queue_position += moves[queue_position]
        if "auto_managed" in parameters:
            if not isinstance(parameters["auto_managed"], bool):
                return handled("invalid value for auto_managed", 400)
            download.auto_managed = parameters["auto_managed"]
        if state := parameters.get("state"):
            if state == "resume":
                download.user_stopped = False
                if download.has_handle:
                    self.set_status(download.infohash, "SEEDING" if download.progress >= 1 else "DOWNLOADING")
            elif state == "stop":
                download.user_stopped = True  # without a handle, that is all a stop does
                if download.has_handle:
                    self.set_status(download.infohash, "STOPPED")
            elif state == "recheck":
                if download.has_handle:
                    after = download.status if download.status != "HASHCHECKING" else "DOWNLOADING"
                    self.set_status(download.infohash, "HASHCHECKING")
                    self._later(self.recheck_delay, lambda: self._rechecked(download, after))
            elif state == "move_storage":
                dest_dir = Path(parameters["dest_dir"])
                completed_dir = Path(parameters.get("completed_dir") or dest_dir)
                exists = await asyncio.gather(*(asyncio.to_thread(p.exists) for p in (dest_dir, completed_dir)))
                if not all(exists):
                    return handled(f"Target directory ({dest_dir}) does not exist", 400)
                download.destination = str(dest_dir)
                download.completed_dir = str(completed_dir if download.progress != 1 else dest_dir)
            else:
                return handled("unknown state parameter", 400)
        return rest({"modified": True, "infohash": download.infohash})

    def _rechecked(self, download: FakeDownload, before: str) -> None:
        """A recheck ends: back to seeding or what it did before (no ``torrent_finished``: nothing was downloaded)."""
        if self.downloads.get(download.infohash) is download and download.status == "HASHCHECKING":
            self.set_status(download.infohash, "SEEDING" if download.progress >= 1 else before)

    def set_status(self, infohash: str, status: str) -> None:
        """Change a download's status and announce it, as the core's alert handler does."""
        download = self.downloads[infohash]
        if download.status != status:
            download.status = status
            self.notify("torrent_status_changed", infohash=infohash, status=status)

    def finish(self, infohash: str) -> None:
        """The download completes: SEEDING, then ``torrent_finished`` only if this session
        downloaded bytes (libtorrent's order); safe seeding then moves a 0-hop download to
        the default hops."""
        download = self.downloads[infohash]
        downloaded = download.progress < 1.0
        download.progress = 1.0
        download.speed_down = 0
        download.time_finished = download.time_finished or int(time.time())
        self.set_status(infohash, "SEEDING")
        if downloaded:
            self.notify("torrent_finished", infohash=infohash, name=download.name, hidden=False)
        if download.safe_seeding and download.hops == 0:
            download.hops = self.settings["libtorrent"]["download_defaults"]["number_hops"]


async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run an app on 127.0.0.1 on a free port; yields its base URL."""
    # Handlers are cancelled when their client goes away, so a closed event stream leaves at once.
    runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server  # aiohttp exposes the bound port only here
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()

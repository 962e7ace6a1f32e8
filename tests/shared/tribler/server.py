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
  unknown state), files, .torrent, ranged stream, trackers;
* events (``core/restapi/events_endpoint.py``): ``text/event-stream`` frames
  ``event: <topic>\\ndata: <json>\\n\\n``, ``events_start`` first, events delivered only to
  streams open at that moment, no keep-alives; ``/api/events/info`` (sessions as a string);
* remote search (``content_discovery/restapi/search_endpoint.py``, ``community.py``):
  ``{request_uuid, peers}`` at once, results later as ``remote_query_results`` frames, one
  per answering peer, that every open stream receives (other clients' searches included);
* local search, completions, popular (``database/restapi/database_endpoint.py``), settings
  (``core/restapi/settings_endpoint.py``: recursive merge), statistics
  (``core/restapi/statistics_endpoint.py``).

Switches for what a real core does only sometimes: ``slow_chunk`` (frames trickle a few
bytes at a time), ``stall_streams`` (streams that send headers and then nothing),
``break_streams()`` (connections cut mid-stream), ``end_streams()`` (streams closed
cleanly, as on shutdown). A Tribler 7.x app (no ``/api`` prefix, ``apikey`` query, string
errors) is :func:`legacy_app`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp
from aiohttp import web

from ..torrents import bencode

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_KEY = "0123456789abcdef0123456789abcdef"
PIECE_LENGTH = 16384
FIXTURES = web.AppKey("fixtures", dict[str, bytes])
_COMPONENT_ROUTES = ("/api/search", "/api/metadata", "/api/rss", "/api/versioning")


def rest(body: Any, status: int = 200) -> web.Response:
    """``RESTResponse``: JSON with content type application/json."""
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


def handled(message: str, status: int) -> web.Response:
    """Tribler's handled-error shape."""
    return rest({"error": {"handled": True, "message": message}}, status)


def bdecode(data: bytes) -> Any:
    """Decode bencoding (dict keys stay bytes), raising ValueError on damage."""
    value, end = _bdecode(data, 0)
    if end != len(data):
        raise ValueError("trailing data")
    return value


def _bdecode(data: bytes, at: int) -> tuple[Any, int]:
    lead = data[at : at + 1]
    if lead == b"i":
        end = data.index(b"e", at)
        return int(data[at + 1 : end]), end + 1
    if lead == b"l":
        items, at = [], at + 1
        while data[at : at + 1] != b"e":
            item, at = _bdecode(data, at)
            items.append(item)
        return items, at + 1
    if lead == b"d":
        result, at = {}, at + 1
        while data[at : at + 1] != b"e":
            key, at = _bdecode(data, at)
            result[key], at = _bdecode(data, at)
        return result, at + 1
    if not lead.isdigit():
        raise ValueError(f"bad bencoding at {at}")
    colon = data.index(b":", at)
    end = colon + 1 + int(data[at:colon])
    if end > len(data):
        raise ValueError("string runs past the end")
    return data[colon + 1 : end], end


@dataclass
class FakeDownload:
    """One download as the core keeps it, with the fields the REST handler reads."""

    infohash: str
    name: str
    files: list[tuple[str, int]] = field(default_factory=list)
    metainfo: bytes | None = None
    status: str = "DOWNLOADING"
    progress: float = 0.0
    hops: int = 1
    safe_seeding: bool = True
    destination: str = "/downloads"
    completed_dir: str = ""
    user_stopped: bool = False
    selected_files: list[int] | None = None
    upload_limit: int = -1
    download_limit: int = -1
    seeding_ratio: float | None = None
    queue_position: int = -1
    auto_managed: bool = False
    speed_down: float = 0.0
    speed_up: float = 0.0
    trackers: list[str] = field(default_factory=list)
    time_added: int = field(default_factory=lambda: int(time.time()))
    error: str = ""

    @property
    def size(self) -> int:
        return sum(size for _, size in self.files)

    def file_data(self, index: int) -> bytes:
        """Deterministic content of one file, for streaming."""
        name, size = self.files[index]
        seed = hashlib.sha256(f"{self.infohash}/{name}".encode()).digest()
        return (seed * (size // len(seed) + 1))[:size]

    def record(self) -> dict[str, Any]:
        """The JSON of ``get_downloads`` for this download."""
        total_pieces = (self.size + PIECE_LENGTH - 1) // PIECE_LENGTH
        eta = (1.0 - self.progress) * (self.size / max(0.000001, self.speed_down))
        return {
            "name": self.name,
            "progress": self.progress,
            "infohash": self.infohash,
            "speed_down": self.speed_down,
            "speed_up": self.speed_up,
            "status": self.status,
            "status_code": STATUS_CODES[self.status],
            "size": self.size,
            "eta": eta,
            "num_peers": 0,
            "num_seeds": 0,
            "num_connected_peers": 0,
            "num_connected_seeds": 0,
            "all_time_upload": 0,
            "all_time_download": int(self.size * self.progress),
            "all_time_ratio": 0.0,
            "last_download": 0,
            "last_upload": 0,
            "trackers": [{"url": url, "peers": 0, "status": "Not contacted"} for url in self.trackers],
            "hops": self.hops,
            "anon_download": self.hops > 0,
            "safe_seeding": self.safe_seeding,
            "upload_limit": self.upload_limit,
            "download_limit": self.download_limit,
            "seeding_ratio": self.seeding_ratio,
            "destination": self.destination,
            "completed_dir": self.completed_dir,
            "total_pieces": total_pieces,
            "error": self.error,
            "time_added": self.time_added,
            "time_finished": 0,
            "queue_position": self.queue_position,
            "auto_managed": self.auto_managed,
            "user_stopped": self.user_stopped,
            "streamable": any(name.endswith(("mp4", "m4v", "mov", "mkv")) for name, _ in self.files),
        }


STATUS_CODES = {
    name: code
    for code, name in enumerate(
        [
            "ALLOCATING_DISKSPACE",
            "WAITING_FOR_HASHCHECK",
            "HASHCHECKING",
            "DOWNLOADING",
            "SEEDING",
            "STOPPED",
            "STOPPED_ON_ERROR",
            "METADATA",
            "LOADING",
            "EXIT_NODES",
            "MOVING",
            "QUEUED",
        ]
    )
}


def torrent_metadata(name: str, size: int, seeders: int = 10, leechers: int = 2) -> dict[str, Any]:
    """A search result as ``TorrentMetadata.to_simple_dict`` shapes it (its info-hash derived from the name)."""
    return {
        "name": name,
        "category": "Video",
        "infohash": hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest(),
        "size": size,
        "num_seeders": seeders,
        "num_leechers": leechers,
        "last_tracker_check": 0,
        "created": 1_700_000_000,
        "tag_processor_version": 0,
        "type": 300,
        "id": 0,
        "origin_id": 0,
        "public_key": "",
        "status": 2,
        "trackers": [],
    }


@dataclass
class _Stream:
    request: web.Request
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)


class TriblerServer:
    """State and handlers of one fake core; tests drive its downloads and event stream."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.version = "8.4.3"
        self.public_key = "4c69624e61434c504b3a" + "ab" * 32
        self.downloads: dict[str, FakeDownload] = {}
        self.removed: dict[str, bool] = {}
        """Info-hash → remove_data of every DELETE that succeeded."""
        self.settings: dict[str, Any] = {
            "api": {"http_enabled": True, "http_port": 0, "key": api_key},
            "libtorrent": {
                "max_download_rate": 0,
                "max_upload_rate": 0,
                "download_defaults": {"number_hops": 1, "safeseeding_enabled": True, "saveas": "/downloads"},
            },
        }
        self.remote_catalogue: list[dict[str, Any]] = []
        """What peers answer to remote searches (matched on the words of the query)."""
        self.peer_catalogues: list[list[dict[str, Any]]] = []
        """What each peer of ``search_peers`` has, when they differ."""
        self.local_catalogue: list[dict[str, Any]] = []
        """What the core's own database holds."""
        self.search_peers = ["50e9a2ce646c373985a8e827e328830e053025c6", "107c84e5d9636c17b46c88c3ddb54842d80081b0"]
        self.search_delay = 0.01
        self.starting_requests = 0
        self.checkpoints_loaded = True
        self.slow_chunk: int | None = None
        self.stall_streams = 0
        """How many of the next event streams send headers and then stay silent."""
        self.streams: list[_Stream] = []
        self._streams_changed = asyncio.Condition()
        self.stream_count = 0
        self.requests: list[tuple[str, str]] = []
        self._requests_changed = asyncio.Condition()
        self.url = ""
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ app

    def app(self) -> web.Application:
        app = web.Application(
            middlewares=[self._ui_middleware, self._key_middleware, self._error_middleware, self._components_middleware]
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
    async def _ui_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        async with self._requests_changed:
            self._requests_changed.notify_all()
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
            return await handler(request)
        except web.HTTPNotFound:
            return handled(f"Could not find {request.path}", 404)

    @web.middleware
    async def _components_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.starting_requests > 0 and request.path.startswith(_COMPONENT_ROUTES):
            self.starting_requests -= 1
            return handled(f"Required components not initialized to serve {request.path}", 404)
        return await handler(request)

    # ------------------------------------------------------------------ events

    def notify(self, topic: str, **kwargs: Any) -> None:
        """Send one event to every stream open now (Tribler keeps nothing for later ones)."""
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
        """Close every open stream cleanly (what a shutting-down core does)."""
        for stream in self.streams:
            stream.queue.put_nowait(None)

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
            async with self._streams_changed:
                self._streams_changed.notify_all()
            await self._write(response, start)
        try:
            while (frame := await stream.queue.get()) is not None:
                await self._write(response, frame)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass
        finally:
            if stream in self.streams:
                self.streams.remove(stream)
            async with self._streams_changed:
                self._streams_changed.notify_all()
        return response

    async def wait_requests(self, method: str, path: str, count: int) -> None:
        """Wait until ``method path`` has been requested ``count`` times."""
        async with self._requests_changed:
            await self._requests_changed.wait_for(lambda: self.requests.count((method, path)) >= count)

    async def wait_streams(self, count: int, *, connections: int | None = None) -> None:
        """Wait until exactly ``count`` streams are open (after ``connections`` were made in all)."""
        async with self._streams_changed:
            await self._streams_changed.wait_for(
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

    # ------------------------------------------------------------------ downloads

    def _get(self, request: web.Request) -> FakeDownload | None:
        return self.downloads.get(request.match_info["infohash"].lower())

    async def get_downloads(self, request: web.Request) -> web.Response:
        params = request.query
        wanted = params.get("infohash")
        result = []
        loaded = self.downloads if self.checkpoints_loaded else {}
        for download in loaded.values():
            if params.get("excluded") == download.infohash:
                continue
            info = download.record()
            if not wanted or wanted == download.infohash:
                if params.get("get_peers", "0") == "1":
                    info["peers"] = []
                if params.get("get_pieces", "0") == "1":
                    pieces = bytes([0xFF if download.progress >= 1 else 0]) * ((info["total_pieces"] + 7) // 8)
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
            self.notify("torrent_status_changed", infohash=download.infohash, status=download.status)
        return rest({"started": True, "infohash": download.infohash})

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
            content = await asyncio.to_thread(Path(unquote(urlsplit(uri).path)).read_bytes)
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
        del self.downloads[download.infohash]
        self.removed[download.infohash] = bool(parameters["remove_data"])
        return rest({"removed": True, "infohash": download.infohash})

    async def update_download(self, request: web.Request) -> web.Response:
        download = self._get(request)
        if download is None:
            return handled("this download does not exist", 404)
        parameters = await request.json()
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
                self.set_status(download.infohash, "SEEDING" if download.progress >= 1 else "DOWNLOADING")
            elif state == "stop":
                download.user_stopped = True
                self.set_status(download.infohash, "STOPPED")
            elif state == "recheck":
                self.set_status(download.infohash, "HASHCHECKING")
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

    def set_status(self, infohash: str, status: str) -> None:
        """Change a download's status and announce it, as the core's alert handler does."""
        download = self.downloads[infohash]
        if download.status != status:
            download.status = status
            self.notify("torrent_status_changed", infohash=infohash, status=status)

    def finish(self, infohash: str) -> None:
        """The download completes: SEEDING, then ``torrent_finished`` (libtorrent's order)."""
        download = self.downloads[infohash]
        download.progress = 1.0
        download.speed_down = 0.0
        self.set_status(infohash, "SEEDING")
        self.notify("torrent_finished", infohash=infohash, name=download.name, hidden=False)

    async def get_torrent(self, request: web.Request) -> web.Response:
        download = self._get(request)
        if download is None or download.metainfo is None:
            return handled("this download does not exist", 404)
        return web.Response(
            body=download.metainfo,
            headers={
                "content-type": "application/x-bittorrent",
                "Content-Disposition": f"attachment; filename={download.infohash}.torrent",
            },
        )

    async def _tracker_url(self, request: web.Request) -> tuple[FakeDownload | None, str | None]:
        download = self._get(request)
        if download is None:
            return None, None
        url = (await request.json()).get("url")
        return download, url

    async def add_tracker(self, request: web.Request) -> web.Response:
        download, url = await self._tracker_url(request)
        if download is None:
            return handled("this download does not exist", 404)
        if not url:
            return handled("url parameter missing", 400)
        download.trackers.append(url)
        return rest({"added": True})

    async def remove_tracker(self, request: web.Request) -> web.Response:
        download, url = await self._tracker_url(request)
        if download is None:
            return handled("this download does not exist", 404)
        if not url:
            return handled("url parameter missing", 400)
        download.trackers = [t for t in download.trackers if t != url]
        return rest({"removed": True})

    async def force_announce(self, request: web.Request) -> web.Response:
        download, url = await self._tracker_url(request)
        if download is None:
            return handled("this download does not exist", 404)
        if not url:
            return handled("url parameter missing", 400)
        return rest({"forced": True})

    async def get_files(self, request: web.Request) -> web.Response:
        download = self._get(request)
        if download is None:
            return handled("this download does not exist", 404)
        files = [
            {
                "index": index,
                "name": name,
                "size": size,
                "included": download.selected_files is None or index in download.selected_files,
                "progress": download.progress,
            }
            for index, (name, size) in enumerate(download.files)
        ]
        return rest({"infohash": request.match_info["infohash"], "files": files})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        download = self._get(request)
        if download is None or not download.files:
            return handled("this download does not exist", 404)
        index = int(request.match_info["fileindex"])
        if not 0 <= index < len(download.files):
            return handled("this download does not exist", 404)
        data = download.file_data(index)
        size = len(data)
        response = web.StreamResponse()
        try:
            start, stop = request.http_range.start, request.http_range.stop
        except ValueError:
            response.headers["Content-Range"] = f"bytes */{size}"
            response.set_status(416)
            await response.prepare(request)
            return response
        todo = size
        if start is not None or stop is not None:
            start = start or 0
            if start < 0:
                start = max(start + size, 0)
            stop = min(stop if stop is not None else size, size)
            todo = stop - start
            if start >= size:
                response.headers["Content-Range"] = f"bytes */{size}"
                response.set_status(416)
                await response.prepare(request)
                return response
            response.headers["Content-Range"] = f"bytes {start}-{start + todo - 1}/{size}"
            response.set_status(206)
        start = start or 0
        response.content_type = "video/mp4" if download.files[index][0].endswith("mp4") else "application/octet-stream"
        response.content_length = todo
        response.headers["Accept-Ranges"] = "bytes"
        await response.prepare(request)
        # The core writes one piece at a time, as pieces arrive.
        for at in range(start, start + todo, PIECE_LENGTH):
            await response.write(data[at : min(at + PIECE_LENGTH, start + todo)])
        await response.write_eof()
        return response

    # ------------------------------------------------------------------ search

    @staticmethod
    def _matches(query: str, entry: dict[str, Any]) -> bool:
        words = query.lower().replace("*", "").split()
        return all(word in entry["name"].lower() for word in words)

    async def remote_search(self, request: web.Request) -> web.Response:
        query = request.query.get("fts_text")
        if query is None:
            return handled(f"Got search with no fts_text: {dict(request.query)}", 400)
        request_uuid = str(uuid.uuid4())
        task = asyncio.create_task(self._answer(request_uuid, query))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return rest({"request_uuid": request_uuid, "peers": self.search_peers})

    async def _answer(self, request_uuid: str, query: str) -> None:
        """Peers answer after a while, each with what it has (often the same torrents)."""
        fts = f'"{query}"*'
        foreign = [torrent_metadata("Another client's search", 1)]
        for index, peer in enumerate(self.search_peers):
            await asyncio.sleep(self.search_delay)
            # Another client's search: every open stream gets its results too.
            self.notify("remote_query_results", query="other*", results=foreign, uuid=str(uuid.uuid4()), peer=peer)
            catalogue = self.peer_catalogues[index] if self.peer_catalogues else self.remote_catalogue
            matches = [entry for entry in catalogue if self._matches(query, entry)]
            self.notify("remote_query_results", query=fts, results=matches, uuid=request_uuid, peer=peer)

    async def local_search(self, request: web.Request) -> web.Response:
        query = request.query.get("fts_text")
        if query is None:
            return handled(f"Got search with no fts_text: {dict(request.query)}", 400)
        first, last = int(request.query.get("first", 1)), int(request.query.get("last", 50))
        matches = [entry for entry in self.local_catalogue if self._matches(query, entry)]
        body: dict[str, Any] = {
            "results": matches[first - 1 : last],
            "first": first,
            "last": last,
            "sort_by": None,
            "sort_desc": request.query.get("sort_desc", "true") not in ("0", "false"),
        }
        if request.query.get("include_total"):
            body.update(total=len(matches), max_rowid=len(self.local_catalogue))
        return rest(body)

    async def completions(self, request: web.Request) -> web.Response:
        prefix = request.query.get("q")
        if not prefix:
            return handled("query parameter missing", 400)
        words = {w for e in self.local_catalogue for w in e["name"].lower().split() if w.startswith(prefix.lower())}
        return rest({"completions": sorted(words)[:5]})

    async def popular(self, _: web.Request) -> web.Response:
        popular = sorted(self.local_catalogue, key=lambda e: -(e["num_seeders"] + e["num_leechers"]))
        return rest({"results": popular[:50], "first": 1, "last": 50})

    # ------------------------------------------------------------------ core

    async def get_settings(self, _: web.Request) -> web.Response:
        return rest({"settings": self.settings})

    async def update_settings(self, request: web.Request) -> web.Response:
        def merge(target: dict[str, Any], updates: dict[str, Any]) -> None:
            for key, value in updates.items():
                if isinstance(value, dict):
                    merge(target.setdefault(key, {}), value)
                else:
                    target[key] = value

        merge(self.settings, await request.json())
        return rest({"modified": True})

    async def statistics_tribler(self, _: web.Request) -> web.Response:
        stats = {
            "peers": 12,
            "db_size": 4096,
            "num_torrents": len(self.local_catalogue),
            "libtorrent": {"sessions": [], "total_recv_bytes": 0, "total_sent_bytes": 0},
            "endpoint_version": "0.2.1",
        }
        return rest({"tribler_statistics": stats})

    async def statistics_ipv8(self, _: web.Request) -> web.Response:
        return rest({"ipv8_statistics": {"total_up": 1000, "total_down": 2000}})


def legacy_app(api_key: str = API_KEY) -> web.Application:
    """Tribler 7.13/7.14: no ``/api`` prefix, ``apikey`` query, errors as plain strings."""

    @web.middleware
    async def key_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("X-Api-Key") or request.query.get("apikey") or request.cookies.get("api_key")
        if key != api_key:
            return rest({"error": "Unauthorized access"}, 401)
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return handled(f"Could not find {request.path}", 404)

    async def settings(_: web.Request) -> web.Response:
        return rest({"settings": {"api": {"key": api_key}}, "ports": {}})

    async def downloads(_: web.Request) -> web.Response:
        return rest({"downloads": [], "checkpoints": {"total": 0, "loaded": 0, "all_loaded": True}})

    app = web.Application(middlewares=[key_middleware])
    app.add_routes([web.get("/settings", settings), web.get("/downloads", downloads)])
    return app


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

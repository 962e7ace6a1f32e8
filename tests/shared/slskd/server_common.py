"""What the slskd conformance server's parts share: its data types, helpers and constants."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ONLY_ONE = "Only one concurrent operation is permitted. Wait until the previous request completes"
EVENT_TYPES = (
    "DownloadFileComplete",
    "DownloadDirectoryComplete",
    "UploadFileComplete",
    "PrivateMessageReceived",
    "RoomMessageReceived",
    "SoulseekClientConnected",
    "SoulseekClientDisconnected",
    "Noop",
)


def relay_credential(agent_secret: str, token: str) -> str:
    """The credential a relay agent presents for ``token`` (a stand-in for slskd's encrypted one)."""
    return hashlib.sha256(f"{agent_secret}:{token}".encode()).hexdigest()


def now_iso(at: float | None = None) -> str:
    moment = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def timespan(seconds: float) -> str:
    """A .NET TimeSpan string (``hh:mm:ss.fffffff``)."""
    whole = int(seconds)
    fraction = round((seconds - whole) * 10_000_000)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{fraction:07d}"


def version_tuple(text: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in text.split(".")[:3])
    return major, minor, patch


@dataclass
class Peer:
    """A Soulseek user as the server sees them: shares, slots, and how their transfers go."""

    username: str
    files: dict[str, int] = field(default_factory=dict)
    online: bool = True
    free_slot: bool = True
    queue_length: int = 0
    upload_speed: int = 1_000_000
    response_delay: float = 0.0
    errored: set[str] = field(default_factory=set)
    """Files whose download ends ``Completed, Errored``."""
    hold: bool = False
    """Downloads from this peer stay ``Queued, Remotely`` (a long remote queue)."""
    locked: set[str] = field(default_factory=set)
    browse_delay: float = 0.0
    bitrate: int = 320
    """The bit rate of this peer's mp3 files."""
    enqueue_delay: float = 0.0
    """Seconds until this peer has queued one requested file (0.22-0.23 answer only after each)."""


@dataclass
class Config:
    """How the simulated slskd is set up (its YAML options, in effect)."""

    version: str = "0.26.0"
    api_key: str | None = "conformance-api-key-0123456789"
    username: str = "slskd"
    password: str = "slskd"
    jwt_ttl: float = 604800.0
    url_base: str = "/"
    headless: bool = False
    no_auth: bool = False
    remote_configuration: bool = False
    remote_file_management: bool = False
    debug: bool = False
    tick: float = 0.02
    """Seconds per step of the transfer state machine."""
    response_interval: float = 0.02
    """Seconds between two peers' search responses."""
    operation_delay: float = 0.05
    """How long a search or enqueue POST holds slskd's concurrency limiter."""
    search_finalize_delay: float = 0.05
    """Seconds between a search's final state and its responses being written."""
    cancel_delay: float = 0.05
    """Seconds until a cancelled transfer's record says ``Completed, Cancelled``."""
    move_delay: float = 0.0
    """Seconds spent moving a finished download before its (``endedAt``-stamped) event is recorded."""
    volatile: bool = False
    """slskd's ``--volatile`` flag: its databases live in memory, so a restart empties them."""
    relay_agents: dict[str, str] = field(default_factory=dict)


@dataclass
class Search:
    record: dict[str, Any]
    request: dict[str, Any]
    responses: list[dict[str, Any]] = field(default_factory=list)
    """What ``GET …/responses`` shows: empty until the search has ended."""
    received: list[dict[str, Any]] = field(default_factory=list)
    """The responses slskd holds in memory while the search runs."""
    task: asyncio.Task[None] | None = None
    cancelled: bool = False


class ServerBase:
    """Request helpers every part of the server uses."""

    @staticmethod
    def text(message: str, status: int = 200) -> web.Response:
        return web.Response(status=status, text=message, content_type="text/plain")

    @staticmethod
    async def json_string(request: web.Request) -> str | None:
        """A ``[FromBody] string`` parameter: the body must be a JSON string."""
        try:
            value = await request.json()
        except ValueError:
            return None
        return value if isinstance(value, str) else None

    def username(self, request: web.Request) -> str:
        """The ``{username}`` route value: URL-decoded from 0.24.2 (``[UrlEncoded]``); before, ASP.NET
        leaves ``%2F`` undecoded, so ``a%2Fb`` names the user ``a%2Fb``."""
        # A route with a literal in the username's place (``…/downloads/batches`` before 0.26) names that user.
        name = request.match_info.get("username") or request.path.rstrip("/").rsplit("/", 1)[-1]
        return name if self.version >= (0, 24, 2) else name.replace("/", "%2F")

    @staticmethod
    def flag(request: web.Request, name: str, default: bool) -> bool:
        value = request.query.get(name)
        return default if value is None else value.lower() == "true"

    async def ok_empty(self, _request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def health(self, _request: web.Request) -> web.Response:
        return self.text("Healthy")


def default_peers() -> list[Peer]:
    """Soulseek users with awkward names: a ``/`` and spaces, Windows-style paths."""
    return [
        Peer(
            "alice",
            files={
                "@@music\\Artist\\Album\\01 - Blue Song.mp3": 8_000_000,
                "@@music\\Artist\\Album\\02 - Red Song.mp3": 9_000_000,
            },
            free_slot=True,
            queue_length=0,
        ),
        Peer(
            "dj/slash man",
            files={"Shared/Blue Song (remix).flac": 30_000_000, "Shared/Locked Blue.flac": 1_000},
            free_slot=False,
            queue_length=5,
            response_delay=0.05,
            locked={"Shared/Locked Blue.flac"},
        ),
        Peer("offline user", files={"x\\Blue.mp3": 1}, online=False),
    ]

"""The Tribler conformance core's records and shapes: the settings it reports, its error and
success answers, a download as the core keeps it (``core/libtorrent/download_manager/``,
``restapi/`` of ``Tribler/tribler`` 8.4.3; see :mod:`.server` for where each behaviour comes from)."""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PIECE_LENGTH = 16384
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - a setting the core reports, nothing binds to it here


def full_settings(api_key: str) -> dict[str, Any]:
    """The whole configuration, as ``GET /api/settings`` returns it (8.4.3's sections and defaults)."""
    state_dir = "/home/tribler/.Tribler"
    enabled = {"enabled": True}
    return {
        "api": {
            "http_enabled": True,
            "http_port": 0,
            "http_host": "127.0.0.1",
            "https_enabled": False,
            "https_host": "127.0.0.1",
            "https_port": 0,
            "https_certfile": "https_certfile",
            "http_port_running": 0,
            "https_port_running": 0,
            "key": api_key,
        },
        "headless": True,
        "start_minimized": False,
        "ipv8": {
            "interfaces": [{"interface": "UDPIPv4", "ip": ALL_INTERFACES, "port": 8090}],
            "keys": [
                {"alias": "anonymous id", "generation": "curve25519", "file": f"{state_dir}/ec_multichain.pem"},
                {"alias": "secondary", "generation": "curve25519", "file": f"{state_dir}/secondary_key.pem"},
            ],
            "logger": {"level": "INFO"},
            "working_directory": state_dir,
            "walker_interval": 0.5,
            "overlays": [{"class": "DiscoveryCommunity", "key": "anonymous id"}],
        },
        "statistics": False,
        "content_discovery_community": dict(enabled),
        "database": dict(enabled),
        "dht_discovery": dict(enabled),
        "libtorrent": {
            "socks_listen_ports": [0, 0, 0, 0, 0],
            "listen_interface": ALL_INTERFACES,
            "port": 0,
            "proxy_type": 0,
            "proxy_server": "",
            "proxy_auth": "",
            "max_connections_download": -1,
            "max_download_rate": 0,
            "max_upload_rate": 0,
            "utp": True,
            "dht": True,
            "dht_readiness_timeout": 30,
            "upnp": True,
            "natpmp": True,
            "lsd": True,
            "announce_to_all_tiers": False,
            "announce_to_all_trackers": False,
            "max_concurrent_http_announces": 50,
            "check_after_complete": False,
            "download_defaults": {
                "anonymity_enabled": True,
                "number_hops": 1,
                "safeseeding_enabled": True,
                "saveas": "/downloads",
                "seeding_mode": "forever",
                "seeding_ratio": 2.0,
                "seeding_time": 60.0,
                "channel_download": False,
                "add_download_to_channel": False,
                "trackers_file": "",
                "torrent_folder": "",
                "auto_managed": False,
                "completed_dir": "",
            },
            "active_downloads": 3,
            "active_seeds": 5,
            "active_checking": 1,
            "active_dht_limit": 88,
            "active_tracker_limit": 1600,
            "active_lsd_limit": 60,
            "active_limit": 500,
            "ask_download_settings": False,
            "clear_orphaned_parts": False,
            "allow_mmap": True,
        },
        "recommender": dict(enabled),
        "rendezvous": dict(enabled),
        "rss": {"enabled": True, "urls": []},
        "torrent_checker": dict(enabled),
        "tunnel_community": {"enabled": True, "min_circuits": 3, "max_circuits": 8},
        "versioning": {"enabled": True, "allow_pre": False},
        "watch_folder": {"enabled": False, "directory": "", "check_interval": 10.0},
        "state_dir": state_dir,
        "memory_db": False,
        "tray_icon_color": "",
        "ui": {},
    }


def traceback_error(err: Exception) -> web.Response:
    """``error_middleware``'s answer to an unhandled exception: 500 with the whole traceback."""
    text = "".join(traceback.format_exception(err))
    return rest({"error": {"handled": False, "message": text}}, 500)


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
    speed_down: int = 0
    speed_up: int = 0
    trackers: list[str] = field(default_factory=list)
    time_added: int = field(default_factory=lambda: int(time.time()))
    time_finished: int = 0
    error: str = ""
    has_handle: bool = True
    """False until libtorrent has a handle: the record then shows a placeholder status."""
    resume_data: bool = True
    """False for a download added in this session: libtorrent checks it before anything else."""
    stopped_at_load: bool = False
    """Whether it was stopped when its checkpoint was loaded (what its resume data says)."""
    streamed: bool = False
    """Streamed in this session: removing it then fails (issue 24)."""

    @property
    def size(self) -> int:
        return sum(size for _, size in self.files)

    def file_data(self, index: int) -> bytes:
        """Deterministic content of one file, for streaming."""
        name, size = self.files[index]
        seed = hashlib.sha256(f"{self.infohash}/{name}".encode()).digest()
        return (seed * (size // len(seed) + 1))[:size]

    @property
    def shown_status(self) -> str:
        """What the core reports: without a handle, STOPPED at 0 hops and EXIT_NODES above."""
        if self.has_handle:
            return self.status
        return "STOPPED" if self.hops == 0 else "EXIT_NODES"

    def record(self, default_seeding_ratio: float = 2.0) -> dict[str, Any]:
        """The JSON of ``get_downloads`` for this download."""
        total_pieces = (self.size + PIECE_LENGTH - 1) // PIECE_LENGTH
        handle = self.has_handle
        # Without a handle the core's DownloadState returns these literals (progress the int 0).
        progress: float = self.progress if handle else 0
        eta = (1.0 - self.progress) * (self.size / max(0.000001, self.speed_down)) if handle else 0.0
        active = handle and self.status in ("DOWNLOADING", "SEEDING")
        status = self.shown_status
        return {
            "name": self.name,
            "progress": progress,
            "infohash": self.infohash,
            "speed_down": self.speed_down if active else 0,
            "speed_up": self.speed_up if active else 0,
            "status": status,
            "status_code": STATUS_CODES[status],
            "size": self.size,
            "eta": eta,
            "num_peers": 0,
            "num_seeds": 0,
            "num_connected_peers": 0,
            "num_connected_seeds": 0,
            "all_time_upload": 0,
            "all_time_download": int(self.size * self.progress) if handle else 0,
            "all_time_ratio": 0.0,
            "last_download": 0,
            "last_upload": 0,
            "trackers": [{"url": url, "peers": 0, "status": "Not contacted"} for url in self.trackers],
            "hops": self.hops,
            "anon_download": self.hops > 0,
            "safe_seeding": self.safe_seeding,
            "upload_limit": self.upload_limit,
            "download_limit": self.download_limit,
            "seeding_ratio": float(self.seeding_ratio if self.seeding_ratio is not None else default_seeding_ratio),
            "destination": self.destination,
            "completed_dir": self.completed_dir,
            "total_pieces": total_pieces,
            "error": self.error,
            "time_added": self.time_added,
            "time_finished": self.time_finished,
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

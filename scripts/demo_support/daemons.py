"""The demo's daemons: two qbittorrent-nox (ours and a seeder) and two linked syncthing, all on 127.0.0.1.

The start-up helpers of the real-daemon tests are reused (``tests/shared/qbittorrent/daemon.py``,
``tests/shared/syncthing/syncthing_daemons.py``): throwaway profiles, known credentials, and every
discovery, relay, NAT and reporting feature switched off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from peerdeck.qbittorrent import QBittorrentClient
from tests.shared.qbittorrent.daemon import QBittorrentDaemon, run_qbittorrent
from tests.shared.syncthing.syncthing_daemons import SyncthingDaemon, linked_pair
from tests.shared.torrents import make_torrent

_LOGGER = logging.getLogger("peerdeck.demo")

SYNC_FOLDER = "demo-photos"
SYNCTHING_DEFAULT_RESCAN_S = 3600
SYNCTHING_DEFAULT_WATCHER_DELAY_S = 10
"""A new folder's defaults in Syncthing (lib/config/folderconfiguration.go: rescanIntervalS, fsWatcherDelayS)."""
KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class DemoTorrent:
    """A torrent the demo puts into our qBittorrent, and where its data comes from."""

    name: str
    size: int
    category: str
    source: str
    """``local``: the data is on disk, so it seeds; ``seeder``: it downloads from the seeder;
    ``uploads``: it seeds to the seeder; ``paused``: added paused, no data; ``nobody``: no peer has it."""
    limit: int = 0
    """Per-torrent rate limit in bytes/s (download for ``seeder``, upload for ``uploads``)."""


TORRENTS = (
    DemoTorrent("open-movie-4k.mkv", 96 * MIB, "movies", "seeder", limit=384 * KIB),
    DemoTorrent("concert-recording.flac", 24 * MIB, "music", "seeder", limit=128 * KIB),
    DemoTorrent("linux-distro.iso", 32 * MIB, "software", "uploads", limit=192 * KIB),
    DemoTorrent("holiday-photos-2026.tar", 3 * MIB, "photos", "local"),
    DemoTorrent("podcast-episode-42.mp3", 2 * MIB, "music", "local"),
    DemoTorrent("lecture-recordings.zip", 8 * MIB, "courses", "paused"),
    DemoTorrent("rare-bootleg.ogg", 4 * MIB, "music", "nobody"),
)


@dataclass
class Daemons:
    """What the demo runs, with what Home Assistant and the bot need to reach it."""

    qbittorrent: QBittorrentDaemon
    seeder: QBittorrentDaemon
    syncthing: tuple[SyncthingDaemon, SyncthingDaemon]
    hashes: dict[str, str] = field(default_factory=dict)
    """Torrent name -> info-hash, of the torrents in our qBittorrent."""

    @property
    def pids(self) -> list[int]:
        """Every daemon process id (the demo's test checks none is left)."""
        pids = [self.qbittorrent.pid, self.seeder.pid]
        pids += [daemon.process.pid for daemon in self.syncthing if daemon.process is not None]
        return pids


@contextlib.contextmanager
def run_syncthing_pair(base: Path) -> Iterator[tuple[SyncthingDaemon, SyncthingDaemon]]:
    """Two linked syncthing daemons sharing ``SYNC_FOLDER``; files written to A's copy appear in B's.

    Set up as a user's would be: the file watcher on and Syncthing's own default rescan interval (an hour),
    so the folder is scanned when files change, not every two seconds as the tests' daemons are.
    """
    a, b = linked_pair(
        base,
        folder_id=SYNC_FOLDER,
        names=("Home server", "Laptop"),
        rescan_s=SYNCTHING_DEFAULT_RESCAN_S,
        watcher_delay_s=SYNCTHING_DEFAULT_WATCHER_DELAY_S,
    )
    folder = base / "data-a"
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(1, 7):
        (folder / f"IMG_{2026_0000 + index}.jpg").write_bytes(os.urandom(256 * KIB * index))
    (folder / "README.txt").write_text("Synced by two real Syncthing instances on 127.0.0.1.\n")
    try:
        a.start()
        b.start()
        yield a, b
    finally:
        a.stop()
        b.stop()


def start_daemons(base: Path, stack: contextlib.ExitStack) -> Daemons:
    """Start every daemon (blocking, bounded by the helpers' own timeouts); ``stack`` stops them."""
    ours = stack.enter_context(run_qbittorrent(base / "qbittorrent"))
    seeder = stack.enter_context(run_qbittorrent(base / "qbittorrent-seeder"))
    syncthing = stack.enter_context(run_syncthing_pair(base / "syncthing"))
    return Daemons(qbittorrent=ours, seeder=seeder, syncthing=syncthing)


def _write_torrents(ours: QBittorrentDaemon, seeder: QBittorrentDaemon) -> dict[str, tuple[bytes, str]]:
    """Make the demo's .torrent files and put each one's data where its ``source`` says."""
    made: dict[str, tuple[bytes, str]] = {}
    for torrent in TORRENTS:
        data_dir = {"local": ours.save_path, "uploads": ours.save_path, "seeder": seeder.save_path}.get(torrent.source)
        made[torrent.name] = make_torrent(torrent.name, torrent.size, data_dir)
    return made


async def _listen_port(client: QBittorrentClient) -> int:
    preferences = await client.app_preferences()
    return int(preferences["listen_port"])


async def seed_torrents(daemons: Daemons, *, timeout: float = 60.0) -> None:
    """Add the demo torrents to both qBittorrents and connect them to each other."""
    ours, seeder = daemons.qbittorrent, daemons.seeder
    made = await asyncio.to_thread(_write_torrents, ours, seeder)
    daemons.hashes = {name: info_hash for name, (_, info_hash) in made.items()}
    async with (
        QBittorrentClient(ours.url, username=ours.username, password=ours.password) as client,
        QBittorrentClient(seeder.url, username=seeder.username, password=seeder.password) as other,
    ):
        for torrent in TORRENTS:
            content, _ = made[torrent.name]
            await client.torrents_add(
                torrent_files=[(f"{torrent.name}.torrent", content)],
                category=torrent.category,
                tags=["peerdeck-demo"],
                stopped=torrent.source == "paused",
                download_limit=torrent.limit if torrent.source == "seeder" else None,
                upload_limit=torrent.limit if torrent.source == "uploads" else None,
            )
            if torrent.source in ("seeder", "uploads"):
                await other.torrents_add(torrent_files=[(f"{torrent.name}.torrent", content)])
        async with asyncio.timeout(timeout):
            while len(await client.torrents_info()) < len(TORRENTS) or len(await other.torrents_info()) < 3:  # noqa: ASYNC110 - polling the daemons
                await asyncio.sleep(0.2)
        await connect_peers(daemons)


async def connect_peers(daemons: Daemons) -> None:
    """Tell each qBittorrent where the other listens (no tracker, DHT or discovery is on)."""
    ours, seeder = daemons.qbittorrent, daemons.seeder
    shared = [daemons.hashes[t.name] for t in TORRENTS if t.source in ("seeder", "uploads")]
    async with (
        QBittorrentClient(ours.url, username=ours.username, password=ours.password) as client,
        QBittorrentClient(seeder.url, username=seeder.username, password=seeder.password) as other,
    ):
        our_port, seeder_port = await _listen_port(client), await _listen_port(other)
        await client.torrents_add_peers(shared, [f"127.0.0.1:{seeder_port}"])
        await other.torrents_add_peers(shared, [f"127.0.0.1:{our_port}"])


async def keep_busy(daemons: Daemons, *, every: float = 30.0) -> None:
    """Keep the demo lively until cancelled: reconnect the torrents' peers and add a file to the synced folder."""
    folder = daemons.syncthing[0].home.parent / "data-a"
    count = 0
    while True:
        await asyncio.sleep(every)
        count += 1
        try:
            await connect_peers(daemons)
        except Exception:  # a failed nudge must not stop the demo
            _LOGGER.debug("reconnecting the demo torrents failed", exc_info=True)
        with contextlib.suppress(OSError):
            (folder / f"note-{count:03d}.txt").write_text(f"Note {count}, written by the demo.\n")

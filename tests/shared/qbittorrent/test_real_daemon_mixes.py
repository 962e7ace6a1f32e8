"""The cheap update path on a real qbittorrent-nox in the mixes that used to cost the most.

Queued downloads (qBittorrent's queueing on) and torrents waiting for their hash check must
not be looked up every tick; changes made elsewhere must still show within one tick, with
counts equal to what ``torrents/info`` says. Every request the backend makes is recorded.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from peerdeck import Credentials, TransferEventKind, TransferState
from peerdeck.qbittorrent import QBittorrentBackend, QBittorrentClient, to_transfer

from ..torrents import make_torrent
from .daemon import QBittorrentDaemon, run_qbittorrent

pytestmark = pytest.mark.daemon


class Recorder:
    """The API routes (with their ``filter``/``hashes`` parameters) a session requested."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._record)

    async def _record(self, _s: object, _c: object, params: aiohttp.TraceRequestStartParams) -> None:
        self.requests.append((params.url.path.removeprefix("/api/v2/"), dict(params.url.query)))

    def take(self) -> list[tuple[str, dict[str, str]]]:
        taken, self.requests = self.requests, []
        return taken


def looked_up(requests: list[tuple[str, dict[str, str]]]) -> set[str]:
    """Hashes looked up with ``torrents/info?hashes=``."""
    return {h for route, query in requests if route == "torrents/info" for h in query.get("hashes", "").split("|") if h}


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[QBittorrentDaemon]:
    with run_qbittorrent(tmp_path) as running:
        yield running


@pytest.fixture
async def other(daemon: QBittorrentDaemon) -> AsyncIterator[QBittorrentClient]:
    """Someone else acting on the daemon (web UI, RSS, another client)."""
    async with QBittorrentClient(daemon.url, username=daemon.username, password=daemon.password) as client:
        yield client


@pytest.fixture
async def watched(daemon: QBittorrentDaemon) -> AsyncIterator[tuple[QBittorrentBackend, Recorder]]:
    recorder = Recorder()
    async with aiohttp.ClientSession(trace_configs=[recorder.trace], cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        yield QBittorrentBackend(daemon.url, Credentials(daemon.username, daemon.password), session=s), recorder


async def truth(client: QBittorrentClient) -> dict[TransferState, int]:
    counts = dict.fromkeys(TransferState, 0)
    for record in await client.torrents_info():
        counts[to_transfer(record["hash"], record).state] += 1
    return counts


async def settle(client: QBittorrentClient, done: object, timeout: float = 60.0) -> list[dict[str, object]]:
    """Poll ``torrents/info`` until ``done(records)`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        records = await client.torrents_info()
        if done(records):  # type: ignore[operator]
            return records
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"qBittorrent did not settle: {sorted(str(r['state']) for r in records)}")
        await asyncio.sleep(0.3)


async def test_a_queue_costs_its_front_and_a_start_shows_within_one_tick(
    daemon: QBittorrentDaemon, other: QBittorrentClient, watched: tuple[QBittorrentBackend, Recorder]
) -> None:
    backend, recorder = watched
    await other.app_set_preferences({"queueing_enabled": True, "max_active_downloads": 1, "max_active_torrents": 2})
    files = [(f"q{i}.torrent", make_torrent(f"queued-{i}.bin")[0]) for i in range(12)]
    await other.torrents_add(torrent_files=files, save_path=str(daemon.save_path))
    records = await settle(other, lambda rs: len(rs) == 12 and sum(r["state"] == "queuedDL" for r in rs) == 11)
    queued = sorted((int(r["priority"]), str(r["hash"])) for r in records if r["state"] == "queuedDL")
    (running,) = {str(r["hash"]) for r in records} - {h for _, h in queued}
    front = {h for _, h in queued[:2]}

    await backend.update()
    recorder.take()
    for _ in range(3):
        update = await backend.update()
        requests = recorder.take()
        assert looked_up(requests) <= front | {running}, "a queued torrent behind the front was looked up"
        assert all(route != "sync/maindata" for route, _ in requests)
    assert update.status.counts == await truth(other)
    assert update.status.counts[TransferState.QUEUED] == 11

    # Someone pauses the running download: qBittorrent starts the front of the queue.
    await other.torrents_stop([running])
    await settle(other, lambda rs: sum(r["state"] == "queuedDL" for r in rs) == 10)
    update = await backend.update()
    requests = recorder.take()
    started = queued[0][1]
    assert update.transfers[running].state is TransferState.PAUSED
    assert update.transfers[started].state is TransferState.ACTIVE
    assert update.status.counts == await truth(other)
    assert update.status.counts[TransferState.QUEUED] == 10
    assert looked_up(requests) <= front | {running}
    assert all(route != "sync/maindata" for route, _ in requests)


async def test_hash_checks_are_followed_from_the_front_of_the_queue(
    daemon: QBittorrentDaemon, other: QBittorrentClient, watched: tuple[QBittorrentBackend, Recorder]
) -> None:
    backend, recorder = watched
    torrents = [make_torrent(f"check-{i:02}.bin", 16_384 * 8, daemon.save_path) for i in range(24)]
    await other.torrents_add(
        torrent_files=[(f"c{i}.torrent", content) for i, (content, _) in enumerate(torrents)],
        save_path=str(daemon.save_path),
    )
    # Past reading their resume data (no queue: every torrent in it is looked up each tick), in the check queue.
    await settle(other, lambda rs: len(rs) == 24 and all(r["state"] != "checkingResumeData" for r in rs))
    first = await backend.update()
    assert backend.tracker.primed
    checking = sorted(h for _, h in torrents if first.transfers[h].state is not TransferState.COMPLETED)
    assert len(checking) >= 12, "the checks ran too fast to follow"
    recorder.take()
    completed: list[str] = []
    widest = 0
    for _ in range(120):
        update = await backend.update()
        requests = recorder.take()
        assert all(route != "sync/maindata" for route, _ in requests), "a reconciliation during the checks"
        widest = max(widest, len(looked_up(requests)))
        completed += [e.transfer.id for e in update.events if e.kind is TransferEventKind.COMPLETED]
        if update.status.counts == await truth(other) and not any(
            str(t.raw.get("state", "")).startswith("checking") for t in update.transfers.values()
        ):
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the checks were not followed to their end")
    assert sorted(completed) == checking, "each check that finished complete, once"
    assert widest < 24, "every checking torrent was looked up in one tick"


@pytest.mark.parametrize(("details_max_age", "lists"), [(0.0, {"active"}), (math.inf, set())])
async def test_seedbox_ticks_read_no_torrent_list_and_see_pause_and_removal_elsewhere(
    daemon: QBittorrentDaemon,
    other: QBittorrentClient,
    watched: tuple[QBittorrentBackend, Recorder],
    details_max_age: float,
    lists: set[str],
) -> None:
    """Steady ticks read the moving torrents' figures only as often as asked (Home Assistant: while its
    card is open); pause and removal elsewhere show within one tick either way."""
    backend, recorder = watched
    backend.details_max_age = details_max_age
    torrents = [make_torrent(f"seed-{i}.bin", data_dir=daemon.save_path) for i in range(6)]
    stalled = [make_torrent(f"stalled-{i}.bin") for i in range(3)]
    await other.torrents_add(
        torrent_files=[(f"t{i}.torrent", content) for i, (content, _) in enumerate(torrents + stalled)],
        save_path=str(daemon.save_path),
    )
    await settle(other, lambda rs: len(rs) == 9 and all(r["state"] in ("stalledUP", "stalledDL") for r in rs))
    await backend.update()
    recorder.take()
    for _ in range(3):
        await backend.update()
        requests = recorder.take()
        assert not looked_up(requests), "a steady tick looked torrents up"
        assert {query.get("filter") for route, query in requests if route == "torrents/info"} == lists
        assert all(route != "sync/maindata" for route, _ in requests)

    paused, removed = torrents[0][1], torrents[1][1]
    await other.torrents_stop([paused])
    await other.torrents_delete([removed])
    await settle(other, lambda rs: len(rs) == 8 and any(r["state"] in ("pausedUP", "stoppedUP") for r in rs))
    update = await backend.update()
    requests = recorder.take()
    assert looked_up(requests) == {paused, removed}
    assert all(route != "sync/maindata" for route, _ in requests)
    assert update.transfers[paused].state is TransferState.PAUSED
    assert removed not in update.transfers
    assert (TransferEventKind.REMOVED, removed) in [(e.kind, e.transfer.id) for e in update.events]
    assert update.status.counts == await truth(other)


async def test_details_are_read_once_when_asked(
    daemon: QBittorrentDaemon, other: QBittorrentClient, watched: tuple[QBittorrentBackend, Recorder]
) -> None:
    backend, recorder = watched
    backend.details_max_age = math.inf
    content, _ = make_torrent("seeding.bin", 16_384 * 64, daemon.save_path)
    await other.torrents_add(torrent_files=[("s.torrent", content)], save_path=str(daemon.save_path))
    await settle(other, lambda rs: len(rs) == 1 and rs[0]["state"] in ("stalledUP", "uploading"))
    await backend.update()
    recorder.take()
    await backend.update()
    assert all(query.get("filter") != "active" for _, query in recorder.take())

    backend.want_details()
    await backend.update()
    assert ("torrents/info", {"filter": "active"}) in recorder.take()
    await backend.update()
    assert all(query.get("filter") != "active" for _, query in recorder.take()), "asked once, read once"

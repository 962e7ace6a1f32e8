"""A busy box on a real qbittorrent-nox: other programs (RSS, *arr, cross-seed) add torrents all day.

Each torrent added elsewhere must show within one tick, placed by the cheapest list that can
hold it — never a full read (``sync/maindata``) when a cheap list can place it, at most one a
tick when none can, and none in a tick where nothing unexplained happened.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from peerdeck import Credentials, TransferEventKind, TransferState
from peerdeck.qbittorrent import QBittorrentBackend, QBittorrentClient

from ..torrents import make_torrent
from .daemon import QBittorrentDaemon, run_qbittorrent
from .test_real_daemon_mixes import Recorder, settle, truth

pytestmark = pytest.mark.daemon

SEEDING = 24
STALLED = 2


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[QBittorrentDaemon]:
    with run_qbittorrent(tmp_path) as running:
        yield running


@pytest.fixture
async def other(daemon: QBittorrentDaemon) -> AsyncIterator[QBittorrentClient]:
    """Another program on the Web API (an *arr, an RSS rule, cross-seed)."""
    async with QBittorrentClient(daemon.url, username=daemon.username, password=daemon.password) as client:
        yield client


@pytest.fixture
async def box(
    daemon: QBittorrentDaemon, other: QBittorrentClient
) -> AsyncIterator[tuple[QBittorrentBackend, Recorder]]:
    """A seedbox (mostly seeding, a few stalled downloads) watched as Home Assistant watches it."""
    seeding = [make_torrent(f"seed-{i:02}.bin", data_dir=daemon.save_path)[0] for i in range(SEEDING)]
    stalled = [make_torrent(f"stalled-{i}.bin")[0] for i in range(STALLED)]
    await other.torrents_add(
        torrent_files=[(f"t{i}.torrent", content) for i, content in enumerate(seeding + stalled)],
        save_path=str(daemon.save_path),
    )
    total = SEEDING + STALLED
    await settle(other, lambda rs: len(rs) == total and all(r["state"] in ("stalledUP", "stalledDL") for r in rs))
    recorder = Recorder()
    async with aiohttp.ClientSession(trace_configs=[recorder.trace], cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        backend = QBittorrentBackend(daemon.url, Credentials(daemon.username, daemon.password), session=s)
        backend.details_max_age = math.inf
        await backend.update()
        recorder.take()
        yield backend, recorder


def full_reads(requests: list[tuple[str, dict[str, str]]]) -> int:
    """Requests that read every torrent: ``sync/maindata`` or an unfiltered, unlimited ``torrents/info``."""
    lists = [query for route, query in requests if route == "torrents/info"]
    unfiltered = [q for q in lists if not {"filter", "category", "hashes", "limit"} & set(q)]
    return sum(route == "sync/maindata" for route, _ in requests) + len(unfiltered)


async def test_downloads_added_elsewhere_are_placed_within_a_tick_without_a_full_read(
    daemon: QBittorrentDaemon, other: QBittorrentClient, box: tuple[QBittorrentBackend, Recorder]
) -> None:
    """An *arr adds downloads in its category, tick after tick: each shows in its tick, with its category; the
    lists that never hold them (checking, moving data) stop being read first, so a tick asks for one list."""
    backend, recorder = box
    for round_ in range(4):
        added = [make_torrent(f"episode-{round_}-{i}.bin") for i in range(2)]
        await other.torrents_add(
            torrent_files=[(f"e{i}.torrent", content) for i, (content, _) in enumerate(added)],
            save_path=str(daemon.save_path),
            category="sonarr",
        )
        expected = SEEDING + STALLED + 2 * (round_ + 1)
        await settle(other, lambda rs, n=expected: len(rs) == n and all(r["state"] != "checkingResumeData" for r in rs))
        update = await backend.update()
        requests = recorder.take()
        announced = [(e.transfer.id, e.transfer.category) for e in update.events if e.kind is TransferEventKind.ADDED]
        assert sorted(announced) == sorted((h, "sonarr") for _, h in added)
        assert full_reads(requests) == 0, f"a full read placed what a cheap list could: {requests}"
        assert update.status.counts == await truth(other)
        lists = [query for route, query in requests if route == "torrents/info" and "hashes" not in query]
        if round_ == 3:
            assert [(q.get("filter"), q.get("category")) for q in lists] == [(None, "sonarr")]
    assert backend.full_reads == 1, "only the first refresh read everything"


async def test_cross_seeds_added_elsewhere_in_consecutive_ticks_each_show_in_their_tick(
    daemon: QBittorrentDaemon, other: QBittorrentClient, box: tuple[QBittorrentBackend, Recorder]
) -> None:
    """Cross-seed adds torrents whose data is there: they pass their check and seed before the next tick, so no
    status list holds them; their category does (new at first, then one torrents arrived in), on 4.x as on 5.x."""
    backend, recorder = box
    for round_ in range(2):
        content, info_hash = make_torrent(f"cross-{round_}.bin", data_dir=daemon.save_path)
        await other.torrents_add(
            torrent_files=[("x.torrent", content)], save_path=str(daemon.save_path), category="cross-seed"
        )
        await settle(other, lambda rs, h=info_hash: any(r["hash"] == h and r["state"] == "stalledUP" for r in rs))
        update = await backend.update()
        requests = recorder.take()
        events = [(e.kind, e.transfer.id, e.transfer.category) for e in update.events]
        assert events == [
            (TransferEventKind.ADDED, info_hash, "cross-seed"),
            (TransferEventKind.COMPLETED, info_hash, "cross-seed"),
        ]
        assert full_reads(requests) == 0
        assert update.status.counts == await truth(other)

    await backend.update()
    assert full_reads(recorder.take()) == 0, "a tick with nothing unexplained reads no list of every torrent"


async def test_a_torrent_relabelled_into_a_new_category_before_it_was_placed_shows_without_a_full_read(
    daemon: QBittorrentDaemon, other: QBittorrentClient, box: tuple[QBittorrentBackend, Recorder]
) -> None:
    """A tool moves a torrent just added into a category it just created: the categories created since the last
    full read hold it among few (``torrents/categories`` costs nothing), on 4.x as on 5.x."""
    backend, recorder = box
    content, info_hash = make_torrent("relabelled.bin", data_dir=daemon.save_path)
    await other.torrents_add(torrent_files=[("r.torrent", content)], save_path=str(daemon.save_path))
    await settle(other, lambda rs: any(r["hash"] == info_hash and r["state"] == "stalledUP" for r in rs))
    await other.torrents_create_category("rss-1")
    await other.torrents_set_category([info_hash], "rss-1")
    update = await backend.update()
    events = [(e.kind, e.transfer.id, e.transfer.category) for e in update.events]
    assert (TransferEventKind.ADDED, info_hash, "rss-1") in events
    assert full_reads(recorder.take()) == 0
    assert update.status.counts == await truth(other)


async def test_categories_and_tags_changed_elsewhere_are_exact_when_asked(
    other: QBittorrentClient, box: tuple[QBittorrentBackend, Recorder]
) -> None:
    """qBittorrent logs nothing when a category or tag changes: only a full read shows it, when asked."""
    backend, recorder = box
    target = next(iter((await backend.update()).transfers))
    await other.torrents_create_category("rss-3")
    await other.torrents_set_category([target], "rss-3")
    await other.torrents_add_tags([target], ["keep"])
    recorder.take()
    backend.want_exact(0.0)
    transfer = (await backend.update()).transfers[target]
    assert (transfer.category, transfer.tags) == ("rss-3", ("keep",))
    assert full_reads(recorder.take()) == 1
    await backend.update()
    assert full_reads(recorder.take()) == 0, "asked once, read once"


async def test_torrents_added_stopped_elsewhere_show_paused_in_the_tick_after_they_read_their_resume_data(
    daemon: QBittorrentDaemon, other: QBittorrentClient, box: tuple[QBittorrentBackend, Recorder]
) -> None:
    """A torrent added stopped reads its resume data for a second or so, then turns paused without a log line;
    that state is no queue (they all leave it at once), so every torrent in it is looked up each tick."""
    backend, _ = box
    added = [make_torrent(f"stopped-{i}.bin") for i in range(6)]
    await other.torrents_add(
        torrent_files=[(f"s{i}.torrent", content) for i, (content, _) in enumerate(added)],
        save_path=str(daemon.save_path),
        category="later",
        stopped=True,
    )
    hashes = {info_hash for _, info_hash in added}
    update = await backend.update()
    # Placed while they still read their resume data (qBittorrent takes about a second per batch).
    assert {h: update.transfers[h].state for h in hashes} == dict.fromkeys(hashes, TransferState.ACTIVE)
    await settle(other, lambda rs: all(r["state"] in ("pausedDL", "stoppedDL") for r in rs if r["hash"] in hashes))
    update = await backend.update()
    assert {h: update.transfers[h].state for h in hashes} == dict.fromkeys(hashes, TransferState.PAUSED)
    assert update.status.counts == await truth(other)


async def test_a_removal_through_peerdeck_announces_the_category_and_tags_the_torrent_had_then(
    other: QBittorrentClient, box: tuple[QBittorrentBackend, Recorder]
) -> None:
    """Relabelled elsewhere (silently), then removed through Peerdeck: the event says where it was filed then."""
    backend, _ = box
    target = next(iter((await backend.update()).transfers))
    await other.torrents_create_category("archive")
    await other.torrents_set_category([target], "archive")
    await other.torrents_add_tags([target], ["done"])
    await backend.remove([target])
    await settle(other, lambda rs: all(r["hash"] != target for r in rs))
    update = await backend.update()
    removed = [e.transfer for e in update.events if e.kind is TransferEventKind.REMOVED]
    assert [(t.id, t.category, t.tags) for t in removed] == [(target, "archive", ("done",))]
    assert update.status.counts == await truth(other)


async def test_a_torrent_relabelled_elsewhere_announces_its_new_category_and_tags_when_it_completes(
    daemon: QBittorrentDaemon, other: QBittorrentClient, box: tuple[QBittorrentBackend, Recorder]
) -> None:
    """An *arr files a download (silently: no log line), then it finishes: automations route the completed
    event by its category, so the event carries the category and tags it has when it completes."""
    backend, recorder = box
    content, info_hash = make_torrent("routed.bin", data_dir=daemon.save_path)
    await other.torrents_add(
        torrent_files=[("routed.torrent", content)], save_path=str(daemon.save_path), category="tv", stopped=True
    )
    await settle(other, lambda rs: any(r["hash"] == info_hash and r["state"] in ("pausedDL", "stoppedDL") for r in rs))
    assert (await backend.update()).transfers[info_hash].category == "tv"
    await other.torrents_create_category("tv-sorted")
    await other.torrents_set_category([info_hash], "tv-sorted")
    await other.torrents_add_tags([info_hash], ["import"])
    await other.torrents_start([info_hash])  # its data is there: it checks, then completes
    events: list[tuple[str, str | None, tuple[str, ...]]] = []

    async def completed() -> bool:
        update = await backend.update()
        events.extend(
            (e.transfer.id, e.transfer.category, e.transfer.tags)
            for e in update.events
            if e.kind is TransferEventKind.COMPLETED
        )
        return bool(events)

    deadline = asyncio.get_running_loop().time() + 60
    while not await completed():
        assert asyncio.get_running_loop().time() < deadline, "no completed event within 60 s"
        await asyncio.sleep(1)
    assert events == [(info_hash, "tv-sorted", ("import",))]
    assert full_reads(recorder.take()) == 0, "the completion's look-up by hash read the new labels"

"""The unified backend: verbs, state mapping, pushed events exactly once, and streamed search."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from peerdeck import (
    ALL,
    Backend,
    BackendKind,
    Credentials,
    EnqueueOptions,
    Magnet,
    PeerdeckInputError,
    PeerdeckNotSupportedError,
    RemoteFiles,
    SearchHit,
    TorrentFile,
    TorrentUrl,
    TransferEvent,
    TransferEventKind,
    TransferState,
    create_backend,
)
from peerdeck.tribler import TriblerBackend, to_transfer

from ..torrents import make_torrent
from .conftest import Core
from .server import API_KEY, FakeDownload, torrent_metadata

MAGNET_HASH = "4344503b7e797ebf31582327a5baae35b11bda01"


def seed(core: Core, name: str, **fields: object) -> str:
    """Put a download in the core as if it had been there before we looked."""
    content, infohash = make_torrent(name, 20_000)
    download = FakeDownload(infohash=infohash, name=name, files=[(name, 20_000)], metainfo=content)
    for key, value in fields.items():
        setattr(download, key, value)
    core.server.downloads[infohash] = download
    return infohash


async def test_factory_and_protocol(core: Core) -> None:
    backend = create_backend("tribler", core.url, Credentials(api_key=API_KEY))
    try:
        assert isinstance(backend, TriblerBackend)
        assert isinstance(backend, Backend)
        assert backend.capabilities.events_pushed is True
    finally:
        await backend.close()


async def test_info(core: Core, backend: TriblerBackend) -> None:
    info = await backend.info()
    assert (info.kind, info.version, info.identity, info.name) == (
        BackendKind.TRIBLER,
        "8.4.3",
        core.server.peer_key,
        "Tribler",
    )


@pytest.mark.parametrize(
    ("record", "state"),
    [
        ({"status": "METADATA", "progress": 0.0}, TransferState.ACTIVE),
        ({"status": "DOWNLOADING", "progress": 0.4}, TransferState.ACTIVE),
        ({"status": "EXIT_NODES", "progress": 0}, TransferState.QUEUED),
        ({"status": "EXIT_NODES", "progress": 0, "time_finished": 1_700_000_000}, TransferState.COMPLETED),
        ({"status": "STOPPED", "progress": 0, "user_stopped": False}, TransferState.QUEUED),
        ({"status": "STOPPED", "progress": 0, "user_stopped": True}, TransferState.PAUSED),
        ({"status": "HASHCHECKING", "progress": 0.0}, TransferState.ACTIVE),
        ({"status": "WAITING_FOR_HASHCHECK", "progress": 0.0}, TransferState.QUEUED),
        ({"status": "QUEUED", "progress": 0.0}, TransferState.QUEUED),
        ({"status": "SEEDING", "progress": 1.0}, TransferState.COMPLETED),
        ({"status": "STOPPED", "progress": 0.3, "user_stopped": True}, TransferState.PAUSED),
        ({"status": "STOPPED", "progress": 1.0, "user_stopped": True}, TransferState.PAUSED),
        ({"status": "STOPPED", "progress": 1.0, "user_stopped": False}, TransferState.COMPLETED),
        ({"status": "STOPPED", "progress": 0.2}, TransferState.PAUSED),
        ({"status": "STOPPED_ON_ERROR", "progress": 0.2}, TransferState.FAILED),
    ],
)
def test_status_mapping(record: dict[str, object], state: TransferState) -> None:
    assert to_transfer({"infohash": MAGNET_HASH, "name": "x", **record}).state is state


def test_transfer_fields() -> None:
    record = FakeDownload(infohash=MAGNET_HASH, name="film", files=[("film", 1000)], progress=0.5, speed_down=100)
    transfer = to_transfer(record.record())
    assert (transfer.id, transfer.name, transfer.size, transfer.done_bytes) == (MAGNET_HASH, "film", 1000, 500)
    assert (transfer.download_rate, transfer.eta, transfer.save_path) == (100, 5.0, "/downloads")
    assert transfer.added_at is not None
    stalled = to_transfer(FakeDownload(infohash=MAGNET_HASH, name="film", files=[("film", 1000)]).record())
    assert stalled.eta is None


async def test_enqueue_magnet_with_hops_and_destination(core: Core, backend: TriblerBackend) -> None:
    backend.anon_hops = 2
    ids = await backend.enqueue(Magnet(f"magnet:?xt=urn:btih:{MAGNET_HASH}&dn=x"), EnqueueOptions(save_path="/srv"))
    assert ids == [MAGNET_HASH]
    download = core.server.downloads[MAGNET_HASH]
    assert (download.hops, download.safe_seeding, download.destination) == (2, True, "/srv")


async def test_enqueue_uses_tribler_default_hops(core: Core, backend: TriblerBackend) -> None:
    await backend.enqueue(Magnet(f"magnet:?xt=urn:btih:{MAGNET_HASH}"))
    assert core.server.downloads[MAGNET_HASH].hops == 1


async def test_enqueue_file_url_and_search_hit(core: Core, backend: TriblerBackend) -> None:
    backend.anon_hops = 0
    first, first_hash = make_torrent("one.bin")
    second, second_hash = make_torrent("two.bin")
    assert await backend.enqueue(TorrentFile(first)) == [first_hash]
    url = core.server.host_file(core.app, "two.torrent", second)
    assert await backend.enqueue(TorrentUrl(url)) == [second_hash]
    hit = SearchHit(id=MAGNET_HASH, title="x", link=f"magnet:?xt=urn:btih:{MAGNET_HASH}")
    assert await backend.enqueue(hit) == [MAGNET_HASH]
    assert {d.hops for d in core.server.downloads.values()} == {0}


async def test_enqueue_refusals(core: Core, backend: TriblerBackend) -> None:
    with pytest.raises(PeerdeckNotSupportedError):
        await backend.enqueue(RemoteFiles("user", (("a.flac", 1),)))
    with pytest.raises(PeerdeckInputError):
        await backend.enqueue(SearchHit(id="x", title="x"))
    assert core.server.requests == []


async def test_pause_resume_remove(core: Core, backend: TriblerBackend) -> None:
    first = seed(core, "one.bin")
    second = seed(core, "two.bin")
    await backend.pause([first])
    assert core.server.downloads[first].status == "STOPPED"
    assert core.server.downloads[second].status == "DOWNLOADING"
    await backend.pause(ALL)
    assert {d.status for d in core.server.downloads.values()} == {"STOPPED"}
    await backend.resume(ALL)
    assert {d.status for d in core.server.downloads.values()} == {"DOWNLOADING"}
    await backend.remove([first.upper()], delete_data=True)
    await backend.remove(ALL)
    assert core.server.removed == {first: True, second: False}
    with pytest.raises(PeerdeckInputError):
        await backend.pause([])
    with pytest.raises(PeerdeckInputError):
        await backend.resume(["not-a-hash"])


async def test_status_counts_rates_and_liveness(core: Core, backend: TriblerBackend) -> None:
    seed(core, "a.bin", speed_down=100, speed_up=10, hops=1)
    seed(core, "b.bin", speed_down=50, speed_up=5, hops=0)
    seed(core, "c.bin", status="SEEDING", progress=1.0, speed_up=7)
    seed(core, "d.bin", status="STOPPED", user_stopped=True)
    status = await backend.status()
    assert status.connected is True
    assert (status.download_rate, status.upload_rate) == (150, 22)
    assert status.count(TransferState.ACTIVE) == 2
    assert status.count(TransferState.COMPLETED) == 1
    assert status.count(TransferState.PAUSED) == 1
    assert status.extra["version"] == "8.4.3"
    assert status.extra["anonymous"] == 3


async def test_update_reports_changes_once(core: Core, backend: TriblerBackend) -> None:
    running = seed(core, "a.bin")
    assert (await backend.update()).events == ()
    core.server.finish(running)
    added = seed(core, "b.bin")
    events = (await backend.update()).events
    assert [(e.kind, e.transfer.id) for e in events] == [
        (TransferEventKind.COMPLETED, running),
        (TransferEventKind.ADDED, added),
    ]
    assert (await backend.update()).events == ()


async def test_update_waits_for_all_checkpoints(core: Core, backend: TriblerBackend) -> None:
    """While the core loads its downloads the list is partial: nothing is primed or reported."""
    seed(core, "a.bin")
    core.server.checkpoints_loaded = False
    update = await backend.update()
    assert (update.transfers, update.events) == ({}, ())
    assert not backend.tracker.primed
    core.server.checkpoints_loaded = True
    assert (await backend.update()).events == ()
    assert backend.tracker.primed


# ---------------------------------------------------------------------- pushed events


async def watch(core: Core, backend: TriblerBackend, interval: float) -> tuple[Any, asyncio.Future[TransferEvent]]:
    """Start the backend's event iterator and wait until its stream is connected."""
    events = backend.events(interval=interval)
    first = asyncio.ensure_future(anext(events))
    await core.server.wait_streams(1)
    return events, first


async def collect_until(
    events: Any, first: asyncio.Future[TransferEvent], kind: TransferEventKind, ident: str
) -> list[TransferEvent]:
    seen = [await first]
    while not (seen[-1].kind is kind and seen[-1].transfer.id == ident):
        seen.append(await anext(events))
    return seen


async def test_completion_is_pushed_exactly_once(core: Core, backend: TriblerBackend) -> None:
    finishing = seed(core, "a.bin", progress=0.9)
    other = seed(core, "b.bin")
    await backend.update()
    events, first = await watch(core, backend, 3600)
    try:
        core.server.finish(finishing)  # torrent_status_changed SEEDING, then torrent_finished
        core.server.notify("torrent_finished", infohash=finishing, name="a.bin", hidden=False)
        core.server.break_streams()  # a reconnection resynchronises: still no second completion
        await core.server.wait_streams(1, connections=2)
        core.server.set_status(other, "STOPPED")
        seen = await collect_until(events, first, TransferEventKind.STATE_CHANGED, other)
    finally:
        await events.aclose()
    completed = [e for e in seen if e.kind is TransferEventKind.COMPLETED]
    assert [e.transfer.id for e in completed] == [finishing]
    assert completed[0].previous_state is TransferState.ACTIVE
    assert [e.kind for e in seen] == [TransferEventKind.COMPLETED, TransferEventKind.STATE_CHANGED]
    assert seen[-1].previous_state is TransferState.ACTIVE
    assert seen[-1].transfer.state is TransferState.PAUSED


async def test_finished_before_its_status_counts_as_complete(core: Core, backend: TriblerBackend) -> None:
    """``torrent_finished`` may be read before the list shows the download seeding."""
    racing = seed(core, "a.bin", progress=0.99)
    await backend.update()
    events, first = await watch(core, backend, 3600)
    try:
        core.server.notify("torrent_finished", infohash=racing, name="a.bin", hidden=True)
        core.server.notify("torrent_finished", infohash=racing, name="a.bin", hidden=False)
        seen = await collect_until(events, first, TransferEventKind.COMPLETED, racing)
    finally:
        await events.aclose()
    assert [e.kind for e in seen] == [TransferEventKind.COMPLETED]
    assert seen[-1].transfer.progress == 1.0


async def test_changes_missed_while_disconnected_are_found_on_reconnect(core: Core, backend: TriblerBackend) -> None:
    finished_offline = seed(core, "a.bin")
    await backend.update()
    events, first = await watch(core, backend, 3600)
    try:
        core.server.break_streams()
        download = core.server.downloads[finished_offline]
        download.progress, download.status = 1.0, "SEEDING"
        added_offline = seed(core, "b.bin")
        seen = await collect_until(events, first, TransferEventKind.ADDED, added_offline)
    finally:
        await events.aclose()
    assert [(e.kind, e.transfer.id) for e in seen] == [
        (TransferEventKind.COMPLETED, finished_offline),
        (TransferEventKind.ADDED, added_offline),
    ]


async def test_quiet_stream_is_reconciled_every_interval(core: Core, backend: TriblerBackend) -> None:
    """Removals are never announced by Tribler; the interval read finds them."""
    leaving = seed(core, "a.bin")
    await backend.update()
    events, first = await watch(core, backend, 0.02)
    try:
        await core.server.wait_requests("GET", "/api/downloads", 2)  # primed, then read on connecting
        del core.server.downloads[leaving]
        core.server.notify("torrent_health_updated", infohash=leaving, num_seeders=1, num_leechers=0)
        seen = await collect_until(events, first, TransferEventKind.REMOVED, leaving)
    finally:
        await events.aclose()
    assert seen[-1].transfer.name == "a.bin"


async def test_events_stop_on_a_wrong_key(core: Core) -> None:
    backend = TriblerBackend(core.url, Credentials(api_key="wrong"))
    try:
        with pytest.raises(Exception, match="API key"):
            await anext(backend.events())
    finally:
        await backend.close()


# ---------------------------------------------------------------------- search


def catalogue() -> list[dict[str, object]]:
    return [
        torrent_metadata("Ubuntu 24.04 desktop amd64", 6_000_000_000, seeders=900, leechers=40),
        torrent_metadata("Ubuntu 22.04 server", 2_000_000_000),
        torrent_metadata("Debian 12", 600_000_000),
    ]


async def test_search_streams_local_then_remote_hits(core: Core, backend: TriblerBackend) -> None:
    core.server.local_catalogue = catalogue()[1:2]
    core.server.remote_catalogue = catalogue()
    hits = [hit async for hit in backend.search("ubuntu", timeout=30, limit=2)]
    assert [h.title for h in hits] == ["Ubuntu 22.04 server", "Ubuntu 24.04 desktop amd64"]
    local, remote = hits
    assert local.source is None
    assert remote.source == core.server.search_peers[0]
    assert (remote.size, remote.seeders, remote.leechers) == (6_000_000_000, 900, 40)
    assert remote.link is not None and remote.link.startswith(f"magnet:?xt=urn:btih:{remote.id}&dn=Ubuntu%2024.04")
    requests = core.server.requests
    assert requests.index(("GET", "/api/events")) < requests.index(("PUT", "/api/search/remote"))


async def test_search_deduplicates_peers_and_ignores_other_searches(core: Core, backend: TriblerBackend) -> None:
    backend.search_local = False
    desktop, server, _ = catalogue()
    channel = {"name": "Ubuntu fans channel", "type": 400, "public_key": "aa", "id": 7}
    core.server.peer_catalogues = [[channel, desktop], [desktop, server]]
    hits = [hit async for hit in backend.search("ubuntu", limit=2)]
    assert [(h.title, h.source) for h in hits] == [
        ("Ubuntu 24.04 desktop amd64", core.server.search_peers[0]),
        ("Ubuntu 22.04 server", core.server.search_peers[1]),
    ]


async def test_search_ends_at_its_timeout_without_results(core: Core, backend: TriblerBackend) -> None:
    assert [hit async for hit in backend.search("nothing matches", timeout=0.1)] == []
    assert ("PUT", "/api/search/remote") in core.server.requests


async def test_search_hit_can_be_enqueued(core: Core, backend: TriblerBackend) -> None:
    core.server.remote_catalogue = catalogue()
    (hit,) = [h async for h in backend.search("debian", limit=1)]
    assert await backend.enqueue(hit) == [hit.id]
    assert core.server.downloads[hit.id].name == "Debian 12"


async def test_search_during_startup_is_retried(core: Core, backend: TriblerBackend) -> None:
    core.server.starting_requests = 2
    core.server.local_catalogue = catalogue()
    hits = [hit async for hit in backend.search("debian", limit=1)]
    assert [h.title for h in hits] == ["Debian 12"]


async def test_empty_search_is_refused(backend: TriblerBackend) -> None:
    with pytest.raises(PeerdeckInputError):
        _ = [hit async for hit in backend.search(" ")]

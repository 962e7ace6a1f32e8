"""The unified SlskdBackend against the conformance server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from peerdeck import (
    ALL,
    BackendKind,
    Credentials,
    EnqueueOptions,
    Magnet,
    PeerdeckInputError,
    PeerdeckNotSupportedError,
    PeerdeckResponseError,
    RemoteFiles,
    SearchKind,
    TransferEventKind,
    TransferState,
    create_backend,
)
from peerdeck.slskd import SlskdBackend, split_id, to_transfer
from peerdeck.slskd.backend import parse_time, parse_timespan

from .conftest import Running, Starter
from .server import Config

SONG = ("@@music\\Artist\\Album\\01 - Blue Song.mp3", 8_000_000)


@pytest.fixture
async def backend(slskd: Running) -> AsyncIterator[SlskdBackend]:
    async with SlskdBackend(slskd.url, Credentials(api_key=slskd.api_key), search_poll_interval=0.02) as b:
        yield b


async def test_factory_and_capabilities(slskd: Running) -> None:
    backend = create_backend("slskd", slskd.url, Credentials(api_key=slskd.api_key))
    assert isinstance(backend, SlskdBackend)
    assert backend.capabilities.search is SearchKind.P2P
    assert backend.capabilities.pause is False
    assert backend.capabilities.resume is False
    info = await backend.info()
    await backend.close()
    assert info.kind is BackendKind.SLSKD
    assert info.version == "0.26.0"
    assert info.identity == "me"


async def test_search_streams_hits_with_peer_details(backend: SlskdBackend, slskd: Running) -> None:
    hits = [hit async for hit in backend.search("blue", timeout=0.3)]
    by_user = {h.source for h in hits}
    assert by_user == {"alice", "dj/slash man"}
    assert hits[0].source == "alice"  # the fastest peer's response comes first
    remix = next(h for h in hits if h.source == "dj/slash man")
    assert remix.title == "Blue Song (remix).flac"
    assert remix.size == 30_000_000
    assert remix.queue_length == 5
    assert remix.free_slot is False
    mp3 = next(h for h in hits if h.source == "alice")
    assert mp3.bitrate == 320
    assert all("Locked" not in h.title for h in hits)
    assert slskd.server.searches == {}  # stopped and deleted


async def test_search_is_deleted_once_read_even_when_the_caller_breaks(backend: SlskdBackend, slskd: Running) -> None:
    async for _hit in backend.search("blue", timeout=1):
        assert slskd.server.searches == {}  # read once, deleted before the first hit is handed out
        break  # no aclose(): the event loop finalises the dropped generator
    methods = [m for m, p in slskd.server.requests if p.startswith("/api/v0/searches/")]
    assert "DELETE" in methods


async def test_search_limit_and_a_peer_too_slow_for_the_timeout(backend: SlskdBackend, slskd: Running) -> None:
    limited = [h async for h in backend.search("blue", timeout=1, limit=1)]
    assert len(limited) == 1
    slskd.server.peers["dj/slash man"].response_delay = 10
    timed = [h async for h in backend.search("remix", timeout=0.6)]
    assert timed == []
    assert slskd.server.searches == {}


async def test_enqueue_hit_and_follow_it_to_completion(backend: SlskdBackend, slskd: Running) -> None:
    [hit] = [h async for h in backend.search("02 red", timeout=1)]
    await backend.update()  # primes the tracker
    [transfer_id] = await backend.enqueue(hit, EnqueueOptions(save_path="Albums"))
    assert split_id(transfer_id)[0] == "alice"
    batch = next(iter(slskd.server.batches.values()))
    assert batch["options"] == {"destination": "Albums"}
    assert batch["searchId"] == hit.raw["searchId"]
    kinds: list[TransferEventKind] = []
    for _ in range(200):
        update = await backend.update()
        kinds.extend(e.kind for e in update.events if e.transfer.id == transfer_id)
        if update.transfers[transfer_id].state is TransferState.COMPLETED:
            break
        await asyncio.sleep(0.02)
    for _ in range(3):
        kinds.extend(e.kind for e in (await backend.update()).events)
    assert kinds[0] is TransferEventKind.ADDED
    assert kinds.count(TransferEventKind.COMPLETED) == 1
    status = await backend.status()
    assert status.connected is True
    assert status.count(TransferState.COMPLETED) == 1
    assert status.upload_rate == 5000


async def test_completion_seen_only_in_the_event_log_is_announced_once(backend: SlskdBackend) -> None:
    await backend.update()
    [transfer_id] = await backend.enqueue(RemoteFiles("alice", (SONG,)))
    await backend.update()  # seen queued
    username, raw_id = split_id(transfer_id)
    record = {}
    for _ in range(200):
        record = await backend.client.transfers_download(username, raw_id)
        if record["state"] == "Completed, Succeeded":
            break
        await asyncio.sleep(0.02)
    await backend.client.transfers_clear_completed_downloads()  # gone before the next poll
    events = [e for _ in range(3) for e in (await backend.update()).events]
    completed = [e for e in events if e.kind is TransferEventKind.COMPLETED]
    assert [e.transfer.id for e in completed] == [transfer_id]
    assert completed[0].transfer.state is TransferState.COMPLETED
    assert TransferEventKind.REMOVED in {e.kind for e in events}


async def test_enqueue_remote_files_for_user_with_slash(backend: SlskdBackend, slskd: Running) -> None:
    slskd.server.peers["dj/slash man"].hold = True
    ids = await backend.enqueue(RemoteFiles("dj/slash man", (("Shared/Blue Song (remix).flac", 30_000_000),)))
    [transfer] = await backend.transfers()
    assert transfer.id == ids[0]
    assert transfer.state is TransferState.QUEUED
    assert transfer.category == "dj/slash man"
    await backend.cancel(ids)
    for _ in range(100):  # cancelling is asynchronous in slskd
        [cancelled] = await backend.transfers()
        if cancelled.state is TransferState.CANCELLED:
            break
        await asyncio.sleep(0.02)
    assert cancelled.state is TransferState.CANCELLED
    await backend.remove(ids)
    assert await backend.transfers() == []


async def test_enqueue_on_023_finds_ids_by_filename(start_slskd: Starter) -> None:
    running = await start_slskd(Config(version="0.23.2"))
    running.server.peers["alice"].hold = True
    async with SlskdBackend(running.url, Credentials(api_key=running.api_key)) as backend:
        ids = await backend.enqueue(RemoteFiles("alice", (SONG,)))
        [transfer] = await backend.transfers()
    assert ids == [transfer.id]


async def test_enqueue_refused_everything_raises(backend: SlskdBackend, slskd: Running) -> None:
    slskd.server.peers["alice"].hold = True
    await backend.enqueue(RemoteFiles("alice", (SONG,)))
    with pytest.raises(PeerdeckResponseError, match="enqueued none"):
        await backend.enqueue(RemoteFiles("alice", (SONG,)))


async def test_pause_and_resume_explain_the_alternative(backend: SlskdBackend) -> None:
    for action in (backend.pause, backend.resume):
        with pytest.raises(PeerdeckNotSupportedError, match="cancel") as err:
            await action(["alice/00000000-0000-0000-0000-000000000000"])
        assert "enqueue the same files again" in str(err.value)


async def test_remove_all_and_unsupported_inputs(backend: SlskdBackend, slskd: Running) -> None:
    slskd.server.peers["alice"].hold = True
    await backend.enqueue(RemoteFiles("alice", (SONG,)))
    await backend.enqueue(RemoteFiles("alice", (("@@music\\Artist\\Album\\02 - Red Song.mp3", 9),)))
    assert len(await backend.transfers()) == 2
    with pytest.raises(PeerdeckNotSupportedError, match="files API"):
        await backend.remove(ALL, delete_data=True)
    await backend.remove(ALL)  # both still queued: cancelled, then removed once slskd says they ended
    assert await backend.transfers() == []
    with pytest.raises(PeerdeckNotSupportedError):
        await backend.enqueue(Magnet("magnet:?xt=urn:btih:" + "a" * 40))
    with pytest.raises(PeerdeckInputError):
        await backend.remove(["no-slash"])
    with pytest.raises(PeerdeckInputError):
        await backend.remove([])


async def test_status_when_disconnected_and_events_iterator(backend: SlskdBackend) -> None:
    await backend.client.server_disconnect("bye")
    status = await backend.status()
    assert status.connected is False
    assert status.extra["server_state"] == "Disconnected"
    await backend.client.server_connect()
    iterator = backend.events(interval=0.01)
    await backend.enqueue(RemoteFiles("alice", (SONG,)))
    first = await asyncio.wait_for(anext(iterator), 5)
    assert first.kind is TransferEventKind.ADDED  # status() above primed the tracker
    await iterator.aclose()  # type: ignore[attr-defined]  # an async generator under the Iterator type


async def test_slskd_before_022_has_no_event_log(start_slskd: Starter) -> None:
    running = await start_slskd(Config(version="0.21.4"))
    async with SlskdBackend(running.url, Credentials(api_key=running.api_key)) as backend:
        await backend.update()
        await backend.update()
    assert running.server.requests.count(("GET", "/api/v0/events")) == 1


def test_transfer_mapping_and_ids() -> None:
    transfer = to_transfer(
        {
            "id": "5e1b8d2c-0000-4000-8000-000000000001",
            "username": "a/b",
            "filename": "Music\\Album\\track.flac",
            "size": 1000,
            "state": "InProgress",
            "bytesTransferred": 250,
            "percentComplete": 25.0,
            "averageSpeed": 100.5,
            "remainingTime": "1.00:00:07.5000000",
            "requestedAt": "2026-01-02T03:04:05.1234567",
            "endedAt": "2026-01-02T03:05:05.1234567Z",
        }
    )
    assert transfer.id == "a/b/5e1b8d2c-0000-4000-8000-000000000001"
    assert split_id(transfer.id) == ("a/b", "5e1b8d2c-0000-4000-8000-000000000001")
    assert transfer.name == "track.flac"
    assert transfer.progress == 0.25
    assert transfer.download_rate == 100
    assert transfer.eta == 86407.5
    assert transfer.added_at == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert parse_timespan("bogus") is None
    assert parse_time("not a time") is None
    assert parse_time(None) is None
    with pytest.raises(PeerdeckInputError):
        split_id("/only-id")

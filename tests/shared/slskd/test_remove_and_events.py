"""Remove as slskd allows it (finished records only), and completions from its event log: webhook
test samples, events recorded late, and restarts that change the version or empty the log."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from peerdeck import ALL, Credentials, PeerdeckPartialError, RemoteFiles, TransferEventKind
from peerdeck.slskd import SlskdBackend, split_id

from .conftest import Running, Starter
from .server import Config

SONG = ("@@music\\Artist\\Album\\01 - Blue Song.mp3", 8_000_000)
RED = ("@@music\\Artist\\Album\\02 - Red Song.mp3", 9_000_000)


def backend_for(running: Running) -> SlskdBackend:
    return SlskdBackend(running.url, Credentials(api_key=running.api_key), search_poll_interval=0.05)


async def until(check: Callable[[], bool] | Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(300):
        result = check()
        if result if isinstance(result, bool) else await result:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(what)


@pytest.mark.parametrize("version", ["0.22.5", "0.24.1", "0.26.0"])
async def test_removing_a_running_download_removes_it(start_slskd: Starter, version: str) -> None:
    running = await start_slskd(Config(version=version, cancel_delay=0.2))
    running.server.peers["alice"].hold = True  # stays queued at the peer: not finished
    async with backend_for(running) as backend:
        [transfer_id] = await backend.enqueue(RemoteFiles("alice", (SONG,)))
        await backend.remove([transfer_id])
        assert await backend.transfers() == []
    record = running.server.downloads[split_id(transfer_id)[1]]
    assert record["removed"] is True
    assert record["state"] == "Completed, Cancelled"


async def test_remove_all_carries_on_past_a_failure_and_names_it(start_slskd: Starter) -> None:
    running = await start_slskd(Config(cancel_delay=30.0))  # slskd never finishes cancelling this one
    async with backend_for(running) as backend:
        [done_id] = await backend.enqueue(RemoteFiles("alice", (SONG,)))
        await until(lambda: "Succeeded" in running.server.downloads[split_id(done_id)[1]]["state"], "no finish")
        running.server.peers["alice"].hold = True
        [stuck_id] = await backend.enqueue(RemoteFiles("alice", (RED,)))
        backend.cancel_wait = 0.3
        with pytest.raises(PeerdeckPartialError) as err:
            await backend.remove(ALL)
        left = [t.id for t in await backend.transfers()]
    assert err.value.done == (done_id,)
    assert list(err.value.failed) == [stuck_id]
    assert "removed 1 of 2" in str(err.value) and "cancelling" in str(err.value)
    assert left == [stuck_id]


async def test_unknown_id_is_reported_not_silently_accepted(slskd: Running) -> None:
    unknown = "alice/5e1b8d2c-0000-4000-8000-000000000001"
    async with backend_for(slskd) as backend:
        with pytest.raises(PeerdeckPartialError) as err:
            await backend.remove([unknown])
    assert list(err.value.failed) == [unknown]


async def test_a_webhook_test_event_is_no_completion(slskd: Running) -> None:
    async with backend_for(slskd) as backend:
        await backend.update()
        await backend.client.event_raise("DownloadFileComplete")  # slskd's "test this webhook" button
        events = [e for _ in range(2) for e in (await backend.update()).events]
    assert events == []


async def test_a_completion_recorded_below_a_later_event_is_announced_once(start_slskd: Starter) -> None:
    # slskd stamps DownloadFileComplete with the transfer's endedAt but records it after moving the
    # file; an event recorded meanwhile sorts above it.
    running = await start_slskd(Config(move_delay=0.5))
    server = running.server
    server.peers["alice"].hold = True
    async with backend_for(running) as backend:
        [transfer_id] = await backend.enqueue(RemoteFiles("alice", (SONG,)))
        await backend.update()
        record = server.downloads[split_id(transfer_id)[1]]
        server.peers["alice"].hold = False
        await until(lambda: "Succeeded" in record["state"], "the download never finished")
        record["removed"] = True  # cleared (another client, or auto-clear) before the next poll
        await backend.client.event_raise("Noop")  # recorded during the move
        first = (await backend.update()).events
        await until(lambda: any(e["type"] == "DownloadFileComplete" for e in server.events), "no event")
        later = [e for _ in range(3) for e in (await backend.update()).events]
    completed = [e.transfer.id for e in (*first, *later) if e.kind is TransferEventKind.COMPLETED]
    assert completed == [transfer_id]


async def test_a_restart_as_another_version_chooses_routes_again(start_slskd: Starter) -> None:
    running = await start_slskd(Config(version="0.26.0"))
    running.server.peers["alice"].hold = True
    async with backend_for(running) as backend:
        await backend.enqueue(RemoteFiles("alice", (SONG,)))  # batches, remembered
        assert not (await backend.update()).restarted
        running.server.restart(version="0.25.1")  # rolled back: no batches route any more
        assert (await backend.update()).restarted  # the tick that sees the new version tells a caller
        assert not (await backend.update()).restarted
        ids = await backend.enqueue(RemoteFiles("alice", (RED,)))
    assert len(ids) == 1
    assert ("POST", "/api/v0/transfers/downloads/alice") in running.server.requests


async def test_a_restart_that_empties_the_event_log_loses_no_completion(start_slskd: Starter) -> None:
    running = await start_slskd(Config(volatile=True))
    server = running.server
    async with backend_for(running) as backend:
        for _ in range(3):
            await backend.client.event_raise("Noop")
        await backend.update()
        server.restart()  # --volatile: events, transfers and searches start empty
        assert (await backend.update()).restarted
        [transfer_id] = await backend.enqueue(RemoteFiles("alice", (SONG,)))
        record = server.downloads[split_id(transfer_id)[1]]
        await until(lambda: "Succeeded" in record["state"], "the download never finished")
        record["removed"] = True
        events = [e for _ in range(3) for e in (await backend.update()).events]
    completed = [e.transfer.id for e in events if e.kind is TransferEventKind.COMPLETED]
    assert completed == [transfer_id]


async def test_remove_all_with_nothing_listed_is_quiet(slskd: Running) -> None:
    async with backend_for(slskd) as backend:
        await backend.remove(ALL)
    assert ("DELETE", "/api/v0/transfers/downloads/all/completed") not in slskd.server.requests


@pytest.mark.parametrize("version", ["0.22.5", "0.26.0"])
@pytest.mark.parametrize("stage", ["InProgress", "Completed, Succeeded"])
async def test_removing_a_running_or_finished_download(start_slskd: Starter, version: str, stage: str) -> None:
    running = await start_slskd(Config(version=version, tick=0.3 if stage == "InProgress" else 0.02))
    async with backend_for(running) as backend:
        [transfer_id] = await backend.enqueue(RemoteFiles("alice", (SONG,)))
        record = running.server.downloads[split_id(transfer_id)[1]]
        await until(lambda: record["state"] == stage, f"never {stage}")
        await backend.remove([transfer_id])
        assert await backend.transfers() == []
    assert record["removed"] is True

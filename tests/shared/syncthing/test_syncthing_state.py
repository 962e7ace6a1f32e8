"""Syncthing's persisted state and event delivery: once across restarts, once across update() and events()."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aioresponses import aioresponses

from peerdeck import Backend, Credentials, TransferEventKind, TransferState
from peerdeck.syncthing import EventBatch, SyncthingBackend, SyncthingEvent

from .conftest import KEY, URL
from .test_syncthing_backend import ME, PEER, count, ev, mock_snapshot, quiet_events, started


async def restarted(
    mocked: aioresponses, state: dict[str, Any], *, local_sequence: int
) -> tuple[list[str], dict[str, Any]]:
    """A fresh backend restored from ``state`` takes its first snapshot: completed jobs and the new state."""
    backend = SyncthingBackend(URL, Credentials(api_key=KEY), request_timeout=2.0, event_timeout=1)
    assert isinstance(backend, Backend)
    backend.restore_state(state)
    mocked.clear()
    mock_snapshot(mocked, local_sequence=local_sequence)
    quiet_events(mocked)
    try:
        update = await backend.update()
    finally:
        await backend.close()
    return [e.transfer.id for e in update.events if e.kind is TransferEventKind.COMPLETED], backend.export_state()


async def test_a_sync_while_away_is_announced_once_after_a_restart(
    mocked: aioresponses, backend: SyncthingBackend
) -> None:
    assert backend.export_state() == {}
    await started(mocked, backend)
    state = backend.export_state()
    assert state["jobs"]["folder:demo"]["state"] == "completed"
    assert state["sequences"]["demo"] == 2
    done, unchanged = await restarted(mocked, state, local_sequence=2)
    assert done == []
    assert unchanged == state
    done, after = await restarted(mocked, state, local_sequence=7)
    assert sorted(done) == ["folder:default", "folder:demo"]
    done, _ = await restarted(mocked, after, local_sequence=7)
    assert done == []


async def test_a_job_active_when_we_left_is_announced_when_found_done(mocked: aioresponses) -> None:
    state = {
        "jobs": {"folder:demo": {"name": "Demo", "state": "active"}, "folder:default": {"state": "completed"}},
        "sequences": {"demo": 2, "default": 2},
    }
    done, after = await restarted(mocked, state, local_sequence=2)
    assert done == ["folder:demo"]
    assert after["jobs"]["folder:demo"]["state"] == "completed"


async def test_restore_skips_what_it_cannot_read(mocked: aioresponses, backend: SyncthingBackend) -> None:
    backend.restore_state({"jobs": "nonsense"})
    assert backend.export_state() == {}
    backend.restore_state(
        {"jobs": {"folder:demo": {"state": "melted"}, "folder:x": "text", "folder:y": {"name": "Y"}}, "sequences": []}
    )
    assert backend.export_state() == {"jobs": {}, "sequences": {}}


async def test_each_event_goes_to_one_path(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    events = aiter(backend.events())
    waiter = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)  # the iterator is open and listening
    pause = ev("FolderPaused", 1, id="demo")
    resume = ev("FolderResumed", 2, id="demo")
    await backend._handle(EventBatch((pause,)))
    await backend._handle(EventBatch((resume,)))
    first = await waiter
    assert (first.transfer.id, first.transfer.state) == ("folder:demo", TransferState.PAUSED)
    assert (await backend.update()).events == ()  # the iterator has them
    await events.aclose()  # closed with the resume event not yet taken: update() gets it
    [left] = (await backend.update()).events
    assert (left.kind, left.transfer.id, left.previous_state) == (
        TransferEventKind.STATE_CHANGED,
        "folder:demo",
        TransferState.PAUSED,
    )


async def test_folder_states_follow_the_events(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    assert backend.folder_states() == {"default": "idle", "demo": "idle"}
    await backend._handle(EventBatch((ev("StateChanged", 1, folder="demo", to="syncing", **{"from": "idle"}),)))
    await backend._handle(EventBatch((ev("FolderPaused", 2, id="default"),)))
    assert backend.folder_states() == {"default": "paused", "demo": "syncing"}


async def test_a_read_while_a_batch_is_applied_sees_one_moment(
    monkeypatch: pytest.MonkeyPatch, mocked: aioresponses, backend: SyncthingBackend
) -> None:
    """A folder gone idle whose status is still being read shows as syncing everywhere until it is read."""
    await started(mocked, backend)
    await backend._handle(EventBatch((ev("StateChanged", 1, folder="demo", to="syncing", **{"from": "idle"}),)))
    read = backend.client.db_status
    release = asyncio.Event()
    reading = asyncio.Event()

    async def slow_status(folder: str) -> dict[str, Any]:
        reading.set()
        await release.wait()
        return await read(folder)

    monkeypatch.setattr(backend.client, "db_status", slow_status)
    idle = ev("StateChanged", 2, folder="demo", to="idle", **{"from": "syncing"})
    handling = asyncio.create_task(backend._handle(EventBatch((idle,))))
    await reading.wait()
    update = await backend.update()
    assert backend.folder_states()["demo"] == "syncing"
    assert update.transfers["folder:demo"].state is TransferState.ACTIVE
    assert update.status.extra["folders"] == {"idle": 1, "syncing": 1}

    release.set()
    await handling
    update = await backend.update()
    assert backend.folder_states()["demo"] == "idle"
    assert update.transfers["folder:demo"].state is TransferState.COMPLETED
    assert [e.kind for e in update.events if e.transfer.id == "folder:demo"] == [TransferEventKind.COMPLETED]


async def test_peer_last_seen_costs_a_request_only_after_a_snapshot(
    mocked: aioresponses, backend: SyncthingBackend
) -> None:
    await started(mocked, backend)
    mocked.get(
        f"{URL}/rest/stats/device",
        payload={PEER: {"lastSeen": "2026-11-01T10:00:00.123456789Z"}, ME: {"lastSeen": "1970-01-01T01:00:00+01:00"}},
        repeat=True,
    )
    seen = datetime(2026, 11, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert await backend.peer_last_seen() == {PEER: seen}
    assert await backend.peer_last_seen() == {PEER: seen}
    assert count(mocked, "/rest/stats/device") == 1
    later = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    event = SyncthingEvent(id=3, type="DeviceDisconnected", data={"id": PEER}, time=later)
    await backend._handle(EventBatch((event,)))
    assert await backend.peer_last_seen() == {PEER: later}
    assert count(mocked, "/rest/stats/device") == 1
    await backend._handle(EventBatch((), resync=True, reason="reconnect"))
    assert await backend.peer_last_seen() == {PEER: seen}
    assert count(mocked, "/rest/stats/device") == 2


async def test_a_peer_never_seen_has_no_time(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    mocked.get(f"{URL}/rest/stats/device", payload={PEER: {"lastSeen": "1970-01-01T00:00:00Z"}})
    assert await backend.peer_last_seen() == {PEER: None}

"""SyncthingBackend on recorded answers: snapshot, event mapping, verbs, search, request economy."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from aioresponses import CallbackResult, aioresponses

from peerdeck import ALL, Backend, Credentials, Magnet, RemoteFiles, SearchHit, TransferEventKind, TransferState
from peerdeck.exceptions import PeerdeckInputError, PeerdeckNotSupportedError
from peerdeck.factory import create_backend
from peerdeck.syncthing import EventBatch, InvalidSyncthingIdError, SyncthingBackend, SyncthingEvent

from ..samples import sample_json
from .conftest import KEY, URL

ME = "OH4DIKR-FOHTW6R-LFFWKXU-ONYQS67-MOXNZAC-OFETNDT-DR5WQYQ-ZFZQBQS"
PEER = "3OGYH3P-V72GFVB-DH6PHLE-YZWNOY2-76ID3SP-UL2ECFR-FCTEFQ3-AAWFRAG"
REST = re.escape(f"{URL}/rest/")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def config() -> dict[str, Any]:
    return {
        "folders": sample_json("syncthing", "config_folders"),
        "devices": sample_json("syncthing", "config_devices"),
    }


def mock_snapshot(mocked: aioresponses, *, local_sequence: int = 2) -> dict[str, Any]:
    """What the first snapshot reads: status, version, config, connections, scan times, completions and
    errors; events stay quiet.

    Returns the folders' ``db/status`` answer: changed, it is what later reads get.
    """
    mocked.get(f"{URL}/rest/system/status", payload=sample_json("syncthing", "system_status"), repeat=True)
    mocked.get(f"{URL}/rest/system/version", payload=sample_json("syncthing", "system_version"), repeat=True)
    mocked.get(f"{URL}/rest/config", payload=config(), repeat=True)
    mocked.get(f"{URL}/rest/stats/folder", payload=sample_json("syncthing", "stats_folder"), repeat=True)
    mocked.get(
        re.compile(rf"^{REST}folder/errors\?.*$"), payload={"errors": [], "page": 1, "perpage": 65536}, repeat=True
    )
    mocked.get(f"{URL}/rest/system/connections", payload=sample_json("syncthing", "system_connections"), repeat=True)
    status = {**sample_json("syncthing", "db_status"), "sequence": local_sequence}
    mocked.get(re.compile(rf"^{REST}db/status\?.*$"), payload=status, repeat=True)
    remote = sample_json("syncthing", "db_completion_remote")  # only peers' completion is read
    mocked.get(re.compile(rf"^{REST}db/completion\?.*device=.*$"), payload=remote, repeat=True)
    return status


def quiet_events(mocked: aioresponses) -> None:
    async def wait(url: Any, **kwargs: Any) -> CallbackResult:
        if url.query.get("timeout") != "0":
            await asyncio.sleep(0.05)
        return CallbackResult(payload=[])

    mocked.get(re.compile(rf"^{REST}events\?.*$"), callback=wait, repeat=True)


def count(mocked: aioresponses, path: str) -> int:
    return sum(len(calls) for (_, url), calls in mocked.requests.items() if url.path == path)


def ev(kind: str, event_id: int = 1, **data: Any) -> SyncthingEvent:
    return SyncthingEvent(id=event_id, type=kind, data=data)


async def started(mocked: aioresponses, backend: SyncthingBackend) -> None:
    mock_snapshot(mocked)
    quiet_events(mocked)
    await backend.update()


def test_factory_builds_it_and_it_is_a_backend() -> None:
    built = create_backend("syncthing", URL, Credentials(api_key=KEY))
    assert isinstance(built, SyncthingBackend)
    assert isinstance(built, Backend)
    assert built.capabilities.events_pushed
    with pytest.raises(PeerdeckInputError, match="API key"):
        SyncthingBackend(URL, Credentials(username="u", password="p"))


async def test_first_update_takes_one_snapshot(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    update = await backend.update()
    assert set(update.transfers) == {"folder:default", "folder:demo", f"device:{PEER}"}
    demo = update.transfers["folder:demo"]
    assert (demo.state, demo.progress, demo.size, demo.name) == (TransferState.COMPLETED, 1.0, 300006, "Demo")
    peer = update.transfers[f"device:{PEER}"]
    assert peer.state is TransferState.COMPLETED
    assert peer.name == "B"
    assert update.events == ()
    assert update.status.connected
    assert update.status.count(TransferState.COMPLETED) == 3
    assert update.status.extra["peers"] == {"connected": 1, "disconnected": 0, "paused": 0}
    assert update.status.extra["folders"] == {"idle": 2}
    assert update.status.extra["device_id"] == ME
    # db/status once per folder, for the counts nothing cheaper gives; completion only for peers
    assert count(mocked, "/rest/db/status") == 2
    assert count(mocked, "/rest/db/completion") == 1
    assert count(mocked, "/rest/folder/errors") == 0  # the folders count no error


async def test_steady_state_updates_cost_no_request(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    before = sum(len(c) for (_, url), c in mocked.requests.items() if url.path != "/rest/events")
    for _ in range(5):
        await backend.update()
        await backend.transfers()
    after = sum(len(c) for (_, url), c in mocked.requests.items() if url.path != "/rest/events")
    assert after == before


async def test_a_sync_cycle_is_one_completion(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    await backend._handle(
        EventBatch(
            (
                ev("StateChanged", 1, folder="demo", to="sync-waiting", **{"from": "idle"}),
                ev("StateChanged", 2, folder="demo", to="syncing", **{"from": "sync-preparing"}),
            )
        )
    )
    assert (await backend.update()).transfers["folder:demo"].state is TransferState.ACTIVE
    await backend._handle(
        EventBatch(
            (
                ev("ItemFinished", 3, folder="demo", item="new.txt", type="file", action="update", error=None),
                ev("StateChanged", 4, folder="demo", to="idle", **{"from": "syncing"}),
            )
        )
    )
    update = await backend.update()
    kinds = [(e.kind, e.transfer.id) for e in update.events]
    assert (TransferEventKind.COMPLETED, "file:demo:new.txt") in kinds
    assert kinds.count((TransferEventKind.COMPLETED, "folder:demo")) == 1
    # going idle re-reads the folder's completion once, never db/status
    assert (count(mocked, "/rest/db/completion"), count(mocked, "/rest/db/status")) == (1, 3)
    await backend._handle(EventBatch((ev("StateChanged", 5, folder="demo", to="scanning", **{"from": "idle"}),)))
    assert not [e for e in (await backend.update()).events if e.kind is TransferEventKind.COMPLETED]


async def test_completion_seen_in_one_batch_still_counts(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    await backend._handle(
        EventBatch(
            (
                ev("StateChanged", 1, folder="demo", to="syncing", **{"from": "sync-preparing"}),
                ev("StateChanged", 2, folder="demo", to="idle", **{"from": "syncing"}),
            )
        )
    )
    events = (await backend.update()).events
    assert [e.kind for e in events if e.transfer.id == "folder:demo"] == [TransferEventKind.COMPLETED]


async def test_failed_item_and_folder_error(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    await backend._handle(
        EventBatch(
            (
                ev("ItemFinished", 1, folder="demo", item="x", type="file", action="update", error="disk full"),
                ev("StateChanged", 2, folder="demo", to="error", **{"from": "idle"}),
                ev("FolderErrors", 3, folder="demo", errors=[{"error": "disk full", "path": "x"}]),
            )
        )
    )
    update = await backend.update()
    assert {(e.kind, e.transfer.id) for e in update.events} == {
        (TransferEventKind.FAILED, "file:demo:x"),
        (TransferEventKind.FAILED, "folder:demo"),
    }
    assert (update.transfers["folder:demo"].raw["errors"], update.transfers["folder:demo"].raw["last_error"]) == (
        1,
        "x: disk full",
    )


async def test_folder_summary_and_peer_completion(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    summary = {**sample_json("syncthing", "db_status"), "needBytes": 150003, "needTotalItems": 1, "state": "idle"}
    await backend._handle(
        EventBatch(
            (
                ev("FolderSummary", 1, folder="demo", summary=summary),
                ev("FolderCompletion", 2, folder="demo", device=PEER, globalBytes=100, needBytes=40, needItems=1),
            )
        )
    )
    update = await backend.update()
    demo = update.transfers["folder:demo"]
    assert (demo.state, demo.progress) == (TransferState.QUEUED, 0.5)
    peer = update.transfers[f"device:{PEER}"]
    assert (peer.state, peer.progress) == (TransferState.ACTIVE, 0.6)
    await backend._handle(
        EventBatch((ev("FolderCompletion", 3, folder="demo", device=PEER, globalBytes=100, needBytes=0, sequence=9),))
    )
    events = (await backend.update()).events
    assert [(e.kind, e.previous_state) for e in events if e.transfer.id == f"device:{PEER}"] == [
        (TransferEventKind.COMPLETED, TransferState.ACTIVE)
    ]


async def test_index_updates_show_at_once_with_one_status_read(mocked: aioresponses, backend: SyncthingBackend) -> None:
    recorded = {e.id: e for e in map(SyncthingEvent.from_json, sample_json("syncthing", "events_recent"))}
    status = mock_snapshot(mocked, local_sequence=1)
    quiet_events(mocked)
    await backend.update()
    reads = count(mocked, "/rest/db/status")
    # a scan finds a new file: its LocalIndexUpdated comes while scanning, then the folder goes idle
    status.update(globalTotalItems=3, globalFiles=3, globalBytes=300012, sequence=2)
    await backend._handle(EventBatch((recorded[16], recorded[17])))
    demo = (await backend.update()).transfers["folder:demo"]
    assert (demo.raw["sequence"], demo.raw["global_items"]) == (2, 2)
    assert count(mocked, "/rest/db/status") == reads
    await backend._handle(EventBatch((recorded[18],)))
    update = await backend.update()
    demo = update.transfers["folder:demo"]
    assert (demo.raw["global_items"], demo.size, demo.state) == (3, 300012, TransferState.COMPLETED)
    assert demo.raw["global_files"] == 3  # the file count too, without waiting for Syncthing's next FolderSummary
    assert [e for e in update.events if e.transfer.id == "folder:demo"] == []
    assert count(mocked, "/rest/db/status") == reads + 1
    # a peer's change shows as soon as it is announced, before Syncthing starts pulling
    status.update(needTotalItems=1, needBytes=6)
    await backend._handle(EventBatch((recorded[19],)))
    update = await backend.update()
    assert update.transfers["folder:demo"].state is TransferState.QUEUED
    assert [(e.kind, e.transfer.id) for e in update.events] == [(TransferEventKind.STATE_CHANGED, "folder:demo")]
    assert count(mocked, "/rest/db/status") == reads + 2
    # while it syncs, index updates wait for the one read when it goes idle
    syncing = ev("StateChanged", 20, folder="demo", to="syncing", **{"from": "sync-preparing"})
    await backend._handle(EventBatch((syncing, ev("LocalIndexUpdated", 21, folder="demo", items=1, sequence=3))))
    assert count(mocked, "/rest/db/status") == reads + 2
    status.update(needTotalItems=0, needBytes=0, sequence=3)
    idle = ev("StateChanged", 23, folder="demo", to="idle", **{"from": "syncing"})
    await backend._handle(EventBatch((ev("RemoteIndexUpdated", 22, folder="demo", device=PEER), idle)))
    assert count(mocked, "/rest/db/status") == reads + 3
    completed = [e for e in (await backend.update()).events if e.kind is TransferEventKind.COMPLETED]
    assert [e.transfer.id for e in completed] == ["folder:demo"]


async def test_change_listeners(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    calls: list[dict[str, str]] = []
    stop = backend.listen_changes(lambda: calls.append(backend.folder_states()))
    await backend._handle(EventBatch((ev("StateChanged", 1, folder="demo", to="scanning", **{"from": "idle"}),)))
    await backend._handle(EventBatch((ev("FolderErrors", 2, folder="demo", errors=[]),)))
    assert calls == [{"default": "idle", "demo": "scanning"}]
    stop()
    await backend._handle(EventBatch((ev("StateChanged", 3, folder="demo", to="idle", **{"from": "scanning"}),)))
    assert len(calls) == 1
    assert backend.folder_states()["demo"] == "idle"


async def test_pause_connection_and_config_events(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    recorded = [SyncthingEvent.from_json(e) for e in sample_json("syncthing", "events_filtered_after_subscribe")]
    paused = [e for e in recorded if e.type in ("FolderPaused", "DevicePaused", "DeviceDisconnected")]
    await backend._handle(EventBatch(tuple(paused)))
    update = await backend.update()
    assert update.transfers["folder:demo"].state is TransferState.PAUSED
    assert update.transfers[f"device:{PEER}"].state is TransferState.PAUSED
    assert update.status.extra["peers"]["paused"] == 1
    changed = {e.transfer.id: (e.kind, e.previous_state) for e in update.events}
    assert changed["folder:demo"] == (TransferEventKind.STATE_CHANGED, TransferState.COMPLETED)
    await backend._handle(EventBatch((ev("DeviceResumed", 9, device=PEER), ev("FolderResumed", 10, id="demo"))))
    assert (await backend.update()).transfers[f"device:{PEER}"].state is TransferState.QUEUED
    await backend._handle(EventBatch((ev("DeviceConnected", 11, id=PEER, addr="127.0.0.1:1"),)))
    assert (await backend.update()).transfers[f"device:{PEER}"].state is TransferState.COMPLETED
    smaller = config()
    smaller["folders"] = [f for f in smaller["folders"] if f["id"] != "default"]
    await backend._handle(EventBatch((ev("ConfigSaved", 12, **smaller),)))
    removed = [e for e in (await backend.update()).events if e.kind is TransferEventKind.REMOVED]
    assert [e.transfer.id for e in removed] == ["folder:default"]


async def test_resync_announces_a_sync_missed_while_away(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    mocked.clear()
    mock_snapshot(mocked, local_sequence=7)
    quiet_events(mocked)
    await backend._handle(EventBatch((), resync=True, reason="restart"))
    completed = [e.transfer.id for e in (await backend.update()).events if e.kind is TransferEventKind.COMPLETED]
    assert sorted(completed) == ["folder:default", "folder:demo"]
    await backend._handle(EventBatch((), resync=True, reason="reconnect"))
    assert (await backend.update()).events == ()


async def test_events_are_pushed_from_the_stream(mocked: aioresponses, backend: SyncthingBackend) -> None:
    mock_snapshot(mocked)
    sent = False

    async def answer(url: Any, **kwargs: Any) -> CallbackResult:
        nonlocal sent
        if url.query.get("timeout") == "0":
            return CallbackResult(payload=[])
        await asyncio.sleep(0.02)
        if sent:
            return CallbackResult(payload=[])
        sent = True
        return CallbackResult(payload=[{"id": 1, "type": "FolderPaused", "data": {"id": "demo"}}])

    mocked.get(re.compile(rf"^{REST}events\?.*$"), callback=answer, repeat=True)
    async with asyncio.timeout(5):
        event = await anext(aiter(backend.events()))
    assert (event.kind, event.transfer.id, event.transfer.state) == (
        TransferEventKind.STATE_CHANGED,
        "folder:demo",
        TransferState.PAUSED,
    )
    polls = [url for (_, url) in mocked.requests if url.path == "/rest/events" and url.query.get("timeout") == "1"]
    assert polls
    assert all("FolderCompletion" in url.query["events"] for url in polls)


async def test_pause_and_resume_verbs(mocked: aioresponses, backend: SyncthingBackend) -> None:
    mocked.patch(re.compile(rf"^{REST}config/folders/.*$"), status=200, repeat=True)
    mocked.post(re.compile(rf"^{REST}system/(pause|resume).*$"), status=200, repeat=True)
    await backend.pause(["folder:demo", f"device:{PEER.lower()}"])
    await backend.resume(["folder:demo"])
    patches = [c.kwargs["json"] for (m, u), calls in mocked.requests.items() if m == "PATCH" for c in calls]
    assert patches == [{"paused": True}, {"paused": False}]
    [pause] = [u for (m, u) in mocked.requests if u.path == "/rest/system/pause"]
    assert pause.query["device"] == PEER
    with pytest.raises(InvalidSyncthingIdError):
        await backend.pause(["demo"])
    with pytest.raises(InvalidSyncthingIdError):
        await backend.resume(["device:nope"])
    with pytest.raises(InvalidSyncthingIdError):
        await backend.pause("folder:demo")  # type: ignore[arg-type]
    with pytest.raises(PeerdeckInputError):
        await backend.pause([])


async def test_all_pauses_every_device_and_folder(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    mocked.patch(re.compile(rf"^{REST}config/folders/.*$"), status=200, repeat=True)
    mocked.post(re.compile(rf"^{REST}system/pause.*$"), status=200, repeat=True)
    await backend.pause(ALL)
    [pause] = [u for (m, u) in mocked.requests if u.path == "/rest/system/pause"]
    assert "device" not in pause.query
    assert {u.path for (m, u) in mocked.requests if m == "PATCH"} == {
        "/rest/config/folders/default",
        "/rest/config/folders/demo",
    }


async def test_remove(mocked: aioresponses, backend: SyncthingBackend) -> None:
    mocked.delete(f"{URL}/rest/config/folders/demo", status=200)
    mocked.delete(f"{URL}/rest/config/devices/{PEER}", status=200)
    await backend.remove(["folder:demo", f"device:{PEER}"])
    assert count(mocked, "/rest/config/folders/demo") == 1
    with pytest.raises(PeerdeckNotSupportedError):
        await backend.remove(["folder:demo"], delete_data=True)
    with pytest.raises(PeerdeckInputError):
        await backend.remove(ALL)


async def test_search_walks_the_global_index(mocked: aioresponses, backend: SyncthingBackend) -> None:
    mocked.get(f"{URL}/rest/config/folders", payload=sample_json("syncthing", "config_folders"), repeat=True)
    nested = [{"name": "sub", "type": "FILE_INFO_TYPE_DIRECTORY", "children": sample_json("syncthing", "db_browse")}]
    browse = re.compile(rf"^{REST}db/browse\?.*$")
    mocked.get(browse, payload=sample_json("syncthing", "db_browse"))
    mocked.get(browse, payload=nested)
    hits = [h async for h in backend.search("HELLO")]
    assert [(h.id, h.size, h.source) for h in hits] == [
        ("file:default:hello.txt", 6, "Default Folder"),
        ("file:demo:sub/hello.txt", 6, "Demo"),
    ]
    mocked.get(browse, payload=sample_json("syncthing", "db_browse"), repeat=True)
    assert len([h async for h in backend.search(".", limit=1)]) == 1
    with pytest.raises(PeerdeckInputError):
        _ = [h async for h in backend.search("  ")]


async def test_enqueue_prioritises_needed_files(mocked: aioresponses, backend: SyncthingBackend) -> None:
    need = {"page": 1, "perpage": 100, "progress": [], "queued": [{"name": "big.bin"}], "rest": []}
    mocked.post(re.compile(rf"^{REST}db/prio\?.*$"), payload=need, repeat=True)
    hit = SearchHit(id="file:demo:big.bin", title="big.bin")
    assert await backend.enqueue(hit) == ["file:demo:big.bin"]
    assert await backend.enqueue(RemoteFiles(source="demo", files=(("in-sync.txt", 1),))) == []
    [prio, *_] = [u for (m, u) in mocked.requests if u.path == "/rest/db/prio"]
    assert dict(prio.query) == {"folder": "demo", "file": "big.bin"}
    with pytest.raises(InvalidSyncthingIdError):
        await backend.enqueue(SearchHit(id="demo/big.bin", title="x"))
    with pytest.raises(PeerdeckNotSupportedError):
        await backend.enqueue(Magnet("magnet:?xt=urn:btih:" + "a" * 40))


async def test_info_and_status_rates(mocked: aioresponses, backend: SyncthingBackend) -> None:
    mocked.get(f"{URL}/rest/system/version", payload=sample_json("syncthing", "system_version"))
    mocked.get(f"{URL}/rest/config/devices", payload=sample_json("syncthing", "config_devices"))
    await started(mocked, backend)
    info = await backend.info()
    assert (info.version, info.identity, info.name) == ("1.19.2-ds1", ME, "vm")
    status = await backend.status()
    assert status.download_rate == 0
    assert count(mocked, "/rest/system/connections") == 2


async def test_single_files_are_announced_only_when_asked(mocked: aioresponses, backend: SyncthingBackend) -> None:
    backend.file_events = False
    await started(mocked, backend)
    await backend._handle(
        EventBatch(
            (
                ev("StateChanged", 1, folder="demo", to="syncing", **{"from": "sync-preparing"}),
                ev("ItemFinished", 2, folder="demo", item="new.txt", type="file", action="update", error=None),
                ev("StateChanged", 3, folder="demo", to="idle", **{"from": "syncing"}),
            )
        )
    )
    ids = [e.transfer.id for e in (await backend.update()).events if e.kind is TransferEventKind.COMPLETED]
    assert ids == ["folder:demo"]


async def test_folder_details_come_from_the_snapshot_and_events(
    mocked: aioresponses, backend: SyncthingBackend
) -> None:
    await started(mocked, backend)
    demo = (await backend.update()).transfers["folder:demo"]
    assert demo.raw["last_scan"] == datetime(2026, 11, 22, 23, 49, 8, tzinfo=UTC)  # stats/folder
    assert (demo.raw["errors"], demo.raw["last_error"]) == (0, None)
    calls: list[int] = []
    backend.listen_changes(lambda: calls.append(1))
    summary = {**sample_json("syncthing", "db_status"), "localFiles": 1, "localBytes": 6, "globalFiles": 3}
    scanned = SyncthingEvent(5, "StateChanged", {"folder": "demo", "from": "scanning", "to": "idle"}, NOW)
    await backend._handle(EventBatch((scanned, ev("FolderSummary", 6, folder="demo", summary=summary))))
    demo = (await backend.update()).transfers["folder:demo"]
    assert (demo.raw["local_files"], demo.raw["local_bytes"], demo.raw["global_files"]) == (1, 6, 3)
    assert demo.raw["last_scan"] == NOW
    assert calls == [1]
    # the same summary again changes nothing a sensor shows: no listener call
    await backend._handle(EventBatch((ev("FolderSummary", 7, folder="demo", summary=summary),)))
    assert calls == [1]


async def test_scan_errors_are_read_once_and_cleared_by_the_summary(
    mocked: aioresponses, backend: SyncthingBackend
) -> None:
    errors: list[dict[str, str]] = []
    mocked.get(
        re.compile(rf"^{REST}folder/errors\?.*$"),
        callback=lambda url, **kwargs: CallbackResult(payload={"errors": errors}),
        repeat=True,
    )
    await started(mocked, backend)
    errors[:] = [{"path": "a.txt", "error": "permission denied"}, {"path": "b", "error": "x"}]
    failing = {**sample_json("syncthing", "db_status"), "errors": 2}
    await backend._handle(EventBatch((ev("FolderSummary", 1, folder="demo", summary=failing),)))
    demo = (await backend.update()).transfers["folder:demo"]
    assert (demo.raw["errors"], demo.raw["last_error"]) == (2, "a.txt: permission denied")
    reads = count(mocked, "/rest/folder/errors")
    await backend._handle(EventBatch((ev("FolderSummary", 2, folder="demo", summary=failing),)))
    assert count(mocked, "/rest/folder/errors") == reads
    pulled = [{"path": "c", "error": "disk full"}]
    await backend._handle(EventBatch((ev("FolderErrors", 3, folder="demo", errors=pulled),)))
    assert (await backend.update()).transfers["folder:demo"].raw["last_error"] == "c: disk full"
    await backend._handle(EventBatch((ev("FolderSummary", 4, folder="demo", summary={**failing, "errors": 0}),)))
    demo = (await backend.update()).transfers["folder:demo"]
    assert (demo.raw["errors"], demo.raw["last_error"]) == (0, None)
    assert count(mocked, "/rest/folder/errors") == reads


async def test_a_folder_error_state_carries_its_text(mocked: aioresponses, backend: SyncthingBackend) -> None:
    await started(mocked, backend)
    failed = ev("StateChanged", 1, folder="demo", to="error", error="folder marker missing", **{"from": "idle"})
    await backend._handle(EventBatch((failed,)))
    assert (await backend.update()).transfers["folder:demo"].raw["last_error"] == "folder marker missing"
    await backend._handle(EventBatch((ev("StateChanged", 2, folder="demo", to="idle", **{"from": "error"}),)))
    assert (await backend.update()).transfers["folder:demo"].raw["last_error"] is None


@pytest.mark.parametrize(
    ("version", "address"),
    [("v1.19.2-ds1", "10.0.0.2:22000"), ("v1.29.5", "127.0.0.1:18485")],
)
async def test_a_peers_extra_connections_keep_its_primary_from_1_25(
    mocked: aioresponses, backend: SyncthingBackend, version: str, address: str
) -> None:
    """Before 1.25 a new connection replaces the old one; from 1.25 it is a secondary one."""
    mocked.get(f"{URL}/rest/system/version", payload={"version": version}, repeat=True)
    await started(mocked, backend)
    peer = f"device:{PEER}"
    assert (await backend.update()).transfers[peer].raw["connection_type"] == "tcp-server"
    extra = ev("DeviceConnected", 1, id=PEER, addr="10.0.0.2:22000", type="relay-client", clientVersion=version)
    await backend._handle(EventBatch((extra,)))
    raw = (await backend.update()).transfers[peer].raw
    assert raw["address"] == address
    assert raw["connection_type"] == ("relay-client" if address == "10.0.0.2:22000" else "tcp-server")
    await backend._handle(EventBatch((ev("DeviceDisconnected", 2, id=PEER, error="closed"),)))
    assert (await backend.update()).transfers[peer].raw["connection_type"] == ""


async def test_discovery_and_relays_and_when_they_are_read_again(
    mocked: aioresponses, backend: SyncthingBackend
) -> None:
    status = {
        **sample_json("syncthing", "system_status"),
        "discoveryStatus": {"global@https://disco": {"error": None}, "IPv4 local": {"error": "no route"}},
        "connectionServiceStatus": {
            "dynamic+https://relays.syncthing.net/endpoint": {"error": None, "wanAddresses": ["relay://1.2.3.4:22067"]}
        },
    }
    mocked.get(f"{URL}/rest/system/status", payload=status, repeat=True)
    await started(mocked, backend)
    extra = (await backend.update()).status.extra
    assert (extra["discovery"], extra["relays"]) == ("partial", "connected")
    assert extra["start_time"] == datetime(2026, 11, 22, 23, 48, 56, tzinfo=UTC)
    assert extra["version"] == "1.19.2-ds1"
    reads = count(mocked, "/rest/system/status")
    await backend.update()
    assert count(mocked, "/rest/system/status") == reads  # fresh enough: no read
    await backend._handle(EventBatch((ev("ListenAddressesChanged", 1),)))
    assert count(mocked, "/rest/system/status") == reads + 1  # a relay came or went
    backend._system_read_at -= 301  # five minutes on: nothing else reports discovery failures
    await backend.update()
    assert count(mocked, "/rest/system/status") == reads + 2


async def test_a_new_start_time_reads_everything_again(mocked: aioresponses, backend: SyncthingBackend) -> None:
    """A restart the event stream did not see fail shows in the periodic ``system/status`` read."""
    start = "2026-11-22T23:48:56Z"

    def status(url: Any, **kwargs: Any) -> CallbackResult:
        return CallbackResult(payload={**sample_json("syncthing", "system_status"), "startTime": start})

    mocked.get(f"{URL}/rest/system/status", callback=status, repeat=True)
    await started(mocked, backend)
    resyncs, configs = backend.resyncs, count(mocked, "/rest/config")
    backend._system_read_at -= 301
    await backend.update()
    assert (backend.resyncs, count(mocked, "/rest/config")) == (resyncs, configs)  # same process: nothing more
    start = "2026-11-26T12:00:00Z"
    backend._system_read_at -= 301
    assert (await backend.update()).restarted  # callers re-read what they keep of the old process
    assert backend.resyncs == resyncs + 1
    assert count(mocked, "/rest/config") == configs + 1
    update = await backend.update()
    assert update.status.extra["start_time"] == datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert not update.restarted
    assert backend.resyncs == resyncs + 1  # once


async def test_peer_rates_are_measured_only_while_something_syncs(
    mocked: aioresponses, backend: SyncthingBackend
) -> None:
    sent = 0

    def connections(url: Any, **kwargs: Any) -> CallbackResult:
        answer = sample_json("syncthing", "system_connections")
        answer["connections"][PEER]["outBytesTotal"] += sent
        return CallbackResult(payload=answer)

    mocked.get(f"{URL}/rest/system/connections", callback=connections, repeat=True)
    await started(mocked, backend)
    await backend._handle(
        EventBatch((ev("FolderCompletion", 1, folder="demo", device=PEER, globalBytes=100, needBytes=40, needItems=1),))
    )
    reads = count(mocked, "/rest/system/connections")
    assert (await backend.update()).transfers[f"device:{PEER}"].upload_rate == 0  # a first reading
    sent = 50_000
    assert backend._totals is not None
    backend._totals = (backend._totals[0] - 10, *backend._totals[1:])  # ten seconds later
    peer = (await backend.update()).transfers[f"device:{PEER}"]
    assert 4_000 < peer.upload_rate <= 5_000
    assert peer.download_rate == 0
    assert count(mocked, "/rest/system/connections") == reads + 2
    await backend._handle(
        EventBatch((ev("FolderCompletion", 2, folder="demo", device=PEER, globalBytes=100, needBytes=0, needItems=0),))
    )
    assert (await backend.update()).transfers[f"device:{PEER}"].upload_rate == 0
    assert count(mocked, "/rest/system/connections") == reads + 2

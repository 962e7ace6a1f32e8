"""qBittorrent's persisted event state: a completion while the caller was away is announced once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aioresponses import CallbackResult, aioresponses

from peerdeck import Backend, Credentials, TransferEventKind
from peerdeck.qbittorrent import QBittorrentBackend
from peerdeck.qbittorrent import backend as backend_module

URL = "http://192.0.2.10:8080"
API = f"{URL}/api/v2"
HASH = "c" * 40


async def completions(state: dict[str, Any] | None, torrent: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """One refresh of a fresh backend (restored from ``state``): completed hashes and the new state."""
    backend = QBittorrentBackend(URL, Credentials("admin", "pw"))
    assert isinstance(backend, Backend)
    if state is not None:
        backend.restore_state(state)
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", body="Ok.", headers={"Set-Cookie": "SID=1"})
        mocked.get(re.compile(rf"^{re.escape(API)}/log/main\?.*$"), payload=[{"id": 4}])
        mocked.get(
            re.compile(rf"^{re.escape(API)}/sync/maindata\?.*$"),
            payload={"rid": 1, "full_update": True, "torrents": {HASH: torrent}, "server_state": {}},
        )
        update = await backend.update()
    await backend.close()
    done = [e.transfer.id for e in update.events if e.kind is TransferEventKind.COMPLETED]
    return done, backend.export_state()


async def test_completion_while_away_is_announced_once() -> None:
    downloading = {"name": "debian.iso", "state": "downloading", "progress": 0.5}
    seeding = {"name": "debian.iso", "state": "uploading", "progress": 1.0}
    done, state = await completions(None, downloading)
    assert done == []
    assert state[HASH]["state"] == "active"
    done, state = await completions(state, seeding)
    assert done == [HASH]
    done, _ = await completions(state, seeding)
    assert done == []


async def test_a_magnet_renamed_by_its_metadata_is_found_without_a_reconciliation() -> None:
    """The log names a torrent by the name its metadata gave it; the backend knew it by its hash."""
    fetching = {"name": HASH, "state": "metaDL", "progress": 0.0}
    seeding = {"hash": HASH, "name": "debian.iso", "state": "uploading", "progress": 1.0}
    backend = QBittorrentBackend(URL, Credentials("admin", "pw"))
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", body="Ok.", headers={"Set-Cookie": "SID=1"})
        mocked.get(re.compile(rf"^{re.escape(API)}/log/main\?.*$"), payload=[{"id": 4}])
        maindata = re.compile(rf"^{re.escape(API)}/sync/maindata\?.*$")
        mocked.get(maindata, payload={"rid": 1, "full_update": True, "torrents": {HASH: fetching}, "server_state": {}})
        await backend.update()
        finished = {"id": 5, "message": 'Torrent download finished. Torrent: "debian.iso"'}
        mocked.get(f"{API}/transfer/info", payload={"dl_info_speed": 0})
        mocked.get(f"{API}/app/webapiVersion", body="2.8.19")
        mocked.get(re.compile(rf"^{re.escape(API)}/log/main\?.*$"), payload=[{"id": 4}, finished])
        mocked.get(f"{API}/torrents/info?filter=active", payload=[])
        mocked.get(re.compile(rf"^{re.escape(API)}/torrents/info\?hashes={HASH}$"), payload=[seeding])
        update = await backend.update()
        maindata_calls = sum(len(calls) for (method, url), calls in mocked.requests.items() if "maindata" in str(url))
    await backend.close()
    assert [e.kind for e in update.events] == [TransferEventKind.COMPLETED]
    assert update.transfers[HASH].name == "debian.iso"
    assert maindata_calls == 1, "the name was resolved by looking up the torrents fetching metadata"


def started_log(last_id: int, started_at: int) -> list[dict[str, Any]]:
    """The end of qBittorrent's log: its lines are numbered from 0 at each start."""
    return [{"id": i, "timestamp": started_at, "message": f"line {i}", "type": 1} for i in range(last_id + 1)]


async def test_a_restarted_daemon_is_read_whole_although_its_session_survived() -> None:
    """A restarted qBittorrent numbers its log from 0 again: the line read last is gone, so the next
    tick reads everything (with no new login to tell, as with an API key or a bypassed login)."""
    downloading = {"name": "debian.iso", "state": "downloading", "progress": 0.5}
    seeding = {"name": "debian.iso", "state": "uploading", "progress": 1.0}
    backend = QBittorrentBackend(URL, Credentials(api_key="key"))
    log = re.compile(rf"^{re.escape(API)}/log/main\?.*$")
    maindata = re.compile(rf"^{re.escape(API)}/sync/maindata\?.*$")
    with aioresponses() as mocked:
        mocked.get(log, payload=started_log(40, 1000))
        mocked.get(maindata, payload={"rid": 7, "full_update": True, "torrents": {HASH: downloading}})
        await backend.update()
        mocked.get(f"{API}/transfer/info", payload={"dl_info_data": 0, "up_info_data": 0})
        mocked.get(f"{API}/app/webapiVersion", body="2.8.19")
        mocked.get(f"{API}/torrents/info?filter=active", payload=[])
        mocked.get(log, payload=started_log(20, 2000)[-3:])
        mocked.get(log, payload=started_log(20, 2000))
        mocked.get(maindata, payload={"rid": 1, "full_update": True, "torrents": {HASH: seeding}})
        update = await backend.update()
        asked = [str(url) for (method, url) in mocked.requests if "log/main" in str(url) or "maindata" in str(url)]
    await backend.close()
    assert [e.kind for e in update.events] == [TransferEventKind.COMPLETED]
    assert any("last_known_id=39" in url for url in asked), "the line read last is asked for again"
    assert any("rid=0" in url for url in asked), "sync ids of the old run are void"
    assert backend.restarts == 1
    assert backend.full_reads == 2


async def test_session_totals_that_went_down_mean_a_restart() -> None:
    downloading = {"name": "debian.iso", "state": "downloading", "progress": 0.5}
    seeding = {"name": "debian.iso", "state": "uploading", "progress": 1.0}
    backend = QBittorrentBackend(URL, Credentials(api_key="key"))
    log = re.compile(rf"^{re.escape(API)}/log/main\?.*$")
    maindata = re.compile(rf"^{re.escape(API)}/sync/maindata\?.*$")
    with aioresponses() as mocked:
        mocked.get(log, payload=started_log(3, 1000))
        state = {"dl_info_data": 5_000_000, "up_info_data": 10}
        mocked.get(
            maindata, payload={"rid": 7, "full_update": True, "torrents": {HASH: downloading}, "server_state": state}
        )
        await backend.update()
        mocked.get(f"{API}/transfer/info", payload={"dl_info_data": 1_000, "up_info_data": 10})
        mocked.get(f"{API}/app/webapiVersion", body="2.8.19")
        mocked.get(f"{API}/torrents/info?filter=active", payload=[])
        mocked.get(log, payload=started_log(3, 1000), repeat=2)  # the tick's read, then the full read's
        mocked.get(maindata, payload={"rid": 1, "full_update": True, "torrents": {HASH: seeding}})
        update = await backend.update()
    await backend.close()
    assert [e.kind for e in update.events] == [TransferEventKind.COMPLETED]
    assert backend.restarts == 1


async def test_changes_only_a_full_read_can_place_are_read_in_their_tick_then_at_core_pace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """4.x on a cross-seed box: each tick's new torrent already seeds, and no cheap list holds it. The first
    ones are read in their tick; while they keep coming, one full read per 30 s (HA core's own pace)."""
    clock = [1000.0]
    monkeypatch.setattr(backend_module.time, "monotonic", lambda: clock[0])
    backend = QBittorrentBackend(URL, Credentials(api_key="key"))
    log: list[dict[str, Any]] = started_log(3, 1000)
    torrents: dict[str, Any] = {}

    def log_lines(url: Any, **_: Any) -> CallbackResult:
        since = int(url.query.get("last_known_id", -1))
        return CallbackResult(payload=[line for line in log if line["id"] > since])

    def maindata(url: Any, **_: Any) -> CallbackResult:
        return CallbackResult(payload={"rid": 1, "full_update": True, "torrents": dict(torrents)})

    full_reads = []
    with aioresponses() as mocked:
        mocked.get(re.compile(rf"^{re.escape(API)}/log/main\?.*$"), callback=log_lines, repeat=True)
        mocked.get(re.compile(rf"^{re.escape(API)}/sync/maindata\?.*$"), callback=maindata, repeat=True)
        mocked.get(f"{API}/transfer/info", payload={}, repeat=True)
        mocked.get(f"{API}/app/webapiVersion", body="2.8.19", repeat=True)
        mocked.get(re.compile(rf"^{re.escape(API)}/torrents/info\?filter=.*$"), payload=[], repeat=True)
        mocked.get(f"{API}/torrents/categories", payload={}, repeat=True)  # no category created since
        await backend.update()
        for tick in range(1, 7):
            clock[0] += 10
            name = f"cross-{tick}.bin"
            torrents[f"{tick:040x}"] = {"name": name, "state": "stalledUP", "progress": 1.0}
            log.append({"id": log[-1]["id"] + 1, "timestamp": 1000, "message": f'Added new torrent. Torrent: "{name}"'})
            before = backend.full_reads
            await backend.update()
            full_reads.append(backend.full_reads - before)
    await backend.close()
    assert full_reads == [1, 1, 0, 1, 0, 0], "two in a row, then one per 30 s"


async def test_a_torrent_the_log_did_not_name_shows_in_5x_count() -> None:
    """qBittorrent 5's nearly free ``torrents/count`` disagreeing with what we know is a change to read."""
    seeding = {"name": "debian.iso", "state": "stalledUP", "progress": 1.0}
    other = {"name": "other.iso", "state": "stalledUP", "progress": 1.0}
    backend = QBittorrentBackend(URL, Credentials(api_key="key"))
    log = re.compile(rf"^{re.escape(API)}/log/main\?.*$")
    maindata = re.compile(rf"^{re.escape(API)}/sync/maindata\?.*$")
    with aioresponses() as mocked:
        mocked.get(f"{API}/app/webapiVersion", body="2.11.4", repeat=True)
        mocked.get(log, payload=started_log(3, 1000))
        mocked.get(maindata, payload={"rid": 1, "full_update": True, "torrents": {HASH: seeding}})
        await backend.update()
        mocked.get(f"{API}/transfer/info", payload={})
        mocked.get(log, payload=started_log(3, 1000)[-1:])  # from the line read last: nothing new
        mocked.get(f"{API}/torrents/info?filter=active", payload=[])
        mocked.get(f"{API}/torrents/count", body="2")
        mocked.get(maindata, payload={"rid": 2, "full_update": True, "torrents": {HASH: seeding, "d" * 40: other}})
        update = await backend.update()
    await backend.close()
    assert [e.kind for e in update.events if e.transfer.id == "d" * 40] == [
        TransferEventKind.ADDED,
        TransferEventKind.COMPLETED,
    ]
    assert backend.full_reads == 2
    assert backend.restarts == 0, "the count, not a restart, called for the full read"

"""The card's commands: act and read back, a row's details, add, and search streamed (card_commands.py)."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.peerdeck.websocket import transfer_status
from peerdeck import BackendKind, Magnet, PeerdeckNotSupportedError, SearchHit, TorrentFile, Transfer, TransferState

from .fake_backend import FakeBackend

HASH_A = "a" * 40
HASH_B = "b" * 40
# A real torrent file's bencoded shape is checked by the library; this one is minimal and well formed.
TORRENT = b"d8:announce14:http://x/ann4:infod6:lengthi1e4:name1:a12:piece lengthi16384e6:pieces20:" + b"0" * 20 + b"ee"


@pytest.fixture
def backend() -> FakeBackend:
    """A qBittorrent with two torrents, as qBittorrent describes them in ``raw``."""
    fake = FakeBackend()
    fake.add(HASH_A, "ubuntu.iso", progress=0.25, size=4_000, raw={"state": "stalledDL", "ratio": 0.0})
    fake.add(
        HASH_B,
        "debian.iso",
        TransferState.COMPLETED,
        progress=1.0,
        save_path="/downloads/linux",
        category="linux",
        raw={
            "state": "stalledUP",
            "ratio": 1.2345,
            "num_seeds": 2,
            "num_complete": 40,
            "num_leechs": 1,
            "num_incomplete": 9,
            "tracker": "http://tracker.example/announce",
        },
    )
    return fake


async def command(client: Any, **message: Any) -> dict[str, Any]:
    await client.send_json_auto_id(message)
    reply: dict[str, Any] = await client.receive_json()
    return reply


@pytest.mark.parametrize(
    ("raw_state", "state", "status"),
    [
        ("downloading", TransferState.ACTIVE, "downloading"),
        ("metaDL", TransferState.ACTIVE, "downloading"),
        ("stalledDL", TransferState.ACTIVE, "stalled"),
        ("uploading", TransferState.COMPLETED, "seeding"),
        ("stalledUP", TransferState.COMPLETED, "seeding"),
        ("pausedUP", TransferState.PAUSED, "completed"),
        ("stoppedUP", TransferState.PAUSED, "completed"),
        ("stoppedDL", TransferState.PAUSED, "paused"),
        ("queuedDL", TransferState.QUEUED, "queued"),
        ("checkingUP", TransferState.COMPLETED, "checking"),
        ("checkingResumeData", TransferState.ACTIVE, "checking"),
        ("missingFiles", TransferState.FAILED, "error"),
        ("error", TransferState.FAILED, "error"),
    ],
)
def test_qbittorrent_states_users_tell_apart(raw_state: str, state: TransferState, status: str) -> None:
    """qBittorrent's own state names (its WebUI API's ``state`` list, 4.x and 5.x) become the card's status."""
    transfer = Transfer(id=HASH_A, name="x", state=state, raw={"state": raw_state})
    assert transfer_status(transfer, BackendKind.QBITTORRENT) == status


@pytest.mark.parametrize(
    ("raw_status", "state", "status"),
    [
        ("SEEDING", TransferState.COMPLETED, "seeding"),
        ("HASHCHECKING", TransferState.ACTIVE, "checking"),
        ("DOWNLOADING", TransferState.ACTIVE, "downloading"),
        ("STOPPED", TransferState.COMPLETED, "completed"),
        ("STOPPED", TransferState.PAUSED, "paused"),
    ],
)
def test_tribler_states_users_tell_apart(raw_status: str, state: TransferState, status: str) -> None:
    """Tribler's ``DownloadStatus`` names (as its conformance server sends them) become the card's status."""
    transfer = Transfer(id=HASH_A, name="x", state=state, raw={"status": raw_status})
    assert transfer_status(transfer, BackendKind.TRIBLER) == status


def test_other_daemons_keep_their_unified_state_and_syncthing_tells_scanning() -> None:
    folder = Transfer(id="folder:a", name="A", state=TransferState.ACTIVE, category="folder", raw={"state": "scanning"})
    assert transfer_status(folder, BackendKind.SYNCTHING) == "checking"
    assert transfer_status(replace(folder, raw={"state": "syncing"}), BackendKind.SYNCTHING) == "downloading"
    job = Transfer(id="j", name="j", state=TransferState.FAILED, raw={"state": "downloading"})
    assert transfer_status(job, BackendKind.SLSKD) == "error"  # another daemon's raw words are not qBittorrent's


async def test_a_change_only_qbittorrent_sees_reaches_the_card(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    """Stalled to downloading changes no unified field; the feed still sends the new status."""
    client = await hass_ws_client(hass)
    reply = await command(client, type="peerdeck/transfers/subscribe", entry_id=loaded_entry.entry_id)
    subscription = reply["id"]
    full = (await client.receive_json())["event"]
    rows = {row["id"]: row for row in full["transfers"]}
    assert rows[HASH_A]["status"] == "stalled"
    assert rows[HASH_B]["status"] == "seeding"
    assert rows[HASH_B]["ratio"] == 1.23
    backend.items[HASH_A] = replace(backend.items[HASH_A], raw={"state": "downloading", "ratio": 0.0})
    await loaded_entry.runtime_data.coordinator.async_refresh()
    message = await client.receive_json()
    assert message["id"] == subscription
    assert message["event"] == {"changed": [{"id": HASH_A, "status": "downloading"}]}


async def test_act_answers_once_the_daemon_shows_the_change(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    """The daemon applies a pause a moment later (qBittorrent: 0.1 to 0.8 s); the card hears it before the answer."""
    applied_pause = backend.pause

    async def later_pause(ids: Any) -> None:
        backend.calls.append(("pause", ids))
        hass.loop.call_later(0.3, paused_by_the_daemon)

    def paused_by_the_daemon() -> None:
        backend.items[HASH_A] = replace(
            backend.items[HASH_A], state=TransferState.PAUSED, raw={"state": "pausedDL", "ratio": 0.0}
        )

    backend.pause = later_pause  # type: ignore[method-assign]
    client = await hass_ws_client(hass)
    subscription = (await command(client, type="peerdeck/transfers/subscribe", entry_id=loaded_entry.entry_id))["id"]
    await client.receive_json()  # the full list
    await client.send_json_auto_id(
        {"type": "peerdeck/transfers/act", "entry_id": loaded_entry.entry_id, "action": "pause", "ids": [HASH_A]}
    )
    diff = await client.receive_json()
    answer = await client.receive_json()
    assert diff["id"] == subscription
    assert diff["event"]["changed"][0] == {"id": HASH_A, "state": "paused", "status": "paused"}
    assert answer["success"] is True
    assert answer["result"] == {"confirmed": True}
    assert backend.calls == [("pause", [HASH_A])]
    backend.pause = applied_pause  # type: ignore[method-assign]


async def test_act_errors_are_translated_and_nothing_happens(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    reply = await command(
        client, type="peerdeck/transfers/act", entry_id=loaded_entry.entry_id, action="remove", ids=["nope"]
    )
    assert reply["success"] is False
    assert reply["error"]["translation_key"] == "unknown_transfers"
    assert "nope" in reply["error"]["message"]
    assert backend.calls == []
    bad = await command(client, type="peerdeck/transfers/act", entry_id=loaded_entry.entry_id, action="explode")
    assert bad["success"] is False
    assert bad["error"]["code"] == "invalid_format"


async def test_act_needs_read_access_like_the_feed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator, hass_admin_user: MockUser
) -> None:
    client = await hass_ws_client(hass)
    hass_admin_user.mock_policy({"entities": {"entity_ids": {"sun.sun": True}}})
    reply = await command(client, type="peerdeck/transfers/act", entry_id=loaded_entry.entry_id, action="pause")
    assert reply["error"]["code"] == "unauthorized"
    ours = er.async_entries_for_config_entry(er.async_get(hass), loaded_entry.entry_id)[0].entity_id
    hass_admin_user.mock_policy({"entities": {"entity_ids": {ours: True}}})
    reply = await command(client, type="peerdeck/transfers/act", entry_id=loaded_entry.entry_id, action="pause")
    assert reply["result"] == {"confirmed": True}


async def test_details_of_a_row(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    reply = await command(client, type="peerdeck/transfers/details", entry_id=loaded_entry.entry_id, transfer_id=HASH_B)
    details = reply["result"]
    assert details["path"] == "/downloads/linux"
    assert details["category"] == "linux"
    assert details["ratio"] == 1.23
    assert (details["seeds"], details["seeds_total"], details["peers"], details["peers_total"]) == (2, 40, 1, 9)
    assert details["tracker"] == "http://tracker.example/announce"
    assert details["status"] == "seeding"
    assert details["kind"] is None
    gone = await command(client, type="peerdeck/transfers/details", entry_id=loaded_entry.entry_id, transfer_id="gone")
    assert gone["error"]["code"] == "not_found"


async def test_add_a_magnet_with_category_and_path(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    magnet = f"magnet:?xt=urn:btih:{'c' * 40}"
    original = backend.enqueue

    async def enqueue(target: Any, options: Any = None) -> list[str]:
        await original(target, options)
        backend.add("c" * 40, "new.iso", TransferState.QUEUED)
        return ["c" * 40]

    backend.enqueue = enqueue  # type: ignore[method-assign]
    client = await hass_ws_client(hass)
    reply = await command(
        client,
        type="peerdeck/transfers/add",
        entry_id=loaded_entry.entry_id,
        magnet=magnet,
        category="linux",
        save_path="/downloads/linux",
    )
    assert reply["result"] == {"ids": ["c" * 40], "confirmed": True}
    (call,) = backend.calls
    assert call[0] == "enqueue"
    assert call[1] == Magnet(magnet)
    assert (call[2].category, call[2].save_path) == ("linux", "/downloads/linux")
    bad = await command(client, type="peerdeck/transfers/add", entry_id=loaded_entry.entry_id, magnet="magnet:?x")
    assert bad["success"] is False
    assert bad["error"]["code"] == "home_assistant_error"
    nothing = await command(client, type="peerdeck/transfers/add", entry_id=loaded_entry.entry_id)
    assert nothing["error"]["translation_key"] == "no_target"


async def test_a_torrent_file_from_the_browser_needs_an_administrator(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    backend: FakeBackend,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    encoded = base64.b64encode(TORRENT).decode()
    reader = await hass_ws_client(hass, hass_read_only_access_token)
    refused = await command(
        reader, type="peerdeck/transfers/add", entry_id=loaded_entry.entry_id, torrent=encoded, filename="a.torrent"
    )
    assert refused["error"]["translation_key"] == "admin_required"
    assert backend.calls == []

    admin = await hass_ws_client(hass)
    garbled = await command(admin, type="peerdeck/transfers/add", entry_id=loaded_entry.entry_id, torrent="%%%")
    assert garbled["error"]["translation_key"] == "torrent_unreadable"
    added = await command(
        admin, type="peerdeck/transfers/add", entry_id=loaded_entry.entry_id, torrent=encoded, filename="a.torrent"
    )
    assert added["success"] is True, added
    (call,) = backend.calls
    assert call[1] == TorrentFile(TORRENT, filename="a.torrent")


async def test_search_streams_hits_and_one_is_added_by_its_id(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    backend.hits = [
        SearchHit(id="h1", title="Album one", size=5, source="plugin", seeders=3),
        SearchHit(id="h2", title="Album two"),
    ]
    client = await hass_ws_client(hass)
    start = await command(client, type="peerdeck/search/subscribe", entry_id=loaded_entry.entry_id, query="album")
    assert start["success"] is True
    events: list[dict[str, Any]] = []
    while not events or not events[-1].get("done"):
        message = await client.receive_json()
        assert message["id"] == start["id"]
        events.append(message["event"])
    hits = [hit for event in events for hit in event.get("hits", [])]
    assert [hit["title"] for hit in hits] == ["Album one", "Album two"]
    assert hits[0]["seeders"] == 3
    assert events[-1] == {"done": True}
    added = await command(client, type="peerdeck/transfers/add", entry_id=loaded_entry.entry_id, hit="h1")
    assert added["success"] is True, added
    assert backend.calls[-1][0] == "enqueue"
    assert backend.calls[-1][1] == backend.hits[0]


async def test_search_errors_end_the_stream_with_the_reason(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    backend.action_error = PeerdeckNotSupportedError("qBittorrent has no enabled search plugin")
    client = await hass_ws_client(hass)
    start = await command(client, type="peerdeck/search/subscribe", entry_id=loaded_entry.entry_id, query="album")
    event = (await client.receive_json())["event"]
    assert start["success"] is True
    assert event["done"] is True
    assert "no enabled search plugin" in event["error"]
    empty = await command(client, type="peerdeck/search/subscribe", entry_id=loaded_entry.entry_id, query="  ")
    assert empty["success"] is False

"""The card's live feed, ``peerdeck/transfers/subscribe``: the full list, then only what changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from aioresponses import aioresponses
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.peerdeck.const import DOMAIN
from custom_components.peerdeck.websocket import FEEDS, transfer_feed
from peerdeck import BackendKind, Capabilities, TransferState

from .fake_backend import FakeBackend
from .test_syncthing import ME, PEER, URL, RecordedSyncthing, until

HASH_A = "a" * 40
HASH_B = "b" * 40
HASH_C = "c" * 40


@pytest.fixture
def backend() -> FakeBackend:
    """A qBittorrent with two torrents."""
    fake = FakeBackend()
    fake.add(HASH_A, "ubuntu.iso", progress=0.25, size=4_000, done_bytes=1_000, download_rate=500, eta=6.0)
    fake.add(HASH_B, "debian.iso", TransferState.PAUSED, progress=0.5, size=2_000, category="linux", tags=("hd",))
    return fake


async def refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def subscribe(client: Any, entry_id: str) -> int:
    """Subscribe and return the subscription id, after checking the command succeeded."""
    await client.send_json_auto_id({"type": "peerdeck/transfers/subscribe", "entry_id": entry_id})
    result = await client.receive_json()
    assert result["success"], result
    return int(result["id"])


async def next_event(client: Any, subscription: int) -> dict[str, Any]:
    message = await client.receive_json()
    assert message["type"] == "event"
    assert message["id"] == subscription
    event: dict[str, Any] = message["event"]
    return event


async def test_full_list_first_then_only_the_diff(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    subscription = await subscribe(client, loaded_entry.entry_id)
    full = await next_event(client, subscription)
    assert full["full"] is True
    assert full["daemon"] == "qbittorrent"
    assert full["title"] == loaded_entry.title
    assert full["capabilities"] == {
        "pause": True,
        "resume": True,
        "remove": True,
        "delete_data": True,
        "enqueue": True,
        "add_links": True,
        "search": True,
    }
    assert full["alternative_speed_entity"] is None  # the switch exists for a real qBittorrent only
    assert full["status"] == {
        "available": True,
        "download_rate": 1_500_000,
        "upload_rate": 250_000,
        "alternative_speed": None,
    }
    rows = {row["id"]: row for row in full["transfers"]}
    assert set(rows) == {HASH_A, HASH_B}
    assert rows[HASH_A] | {"added_at": None} == {
        "id": HASH_A,
        "name": "ubuntu.iso",
        "state": "active",
        "progress": 0.25,
        "size": 4_000,
        "done": 1_000,
        "path": None,
        "category": None,
        "tags": [],
        "download_rate": 500,
        "upload_rate": 0,
        "eta": 6.0,
        "added_at": None,
        "completed_at": None,
        "status": "downloading",
        "ratio": None,
        "kind": None,
        "detail": None,
    }
    assert rows[HASH_B]["category"] == "linux"
    assert rows[HASH_B]["tags"] == ["hd"]

    # One torrent moves on, one is removed, one is added: only that is sent.
    backend.items[HASH_A] = replace(backend.items[HASH_A], progress=0.5, done_bytes=2_000)
    del backend.items[HASH_B]
    backend.add(HASH_C, "fedora.iso", TransferState.QUEUED, size=3_000)
    await refresh(hass, loaded_entry)
    diff = await next_event(client, subscription)
    assert diff == {
        "added": [diff["added"][0]],
        "changed": [{"id": HASH_A, "progress": 0.5, "done": 2_000}],
        "removed": [HASH_B],
    }
    assert diff["added"][0]["name"] == "fedora.iso"
    assert diff["added"][0]["state"] == "queued"

    # The daemon's totals alone change: only the header is sent.
    backend.download_rate = 42
    await refresh(hass, loaded_entry)
    assert await next_event(client, subscription) == {
        "status": {"available": True, "download_rate": 42, "upload_rate": 250_000, "alternative_speed": None}
    }


async def test_nothing_is_sent_when_nothing_changed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    subscription = await subscribe(client, loaded_entry.entry_id)
    await next_event(client, subscription)
    await refresh(hass, loaded_entry)
    await refresh(hass, loaded_entry)
    backend.set_state(HASH_B, TransferState.ACTIVE)
    await refresh(hass, loaded_entry)
    # The first message after two unchanged refreshes is the change.
    assert await next_event(client, subscription) == {
        "changed": [{"id": HASH_B, "state": "active", "status": "downloading"}]
    }


async def test_nothing_is_sent_for_a_change_the_card_does_not_show(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    """Free space changes the entry's data (its sensor updates) but no row or header of the card."""
    client = await hass_ws_client(hass)
    subscription = await subscribe(client, loaded_entry.entry_id)
    await next_event(client, subscription)
    assert backend.free_space is not None
    backend.free_space -= 1024
    await refresh(hass, loaded_entry)
    assert loaded_entry.runtime_data.coordinator.data.status.free_space == backend.free_space
    backend.set_state(HASH_B, TransferState.ACTIVE)
    await refresh(hass, loaded_entry)
    assert await next_event(client, subscription) == {
        "changed": [{"id": HASH_B, "state": "active", "status": "downloading"}]
    }


async def test_actions_show_in_the_feed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    """What the card's pause button does (the integration's own action) comes back as a diff."""
    client = await hass_ws_client(hass)
    subscription = await subscribe(client, loaded_entry.entry_id)
    await next_event(client, subscription)
    await hass.services.async_call(
        DOMAIN, "pause", {"config_entry_id": loaded_entry.entry_id, "ids": [HASH_A]}, blocking=True
    )
    await hass.async_block_till_done()
    assert await next_event(client, subscription) == {
        "changed": [{"id": HASH_A, "state": "paused", "status": "paused"}]
    }


async def test_unsubscribe_stops_the_feed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    coordinator = loaded_entry.runtime_data.coordinator
    listeners = len(coordinator._listeners)
    client = await hass_ws_client(hass)
    subscription = await subscribe(client, loaded_entry.entry_id)
    await next_event(client, subscription)
    assert len(coordinator._listeners) == listeners + 1

    await client.send_json_auto_id({"type": "unsubscribe_events", "subscription": subscription})
    assert (await client.receive_json())["success"]
    assert len(coordinator._listeners) == listeners
    backend.set_state(HASH_A, TransferState.PAUSED)
    await refresh(hass, loaded_entry)
    await client.send_json_auto_id({"type": "ping"})
    assert (await client.receive_json())["type"] == "pong"  # no event came before it


async def test_closing_the_connection_unsubscribes(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    coordinator = loaded_entry.runtime_data.coordinator
    listeners = len(coordinator._listeners)
    client = await hass_ws_client(hass)
    await next_event(client, await subscribe(client, loaded_entry.entry_id))
    await client.close()
    await hass.async_block_till_done()
    assert len(coordinator._listeners) == listeners


async def test_many_subscribers_cost_one_refresh(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    updates = MagicMock(wraps=backend.update)
    with patch.object(backend, "update", updates):
        clients = [await hass_ws_client(hass) for _ in range(3)]
        subscriptions = [await subscribe(client, loaded_entry.entry_id) for client in clients]
        for client, subscription in zip(clients, subscriptions, strict=True):
            await next_event(client, subscription)
        await hass.async_block_till_done()
        assert updates.call_count == 0  # subscribing asks the daemon nothing

        backend.set_state(HASH_A, TransferState.COMPLETED, progress=1.0)
        await refresh(hass, loaded_entry)
        assert updates.call_count == 1
        for client, subscription in zip(clients, subscriptions, strict=True):
            assert await next_event(client, subscription) == {
                "changed": [{"id": HASH_A, "state": "completed", "progress": 1.0, "status": "completed"}]
            }
    assert len(hass.data[FEEDS]) == 1


async def test_a_late_subscriber_gets_the_current_list(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    first = await hass_ws_client(hass)
    await next_event(first, await subscribe(first, loaded_entry.entry_id))
    backend.set_state(HASH_A, TransferState.PAUSED)
    await refresh(hass, loaded_entry)
    late = await hass_ws_client(hass)
    full = await next_event(late, await subscribe(late, loaded_entry.entry_id))
    assert {row["id"]: row["state"] for row in full["transfers"]} == {HASH_A: "paused", HASH_B: "paused"}


async def test_unknown_entry_is_an_error(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    other = MockConfigEntry(domain="sun", entry_id="sun1")
    other.add_to_hass(hass)
    client = await hass_ws_client(hass)
    for entry_id in ("nope", "sun1"):
        await client.send_json_auto_id({"type": "peerdeck/transfers/subscribe", "entry_id": entry_id})
        reply = await client.receive_json()
        assert not reply["success"]
        assert reply["error"]["code"] == "not_found"
        assert reply["error"]["translation_key"] == "entry_not_found"
        assert reply["error"]["translation_placeholders"] == {"entry_id": entry_id}


async def test_unloaded_entry_is_an_error(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "peerdeck/transfers/subscribe", "entry_id": loaded_entry.entry_id})
    reply = await client.receive_json()
    assert reply["error"]["code"] == "not_found"
    assert reply["error"]["translation_key"] == "entry_not_loaded"


async def test_unloading_the_entry_closes_the_feed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    subscription = await subscribe(client, loaded_entry.entry_id)
    await next_event(client, subscription)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert await next_event(client, subscription) == {"closed": True}
    assert loaded_entry.entry_id not in hass.data[FEEDS]


async def test_non_admin_users_may_read_like_states(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    client = await hass_ws_client(hass, hass_read_only_access_token)
    full = await next_event(client, await subscribe(client, loaded_entry.entry_id))
    assert len(full["transfers"]) == 2
    await client.send_json_auto_id({"type": "peerdeck/entries"})
    reply = await client.receive_json()
    expected = {"entry_id": loaded_entry.entry_id, "title": loaded_entry.title, "daemon": "qbittorrent"}
    assert reply["result"] == [expected]


async def test_users_who_may_read_none_of_its_entities_are_refused(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator, hass_admin_user: MockUser
) -> None:
    client = await hass_ws_client(hass)
    hass_admin_user.mock_policy({"entities": {"entity_ids": {"sun.sun": True}}})
    await client.send_json_auto_id({"type": "peerdeck/transfers/subscribe", "entry_id": loaded_entry.entry_id})
    reply = await client.receive_json()
    assert not reply["success"]
    assert reply["error"]["code"] == "unauthorized"
    await client.send_json_auto_id({"type": "peerdeck/entries"})
    assert (await client.receive_json())["result"] == []

    # Reading one of the entry's entities is enough, as for its states.
    ours = er.async_entries_for_config_entry(er.async_get(hass), loaded_entry.entry_id)[0].entity_id
    hass_admin_user.mock_policy({"entities": {"entity_ids": {ours: True}}})
    full = await next_event(client, await subscribe(client, loaded_entry.entry_id))
    assert len(full["transfers"]) == 2


@pytest.mark.parametrize("kind", list(BackendKind))
async def test_every_daemon_feeds_the_card(
    hass: HomeAssistant, kind: BackendKind, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The feed reads only the coordinator's transfers, so every daemon's rows and abilities come through."""
    fake = FakeBackend(kind=kind, capabilities=Capabilities(delete_data=kind is not BackendKind.SOULSYNC))
    fake.add("job-1", f"{kind.value} job", progress=0.75, size=100, upload_rate=7)
    with patch("custom_components.peerdeck.helpers.create_backend", return_value=fake):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    client = await hass_ws_client(hass)
    full = await next_event(client, await subscribe(client, entry.entry_id))
    assert full["daemon"] == kind.value
    assert full["capabilities"]["delete_data"] is (kind is not BackendKind.SOULSYNC)
    # Only the torrent daemons take a magnet or a .torrent (the card's Add panel); Syncthing's enqueue takes files.
    assert full["capabilities"]["add_links"] is (kind in (BackendKind.QBITTORRENT, BackendKind.TRIBLER))
    assert [(row["name"], row["progress"], row["upload_rate"]) for row in full["transfers"]] == [
        (f"{kind.value} job", 0.75, 7)
    ]


@pytest.fixture
async def syncthing_entry(hass: HomeAssistant) -> AsyncIterator[tuple[MockConfigEntry, RecordedSyncthing]]:
    """A Syncthing entry on recorded answers (the websocket test client cannot pass aioresponses)."""
    with aioresponses() as mocked:
        daemon = RecordedSyncthing(mocked)
        daemon.install()
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Syncthing",
            data={"kind": "syncthing", "url": URL, "api_key": "key", "verify_ssl": True, "timeout": 10},
            unique_id=ME,
            entry_id="st1",
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        yield entry, daemon
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_syncthing_folders_and_peers_are_rows_with_completion(
    hass: HomeAssistant, syncthing_entry: tuple[MockConfigEntry, RecordedSyncthing]
) -> None:
    """Subscribed through the feed itself: the folder's own state follows pushed events."""
    entry, syncthing = syncthing_entry
    coordinator = entry.runtime_data.coordinator
    listeners = len(coordinator._listeners)
    messages: list[dict[str, Any]] = []
    unsubscribe = transfer_feed(hass, entry).async_subscribe(messages.append)
    rows = {row["id"]: row for row in messages[0]["transfers"]}
    assert rows["folder:demo"]["name"] == "Demo"
    assert rows["folder:demo"]["progress"] == 1.0
    assert rows["folder:demo"]["detail"] == "idle"
    assert rows[f"device:{PEER}"]["name"] == "B"
    assert rows[f"device:{PEER}"]["progress"] == 1.0
    assert rows[f"device:{PEER}"]["category"] == "device"

    syncthing.push(("StateChanged", {"folder": "demo", "from": "idle", "to": "syncing"}))
    await until(hass, lambda: any(m.get("changed") for m in messages[1:]))
    changed = [change for message in messages[1:] for change in message.get("changed", [])]
    assert {"id": "folder:demo", "detail": "syncing"} in [
        {key: change[key] for key in ("id", "detail") if key in change} for change in changed
    ]
    unsubscribe()
    assert len(coordinator._listeners) == listeners


async def test_the_first_subscriber_gets_a_fresh_list(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_ws_client: WebSocketGenerator
) -> None:
    """Issue 26: a card opened just after start showed downloading rows at 0 % until the next refresh.

    The first subscriber's list is read fresh (for qBittorrent, its moving torrents' figures
    included); later subscribers share what the feed has, at no cost to the daemon.
    """
    coordinator = loaded_entry.runtime_data.coordinator
    backend.items[HASH_A] = replace(backend.items[HASH_A], progress=0.9, done_bytes=3_600)  # moved since the refresh
    with patch.object(coordinator, "async_refresh_details", side_effect=coordinator.async_refresh) as fresh:
        first = await hass_ws_client(hass)
        full = await next_event(first, await subscribe(first, loaded_entry.entry_id))
        second = await hass_ws_client(hass)
        await next_event(second, await subscribe(second, loaded_entry.entry_id))
    rows = {row["id"]: row for row in full["transfers"]}
    assert (rows[HASH_A]["progress"], rows[HASH_A]["done"]) == (0.9, 3_600)
    assert fresh.await_count == 1

"""The actions: success, and every validation and failure path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerdeck.const import DOMAIN
from peerdeck import (
    ALL,
    Capabilities,
    EnqueueOptions,
    InvalidMagnetError,
    Magnet,
    PeerdeckAuthenticationError,
    PeerdeckNotSupportedError,
    PeerdeckServerError,
    SearchHit,
    TextRequest,
    TorrentFile,
    TorrentUrl,
    TransferState,
)

from .fake_backend import FakeBackend
from .test_coordinator import refresh

MAGNET = "magnet:?xt=urn:btih:" + "a" * 40


async def call(hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = False) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, {"config_entry_id": "entry1", **data}, blocking=True, return_response=response
    )


@pytest.mark.usefixtures("loaded_entry")
async def test_search_returns_hits_and_keeps_them(hass: HomeAssistant, backend: FakeBackend) -> None:
    backend.hits = [SearchHit(id=f"hit{i}", title=f"Ubuntu {i}", size=i, seeders=3, link=MAGNET) for i in range(3)]
    result = await call(hass, "search", {"query": " ubuntu ", "limit": 2, "timeout": 5}, response=True)
    assert backend.calls == [("search", "ubuntu", 5.0, 2)]
    assert result == {
        "hits": [
            {
                "id": f"hit{i}",
                "title": f"Ubuntu {i}",
                "size": i,
                "source": None,
                "seeders": 3,
                "leechers": None,
                "bitrate": None,
                "queue_length": None,
                "free_slot": None,
                "link": MAGNET,
                "kind": "file",
                "formats": [],
            }
            for i in range(2)
        ]
    }
    assert await call(hass, "enqueue", {"hit": "hit1"}, response=True) == {"ids": ["new-transfer"]}
    assert backend.calls[-1] == ("enqueue", backend.hits[1], EnqueueOptions())


@pytest.mark.usefixtures("loaded_entry")
async def test_search_defaults(hass: HomeAssistant, backend: FakeBackend) -> None:
    assert await call(hass, "search", {"query": "x"}, response=True) == {"hits": []}
    assert backend.calls == [("search", "x", 30.0, 50)]


@pytest.mark.usefixtures("loaded_entry")
@pytest.mark.parametrize(
    ("data", "target"),
    [
        ({"magnet": MAGNET}, Magnet(MAGNET)),
        ({"url": "https://example.org/a.torrent"}, TorrentUrl("https://example.org/a.torrent")),
        ({"text": "Artist - Song"}, TextRequest("Artist - Song")),
    ],
)
async def test_enqueue_targets(hass: HomeAssistant, backend: FakeBackend, data: dict[str, str], target: object) -> None:
    options = {"save_path": "/downloads", "category": "linux", "tags": ["a", "b"], "start_paused": True}
    assert await call(hass, "enqueue", {**data, **options}) is None
    assert backend.calls == [("enqueue", target, EnqueueOptions("/downloads", "linux", ("a", "b"), True))]


@pytest.mark.usefixtures("loaded_entry")
async def test_enqueue_torrent_file(hass: HomeAssistant, backend: FakeBackend, tmp_path: Path) -> None:
    torrent = tmp_path / "file.torrent"
    torrent.write_bytes(b"d4:infod4:name1:xee")
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    await call(hass, "enqueue", {"torrent_file": str(torrent)})
    assert backend.calls == [("enqueue", TorrentFile(b"d4:infod4:name1:xee", "file.torrent"), EnqueueOptions())]

    with pytest.raises(ServiceValidationError, match="Could not read") as err:
        await call(hass, "enqueue", {"torrent_file": str(tmp_path / "missing.torrent")})
    assert err.value.translation_key == "file_unreadable"


@pytest.mark.usefixtures("loaded_entry")
async def test_enqueue_torrent_file_outside_allowed_dirs(
    hass: HomeAssistant, backend: FakeBackend, tmp_path: Path
) -> None:
    hass.config.allowlist_external_dirs = set()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "enqueue", {"torrent_file": str(tmp_path / "a.torrent")})
    assert err.value.translation_key == "path_not_allowed"
    assert backend.calls == []


@pytest.mark.usefixtures("loaded_entry")
@pytest.mark.parametrize(
    ("data", "key"),
    [({}, "no_target"), ({"hit": "unknown"}, "hit_not_found")],
)
async def test_enqueue_validation(hass: HomeAssistant, data: dict[str, str], key: str) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "enqueue", data)
    assert err.value.translation_key == key


@pytest.mark.usefixtures("loaded_entry")
async def test_enqueue_two_targets_is_invalid(hass: HomeAssistant) -> None:
    with pytest.raises(vol.Invalid):
        await call(hass, "enqueue", {"magnet": MAGNET, "url": "https://example.org/a.torrent"})


@pytest.mark.usefixtures("loaded_entry")
@pytest.mark.parametrize(
    ("error", "raised", "key", "message"),
    [
        (
            InvalidMagnetError("not a magnet"),
            ServiceValidationError,
            "invalid_input",
            "qBittorrent was given invalid input: not a magnet",
        ),
        (
            PeerdeckNotSupportedError("no plugin"),
            ServiceValidationError,
            "not_supported",
            "qBittorrent cannot do this: no plugin",
        ),
        (
            PeerdeckServerError("answered 500", 500),
            HomeAssistantError,
            "action_failed",
            "qBittorrent failed to do this: answered 500",
        ),
        (
            PeerdeckAuthenticationError("rejected"),
            HomeAssistantError,
            "invalid_auth",
            "qBittorrent rejected the credentials: rejected",
        ),
    ],
)
async def test_library_errors_become_translated_errors(
    hass: HomeAssistant, backend: FakeBackend, error: Exception, raised: type[Exception], key: str, message: str
) -> None:
    backend.action_error = error
    with pytest.raises(raised, match=message) as err:
        await call(hass, "enqueue", {"magnet": "magnet:?xt=urn:btih:" + "a" * 40})
    assert type(err.value) is raised
    assert err.value.translation_key == key  # type: ignore[attr-defined]


async def test_rejected_action_starts_reauth(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    backend.action_error = PeerdeckAuthenticationError("rejected")
    with pytest.raises(HomeAssistantError):
        await call(hass, "pause", {})
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


@pytest.mark.usefixtures("loaded_entry")
async def test_pause_resume_remove(hass: HomeAssistant, backend: FakeBackend) -> None:
    backend.add("a" * 40, "a")
    backend.add("b" * 40, "b")
    await call(hass, "pause", {"ids": ["a" * 40]})
    await call(hass, "resume", {})
    await call(hass, "pause", {})
    await call(hass, "resume", {"ids": "b" * 40})
    await call(hass, "remove", {"ids": ["a" * 40], "delete_data": True})
    await call(hass, "remove", {"ids": ["b" * 40]})
    assert backend.calls == [
        ("pause", ["a" * 40]),
        ("resume", ALL),
        ("pause", ALL),
        ("resume", ["b" * 40]),
        ("remove", ["a" * 40], True),
        ("remove", ["b" * 40], False),
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_remove_needs_ids(hass: HomeAssistant) -> None:
    with pytest.raises(vol.Invalid):
        await call(hass, "remove", {})


async def test_get_transfers(hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend) -> None:
    backend.add("a" * 40, "a", TransferState.ACTIVE, size=10)
    backend.add("b" * 40, "b", TransferState.PAUSED)
    await refresh(hass, loaded_entry)
    everything = await call(hass, "get_transfers", {}, response=True)
    assert [t["name"] for t in everything["transfers"]] == ["a", "b"]
    assert everything["transfers"][0]["size"] == 10
    paused = await call(hass, "get_transfers", {"states": ["paused", "failed"]}, response=True)
    assert [t["name"] for t in paused["transfers"]] == ["b"]
    with pytest.raises(vol.Invalid):
        await call(hass, "get_transfers", {"states": ["sleeping"]}, response=True)


@pytest.mark.parametrize(
    ("service", "data", "capabilities", "action"),
    [
        ("search", {"query": "x"}, Capabilities(), "search"),
        ("enqueue", {"magnet": MAGNET}, Capabilities(enqueue=False), "enqueue"),
        ("pause", {}, Capabilities(pause=False), "pause"),
        ("resume", {}, Capabilities(resume=False), "resume"),
        ("remove", {"ids": ["a"]}, Capabilities(remove=False), "remove"),
        ("remove", {"ids": ["a"], "delete_data": True}, Capabilities(delete_data=False), "remove"),
    ],
)
async def test_actions_the_daemon_lacks(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    backend: FakeBackend,
    service: str,
    data: dict[str, Any],
    capabilities: Capabilities,
    action: str,
) -> None:
    backend.capabilities = capabilities
    with pytest.raises(ServiceValidationError, match=f"qBittorrent does not support the {action} action"):
        await call(hass, service, data, response=service == "search")
    assert backend.calls == []


@pytest.mark.usefixtures("loaded_entry")
async def test_unknown_entry(hass: HomeAssistant) -> None:
    with pytest.raises(ServiceValidationError, match="no Peerdeck entry with the ID nope") as err:
        await hass.services.async_call(DOMAIN, "pause", {"config_entry_id": "nope"}, blocking=True)
    assert err.value.translation_key == "entry_not_found"


async def test_entry_of_another_domain(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    other = MockConfigEntry(domain="other", entry_id="other1")
    other.add_to_hass(hass)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "pause", {"config_entry_id": "other1"}, blocking=True)
    assert err.value.translation_key == "entry_not_found"


async def test_entry_not_loaded(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(ServiceValidationError, match="is not loaded") as err:
        await call(hass, "pause", {})
    assert err.value.translation_key == "entry_not_loaded"

"""A corpus of bad input for every action and config-flow field: each refused with a translated error,
and nothing sent to the daemon (nothing half-applied)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
import voluptuous as vol
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerdeck.const import DOMAIN
from peerdeck.validation import (
    MAX_ID_LENGTH,
    MAX_IDS,
    MAX_LABEL_LENGTH,
    MAX_MAGNET_LENGTH,
    MAX_MAGNET_NAME_LENGTH,
    MAX_MAGNET_TRACKERS,
    MAX_PATH_LENGTH,
    MAX_QUERY_LENGTH,
    MAX_TAGS,
    MAX_TEXT_REQUEST_LENGTH,
    MAX_TORRENT_FILE_SIZE,
    MAX_URL_LENGTH,
)

from .fake_backend import FakeBackend

HASH = "0123456789abcdef0123456789abcdef01234567"
MAGNET = f"magnet:?xt=urn:btih:{HASH}"
STRINGS = json.loads((Path(__file__).parents[2] / "custom_components" / DOMAIN / "strings.json").read_text())

ENQUEUE_CORPUS: list[tuple[str, dict[str, Any], str]] = [
    ("magnet too long", {"magnet": MAGNET + "&x=" + "a" * MAX_MAGNET_LENGTH}, "input_too_long"),
    ("10 MB display name", {"magnet": f"{MAGNET}&dn={'n' * 10_000_000}"}, "input_too_long"),
    ("display name over limit", {"magnet": f"{MAGNET}&dn={'n' * (MAX_MAGNET_NAME_LENGTH + 1)}"}, "input_too_long"),
    (
        "too many trackers",
        {"magnet": MAGNET + "".join(f"&tr=udp://t{i}:1" for i in range(MAX_MAGNET_TRACKERS + 1))},
        "too_many_values",
    ),
    ("magnet with NUL", {"magnet": MAGNET + "&dn=a\x00b"}, "invalid_characters"),
    ("magnet with a line break", {"magnet": MAGNET + "\r\nX-Injected: 1"}, "invalid_characters"),
    ("magnet without hash", {"magnet": "magnet:?dn=nothing"}, "invalid_value"),
    ("not a magnet", {"magnet": "https://example.org/a.torrent"}, "invalid_value"),
    ("URL too long", {"url": "http://example.org/" + "a" * MAX_URL_LENGTH}, "input_too_long"),
    ("file scheme", {"url": "file:///etc/passwd"}, "invalid_value"),
    ("javascript scheme", {"url": "javascript:alert(1)"}, "invalid_value"),
    ("ftp scheme", {"url": "ftp://example.org/a.torrent"}, "invalid_value"),
    ("URL without host", {"url": "http:///a.torrent"}, "invalid_value"),
    ("lone surrogate", {"url": "http://example.org/\udcff"}, "invalid_characters"),
    ("text too long", {"text": "a" * (MAX_TEXT_REQUEST_LENGTH + 1)}, "input_too_long"),
    ("blank text", {"text": "   "}, "invalid_value"),
    ("hit id too long", {"hit": "h" * (MAX_PATH_LENGTH + 1)}, "input_too_long"),
    ("torrent file path too long", {"torrent_file": "/tmp/" + "a" * MAX_PATH_LENGTH}, "input_too_long"),
    ("torrent file traversal", {"torrent_file": "/config/../../etc/passwd"}, "path_not_allowed"),
    ("torrent file outside allowlist", {"torrent_file": "/etc/passwd"}, "path_not_allowed"),
    ("category of 1 MB", {"magnet": MAGNET, "category": "c" * 1_000_000}, "input_too_long"),
    ("category over limit", {"magnet": MAGNET, "category": "c" * (MAX_LABEL_LENGTH + 1)}, "input_too_long"),
    ("category with a line break", {"magnet": MAGNET, "category": "a\nb"}, "invalid_characters"),
    ("too many tags", {"magnet": MAGNET, "tags": [f"t{i}" for i in range(MAX_TAGS + 1)]}, "too_many_values"),
    ("tag over limit", {"magnet": MAGNET, "tags": ["t" * (MAX_LABEL_LENGTH + 1)]}, "input_too_long"),
    ("tag with a comma", {"magnet": MAGNET, "tags": ["a,b"]}, "invalid_characters"),
    ("save path over limit", {"magnet": MAGNET, "save_path": "/" + "p" * MAX_PATH_LENGTH}, "input_too_long"),
    ("save path traversal", {"magnet": MAGNET, "save_path": "/downloads/../../etc"}, "invalid_characters"),
    ("save path traversal (Windows)", {"magnet": MAGNET, "save_path": "D:\\dl\\..\\Windows"}, "invalid_characters"),
    ("save path with NUL", {"magnet": MAGNET, "save_path": "/downloads/\x00"}, "invalid_characters"),
    ("nothing to download", {"category": "iso"}, "no_target"),
    ("unknown hit", {"hit": "no-such-hit"}, "hit_not_found"),
]

IDS_CORPUS: list[tuple[str, list[str], str]] = [
    ("unknown hash", ["f" * 40], "unknown_transfers"),
    ("unknown among known", [HASH, "f" * 40], "unknown_transfers"),
    ("traversal as id", ["../../etc/passwd"], "unknown_transfers"),
    ("too many ids", [HASH] * (MAX_IDS + 1), "too_many_values"),
    ("id too long", ["i" * (MAX_ID_LENGTH + 1)], "input_too_long"),
    ("id with a line break", [HASH + "\n"], "invalid_characters"),
]


def assert_translated(err: ServiceValidationError, key: str) -> None:
    """The error has a translation, and every placeholder its message uses is given."""
    assert err.translation_domain == DOMAIN
    assert err.translation_key == key
    message: str = STRINGS["exceptions"][key]["message"]
    assert message.format(**(err.translation_placeholders or {}))


@pytest.mark.parametrize(("case", "data", "key"), ENQUEUE_CORPUS, ids=[case for case, _, _ in ENQUEUE_CORPUS])
async def test_enqueue_refuses_bad_input(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, case: str, data: dict[str, Any], key: str
) -> None:
    hass.config.allowlist_external_dirs = {"/config"}
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(DOMAIN, "enqueue", {"config_entry_id": "entry1", **data}, blocking=True)
    assert_translated(raised.value, key)
    assert backend.calls == []


async def test_torrent_file_over_the_size_limit_is_not_read_whole(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, tmp_path: Path
) -> None:
    big = tmp_path / "big.torrent"
    with big.open("wb") as file:
        file.truncate(MAX_TORRENT_FILE_SIZE + 1)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "enqueue", {"config_entry_id": "entry1", "torrent_file": str(big)}, blocking=True
        )
    assert_translated(raised.value, "file_too_big")
    assert backend.calls == []


@pytest.mark.parametrize("service", ["pause", "resume", "remove"])
@pytest.mark.parametrize(("case", "ids", "key"), IDS_CORPUS, ids=[case for case, _, _ in IDS_CORPUS])
async def test_id_actions_refuse_bad_ids(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    backend: FakeBackend,
    service: str,
    case: str,
    ids: list[str],
    key: str,
) -> None:
    backend.add(HASH, "known.iso")
    await loaded_entry.runtime_data.coordinator.async_refresh()
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            service,
            {"config_entry_id": "entry1", "ids": ids, "delete_data": True}
            if service == "remove"
            else {"config_entry_id": "entry1", "ids": ids},
            blocking=True,
        )
    assert_translated(raised.value, key)
    assert backend.calls == []
    assert HASH in backend.items


SCHEMA_CORPUS: list[tuple[str, str, dict[str, Any]]] = [
    ("search without query", "search", {}),
    ("blank query", "search", {"query": "   "}),
    ("limit 0", "search", {"query": "x", "limit": 0}),
    ("limit over 500", "search", {"query": "x", "limit": 501}),
    ("timeout over 300 s", "search", {"query": "x", "timeout": 301}),
    ("two targets", "enqueue", {"magnet": MAGNET, "url": "http://example.org/a.torrent"}),
    ("start_paused not a boolean", "enqueue", {"magnet": MAGNET, "start_paused": "perhaps"}),
    ("no ids for remove", "remove", {}),
    ("empty ids", "pause", {"ids": []}),
    ("unknown state", "get_transfers", {"states": ["bogus"]}),
    ("unknown field", "pause", {"everything": True}),
]


@pytest.mark.parametrize(("case", "service", "data"), SCHEMA_CORPUS, ids=[case for case, _, _ in SCHEMA_CORPUS])
async def test_malformed_calls_are_refused_by_the_action_schema(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    backend: FakeBackend,
    case: str,
    service: str,
    data: dict[str, Any],
) -> None:
    """Shapes and ranges are Home Assistant's schema check (its own error), before any handler runs."""
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN,
            service,
            {"config_entry_id": "entry1", **data},
            blocking=True,
            return_response=service in ("search", "get_transfers"),
        )
    assert backend.calls == []


@pytest.mark.parametrize("entry_id", ["no-such-entry", "x" * 1_000_000], ids=["unknown", "1 MB"])
async def test_unknown_entry_is_named_briefly(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, entry_id: str
) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(DOMAIN, "pause", {"config_entry_id": entry_id}, blocking=True)
    assert_translated(raised.value, "entry_not_found")
    assert len(str(raised.value.translation_placeholders)) < 200


@pytest.mark.parametrize(
    ("query", "key"),
    [("q" * (MAX_QUERY_LENGTH + 1), "input_too_long"), ("ubuntu\x00iso", "invalid_characters")],
    ids=["too long", "NUL"],
)
async def test_search_refuses_bad_queries(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, query: str, key: str
) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "search", {"config_entry_id": "entry1", "query": query}, blocking=True, return_response=True
        )
    assert_translated(raised.value, key)
    assert backend.calls == []


async def test_input_at_the_limits_is_accepted(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    magnet = f"{MAGNET}&dn={'n' * MAX_MAGNET_NAME_LENGTH}" + "".join(
        f"&tr=udp://t{i}:1" for i in range(MAX_MAGNET_TRACKERS)
    )
    await hass.services.async_call(
        DOMAIN,
        "enqueue",
        {
            "config_entry_id": "entry1",
            "magnet": magnet,
            "category": "c" * MAX_LABEL_LENGTH,
            "tags": ["t" * MAX_LABEL_LENGTH] * MAX_TAGS,
            "save_path": "/downloads/ünïcødé/..hidden",
        },
        blocking=True,
    )
    assert [call[0] for call in backend.calls] == ["enqueue"]


FLOW_URL_CORPUS: list[tuple[str, str, str]] = [
    ("credentials in the URL", "http://admin:pw@127.0.0.1:8080", "url_credentials"),
    ("user name in the URL", "http://admin@127.0.0.1:8080", "url_credentials"),
    ("no scheme", "127.0.0.1:8080", "invalid_url"),
    ("file scheme", "file:///etc/passwd", "invalid_url"),
    ("javascript scheme", "javascript:alert(1)", "invalid_url"),
    ("ftp scheme", "ftp://127.0.0.1", "invalid_url"),
    ("no host", "http://", "invalid_url"),
    ("too long", "http://127.0.0.1/" + "a" * MAX_URL_LENGTH, "invalid_url"),
    ("a line break", "http://127.0.0.1:8080/\r\nX: 1", "invalid_url"),
    ("NUL", "http://127.0.0.1:8080/\x00", "invalid_url"),
    ("bad port", "http://127.0.0.1:99999", "invalid_url"),
]


async def _connection_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"kind": "qbittorrent"})
    return str(result["flow_id"])


@pytest.mark.parametrize(("case", "url", "error"), FLOW_URL_CORPUS, ids=[case for case, _, _ in FLOW_URL_CORPUS])
async def test_config_flow_refuses_bad_urls(
    hass: HomeAssistant, create_backend: MagicMock, case: str, url: str, error: str
) -> None:
    flow_id = await _connection_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": url, "username": "admin", "password": "pw", "advanced": {"verify_ssl": True, "timeout": 10}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"url": error}
    assert error in STRINGS["config"]["error"]
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "u" * 1_025),
        ("password", "p" * 1_025),
        ("api_key", "k" * 1_025),
        ("password", "pw\r\nX-Injected: 1"),
        ("username", "admin\x00"),
    ],
    ids=["long user", "long password", "long key", "header injection", "NUL"],
)
async def test_config_flow_refuses_bad_credentials(
    hass: HomeAssistant, create_backend: MagicMock, field: str, value: str
) -> None:
    flow_id = await _connection_form(hass)
    fields = {"username": "admin", "password": "pw", field: value}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": "http://127.0.0.1:8080", **fields, "advanced": {"verify_ssl": True, "timeout": 10}}
    )
    assert result["errors"] == {field: "invalid_credential"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_same_daemon_under_another_spelling_is_a_duplicate(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, create_backend: MagicMock
) -> None:
    flow_id = await _connection_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            "url": "HTTP://127.0.0.1:8080/?x=1#top",
            "username": "admin",
            "password": "pw",
            "advanced": {"verify_ssl": True, "timeout": 10},
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("stored_url", "stored", "expected"),
    [
        ("http://admin:pw@127.0.0.1:8080/", {}, {"username": "admin", "password": "pw"}),
        ("http://other:old@127.0.0.1:8080", {"username": "admin", "password": "secret"}, {}),
    ],
    ids=["moved to the fields", "fields kept"],
)
async def test_migration_takes_credentials_out_of_the_url(
    hass: HomeAssistant,
    create_backend: MagicMock,
    stored_url: str,
    stored: dict[str, str],
    expected: dict[str, str],
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"kind": "qbittorrent", "url": stored_url, **stored},
        unique_id="http://127.0.0.1:8080",
        minor_version=1,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.minor_version == 2
    assert entry.unique_id is None
    assert entry.data == {"kind": "qbittorrent", "url": "http://127.0.0.1:8080", **stored, **expected}
    credentials = create_backend.call_args.args[2]
    assert (credentials.username, credentials.password) == (
        entry.data["username"],
        entry.data["password"],
    )


async def test_migration_leaves_a_url_that_never_parsed_to_the_set_up(
    hass: HomeAssistant, create_backend: MagicMock
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, data={"kind": "qbittorrent", "url": "not a url"}, unique_id="not a url", minor_version=1
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.minor_version == 2
    assert entry.data["url"] == "not a url"
    assert entry.unique_id == "not a url"  # not a URL either: kept


async def test_migration_keeps_identity_unique_ids(hass: HomeAssistant, create_backend: MagicMock) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"kind": "syncthing", "url": "http://127.0.0.1:8384", "api_key": "k"},
        unique_id="MFZWI3D-BONSGYC",
        minor_version=1,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.unique_id == "MFZWI3D-BONSGYC"


async def test_reconfigure_refuses_credentials_in_the_url(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    result = await loaded_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"url": "http://admin:pw@127.0.0.1:9090", "username": "admin", "advanced": {"verify_ssl": True, "timeout": 10}},
    )
    assert result["errors"] == {"url": "url_credentials"}
    assert loaded_entry.data["url"] == "http://127.0.0.1:8080"


async def test_reauth_refuses_a_password_with_a_line_break(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    result = await loaded_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": "admin", "password": "new\r\nX-Injected: 1"}
    )
    assert result["errors"] == {"password": "invalid_credential"}
    assert loaded_entry.data["password"] == "secret"

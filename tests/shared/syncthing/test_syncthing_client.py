"""SyncthingClient against recorded answers: every route family, auth header and error path."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL as YURL

from peerdeck.exceptions import (
    PeerdeckAuthenticationError,
    PeerdeckConnectionError,
    PeerdeckForbiddenError,
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckServerError,
    PeerdeckTimeoutError,
)
from peerdeck.syncthing import SyncthingClient, normalize_device_id
from peerdeck.syncthing.client import parse_version

from ..samples import sample_http, sample_json
from .conftest import KEY, URL

DEVICE_B = "3OGYH3P-V72GFVB-DH6PHLE-YZWNOY2-76ID3SP-UL2ECFR-FCTEFQ3-AAWFRAG"


def sent(mock: aioresponses, method: str, path: str) -> list[tuple[YURL, dict[str, Any]]]:
    """Requests made with ``method`` to ``path`` (any query): their URL and keyword arguments."""
    return [
        (url, call.kwargs)
        for (m, url), calls in mock.requests.items()
        if m == method and url.path == path
        for call in calls
    ]


async def test_key_goes_in_x_api_key_and_never_bearer_by_default(mocked: aioresponses, client: SyncthingClient) -> None:
    mocked.get(f"{URL}/rest/system/ping", payload=sample_json("syncthing", "system_ping"))
    assert await client.system_ping() is True
    [(_, kwargs)] = sent(mocked, "GET", "/rest/system/ping")
    assert kwargs["headers"]["X-API-Key"] == KEY
    assert "Authorization" not in kwargs["headers"]


async def test_bearer_is_opt_in(mocked: aioresponses) -> None:
    mocked.get(f"{URL}/rest/system/ping", payload={"ping": "pong"})
    async with SyncthingClient(URL, api_key=KEY, use_bearer=True) as st:
        await st.system_ping()
    [(_, kwargs)] = sent(mocked, "GET", "/rest/system/ping")
    assert kwargs["headers"]["Authorization"] == f"Bearer {KEY}"


def test_missing_key_is_an_input_error() -> None:
    with pytest.raises(PeerdeckInputError, match="API key"):
        SyncthingClient(URL, api_key=" ")


async def test_system_routes_read_recorded_answers(mocked: aioresponses, client: SyncthingClient) -> None:
    for name in ("status", "version", "connections"):
        mocked.get(f"{URL}/rest/system/{name}", payload=sample_json("syncthing", f"system_{name}"))
    status = await client.system_status()
    assert status["myID"].startswith("OH4DIKR")
    assert (await client.system_version())["version"] == "v1.19.2-ds1"
    connections = await client.system_connections()
    assert connections["connections"][DEVICE_B]["connected"] is True


async def test_system_pause_resume_one_device_or_all(mocked: aioresponses, client: SyncthingClient) -> None:
    pattern = re.compile(rf"^{re.escape(URL)}/rest/system/(pause|resume).*$")
    mocked.post(pattern, status=200, repeat=True)
    await client.system_pause(DEVICE_B.lower().replace("-", ""))
    await client.system_resume()
    [(pause_url, _)] = sent(mocked, "POST", "/rest/system/pause")
    assert pause_url.query["device"] == DEVICE_B
    [(resume_url, _)] = sent(mocked, "POST", "/rest/system/resume")
    assert "device" not in resume_url.query


async def test_invalid_device_id_fails_before_sending(mocked: aioresponses, client: SyncthingClient) -> None:
    with pytest.raises(PeerdeckInputError, match="not a Syncthing device id"):
        await client.system_pause("BAD")
    assert not mocked.requests


def test_normalize_device_id() -> None:
    assert normalize_device_id(DEVICE_B.replace("-", "").lower()) == DEVICE_B
    with pytest.raises(PeerdeckInputError):
        normalize_device_id(DEVICE_B[:-1] + "1")


def test_parse_version() -> None:
    assert parse_version("v1.19.2-ds1") == (1, 19, 2)
    assert parse_version("v2.0.0-rc.1") == (2, 0, 0)
    assert parse_version("garbage") == ()


async def test_config_routes(mocked: aioresponses, client: SyncthingClient) -> None:
    mocked.get(f"{URL}/rest/config/folders", payload=sample_json("syncthing", "config_folders"))
    mocked.get(f"{URL}/rest/config/devices", payload=sample_json("syncthing", "config_devices"))
    mocked.patch(f"{URL}/rest/config/folders/my%20folder%2F1", status=200)
    mocked.patch(f"{URL}/rest/config/devices/{DEVICE_B}", status=200)
    mocked.get(f"{URL}/rest/config/options", payload={"reconnectionIntervalS": 60})
    mocked.get(f"{URL}/rest/config/restart-required", payload={"requiresRestart": False})
    mocked.delete(f"{URL}/rest/config/folders/demo", status=200)
    folders = await client.config_folders()
    assert [f["id"] for f in folders] == ["default", "demo"]
    assert len(await client.config_devices()) == 2
    await client.config_folder_patch("my folder/1", {"paused": True})
    await client.config_device_patch(DEVICE_B, {"paused": False})
    assert (await client.config_options())["reconnectionIntervalS"] == 60
    assert await client.config_restart_required() is False
    await client.config_folder_delete("demo")
    [(_, kwargs)] = sent(mocked, "PATCH", "/rest/config/folders/my folder/1")
    assert kwargs["json"] == {"paused": True}
    with pytest.raises(PeerdeckInputError, match="unknown config section"):
        await client.config_section("secrets")


async def test_db_routes(mocked: aioresponses, client: SyncthingClient) -> None:
    db = re.escape(f"{URL}/rest/db/")
    mocked.get(re.compile(rf"^{db}completion\?.*$"), payload=sample_json("syncthing", "db_completion_remote"))
    mocked.get(re.compile(rf"^{db}browse\?.*$"), payload=sample_json("syncthing", "db_browse"))
    mocked.get(re.compile(rf"^{db}file\?.*$"), payload=sample_json("syncthing", "db_file"))
    mocked.get(re.compile(rf"^{db}status\?.*$"), payload=sample_json("syncthing", "db_status"))
    mocked.post(re.compile(rf"^{db}prio\?.*$"), payload=sample_json("syncthing", "db_need"))
    mocked.post(re.compile(rf"^{db}scan\?.*$"), status=200)
    assert (await client.db_completion("demo", DEVICE_B))["completion"] == 100
    assert [e["name"] for e in await client.db_browse("demo", prefix="sub", levels=2)] == ["file1.bin", "hello.txt"]
    assert (await client.db_file("demo", "hello.txt"))["global"]["size"] == 6
    assert (await client.db_status("demo"))["state"] == "idle"
    assert (await client.db_prio("demo", "hello.txt"))["page"] == 1
    await client.db_scan("demo", subs=["a dir", "b"], next_s=5)
    [(url, _)] = sent(mocked, "GET", "/rest/db/completion")
    assert dict(url.query) == {"folder": "demo", "device": DEVICE_B}
    [(url, _)] = sent(mocked, "GET", "/rest/db/browse")
    assert dict(url.query) == {"folder": "demo", "prefix": "sub", "levels": "2"}
    [(url, _)] = sent(mocked, "POST", "/rest/db/scan")
    assert url.query.getall("sub") == ["a dir", "b"]
    assert url.query["next"] == "5"
    with pytest.raises(PeerdeckInputError):
        await client.db_scan(subs=["x"])


async def test_db_need_pages_until_short_page(mocked: aioresponses, client: SyncthingClient) -> None:
    def page(n: int, count: int) -> dict[str, Any]:
        items = [{"name": f"f{n}-{i}"} for i in range(count)]
        return {"page": n, "perpage": 2, "progress": items[:1], "queued": items[1:], "rest": []}

    need = re.compile(rf"^{re.escape(URL)}/rest/db/need\?.*$")
    mocked.get(need, payload=page(1, 2))
    mocked.get(need, payload=page(2, 1))
    items = await client.db_need_all("demo", perpage=2)
    assert [i["name"] for i in items] == ["f1-0", "f1-1", "f2-0"]
    pages = [url.query["page"] for url, _ in sent(mocked, "GET", "/rest/db/need")]
    assert pages == ["1", "2"]


async def test_events_parameters_and_disk_events(mocked: aioresponses, client: SyncthingClient) -> None:
    events = re.compile(rf"^{re.escape(URL)}/rest/events(/disk)?\?.*$")
    mocked.get(events, payload=sample_json("syncthing", "events_filtered_after_subscribe"))
    mocked.get(events, payload=[])
    got = await client.events(since=3, limit=10, timeout=5, events=["FolderPaused", "StateChanged"])
    assert got[0]["type"] == "FolderPaused"
    assert await client.disk_events(since=1, timeout=0) == []
    [(url, _)] = sent(mocked, "GET", "/rest/events")
    assert dict(url.query) == {"since": "3", "limit": "10", "timeout": "5", "events": "FolderPaused,StateChanged"}
    [(disk_url, _)] = sent(mocked, "GET", "/rest/events/disk")
    assert dict(disk_url.query) == {"since": "1", "timeout": "0"}


async def test_stats_svc_and_health(mocked: aioresponses, client: SyncthingClient) -> None:
    mocked.get(f"{URL}/rest/stats/device", payload=sample_json("syncthing", "stats_device"))
    mocked.get(f"{URL}/rest/stats/folder", payload=sample_json("syncthing", "stats_folder"))
    mocked.get(re.compile(rf"^{re.escape(URL)}/rest/svc/random/string.*$"), payload={"random": "abc"})
    mocked.get(re.compile(rf"^{re.escape(URL)}/rest/svc/deviceid.*$"), payload={"error": "incorrect length"})
    mocked.get(f"{URL}/rest/noauth/health", payload={"status": "OK"})
    assert DEVICE_B in await client.stats_device()
    assert "demo" in await client.stats_folder()
    assert await client.svc_random_string(3) == "abc"
    with pytest.raises(PeerdeckInputError, match="incorrect length"):
        await client.svc_deviceid("x")
    assert await client.noauth_health() is True


@pytest.mark.parametrize(("version", "route"), [("v1.19.2-ds1", "system/debug"), ("v2.1.3", "system/loglevels")])
async def test_log_levels_follow_the_version(
    mocked: aioresponses, client: SyncthingClient, version: str, route: str
) -> None:
    mocked.get(f"{URL}/rest/system/version", payload={"version": version})
    mocked.get(f"{URL}/rest/{route}", payload={"facilities": {"api": "REST API"}})
    assert "facilities" in await client.log_levels()


async def test_host_check_403_says_what_to_fix(mocked: aioresponses, client: SyncthingClient) -> None:
    status, _, _ = sample_http("syncthing", "host_check")
    mocked.get(f"{URL}/rest/system/status", status=status, body="Host check error\n")
    with pytest.raises(PeerdeckForbiddenError, match="insecureSkipHostcheck") as caught:
        await client.system_status()
    assert KEY not in str(caught.value)


async def test_csrf_403_means_missing_or_wrong_key(mocked: aioresponses, client: SyncthingClient) -> None:
    status, _, _ = sample_http("syncthing", "no_key_403")
    mocked.get(f"{URL}/rest/system/status", status=status, body="CSRF Error\n")
    with pytest.raises(PeerdeckAuthenticationError, match="API Key") as caught:
        await client.system_status()
    assert KEY not in str(caught.value)


async def test_csrf_with_bearer_hints_at_old_versions(mocked: aioresponses) -> None:
    mocked.get(f"{URL}/rest/system/ping", status=403, body="CSRF Error\n")
    async with SyncthingClient(URL, api_key=KEY, use_bearer=True) as st:
        with pytest.raises(PeerdeckAuthenticationError, match=r"1\.23\.7"):
            await st.system_ping()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, "Not Authorized", PeerdeckAuthenticationError),
        (403, "Forbidden", PeerdeckForbiddenError),
        (404, "no such folder\n", PeerdeckNotFoundError),
        (500, "no such folder\n", PeerdeckNotFoundError),
        (404, "404 page not found\n", PeerdeckNotSupportedError),
        (500, '"BAD": device ID invalid: incorrect length\n', PeerdeckInputError),
        (500, "internal error", PeerdeckServerError),
        (503, "", PeerdeckServerError),
    ],
)
async def test_http_errors_map_onto_the_tree(
    mocked: aioresponses, client: SyncthingClient, status: int, body: str, error: type[Exception]
) -> None:
    mocked.get(re.compile(rf"^{re.escape(URL)}/rest/db/completion.*$"), status=status, body=body)
    with pytest.raises(error) as caught:
        await client.db_completion("demo")
    assert KEY not in str(caught.value)


async def test_bad_json_and_wrong_shapes(mocked: aioresponses, client: SyncthingClient) -> None:
    mocked.get(f"{URL}/rest/system/status", body="{not json", content_type="application/json")
    mocked.get(f"{URL}/rest/config/folders", payload={"not": "a list"})
    mocked.get(f"{URL}/rest/system/version", payload=["not", "an", "object"])
    with pytest.raises(PeerdeckInvalidResponseError, match="invalid JSON"):
        await client.system_status()
    with pytest.raises(PeerdeckInvalidResponseError, match="not a list"):
        await client.config_folders()
    with pytest.raises(PeerdeckInvalidResponseError, match="not an object"):
        await client.system_version()


async def test_timeouts_and_connection_failures(mocked: aioresponses, client: SyncthingClient) -> None:
    mocked.get(f"{URL}/rest/system/status", exception=TimeoutError())
    mocked.get(f"{URL}/rest/system/ping", exception=aiohttp.ClientConnectionError("refused"))
    with pytest.raises(PeerdeckTimeoutError):
        await client.system_status()
    with pytest.raises(PeerdeckConnectionError):
        await client.system_ping()

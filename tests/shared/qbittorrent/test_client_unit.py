"""qBittorrent client against recorded answers: login rules, versions, errors, every family."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aioresponses import aioresponses

from peerdeck import (
    PeerdeckAuthenticationError,
    PeerdeckBannedError,
    PeerdeckHostRejectedError,
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckResponseError,
    PeerdeckServerError,
)
from peerdeck.qbittorrent import QBittorrentClient

from ..samples import sample_http, sample_json

URL = "http://192.0.2.10:8080"
API = f"{URL}/api/v2"
HASH = "09a0b17c0563950a1c8df2b4181654cf9725493f"


@pytest.fixture
async def client() -> AsyncIterator[QBittorrentClient]:
    async with QBittorrentClient(URL, username="admin", password="pw") as qbt:
        yield qbt


def _login_ok(mocked: aioresponses, cookie: str = "SID=abc") -> None:
    mocked.post(f"{API}/auth/login", body="Ok.", headers={"Set-Cookie": f"{cookie}; HttpOnly; path=/"})


def _calls(mocked: aioresponses, method: str, route: str) -> int:
    return sum(len(v) for (m, u), v in mocked.requests.items() if m == method and u.path == f"/api/v2/{route}")


def _version(mocked: aioresponses, version: str) -> None:
    mocked.get(f"{API}/app/webapiVersion", body=version, repeat=True)


async def test_login_then_cookie_on_requests(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        _login_ok(mocked)
        mocked.get(f"{API}/transfer/info", payload=sample_json("qbittorrent", "transfer_info"))
        info = await client.transfer_info()
        assert "dl_info_speed" in info
        (request,) = mocked.requests[("GET", next(u for m, u in mocked.requests if m == "GET"))]
        assert request.kwargs["headers"]["Cookie"] == "SID=abc"
        assert "Referer" not in request.kwargs["headers"] and "Origin" not in request.kwargs["headers"]


async def test_qbittorrent_52_login_204_with_port_cookie(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", status=204, headers={"Set-Cookie": "QBT_SID_8080=xyz; HttpOnly"})
        mocked.get(f"{API}/app/version", body="v5.2.0")
        assert await client.app_version() == "v5.2.0"
        request = next(v for (m, u), v in mocked.requests.items() if m == "GET")[0]
        assert request.kwargs["headers"]["Cookie"] == "QBT_SID_8080=xyz"


async def test_wrong_password_old_style_is_final(client: QBittorrentClient) -> None:
    status, _, body = sample_http("qbittorrent", "login_wrong_password")
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", status=status, body=body, repeat=True)
        with pytest.raises(PeerdeckAuthenticationError) as caught:
            await client.app_version()
        assert "pw" not in str(caught.value).replace("password", "")
        # A second call must not try again (five failures ban the address).
        with pytest.raises(PeerdeckAuthenticationError, match="not retrying"):
            await client.app_version()
        assert _calls(mocked, "POST", "auth/login") == 1
        client.reset_login()
        with pytest.raises(PeerdeckAuthenticationError):
            await client.app_version()
        assert _calls(mocked, "POST", "auth/login") == 2


async def test_wrong_password_52_style_401(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", status=401)
        mocked.get(f"{API}/app/version", status=403, body="Forbidden")  # not logged in: the Host was accepted
        with pytest.raises(PeerdeckAuthenticationError):
            await client.login()


async def test_a_401_from_the_host_header_check_is_named_and_is_no_failed_login(client: QBittorrentClient) -> None:
    """qBittorrent (4.5.2 and 5.3.0, tried on loopback) answers every request 401 when the Host header's port
    is not its own ("Invalid Host header, port mismatch"), where an unauthenticated app/version gets 403."""
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", status=401, body="Unauthorized", repeat=True)
        mocked.get(f"{API}/app/version", status=401, body="Unauthorized", repeat=True)
        with pytest.raises(PeerdeckHostRejectedError, match="Host header"):
            await client.login()
        with pytest.raises(PeerdeckHostRejectedError):  # the credentials were never judged: no lock-out
            await client.login()


async def test_banned_login(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", status=403, body="Your IP address has been banned")
        with pytest.raises(PeerdeckBannedError, match="banned"):
            await client.login()


async def test_expired_session_relogs_in_once(client: QBittorrentClient) -> None:
    status, _, body = sample_http("qbittorrent", "no_session_403")
    with aioresponses() as mocked:
        _login_ok(mocked, "SID=first")
        mocked.get(f"{API}/app/version", status=status, body=body)
        _login_ok(mocked, "SID=second")
        mocked.get(f"{API}/app/version", body="v4.5.2")
        assert await client.app_version() == "v4.5.2"
        assert _calls(mocked, "POST", "auth/login") == 2


async def test_still_forbidden_after_relogin_is_an_auth_error(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        _login_ok(mocked)
        _login_ok(mocked)
        mocked.get(f"{API}/app/version", status=403, repeat=True)
        with pytest.raises(PeerdeckAuthenticationError, match="even after a fresh login"):
            await client.app_version()
        assert _calls(mocked, "POST", "auth/login") == 2


async def test_api_key_uses_bearer_and_never_logs_in() -> None:
    async with QBittorrentClient(URL, api_key="qbt_secret") as qbt:
        with aioresponses() as mocked:
            mocked.get(f"{API}/app/version", body="v5.2.0")
            mocked.get(f"{API}/transfer/info", status=403)
            assert await qbt.app_version() == "v5.2.0"
            request = next(v for (m, u), v in mocked.requests.items() if u.path.endswith("version"))[0]
            assert request.kwargs["headers"]["Authorization"] == "Bearer qbt_secret"
            with pytest.raises(PeerdeckAuthenticationError) as caught:
                await qbt.transfer_info()
            assert "qbt_secret" not in str(caught.value)
            assert _calls(mocked, "POST", "auth/login") == 0


@pytest.mark.parametrize(
    ("version", "pause_route", "resume_route", "paused_filter"),
    [("2.8.19", "pause", "resume", "paused"), ("2.11.2", "stop", "start", "stopped")],
)
async def test_pause_resume_routes_follow_api_version(
    client: QBittorrentClient, version: str, pause_route: str, resume_route: str, paused_filter: str
) -> None:
    with aioresponses() as mocked:
        _login_ok(mocked)
        _version(mocked, version)
        mocked.post(f"{API}/torrents/{pause_route}", body="")
        mocked.post(f"{API}/torrents/{resume_route}", body="")
        await client.torrents_stop([HASH])
        await client.torrents_start("all")
        assert _calls(mocked, "POST", f"torrents/{pause_route}") == 1
        assert _calls(mocked, "POST", f"torrents/{resume_route}") == 1
        assert await client.status_filter_name("paused") == paused_filter
        assert await client.status_filter_name("active") == "active"
        # The version is asked once and cached.
        assert _calls(mocked, "GET", "app/webapiVersion") == 1


async def test_count_needs_50(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        _login_ok(mocked)
        _version(mocked, "2.8.19")
        with pytest.raises(PeerdeckNotSupportedError):
            await client.torrents_count()


async def test_recorded_reads(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        _login_ok(mocked)
        mocked.get(f"{API}/torrents/info", payload=sample_json("qbittorrent", "torrents_info"))
        mocked.get(
            re.compile(rf"{API}/torrents/properties\?hash=.*"),
            payload=sample_json("qbittorrent", "torrents_properties"),
        )
        mocked.get(re.compile(rf"{API}/torrents/files\?hash=.*"), payload=sample_json("qbittorrent", "torrents_files"))
        mocked.get(
            re.compile(rf"{API}/torrents/trackers\?hash=.*"), payload=sample_json("qbittorrent", "torrents_trackers")
        )
        mocked.get(f"{API}/app/preferences", payload=sample_json("qbittorrent", "app_preferences"))
        mocked.get(f"{API}/app/buildInfo", payload=sample_json("qbittorrent", "app_buildInfo"))
        torrents = await client.torrents_info()
        assert {t["hash"] for t in torrents}
        one = torrents[0]["hash"]
        assert "save_path" in await client.torrents_properties(one)
        assert (await client.torrents_files(one))[0]["name"]
        assert isinstance(await client.torrents_trackers(one), list)
        assert "web_ui_port" in await client.app_preferences()
        assert "libtorrent" in await client.app_build_info()


async def test_bad_hash_never_reaches_the_daemon(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        with pytest.raises(PeerdeckInputError):
            await client.torrents_delete(["not-a-hash"])
        with pytest.raises(PeerdeckInputError):
            await client.torrents_stop([])
        assert not mocked.requests


async def test_add_rejections_are_input_errors(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        _login_ok(mocked)
        _version(mocked, "2.8.19")
        mocked.post(f"{API}/torrents/add", body="Fails.", content_type="text/plain")
        with pytest.raises(PeerdeckInputError, match="could not add"):
            await client.torrents_add(urls=["magnet:?xt=urn:btih:" + HASH])
        mocked.post(f"{API}/torrents/add", status=415, body="Torrent file is not valid.")
        with pytest.raises(PeerdeckInputError, match="torrent file"):
            await client.torrents_add(torrent_files=[("x.torrent", b"d4:infod...e")])
        with pytest.raises(PeerdeckInputError, match=r"not a \.torrent"):
            await client.torrents_add(torrent_files=[("x.torrent", b"<html>")])
        with pytest.raises(PeerdeckInputError, match="nothing to add"):
            await client.torrents_add()


@pytest.mark.parametrize(
    ("version", "share_fields", "add_fields"),
    [
        ("2.8.19", set(), {"paused", "skip_checking"}),  # qBittorrent 4.5
        ("2.11.2", set(), {"stopped", "skip_checking"}),  # 5.0
        ("2.12.0", {"shareLimitAction"}, {"stopped", "skip_checking"}),  # 5.1
        ("2.15.3", {"shareLimitAction", "shareLimitsMode"}, {"stopped", "skip_checking"}),  # 5.2
        ("2.16.2", {"shareLimitAction", "shareLimitsMode"}, {"stopped", "seedMode"}),  # 5.3
    ],
)
async def test_parameters_follow_the_webapi_version(
    client: QBittorrentClient, version: str, share_fields: set[str], add_fields: set[str]
) -> None:
    """Each version gets the parameter names it requires, and none it does not know (one path per difference)."""
    with aioresponses() as mocked:
        _login_ok(mocked)
        _version(mocked, version)
        mocked.post(f"{API}/torrents/setShareLimits", body="")
        mocked.post(f"{API}/torrents/add", body="Ok.", content_type="text/plain")
        await client.torrents_set_share_limits([HASH], ratio_limit=1.0, seeding_time_limit=-1)
        await client.torrents_add(urls=["magnet:?xt=urn:btih:" + HASH], stopped=True, skip_checking=True)
        sent = {u.path.rsplit("/", 1)[-1]: v[0].kwargs["data"] for (m, u), v in mocked.requests.items() if m == "POST"}
    optional = {"shareLimitAction", "shareLimitsMode"}
    assert set(sent["setShareLimits"]) & optional == share_fields
    assert all(sent["setShareLimits"][field] == "Default" for field in share_fields)
    added = {field[0]["name"]: field[2] for field in sent["add"]._fields}
    assert set(added) & {"paused", "stopped", "skip_checking", "seedMode"} == add_fields
    assert all(added[field] == "true" for field in add_fields)


async def test_405_and_5xx_and_bad_json(client: QBittorrentClient) -> None:
    status, _, _ = sample_http("qbittorrent", "get_on_post_only_405")
    with aioresponses() as mocked:
        _login_ok(mocked)
        mocked.post(f"{API}/torrents/recheck", status=status)
        with pytest.raises(PeerdeckResponseError, match="405"):
            await client.torrents_recheck([HASH])
        mocked.get(f"{API}/transfer/info", status=500, body="boom")
        with pytest.raises(PeerdeckServerError):
            await client.transfer_info()
        mocked.get(f"{API}/torrents/info", body="[{oops", content_type="application/json")
        with pytest.raises(PeerdeckInvalidResponseError):
            await client.torrents_info()
        mocked.get(f"{API}/app/webapiVersion", body="garbage")
        with pytest.raises(PeerdeckInvalidResponseError):
            await client.api_version()


async def test_unknown_endpoint_on_new_versions_is_not_supported(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        _login_ok(mocked)
        mocked.get(f"{API}/app/networkInterfaceList", status=404, body="Endpoint does not exist")
        with pytest.raises(PeerdeckNotSupportedError):
            await client.app_network_interfaces()


async def test_search_family_with_recorded_answers(client: QBittorrentClient) -> None:
    _, _, start_body = sample_http("qbittorrent", "search_start_no_python")
    with aioresponses() as mocked:
        _login_ok(mocked)
        mocked.get(f"{API}/search/plugins", payload=sample_json("qbittorrent", "search_plugins"))
        mocked.post(f"{API}/search/start", body=start_body, content_type="application/json")
        mocked.get(
            re.compile(rf"{API}/search/status\?id=\d+"), payload=sample_json("qbittorrent", "search_status_no_plugins")
        )
        mocked.get(
            re.compile(rf"{API}/search/results.*"), payload=sample_json("qbittorrent", "search_results_no_plugins")
        )
        mocked.post(f"{API}/search/stop", body="")
        mocked.post(f"{API}/search/delete", status=404)
        assert await client.search_plugins() == []
        search_id = await client.search_start("ubuntu")
        assert search_id == 853600255
        assert (await client.search_status(search_id))[0]["status"] == "Stopped"
        assert (await client.search_results(search_id))["results"] == []
        await client.search_stop(search_id)
        with pytest.raises(PeerdeckNotFoundError, match="no search job"):
            await client.search_delete(search_id)
        with pytest.raises(PeerdeckInputError):
            await client.search_start("   ")


async def test_search_start_409_is_not_supported(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        _login_ok(mocked)
        mocked.post(f"{API}/search/start", status=409)
        with pytest.raises(PeerdeckNotSupportedError, match="cannot search"):
            await client.search_start("x")


async def test_forms_and_params_for_acting_calls(client: QBittorrentClient) -> None:
    with aioresponses() as mocked:
        _login_ok(mocked)
        _version(mocked, "2.8.19")
        for route in ("setCategory", "addTags", "setShareLimits", "filePrio", "setLocation", "setDownloadLimit"):
            mocked.post(f"{API}/torrents/{route}", body="")
        mocked.post(f"{API}/transfer/toggleSpeedLimitsMode", body="")
        mocked.get(f"{API}/transfer/speedLimitsMode", body="0")
        mocked.post(f"{API}/torrents/editTracker", body="")
        await client.torrents_set_category([HASH], "movies")
        await client.torrents_add_tags([HASH], ["a", "b"])
        await client.torrents_set_share_limits([HASH], ratio_limit=2.0, seeding_time_limit=-1)
        await client.torrents_file_priority(HASH, [0, 2], 7)
        await client.torrents_set_location([HASH], "/data")
        await client.torrents_set_download_limit([HASH], 1000)
        await client.transfer_set_speed_limits_mode(True)
        await client.torrents_edit_tracker(HASH, "http://a/announce", "http://b/announce")
        sent = {
            u.path.rsplit("/", 1)[-1]: v[0].kwargs.get("data") for (m, u), v in mocked.requests.items() if m == "POST"
        }
        assert sent["setCategory"] == {"hashes": HASH, "category": "movies"}
        assert sent["addTags"] == {"hashes": HASH, "tags": "a,b"}
        assert sent["setShareLimits"]["inactiveSeedingTimeLimit"] == "-2"
        assert sent["filePrio"] == {"hash": HASH, "id": "0|2", "priority": "7"}
        assert sent["editTracker"]["origUrl"] == "http://a/announce"
        assert "toggleSpeedLimitsMode" in sent
        with pytest.raises(PeerdeckInputError):
            await client.torrents_file_priority(HASH, [0], 3)
        with pytest.raises(PeerdeckInputError):
            await client.transfer_set_upload_limit(-1)

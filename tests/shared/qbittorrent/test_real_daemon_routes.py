"""Every endpoint family of the WebUI API, called against a real qbittorrent-nox 4.5.2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from peerdeck import PeerdeckInputError, PeerdeckNotFoundError, PeerdeckNotSupportedError
from peerdeck.qbittorrent import QBittorrentClient

from ..torrents import make_torrent
from .test_real_daemon import _wait_for

pytestmark = pytest.mark.daemon


@pytest.fixture
async def torrent(qbt_client: QBittorrentClient, save_path: Path) -> str:
    content, info_hash = make_torrent(f"routes-{id(qbt_client)}.bin", size=50_000)
    await qbt_client.torrents_add(torrent_files=[("routes.torrent", content)], stopped=True, save_path=str(save_path))

    async def present() -> bool:
        return bool(await qbt_client.torrents_info(hashes=[info_hash]))

    await _wait_for(present)
    return info_hash


async def test_app_and_log_and_transfer_families(qbt_client: QBittorrentClient) -> None:
    await qbt_client.app_set_preferences({"max_active_downloads": 7})
    assert (await qbt_client.app_preferences())["max_active_downloads"] == 7
    assert isinstance(await qbt_client.app_network_interfaces(), list)
    assert isinstance(await qbt_client.app_network_interface_addresses(), list)
    log = await qbt_client.log_main()
    assert log
    assert {"id", "message", "timestamp", "type"} <= set(log[0])
    assert await qbt_client.log_main(last_known_id=log[-1]["id"]) == []
    assert isinstance(await qbt_client.log_peers(), list)
    await qbt_client.transfer_set_download_limit(1_024_000)
    assert await qbt_client.transfer_download_limit() == 1_024_000
    await qbt_client.transfer_set_upload_limit(512_000)
    assert await qbt_client.transfer_upload_limit() == 512_000
    await qbt_client.transfer_set_download_limit(0)
    await qbt_client.transfer_set_upload_limit(0)
    await qbt_client.transfer_ban_peers(["127.0.0.2:6881"])
    # Routes newer daemons have, refused by older ones with a clear error rather than a 404.
    version = await qbt_client.api_version()
    if version >= (2, 14, 1):  # qBittorrent 5.2
        assert (await qbt_client.app_rotate_api_key()).startswith("qbt_")
    else:
        with pytest.raises(PeerdeckNotSupportedError):
            await qbt_client.app_rotate_api_key()
    if version >= (2, 10, 0):  # qBittorrent 5.0
        assert await qbt_client.torrents_count() == len(await qbt_client.torrents_info())
    else:
        with pytest.raises(PeerdeckNotSupportedError):
            await qbt_client.torrents_count()


async def test_torrent_detail_and_tuning_calls(qbt_client: QBittorrentClient, torrent: str) -> None:
    assert await qbt_client.torrents_webseeds(torrent) == []
    # A paused torrent that was never checked has no piece states yet; its hashes are known.
    assert isinstance(await qbt_client.torrents_piece_states(torrent), list)
    assert len(await qbt_client.torrents_piece_hashes(torrent)) == 4
    peers = await qbt_client.sync_torrent_peers(torrent)
    assert "peers" in peers
    await qbt_client.torrents_add_trackers(torrent, ["http://127.0.0.1:9/announce"])
    await qbt_client.torrents_edit_tracker(torrent, "http://127.0.0.1:9/announce", "http://127.0.0.1:10/announce")
    urls = {t["url"] for t in await qbt_client.torrents_trackers(torrent)}
    assert "http://127.0.0.1:10/announce" in urls
    await qbt_client.torrents_remove_trackers(torrent, ["http://127.0.0.1:10/announce"])
    assert "http://127.0.0.1:10/announce" not in {t["url"] for t in await qbt_client.torrents_trackers(torrent)}
    await qbt_client.torrents_add_peers([torrent], ["127.0.0.1:6881"])
    await qbt_client.torrents_set_download_limit([torrent], 2048)
    await qbt_client.torrents_set_upload_limit([torrent], 1024)
    assert (await qbt_client.torrents_download_limit([torrent]))[torrent] == 2048
    assert (await qbt_client.torrents_upload_limit([torrent]))[torrent] == 1024
    await qbt_client.torrents_set_share_limits([torrent], ratio_limit=1.5, seeding_time_limit=60)
    await qbt_client.torrents_set_auto_management([torrent], False)
    await qbt_client.torrents_toggle_sequential_download([torrent])
    await qbt_client.torrents_toggle_first_last_piece_priority([torrent])
    await qbt_client.torrents_set_super_seeding([torrent], False)
    await qbt_client.torrents_set_force_start([torrent], False)
    await qbt_client.torrents_reannounce([torrent])
    await qbt_client.torrents_recheck([torrent])
    (record,) = await qbt_client.torrents_info(hashes=[torrent])
    assert record["seq_dl"] is True
    # Share limits took (5.x refuses the call outright without the parameters its WebAPI version requires).
    assert (record["ratio_limit"], record["seeding_time_limit"]) == (1.5, 60)
    assert record["f_l_piece_prio"] is True
    assert record["ratio_limit"] == 1.5
    # Queueing is off in the test profile: qBittorrent answers 409, which says so.
    with pytest.raises(PeerdeckNotSupportedError, match="queueing"):
        await qbt_client.torrents_top_priority([torrent])
    await qbt_client.torrents_rename_file(torrent, f"routes-{id(qbt_client)}.bin", "renamed.bin")

    async def renamed() -> bool:  # qBittorrent renames a moment later
        return bool((await qbt_client.torrents_files(torrent))[0]["name"] == "renamed.bin")

    await _wait_for(renamed)
    with pytest.raises(PeerdeckInputError):
        await qbt_client.torrents_rename_file(torrent, "no-such-file", "x")
    await qbt_client.torrents_delete([torrent])


async def test_categories_and_tags(qbt_client: QBittorrentClient, torrent: str, save_path: Path) -> None:
    await qbt_client.torrents_create_category("films", str(save_path / "films"))
    await qbt_client.torrents_edit_category("films", str(save_path / "movies"))
    categories = await qbt_client.torrents_categories()
    assert categories["films"]["savePath"].rstrip("/").endswith("movies")
    with pytest.raises(PeerdeckInputError):
        await qbt_client.torrents_create_category("films")
    with pytest.raises(PeerdeckInputError, match="no category"):
        await qbt_client.torrents_set_category([torrent], "does-not-exist")
    await qbt_client.torrents_set_location([torrent], str(save_path / "moved"))
    await qbt_client.torrents_remove_categories(["films"])
    assert "films" not in await qbt_client.torrents_categories()
    await qbt_client.torrents_create_tags(["one", "two"])
    await qbt_client.torrents_add_tags([torrent], ["one"])
    await qbt_client.torrents_remove_tags([torrent], ["one"])
    await qbt_client.torrents_delete_tags(["one", "two"])
    assert not {"one", "two"} & set(await qbt_client.torrents_tags())
    await qbt_client.torrents_delete([torrent])


async def test_rss_family(qbt_client: QBittorrentClient) -> None:
    await qbt_client.rss_add_folder("peerdeck")
    await qbt_client.rss_add_feed("http://127.0.0.1:9/feed.xml", "peerdeck\\local")
    items = await qbt_client.rss_items()
    assert "local" in items["peerdeck"]
    with pytest.raises(PeerdeckInputError):
        await qbt_client.rss_add_folder("peerdeck")
    await qbt_client.rss_refresh_item("peerdeck\\local")
    await qbt_client.rss_mark_as_read("peerdeck\\local")
    await qbt_client.rss_move_item("peerdeck\\local", "peerdeck\\renamed")
    assert "renamed" in (await qbt_client.rss_items(with_data=True))["peerdeck"]
    await qbt_client.rss_set_rule("films", {"enabled": False, "mustContain": "1080p", "affectedFeeds": []})
    await qbt_client.rss_rename_rule("films", "movies")
    assert "movies" in await qbt_client.rss_rules()
    assert await qbt_client.rss_matching_articles("movies") == {}
    await qbt_client.rss_remove_rule("movies")
    assert "movies" not in await qbt_client.rss_rules()
    await qbt_client.rss_remove_item("peerdeck")
    assert "peerdeck" not in await qbt_client.rss_items()


async def test_search_family_on_a_host_without_plugins(qbt_client: QBittorrentClient) -> None:
    assert await qbt_client.search_plugins() == []
    await qbt_client.search_enable_plugin(["none"], True)
    await qbt_client.search_update_plugins()
    await qbt_client.search_uninstall_plugin(["none"])
    if shutil.which("python3") is None and await qbt_client.api_version() >= (2, 11, 0):
        # qBittorrent 5 refuses a search outright (409) when its host has no Python: a clear not-supported error.
        with pytest.raises(PeerdeckNotSupportedError, match="cannot search"):
            await qbt_client.search_start("debian")
        return
    search_id = await qbt_client.search_start("debian")
    # 4.5.2 accepts the job and stops it at once with no results (see the recorded samples).
    status = await qbt_client.search_status(search_id)
    assert status[0]["id"] == search_id
    results = await qbt_client.search_results(search_id)
    assert results["results"] == []
    await qbt_client.search_stop(search_id)
    await qbt_client.search_delete(search_id)
    with pytest.raises(PeerdeckNotFoundError):
        await qbt_client.search_results(search_id)

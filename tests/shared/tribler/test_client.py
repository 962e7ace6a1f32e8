"""Every route of the seed document (and the other routes the client offers), against the conformance core."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from peerdeck import PeerdeckInputError, PeerdeckNotFoundError, PeerdeckResponseError
from peerdeck.tribler import TriblerClient
from peerdeck.tribler.client import error_message, file_uri

from ..torrents import bencode, make_torrent
from .conftest import Core
from .server import API_KEY, torrent_metadata

MAGNET_HASH = "4344503b7e797ebf31582327a5baae35b11bda01"
MAGNET = f"magnet:?xt=urn:btih:{MAGNET_HASH}&dn=Big+Buck+Bunny"


def multi_file_torrent() -> tuple[bytes, str]:
    info = {
        "name": "album",
        "piece length": 16384,
        "pieces": b"\0" * 20 * 3,
        "files": [{"length": 20000, "path": ["cd1", "a.flac"]}, {"length": 15000, "path": ["b.mp4"]}],
    }
    return bencode({"info": info}), hashlib.sha1(bencode(info), usedforsecurity=False).hexdigest()


async def test_list_is_empty_with_checkpoints(client: TriblerClient) -> None:
    data = await client.downloads()
    assert data == {"downloads": [], "checkpoints": {"total": 0, "loaded": 0, "all_loaded": True}}


async def test_add_by_magnet_with_hops_and_destination(core: Core, client: TriblerClient) -> None:
    infohash = await client.add_download(MAGNET, anon_hops=2, destination="/srv/films")
    assert infohash == MAGNET_HASH
    record = (await client.downloads())["downloads"][0]
    assert record["name"] == "Big Buck Bunny"
    assert record["status"] == "METADATA"
    assert record["hops"] == 2
    assert record["safe_seeding"] is True
    assert record["destination"] == "/srv/films"


async def test_add_base32_magnet(core: Core, client: TriblerClient) -> None:
    topic = base64.b32encode(bytes.fromhex(MAGNET_HASH)).decode()
    assert await client.add_download(f"magnet:?xt=urn:btih:{topic}") == MAGNET_HASH


async def test_plain_download_without_safe_seeding(core: Core, client: TriblerClient) -> None:
    await client.add_download(MAGNET, anon_hops=0, safe_seeding=False)
    record = (await client.downloads())["downloads"][0]
    assert (record["hops"], record["anon_download"], record["safe_seeding"]) == (0, False, False)


async def test_hops_without_safe_seeding_is_refused_by_tribler(client: TriblerClient) -> None:
    with pytest.raises(PeerdeckResponseError, match="without safe seeding") as caught:
        await client.add_download(MAGNET, anon_hops=1, safe_seeding=False)
    assert caught.value.status == 400


async def test_add_by_url(core: Core, client: TriblerClient) -> None:
    content, infohash = make_torrent("film.mkv", 40_000)
    url = core.server.host_file(core.app, "film.torrent", content)
    assert await client.add_download(url) == infohash
    record = (await client.downloads())["downloads"][0]
    assert (record["name"], record["size"], record["status"]) == ("film.mkv", 40_000, "DOWNLOADING")


async def test_add_by_unreachable_url_reports_tribler_error(core: Core, client: TriblerClient) -> None:
    with pytest.raises(PeerdeckResponseError) as caught:
        await client.add_download(f"{core.url}/ui/fixtures/missing.torrent")
    assert caught.value.status == 500


async def test_add_by_file_path(tmp_path: Path, client: TriblerClient) -> None:
    content, infohash = make_torrent("disk.iso", 20_000)
    path = tmp_path / "disk.torrent"
    path.write_bytes(content)
    assert await client.add_torrent_path(str(path), anon_hops=1) == infohash
    assert (await client.downloads())["downloads"][0]["hops"] == 1


async def test_add_raw_torrent_body_with_query_options(core: Core, client: TriblerClient) -> None:
    content, infohash = multi_file_torrent()
    assert await client.add_torrent(content, anon_hops=0, safe_seeding=False, destination="/music") == infohash
    download = core.server.downloads[infohash]
    assert (download.hops, download.safe_seeding, download.destination) == (0, False, "/music")
    assert download.files == [("cd1/a.flac", 20000), ("b.mp4", 15000)]


async def test_corrupt_raw_torrent_is_a_server_error(client: TriblerClient) -> None:
    with pytest.raises(PeerdeckResponseError, match="corrupt torrent file"):
        await client.add_torrent(b"d4:infoi1e")


async def test_add_refusals_before_sending(core: Core, client: TriblerClient) -> None:
    with pytest.raises(PeerdeckInputError, match=r"not a \.torrent"):
        await client.add_torrent(b"<html>")
    with pytest.raises(PeerdeckInputError, match="negative"):
        await client.add_download(MAGNET, anon_hops=-1)
    assert core.server.requests == []


@pytest.mark.parametrize(
    "uri", ["ftp://example.org/a.torrent", "magnet:?dn=no-hash", "relative/path.torrent", "file:relative"]
)
async def test_bad_uris_are_refused_before_sending(core: Core, client: TriblerClient, uri: str) -> None:
    with pytest.raises(PeerdeckInputError):
        await client.add_download(uri)
    assert core.server.requests == []


async def test_list_flags_peers_pieces_files(core: Core, client: TriblerClient) -> None:
    content, infohash = multi_file_torrent()
    await client.add_torrent(content)
    await client.add_download(MAGNET)
    plain = (await client.downloads())["downloads"]
    assert all("peers" not in r and "pieces" not in r and "files" not in r for r in plain)
    rich = await client.downloads(get_peers=True, get_pieces=True, get_files=True, get_availability=True)
    by_hash = {r["infohash"]: r for r in rich["downloads"]}
    assert by_hash[infohash]["peers"] == []
    assert by_hash[infohash]["pieces"]
    assert by_hash[infohash]["availability"] == 0.0
    assert [f["name"] for f in by_hash[infohash]["files"]] == ["cd1/a.flac", "b.mp4"]
    assert by_hash[MAGNET_HASH]["files"] == []


async def test_list_flags_limited_to_one_infohash(client: TriblerClient) -> None:
    content, infohash = multi_file_torrent()
    await client.add_torrent(content)
    await client.add_download(MAGNET)
    data = await client.downloads(get_peers=True, get_files=True, infohash=infohash.upper())
    by_hash = {r["infohash"]: r for r in data["downloads"]}
    assert set(by_hash) == {infohash, MAGNET_HASH}
    assert "peers" in by_hash[infohash] and "files" in by_hash[infohash]
    assert "peers" not in by_hash[MAGNET_HASH] and "files" not in by_hash[MAGNET_HASH]
    excluded = await client.downloads(excluded=MAGNET_HASH)
    assert [r["infohash"] for r in excluded["downloads"]] == [infohash]


async def test_patch_states(core: Core, client: TriblerClient, tmp_path: Path) -> None:
    content, infohash = make_torrent("a.bin")
    await client.add_torrent(content)
    await client.stop(infohash)
    assert core.server.downloads[infohash].status == "STOPPED"
    assert core.server.downloads[infohash].user_stopped is True
    await client.resume(infohash)
    assert core.server.downloads[infohash].status == "DOWNLOADING"
    await client.move_storage(infohash, str(tmp_path))
    assert core.server.downloads[infohash].destination == str(tmp_path)
    (tmp_path / "done").mkdir()
    await client.move_storage(infohash, str(tmp_path), completed_dir=str(tmp_path / "done"))
    assert core.server.downloads[infohash].completed_dir == str(tmp_path / "done")


async def test_move_storage_needs_an_existing_directory(client: TriblerClient, tmp_path: Path) -> None:
    content, infohash = make_torrent("a.bin")
    await client.add_torrent(content)
    with pytest.raises(PeerdeckResponseError, match="does not exist"):
        await client.move_storage(infohash, str(tmp_path / "missing"))
    with pytest.raises(PeerdeckInputError):
        await client.update_download(infohash, state="move_storage")


async def test_patch_selected_files_limits_ratio_queue(core: Core, client: TriblerClient) -> None:
    content, infohash = multi_file_torrent()
    await client.add_torrent(content)
    await client.update_download(
        infohash,
        selected_files=[1],
        upload_limit=5000,
        download_limit=10000,
        seeding_ratio=1.5,
        queue_position="queue_down",
        auto_managed=True,
    )
    download = core.server.downloads[infohash]
    assert download.selected_files == [1]
    assert (download.upload_limit, download.download_limit, download.seeding_ratio) == (5000, 10000, 1.5)
    assert (download.queue_position, download.auto_managed) == (0, True)
    files = await client.files(infohash)
    assert [(f["index"], f["included"]) for f in files] == [(0, False), (1, True)]
    # Tribler ignores a literal 0, so "no limit" is sent as -1.
    await client.update_download(infohash, upload_limit=0, download_limit=0)
    assert (download.upload_limit, download.download_limit) == (-1, -1)


async def test_patch_selected_file_out_of_range(client: TriblerClient) -> None:
    content, infohash = multi_file_torrent()
    await client.add_torrent(content)
    with pytest.raises(PeerdeckResponseError, match="index out of range"):
        await client.update_download(infohash, selected_files=[5])


async def test_patch_hops_alone(core: Core, client: TriblerClient) -> None:
    content, infohash = make_torrent("a.bin")
    await client.add_torrent(content, anon_hops=1)
    await client.set_hops(infohash, 3)
    assert core.server.downloads[infohash].hops == 3
    with pytest.raises(PeerdeckInputError, match="of its own"):
        await client.update_download(infohash, state="stop", anon_hops=2)
    with pytest.raises(PeerdeckInputError, match="nothing to change"):
        await client.update_download(infohash)


async def test_patch_unknown_download_is_not_found(client: TriblerClient) -> None:
    with pytest.raises(PeerdeckNotFoundError, match="this download does not exist"):
        await client.stop(MAGNET_HASH)


async def test_remove_with_and_without_data(core: Core, client: TriblerClient) -> None:
    first, first_hash = make_torrent("one.bin")
    second, second_hash = make_torrent("two.bin")
    await client.add_torrent(first)
    await client.add_torrent(second)
    await client.remove_download(first_hash, remove_data=True)
    await client.remove_download(second_hash, remove_data=False)
    assert core.server.removed == {first_hash: True, second_hash: False}
    assert (await client.downloads())["downloads"] == []
    with pytest.raises(PeerdeckNotFoundError):
        await client.remove_download(first_hash, remove_data=False)


async def test_files_of_a_download(core: Core, client: TriblerClient) -> None:
    content, infohash = multi_file_torrent()
    await client.add_torrent(content)
    core.server.downloads[infohash].progress = 0.5
    files = await client.files(infohash)
    assert files == [
        {"index": 0, "name": "cd1/a.flac", "size": 20000, "included": True, "progress": 0.5},
        {"index": 1, "name": "b.mp4", "size": 15000, "included": True, "progress": 0.5},
    ]


async def test_torrent_file_round_trips(client: TriblerClient) -> None:
    content, infohash = multi_file_torrent()
    await client.add_torrent(content)
    assert await client.torrent(infohash) == content


async def test_torrent_of_a_magnet_without_metadata_is_not_found(client: TriblerClient) -> None:
    await client.add_download(MAGNET)
    with pytest.raises(PeerdeckNotFoundError):
        await client.torrent(MAGNET_HASH)


async def test_stream_whole_file_and_ranges(core: Core, client: TriblerClient) -> None:
    content, infohash = multi_file_torrent()
    await client.add_torrent(content)
    expected = core.server.downloads[infohash].file_data(1)
    whole = b"".join([chunk async for chunk in client.stream(infohash, 1)])
    assert whole == expected
    middle = b"".join([chunk async for chunk in client.stream(infohash, 1, start=100, end=199)])
    assert middle == expected[100:200]
    tail = b"".join([chunk async for chunk in client.stream(infohash, 1, start=14000)])
    assert tail == expected[14000:]


async def test_stream_errors(client: TriblerClient) -> None:
    content, infohash = multi_file_torrent()
    await client.add_torrent(content)
    with pytest.raises(PeerdeckNotFoundError):
        _ = [chunk async for chunk in client.stream(infohash, 7)]
    with pytest.raises(PeerdeckResponseError) as caught:
        _ = [chunk async for chunk in client.stream(infohash, 1, start=15000)]
    assert caught.value.status == 416
    with pytest.raises(PeerdeckInputError):
        _ = [chunk async for chunk in client.stream(infohash, 1, start=10, end=5)]


async def test_trackers(core: Core, client: TriblerClient) -> None:
    content, infohash = make_torrent("a.bin")
    await client.add_torrent(content)
    await client.add_tracker(infohash, "udp://tracker.example:80")
    assert core.server.downloads[infohash].trackers == ["udp://tracker.example:80"]
    await client.force_announce(infohash, "udp://tracker.example:80")
    await client.remove_tracker(infohash, "udp://tracker.example:80")
    assert core.server.downloads[infohash].trackers == []
    with pytest.raises(PeerdeckResponseError, match="url parameter missing"):
        await client.add_tracker(infohash, "")


async def test_local_search_completions_popular(core: Core, client: TriblerClient) -> None:
    core.server.local_catalogue = [
        torrent_metadata("Ubuntu 24.04 desktop", 6_000_000_000, seeders=900),
        torrent_metadata("Ubuntu 22.04 server", 2_000_000_000, seeders=5),
        torrent_metadata("Debian 12 netinst", 600_000_000, seeders=50),
    ]
    data = await client.local_search("ubuntu", include_total=True)
    assert [r["name"] for r in data["results"]] == ["Ubuntu 24.04 desktop", "Ubuntu 22.04 server"]
    assert (data["first"], data["last"], data["total"]) == (1, 50, 2)
    page = await client.local_search("ubuntu", first=2, last=2, metadata_type="torrent", sort_by="size")
    assert [r["name"] for r in page["results"]] == ["Ubuntu 22.04 server"]
    assert "total" not in page
    assert await client.completions("ub") == ["ubuntu"]
    popular = await client.popular_torrents()
    assert popular[0]["name"] == "Ubuntu 24.04 desktop"
    with pytest.raises(PeerdeckInputError):
        await client.local_search("  ")


async def test_remote_search_returns_uuid_and_peers(core: Core, client: TriblerClient) -> None:
    search = await client.remote_search("ubuntu", text_filter="iso", metadata_type="torrent", first=1, last=20)
    assert len(search.request_uuid) == 36
    assert search.peers == tuple(core.server.search_peers)
    with pytest.raises(PeerdeckInputError):
        await client.remote_search("")


async def test_settings_get_and_update(core: Core, client: TriblerClient) -> None:
    settings = await client.settings()
    assert settings["libtorrent"]["download_defaults"]["number_hops"] == 1
    await client.update_settings({"libtorrent": {"download_defaults": {"number_hops": 2}}})
    changed = await client.settings()
    defaults = changed["libtorrent"]["download_defaults"]
    assert defaults == {**settings["libtorrent"]["download_defaults"], "number_hops": 2}
    assert {key: value for key, value in changed.items() if key != "libtorrent"} == {
        key: value for key, value in settings.items() if key != "libtorrent"
    }
    with pytest.raises(PeerdeckInputError):
        await client.update_settings({})


async def test_statistics_and_events_info(core: Core, client: TriblerClient) -> None:
    tribler = await client.statistics_tribler()
    assert tribler["peers"] == 12
    assert tribler["libtorrent"]["total_recv_bytes"] == 0
    assert await client.statistics_ipv8() == {"total_up": 1000, "total_down": 2000}
    info = await client.events_info()
    assert info == {"public_key": core.server.public_key, "version": "8.4.3", "sessions": "0"}


async def test_key_travels_in_the_header(core: Core, client: TriblerClient) -> None:
    await client.events_info()
    assert core.server.requests == [("GET", "/api/events/info")]


async def test_api_suffix_in_the_url_is_tolerated(core: Core) -> None:
    async with TriblerClient(core.url + "/api/", api_key=API_KEY) as tribler:
        assert (await tribler.events_info())["version"] == "8.4.3"


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("/home/me/My Films/a.torrent", "file:///home/me/My%20Films/a.torrent"),
        ("C:\\Users\\me\\a.torrent", "file:///C:/Users/me/a.torrent"),
    ],
)
def test_file_uri_for_posix_and_windows_hosts(path: str, uri: str) -> None:
    assert file_uri(path) == uri


def test_relative_path_is_refused() -> None:
    with pytest.raises(PeerdeckInputError, match="absolute path"):
        file_uri("a.torrent")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": {"handled": true, "message": "this download does not exist"}}', "this download does not exist"),
        (b'{"error": "Unauthorized access"}', "Unauthorized access"),
        (b'{"error": {"handled": false, "message": "Traceback\\n  x\\nKeyError: 1\\n"}}', "KeyError: 1"),
        (b"<html>Not Found</html>", ""),
        (b'{"error": 3}', ""),
        (b"[]", ""),
    ],
)
def test_error_message_shapes(body: bytes, message: str) -> None:
    assert error_message(body) == message

"""Every route, called through the client, answered as a real SoulSync 3.1.9 answers it."""

from __future__ import annotations

import aiohttp
import pytest
from yarl import URL

from peerdeck.exceptions import (
    PeerdeckConflictError,
    PeerdeckInputError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckResponseError,
    PeerdeckServerError,
)
from peerdeck.soulsync import SoulSyncClient, SoulSyncForbiddenError

from .conftest import FakeClock
from .server import SoulSyncServer

DAFT_PUNK_TRACK = {"id": "3135556", "name": "Around the World", "artists": [{"name": "Daft Punk"}]}
DISCOVERY = {"id": "302127", "name": "Discovery", "album_type": "album", "release_date": "2001-03-12"}


async def test_system_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    status = await client.system_status()
    assert status.uptime == "2h 15m 30s"
    assert status.uptime_seconds == 8130
    assert status.services == {"spotify": True, "soulseek": True, "hydrabase": False}
    activity = await client.system_activity()
    assert activity[0]["title"] == "Download complete"
    server.add_task("downloading")
    server.add_task("completed")
    stats = await client.system_stats()
    assert (stats.artists, stats.albums, stats.tracks) == (4, 3, 4)
    assert stats.database_size_mb == 1.5
    assert stats.database_last_update == "2026-03-03 12:00:00"
    assert stats.active_downloads == 1


async def test_search_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    tracks = await client.search_tracks("Daft Punk Around the World", limit=5)
    assert tracks.source == "deezer"
    assert [t["name"] for t in tracks.items] == ["Around the World"]
    albums = await client.search_albums("Discovery", limit=10)
    assert [a["id"] for a in albums.items] == ["302127"]
    artists = await client.search_artists("Daft Punk")
    assert artists.items[0]["followers"] == 5000000
    sent = [entry for entry in server.log if entry[1] == "/api/v1/search/tracks"]
    assert len(sent) == 1


async def test_search_offline_is_empty_not_an_error(client: SoulSyncClient, server: SoulSyncServer) -> None:
    server.catalogue_online = False
    result = await client.search_tracks("Daft Punk", source="itunes")
    assert result.items == ()
    assert result.source == "itunes"


async def test_search_needs_text(client: SoulSyncClient, server: SoulSyncServer) -> None:
    with pytest.raises(PeerdeckInputError):
        await client.search_albums("   ")
    assert server.log == []


async def test_downloads_paging_and_filter(client: SoulSyncClient, server: SoulSyncServer) -> None:
    server.advance_downloads = False
    for _ in range(7):
        server.add_task("downloading", username="peer", track_name="x")
    server.add_task("failed")
    first = await client.downloads(limit=3)
    assert (len(first.downloads), first.total, first.limit, first.offset) == (3, 8, 3, 0)
    assert first.downloads[0].status == "failed"  # newest status change first
    failed = await client.downloads(statuses=["failed", "not_found"])
    assert [t.status for t in failed.downloads] == ["failed"]
    assert server.log[-1][2]["status"] == "failed,not_found"
    everything = await client.all_downloads()
    assert len({t.id for t in everything}) == 8


async def test_all_downloads_pages_by_500(client: SoulSyncClient, server: SoulSyncServer) -> None:
    server.advance_downloads = False
    for _ in range(501):
        server.add_task("completed")
    tasks = await client.all_downloads()
    assert len(tasks) == 501
    offsets = [entry[2]["offset"] for entry in server.log if entry[1] == "/api/v1/downloads"]
    assert offsets == ["0", "500"]


async def test_cancel_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    server.advance_downloads = False
    task = server.add_task("downloading", username="alice", filename="a.flac")
    await client.cancel_download(task.slskd_id, "alice")
    assert task.status == "cancelled"
    with pytest.raises(PeerdeckInputError):
        await client.cancel_download(task.slskd_id, "")


async def test_cancel_all_clears_only_the_soulseek_daemon(client: SoulSyncClient, server: SoulSyncServer) -> None:
    server.advance_downloads = False
    other = server.add_task("downloading", username="bob")
    server.soulseek_downloads.append({"username": "bob", "filename": "b.flac"})
    await client.cancel_all_downloads()
    assert server.soulseek_downloads == []
    assert other.status == "downloading"


async def test_request_routes_when_fixed(client: SoulSyncClient, server: SoulSyncServer) -> None:
    server.request_bug = False
    receipt = await client.request(
        "Daft Punk - One More Time", notify_url="http://127.0.0.1:1/hook", metadata={"from": "discord"}
    )
    assert receipt.status == "queued"
    assert server.request_bodies[-1] == {
        "query": "Daft Punk - One More Time",
        "notify_url": "http://127.0.0.1:1/hook",
        "metadata": {"from": "discord"},
    }
    assert receipt.query == "Daft Punk - One More Time"
    status = await client.request_status(receipt.request_id)
    # The record stops at "downloading": the file went to the Soulseek daemon, named by its remote path.
    assert status.status == "downloading"
    assert status.download_id == "@@music\\Daft Punk - One More Time.flac"
    assert (await client.downloads()).downloads == ()  # and SoulSync lists no task for it
    with pytest.raises(PeerdeckNotFoundError) as err:
        await client.request_status("no-such-request")
    assert err.value.code == "NOT_FOUND"


async def test_an_unmatched_request_ends_not_found(client: SoulSyncClient, server: SoulSyncServer) -> None:
    server.request_bug = False
    server.unmatched_queries.add("Nobody - Nothing")
    receipt = await client.request("Nobody - Nothing")
    status = await client.request_status(receipt.request_id)
    assert (status.status, status.error) == ("not_found", "No match found")
    assert server.soulseek_downloads == []


async def test_wishlist_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    assert await client.add_to_wishlist(DAFT_PUNK_TRACK, failure_reason="No sources found") is True
    # Already there: 200 {created: false, track}, the entry updated, never a 409.
    assert await client.add_to_wishlist(DAFT_PUNK_TRACK, failure_reason="Retry") is False
    album_track = {"id": "9", "name": "Digital Love", "artists": ["Daft Punk"], "album": {"album_type": "album"}}
    await client.add_to_wishlist(album_track, quality_profile_id=2)
    page = await client.wishlist(limit=1)
    assert len(page.items) == 1
    assert page.items[0]["failure_reason"] == "Retry"
    assert page.pagination is not None
    assert (page.pagination.total, page.pagination.total_pages, page.pagination.has_next) == (2, 2, True)
    albums = await client.wishlist(category="albums", fields=["id", "track_id", "track_name"])
    assert albums.items == ({"id": 2, "track_id": "9", "track_name": "Digital Love"},)
    with pytest.raises(PeerdeckResponseError) as unknown:
        await client.add_to_wishlist(album_track, quality_profile_id=99)
    assert (unknown.value.status, unknown.value.code) == (400, "BAD_REQUEST")
    with pytest.raises(PeerdeckInputError):
        await client.add_to_wishlist({})


async def test_wishlist_deletion_wants_the_track_id_not_the_row(client: SoulSyncClient) -> None:
    await client.add_to_wishlist(DAFT_PUNK_TRACK)
    row = (await client.wishlist()).items[0]
    assert (row["id"], row["track_id"]) == (1, "3135556")
    with pytest.raises(PeerdeckNotFoundError):
        await client.remove_from_wishlist(str(row["id"]))
    await client.remove_from_wishlist(row["track_id"])
    assert (await client.wishlist()).items == ()
    with pytest.raises(PeerdeckNotFoundError):
        await client.remove_from_wishlist("3135556")


async def test_wishlist_processing_needs_a_json_body(
    client: SoulSyncClient, server: SoulSyncServer, api_key: str
) -> None:
    await client.add_to_wishlist(DAFT_PUNK_TRACK)
    headers = {"Authorization": f"Bearer {api_key}"}
    async with aiohttp.ClientSession() as session:
        bare = await session.post(server.url / "api/v1/wishlist/process", headers=headers)
        assert bare.status == 200
        assert (await bare.json())["data"] == {"message": "Wishlist processing started."}
    assert server.tasks == {}  # the 200 proved nothing
    await client.process_wishlist()
    assert server.bodies[-1] == b"{}"
    assert [t.track_name for t in server.tasks.values()] == ["Around the World"]
    # A second call while that batch runs starts a second batch of the same track (issue 24).
    await client.process_wishlist()
    assert [t.track_name for t in server.tasks.values()] == ["Around the World"] * 2
    server.auto_wishlist_running = True
    with pytest.raises(PeerdeckConflictError):
        await client.process_wishlist()


async def test_a_wishlist_run_can_be_limited_to_some_tracks(client: SoulSyncClient, server: SoulSyncServer) -> None:
    """``track_ids`` reaches SoulSync's own handler (``start_wishlist_missing_downloads``)."""
    await client.add_to_wishlist(DAFT_PUNK_TRACK)
    roygbiv = {"id": "1109731", "name": "Roygbiv", "artists": ["Boards of Canada"]}
    added = await client.wishlist_add(roygbiv)
    assert (added.created, added.track_id) == (True, "1109731")
    assert added.track["track_data"]["album"] == {"name": "Roygbiv", "images": []}  # SoulSync fills in an album
    await client.process_wishlist(["1109731", "no-such-track", "1109731"])
    assert server.runs == [["1109731"]]
    assert [(t.track_name, t.artist_name) for t in server.tasks.values()] == [("Roygbiv", "Boards of Canada")]
    with pytest.raises(PeerdeckInputError):
        await client.process_wishlist([])


async def test_tracks_of_one_album_are_searched_as_an_album_first(
    client: SoulSyncClient, server: SoulSyncServer, clock: FakeClock
) -> None:
    for number, name in enumerate(("One More Time", "Aerodynamic"), start=3135553):
        await client.add_to_wishlist({"id": str(number), "name": name, "artists": ["Daft Punk"], "album": DISCOVERY})
    await client.add_to_wishlist({"id": "1109731", "name": "Roygbiv", "artists": ["Boards of Canada"]})
    await client.process_wishlist()
    assert [t.track_name for t in (await client.downloads()).downloads] == ["Roygbiv"]  # the single at once
    clock.now += 44.0
    assert len((await client.downloads()).downloads) == 1
    clock.now += 1.0
    tasks = (await client.downloads()).downloads
    assert sorted(t.track_name or "" for t in tasks) == ["Aerodynamic", "One More Time", "Roygbiv"]
    album_batches = {t.batch_id for t in tasks if t.album_name == "Discovery"}
    assert len(album_batches) == 1 and None not in album_batches


async def test_the_key_list_of_the_web_ui_needs_no_key(server: SoulSyncServer, api_key: str) -> None:
    """``GET /api/v1/api-keys-internal`` is a web-UI route: no key, no rate limit (issue 24)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(server.rate_limit + 1):
            async with session.get(server.url / "api/v1/api-keys-internal") as response:
                assert response.status == 200
                body = await response.json()
    (key,) = body["data"]["keys"]
    assert key["key_prefix"] == api_key[:11] and "key_hash" not in key
    assert server.hits == []


async def test_wishlist_is_scoped_by_profile(client: SoulSyncClient, server: SoulSyncServer) -> None:
    client.profile_id = 2
    await client.add_to_wishlist(DAFT_PUNK_TRACK)
    assert server.log[-1][3]["X-Profile-Id"] == "2"
    assert 2 in server.wishlists
    client.profile_id = None
    assert (await client.wishlist()).items == ()


async def test_watchlist_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    await client.add_to_watchlist("4tZwfgrHOc3mvqYlEYSvnL", "Daft Punk", source="spotify")
    await client.add_to_watchlist("27", "Daft Punk", source="deezer", quality_profile_id=2)
    artists = await client.watchlist(fields=["id", "source", "deezer_artist_id", "itunes_artist_id"])
    assert artists[1] == {"id": 2, "source": "deezer", "deezer_artist_id": "27", "itunes_artist_id": None}
    full = (await client.watchlist())[0]
    assert "artist_id" not in full
    assert (full["id"], full["spotify_artist_id"], full["quality_profile_id"]) == (1, "4tZwfgrHOc3mvqYlEYSvnL", None)
    assert full["include_albums"] and not full["include_live"] and not full["include_compilations"]
    updated = await client.update_watchlist_artist("27", {"include_live": True}, quality_profile_id=1)
    assert updated["updated"] == {"include_live": True, "quality_profile_id": 1}
    with pytest.raises(PeerdeckResponseError) as err:
        await client.call("PATCH", "watchlist/27", json_body={"colour": "red"})
    assert (err.value.status, err.value.code) == (400, "BAD_REQUEST")
    await client.scan_watchlist()
    with pytest.raises(PeerdeckConflictError):
        await client.scan_watchlist()
    await client.remove_from_watchlist("4tZwfgrHOc3mvqYlEYSvnL")
    with pytest.raises(PeerdeckNotFoundError):
        await client.remove_from_watchlist("4tZwfgrHOc3mvqYlEYSvnL")
    with pytest.raises(PeerdeckInputError):
        await client.add_to_watchlist("", "Daft Punk", source="spotify")
    with pytest.raises(PeerdeckInputError):
        await client.add_to_watchlist("27", "Daft Punk", source="myspace")
    with pytest.raises(PeerdeckInputError):
        await client.update_watchlist_artist("27", {})


async def test_a_numeric_artist_id_needs_its_source(client: SoulSyncClient, server: SoulSyncServer) -> None:
    """Without ``source`` SoulSync files a numeric Deezer id as iTunes; the client refuses to guess."""
    with pytest.raises(PeerdeckInputError, match="source="):
        await client.add_to_watchlist("27", "Daft Punk")
    assert server.log == []
    await client.call("POST", "watchlist", json_body={"artist_id": "27", "artist_name": "Daft Punk"})
    stored = (await client.watchlist())[0]
    assert (stored["source"], stored["itunes_artist_id"], stored["deezer_artist_id"]) == ("itunes", "27", None)


async def test_library_routes(client: SoulSyncClient) -> None:
    page = await client.library_artists(letter="d", page=1, limit=25)
    assert [a["name"] for a in page.items] == ["Daft Punk"]
    assert page.pagination is not None and page.pagination.total == 1
    searched = await client.library_artists(search="boards", watchlist="unwatched", fields=["name"])
    assert searched.items == ({"name": "Boards of Canada"},)
    artist = await client.library_artist("3")
    assert artist["artist"]["id"] == "3"  # library ids are strings
    assert [a["title"] for a in artist["albums"]] == ["Discovery"]
    assert [a["id"] for a in await client.library_artist_albums(3)] == ["10"]
    albums = await client.library_albums(year=2002)
    assert [a["title"] for a in albums.items] == ["Geogaddi"]
    assert [a["title"] for a in (await client.library_albums(artist_id="3")).items] == ["Discovery"]
    album = await client.library_album("10")
    assert len(album["tracks"]) == 2
    assert [t["title"] for t in await client.library_album_tracks(10)] == ["One More Time", "Aerodynamic"]
    assert [t["id"] for t in await client.library_tracks(artist="aphex")] == ["103"]
    assert (await client.library_track("102"))["title"] == "Music Is Math"
    genres = await client.library_genres(source="albums")
    assert {"name": "idm", "count": 1} in genres
    recent = await client.library_recently_added(kind="tracks", limit=2)
    assert [t["id"] for t in recent] == ["103", "102"]
    found = await client.library_lookup("artist", "spotify", "4tZwfgrHOc3mvqYlEYSvnL")
    assert found["id"] == "3"
    stats = await client.library_stats()
    assert stats["tracks"] == 4
    with pytest.raises(PeerdeckInputError):
        await client.library_tracks()


async def test_non_numeric_library_ids_are_refused_before_sending(
    client: SoulSyncClient, server: SoulSyncServer
) -> None:
    jellyfin = (await client.library_artists(search="jellyfin")).items[0]
    assert jellyfin["id"] == "f3a9c2e1b7"  # listed, but SoulSync cannot look it up
    sent = len(server.log)
    for lookup in (client.library_artist, client.library_artist_albums, client.library_album, client.library_track):
        with pytest.raises(PeerdeckNotSupportedError, match="numeric ids"):
            await lookup(jellyfin["id"])
    with pytest.raises(PeerdeckNotSupportedError):
        await client.library_albums(artist_id=jellyfin["id"])
    assert len(server.log) == sent
    with pytest.raises(PeerdeckResponseError) as bad:
        await client.call("GET", "library/artists/f3a9c2e1b7")
    assert (bad.value.status, bad.value.code) == (400, "BAD_REQUEST")
    assert "artist_id must be an integer." in str(bad.value)


async def test_playlist_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    lists = await client.playlists(source="tidal")
    assert lists[0]["id"] == "tidal-pl1"
    detail = await client.playlist("spotify-pl1")
    assert detail["playlist"]["tracks"][0]["name"] == "Around the World"
    sync = await client.sync_playlist("spotify-pl1", playlist_name="Road Trip", tracks=[DAFT_PUNK_TRACK])
    assert sync["playlist_id"] == "spotify-pl1"
    assert server.log[-1][1] == "/api/v1/playlists/spotify-pl1/sync"


async def test_settings_routes(client: SoulSyncClient, server: SoulSyncServer, api_key: str) -> None:
    settings = await client.settings()
    assert settings["soulseek"]["api_key"] == "***REDACTED***"
    assert settings["soulseek"]["search_timeout"] == 60
    # SoulSync lists each key's hash among the settings; the client drops it.
    assert [k["label"] for k in settings["api_keys"]] == ["tests"]
    assert all("key_hash" not in k for k in settings["api_keys"])
    async with aiohttp.ClientSession() as session:
        raw = await session.get(server.url / "api/v1/settings", headers={"Authorization": f"Bearer {api_key}"})
        assert "key_hash" in (await raw.json())["data"]["settings"]["api_keys"][0]
    updated = await client.update_settings({"soulseek.search_timeout": 90, "api_keys": [], "logging.level": "DEBUG"})
    assert updated == ["soulseek.search_timeout", "logging.level"]
    assert server.settings["soulseek"]["search_timeout"] == 90
    with pytest.raises(PeerdeckInputError):
        await client.update_settings({})


async def test_api_key_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    created = await client.create_api_key("Discord Bot")
    assert created.key.startswith("sk_")
    assert created.key_prefix == created.key[:11]
    assert created.key not in repr(created)
    keys = await client.api_keys()
    assert [k.label for k in keys] == ["tests", "Discord Bot"]
    assert all(not hasattr(k, "key") for k in keys)
    await client.revoke_api_key(created.id)
    assert [k.label for k in await client.api_keys()] == ["tests"]
    with pytest.raises(PeerdeckNotFoundError):
        await client.revoke_api_key(created.id)


async def test_discover_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    client.profile_id = 3
    pool = await client.discover_pool(page=2, limit=2, source="itunes")
    assert [t["name"] for t in pool.items] == ["Roygbiv"]
    assert pool.pagination is not None and (pool.pagination.total, pool.pagination.has_prev) == (3, True)
    assert server.log[-1][3]["X-Profile-Id"] == "3"
    assert (await client.discover_pool_metadata())["track_count"] == 2
    assert (await client.discover_similar_artists())["artists"][0]["name"] == "Boards of Canada"
    assert (await client.discover_recent_releases())["releases"][0]["name"] == "Discovery"
    snapshots = (await client.discover_bubbles())["snapshots"]
    assert set(snapshots) == {"artist_bubbles", "search_bubbles", "discover_downloads"}
    assert snapshots["search_bubbles"] is None
    assert (await client.discover_bubbles("artist_bubbles"))["snapshot"]["bubbles"][0]["name"] == "idm"
    with pytest.raises(PeerdeckNotFoundError):
        await client.discover_bubbles("search_bubbles")
    with pytest.raises(PeerdeckInputError):
        await client.discover_bubbles("genre")
    with pytest.raises(PeerdeckResponseError) as bad:
        await client.call("GET", "discover/bubbles/genre")
    assert (bad.value.status, bad.value.code) == (400, "BAD_REQUEST")


async def test_profile_routes(client: SoulSyncClient) -> None:
    created = await client.create_profile({"name": "Kid"})
    profile_id = created["profile"]["id"]
    assert (await client.profile(profile_id))["profile"]["name"] == "Kid"
    assert (await client.update_profile(profile_id, {"name": "Teen"}))["profile"]["name"] == "Teen"
    assert [p["name"] for p in await client.profiles()] == ["Admin", "Teen"]
    await client.delete_profile(profile_id)
    with pytest.raises(PeerdeckNotFoundError):
        await client.profile(profile_id)
    with pytest.raises(SoulSyncForbiddenError) as admin:
        await client.delete_profile(1)
    assert (admin.value.status, admin.value.code) == (403, "FORBIDDEN")


async def test_retag_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    assert [g["id"] for g in (await client.retag_groups())["groups"]] == [7, 8]
    assert (await client.retag_group(7))["group"]["album_name"] == "Discovery"
    assert await client.retag_stats() == {"groups": 2, "tracks": 3, "artists": 2}
    await client.delete_retag_group(7)
    with pytest.raises(PeerdeckNotFoundError):
        await client.retag_group(7)
    await client.delete_retag_group(7)  # SoulSync answers 200 for an unknown group
    assert await client.delete_retag_groups() == 1  # its bulk route always fails: one by one instead
    assert (await client.retag_groups())["groups"] == []
    bulk = [entry for entry in server.log if entry[:2] == ("DELETE", "/api/v1/retag/groups")]
    assert len(bulk) == 1
    with pytest.raises(PeerdeckServerError) as err:
        await client.call("DELETE", "retag/groups")
    assert err.value.code == "RETAG_ERROR"


async def test_listenbrainz_routes(client: SoulSyncClient) -> None:
    playlists = await client.listenbrainz_playlists()
    assert playlists["playlists"][0]["id"] == "lb-weekly"
    assert (await client.listenbrainz_playlist("lb-weekly"))["playlist"]["title"] == "Weekly Jams"


async def test_cache_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    page = await client.musicbrainz_cache(page=2, limit=2)
    assert [e["key"] for e in page.items] == ["musicbrainz:2"]
    assert page.pagination is not None and page.pagination.has_prev
    assert (await client.musicbrainz_cache_stats())["path"] == "/api/v1/cache/musicbrainz/stats"
    matches = await client.discovery_match_cache()
    assert len(matches.items) == 3
    assert (await client.discovery_match_cache_stats())["path"] == "/api/v1/cache/discovery-matches/stats"


async def test_ids_are_percent_encoded(client: SoulSyncClient, server: SoulSyncServer) -> None:
    with pytest.raises(PeerdeckNotFoundError):
        await client.remove_from_wishlist("spotify:track 1")
    assert server.log[-1][1] == "/api/v1/wishlist/spotify:track 1"
    with pytest.raises(PeerdeckInputError):
        await client.remove_from_wishlist("")


async def test_an_id_with_a_slash_is_refused_not_sent(
    client: SoulSyncClient, server: SoulSyncServer, api_key: str
) -> None:
    with pytest.raises(PeerdeckInputError, match="'/'"):
        await client.remove_from_wishlist("spotify:track/1")
    assert server.log == []
    async with aiohttp.ClientSession() as session:
        url = URL(f"{server.url}/api/v1/wishlist/spotify:track%2F1", encoded=True)
        answer = await session.delete(url, headers={"Authorization": f"Bearer {api_key}"})
        assert answer.status == 405
        assert answer.content_type == "text/html"

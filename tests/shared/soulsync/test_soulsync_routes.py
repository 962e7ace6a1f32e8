"""Every route of the seed document and of the notes, called through the client."""

from __future__ import annotations

import pytest

from peerdeck.exceptions import PeerdeckConflictError, PeerdeckInputError, PeerdeckNotFoundError, PeerdeckResponseError
from peerdeck.soulsync import SoulSyncClient

from .server import SoulSyncServer

DAFT_PUNK_TRACK = {"id": "3135556", "name": "Around the World", "artists": [{"name": "Daft Punk"}]}


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
    assert (stats.artists, stats.albums, stats.tracks) == (3, 3, 4)
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
    other = server.add_task("downloading", username="bob")
    await client.cancel_all_downloads()
    assert other.status == "cancelled"
    with pytest.raises(PeerdeckInputError):
        await client.cancel_download(task.slskd_id, "")


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
    assert status.status == "searching"
    await client.downloads()
    await client.downloads()
    status = await client.request_status(receipt.request_id)
    assert status.status == "downloading"
    assert status.download_id is not None
    with pytest.raises(PeerdeckNotFoundError) as err:
        await client.request_status("no-such-request")
    assert err.value.code == "NOT_FOUND"


async def test_wishlist_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    assert await client.add_to_wishlist(DAFT_PUNK_TRACK, failure_reason="No sources found") is True
    with pytest.raises(PeerdeckConflictError) as err:
        await client.add_to_wishlist(DAFT_PUNK_TRACK, failure_reason="No sources found")
    assert err.value.code == "CONFLICT"
    assert await client.add_to_wishlist(DAFT_PUNK_TRACK, failure_reason="Retry") is False
    album_track = {"id": "9", "name": "Digital Love", "artists": ["Daft Punk"], "album": {"album_type": "album"}}
    await client.add_to_wishlist(album_track, quality_profile_id=2)
    page = await client.wishlist(limit=1)
    assert len(page.items) == 1
    assert page.pagination is not None
    assert (page.pagination.total, page.pagination.total_pages, page.pagination.has_next) == (2, 2, True)
    albums = await client.wishlist(category="albums", fields=["id", "name"])
    assert albums.items == ({"id": "9", "name": "Digital Love"},)
    await client.process_wishlist()
    with pytest.raises(PeerdeckConflictError):
        await client.process_wishlist()
    await client.remove_from_wishlist("3135556")
    with pytest.raises(PeerdeckNotFoundError):
        await client.remove_from_wishlist("3135556")
    with pytest.raises(PeerdeckInputError):
        await client.add_to_wishlist({})


async def test_wishlist_is_scoped_by_profile(client: SoulSyncClient, server: SoulSyncServer) -> None:
    client.profile_id = 2
    await client.add_to_wishlist(DAFT_PUNK_TRACK)
    assert server.log[-1][3]["X-Profile-Id"] == "2"
    assert 2 in server.wishlists
    client.profile_id = None
    assert (await client.wishlist()).items == ()


async def test_watchlist_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    await client.add_to_watchlist("4tZwfgrHOc3mvqYlEYSvnL", "Daft Punk")
    artists = await client.watchlist(fields=["artist_id", "artist_name"])
    assert artists == [{"artist_id": "4tZwfgrHOc3mvqYlEYSvnL", "artist_name": "Daft Punk"}]
    updated = await client.update_watchlist_artist("4tZwfgrHOc3mvqYlEYSvnL", {"include_live": False})
    assert updated["updated"] == {"include_live": False}
    with pytest.raises(PeerdeckResponseError) as err:
        await client.call("PATCH", "watchlist/4tZwfgrHOc3mvqYlEYSvnL", json_body={"colour": "red"})
    assert (err.value.status, err.value.code) == (400, "BAD_REQUEST")
    await client.scan_watchlist()
    with pytest.raises(PeerdeckConflictError):
        await client.scan_watchlist()
    await client.remove_from_watchlist("4tZwfgrHOc3mvqYlEYSvnL")
    with pytest.raises(PeerdeckNotFoundError):
        await client.remove_from_watchlist("4tZwfgrHOc3mvqYlEYSvnL")
    with pytest.raises(PeerdeckInputError):
        await client.add_to_watchlist("", "Daft Punk")
    with pytest.raises(PeerdeckInputError):
        await client.update_watchlist_artist("4tZwfgrHOc3mvqYlEYSvnL", {})


async def test_library_routes(client: SoulSyncClient) -> None:
    page = await client.library_artists(letter="d", page=1, limit=25)
    assert [a["name"] for a in page.items] == ["Daft Punk"]
    assert page.pagination is not None and page.pagination.total == 1
    searched = await client.library_artists(search="boards", watchlist="unwatched", fields=["name"])
    assert searched.items == ({"name": "Boards of Canada"},)
    artist = await client.library_artist(3)
    assert artist["artist"]["name"] == "Daft Punk"
    assert [a["title"] for a in artist["albums"]] == ["Discovery"]
    assert [a["id"] for a in await client.library_artist_albums(3)] == [10]
    albums = await client.library_albums(year=2002)
    assert [a["title"] for a in albums.items] == ["Geogaddi"]
    album = await client.library_album(10)
    assert len(album["tracks"]) == 2
    assert [t["title"] for t in await client.library_album_tracks(10)] == ["One More Time", "Aerodynamic"]
    assert [t["id"] for t in await client.library_tracks(artist="aphex")] == [103]
    assert (await client.library_track(102))["title"] == "Music Is Math"
    genres = await client.library_genres(source="albums")
    assert {"name": "idm", "count": 1} in genres
    recent = await client.library_recently_added(kind="tracks", limit=2)
    assert [t["id"] for t in recent] == [103, 102]
    found = await client.library_lookup("artist", "spotify", "4tZwfgrHOc3mvqYlEYSvnL")
    assert found["id"] == 3
    stats = await client.library_stats()
    assert stats["tracks"] == 4
    with pytest.raises(PeerdeckInputError):
        await client.library_tracks()


async def test_library_errors_keep_their_code(client: SoulSyncClient) -> None:
    with pytest.raises(PeerdeckNotFoundError) as missing:
        await client.library_artist(999)
    assert missing.value.code == "NOT_FOUND"
    assert "Artist 999 not found." in str(missing.value)
    with pytest.raises(PeerdeckResponseError) as bad:
        await client.call("GET", "library/artists/abc")
    assert (bad.value.status, bad.value.code) == (400, "BAD_REQUEST")
    with pytest.raises(PeerdeckResponseError) as provider:
        await client.library_lookup("album", "myspace", "1")
    assert provider.value.code == "BAD_REQUEST"


async def test_playlist_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    lists = await client.playlists(source="tidal")
    assert lists[0]["id"] == "tidal-pl1"
    detail = await client.playlist("spotify-pl1")
    assert detail["playlist"]["tracks"][0]["name"] == "Around the World"
    sync = await client.sync_playlist("spotify-pl1", playlist_name="Road Trip", tracks=[DAFT_PUNK_TRACK])
    assert sync["playlist_id"] == "spotify-pl1"
    assert server.log[-1][1] == "/api/v1/playlists/spotify-pl1/sync"


async def test_settings_routes(client: SoulSyncClient, server: SoulSyncServer) -> None:
    settings = await client.settings()
    assert settings["soulseek"]["api_key"] == "***REDACTED***"
    assert settings["soulseek"]["search_timeout"] == 60
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
    assert (await client.discover_pool())["profile_id"] == 3
    assert (await client.discover_pool_metadata())["track_count"] == 2
    assert (await client.discover_similar_artists())["artists"][0]["name"] == "Boards of Canada"
    assert (await client.discover_recent_releases())["releases"][0]["name"] == "Discovery"
    assert (await client.discover_bubbles())["snapshot_type"] is None
    assert (await client.discover_bubbles("decade"))["snapshot_type"] == "decade"
    assert server.log[-1][1] == "/api/v1/discover/bubbles/decade"


async def test_profile_routes(client: SoulSyncClient) -> None:
    created = await client.create_profile({"name": "Kid"})
    profile_id = created["profile"]["id"]
    assert (await client.profile(profile_id))["profile"]["name"] == "Kid"
    assert (await client.update_profile(profile_id, {"name": "Teen"}))["profile"]["name"] == "Teen"
    assert [p["name"] for p in await client.profiles()] == ["Admin", "Teen"]
    await client.delete_profile(profile_id)
    with pytest.raises(PeerdeckNotFoundError):
        await client.profile(profile_id)


async def test_retag_routes(client: SoulSyncClient) -> None:
    assert [g["id"] for g in (await client.retag_groups())["groups"]] == [7, 8]
    assert (await client.retag_group(7))["group"]["album"] == "Discovery"
    assert (await client.retag_stats())["tracks"] == 3
    await client.delete_retag_group(7)
    with pytest.raises(PeerdeckNotFoundError):
        await client.retag_group(7)
    await client.delete_retag_groups()
    assert (await client.retag_groups())["groups"] == []


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
        await client.remove_from_wishlist("spotify:track/1")
    assert server.log[-1][1] == "/api/v1/wishlist/spotify:track/1"
    with pytest.raises(PeerdeckInputError):
        await client.remove_from_wishlist("")

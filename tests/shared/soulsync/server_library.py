"""The library routes of the SoulSync conformance server (3.1.9); the library is a small fixed sample.

* **Library ids are strings** (``"12"``); a non-numeric one (a Jellyfin-style library
  entry is listed) gets 400 "artist_id must be an integer.".
"""

from __future__ import annotations

from aiohttp import web

from .catalogue import LIBRARY_ALBUMS, LIBRARY_ARTISTS, LIBRARY_TRACKS, PROVIDERS
from .common import JsonObject, envelope, error, only_fields, page_args, pagination, profile_of
from .server_watchlist import WATCH_SOURCES


class LibraryRoutes:
    """Library handlers; mixed into :class:`~.server.SoulSyncServer`, whose state they use."""

    watchlists: dict[int, list[JsonObject]]

    # ------------------------------------------------------------------ library

    @staticmethod
    def _int_id(request: web.Request, name: str) -> str | None:
        """``int(id)`` as the route does: library ids are numeric strings, anything else a 400."""
        try:
            return str(int(request.match_info[name]))
        except ValueError:
            return None

    async def library_artists(self, request: web.Request) -> web.Response:
        page, limit = page_args(request)
        search = request.query.get("search", "").lower()
        letter = request.query.get("letter", "all").lower()
        watched_ids = {
            a[f"{source}_artist_id"] for a in self.watchlists.get(profile_of(request), []) for source in WATCH_SOURCES
        } - {None}
        watch = request.query.get("watchlist", "all")
        artists = [a for a in LIBRARY_ARTISTS if search in a["name"].lower()]
        if letter == "#":
            artists = [a for a in artists if not a["name"][0].isalpha()]
        elif letter != "all":
            artists = [a for a in artists if a["name"].lower().startswith(letter)]
        if watch in ("watched", "unwatched"):
            artists = [a for a in artists if (a["spotify_artist_id"] in watched_ids) == (watch == "watched")]
        chunk = artists[(page - 1) * limit : page * limit]
        return envelope({"artists": [only_fields(a, request) for a in chunk]}, pagination(page, limit, len(artists)))

    async def library_artist(self, request: web.Request) -> web.Response:
        artist_id = self._int_id(request, "artist_id")
        if artist_id is None:
            return error("BAD_REQUEST", "artist_id must be an integer.", 400)
        artist = next((a for a in LIBRARY_ARTISTS if a["id"] == artist_id), None)
        if artist is None:
            return error("NOT_FOUND", f"Artist {artist_id} not found.", 404)
        albums = [a for a in LIBRARY_ALBUMS if a["artist_id"] == artist_id]
        return envelope({"artist": only_fields(artist, request), "albums": albums})

    async def library_artist_albums(self, request: web.Request) -> web.Response:
        artist_id = self._int_id(request, "artist_id")
        if artist_id is None:
            return error("BAD_REQUEST", "artist_id must be an integer.", 400)
        return envelope({"albums": [a for a in LIBRARY_ALBUMS if a["artist_id"] == artist_id]})

    async def library_albums(self, request: web.Request) -> web.Response:
        page, limit = page_args(request)
        search = request.query.get("search", "").lower()
        albums = [a for a in LIBRARY_ALBUMS if search in a["title"].lower()]
        for name in ("artist_id", "year"):
            if value := request.query.get(name):
                try:
                    wanted = int(value)
                except ValueError:
                    return error("BAD_REQUEST", f"{name} must be an integer.", 400)
                albums = [a for a in albums if int(a[name]) == wanted]
        chunk = albums[(page - 1) * limit : page * limit]
        return envelope({"albums": chunk}, pagination(page, limit, len(albums)))

    async def library_album(self, request: web.Request) -> web.Response:
        album_id = self._int_id(request, "album_id")
        if album_id is None:
            return error("BAD_REQUEST", "album_id must be an integer.", 400)
        album = next((a for a in LIBRARY_ALBUMS if a["id"] == album_id), None)
        if album is None:
            return error("NOT_FOUND", f"Album {album_id} not found.", 404)
        return envelope({"album": album, "tracks": [t for t in LIBRARY_TRACKS if t["album_id"] == album_id]})

    async def library_album_tracks(self, request: web.Request) -> web.Response:
        album_id = self._int_id(request, "album_id")
        if album_id is None:
            return error("BAD_REQUEST", "album_id must be an integer.", 400)
        return envelope({"tracks": [t for t in LIBRARY_TRACKS if t["album_id"] == album_id]})

    async def library_tracks(self, request: web.Request) -> web.Response:
        title = request.query.get("title", "").lower()
        artist = request.query.get("artist", "").lower()
        if not title and not artist:
            return error("BAD_REQUEST", "Provide at least 'title' or 'artist' query param.", 400)
        limit = min(200, max(1, int(request.query.get("limit", 50))))
        tracks = [t for t in LIBRARY_TRACKS if title in t["title"].lower() and artist in t["artist_name"].lower()]
        return envelope({"tracks": tracks[:limit]})

    async def library_track(self, request: web.Request) -> web.Response:
        track_id = self._int_id(request, "track_id")
        if track_id is None:
            return error("BAD_REQUEST", "track_id must be an integer.", 400)
        track = next((t for t in LIBRARY_TRACKS if t["id"] == track_id), None)
        if track is None:
            return error("NOT_FOUND", f"Track {track_id} not found.", 404)
        return envelope({"track": track})

    async def library_genres(self, request: web.Request) -> web.Response:
        source = request.query.get("source", "artists")
        if source not in ("artists", "albums"):
            return error("BAD_REQUEST", "source must be 'artists' or 'albums'.", 400)
        counts: dict[str, int] = {}
        for item in LIBRARY_ARTISTS if source == "artists" else LIBRARY_ALBUMS:
            for genre in item["genres"]:
                counts[genre] = counts.get(genre, 0) + 1
        return envelope({"genres": [{"name": g, "count": c} for g, c in sorted(counts.items())], "source": source})

    async def library_recent(self, request: web.Request) -> web.Response:
        kind = request.query.get("type", "albums")
        items = {"albums": LIBRARY_ALBUMS, "artists": LIBRARY_ARTISTS, "tracks": LIBRARY_TRACKS}.get(kind)
        if items is None:
            return error("BAD_REQUEST", "type must be 'albums', 'artists', or 'tracks'.", 400)
        limit = min(200, max(1, int(request.query.get("limit", 50))))
        return envelope({"items": list(reversed(items))[:limit], "type": kind})

    async def library_lookup(self, request: web.Request) -> web.Response:
        kind, provider, external = (request.query.get(k) for k in ("type", "provider", "id"))
        if not kind or not provider or not external:
            return error("BAD_REQUEST", "Required params: type, provider, id.", 400)
        if kind not in ("artist", "album", "track"):
            return error("BAD_REQUEST", "type must be 'artist', 'album', or 'track'.", 400)
        if provider not in PROVIDERS:
            return error("BAD_REQUEST", f"provider must be one of: {', '.join(PROVIDERS)}.", 400)
        found = next((a for a in LIBRARY_ARTISTS if a.get(f"{provider}_artist_id") == external), None)
        if kind != "artist" or found is None:
            return error("NOT_FOUND", f"No {kind} found for {provider} ID: {external}", 404)
        return envelope({kind: found})

    async def library_stats(self, request: web.Request) -> web.Response:
        return envelope(
            {
                "artists": len(LIBRARY_ARTISTS),
                "albums": len(LIBRARY_ALBUMS),
                "tracks": len(LIBRARY_TRACKS),
                "database_size_mb": 1.5,
                "last_update": "2026-03-03 12:00:00",
            }
        )

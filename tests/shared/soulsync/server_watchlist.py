"""The watchlist routes of the SoulSync conformance server (3.1.9).

* **Watchlist items**: ``id`` is a row number; the artist's id sits in the column of its
  ``source`` (``spotify_artist_id``, ``itunes_artist_id``, ``deezer_artist_id`` …). Without
  ``source`` a numeric id is filed as iTunes. ``quality_profile_id`` must name a quality
  profile (else 400). Live, remix, acoustic and compilation filters default to false.
"""

from __future__ import annotations

from aiohttp import web

from .catalogue import WATCHLIST_FILTERS
from .common import JsonObject, envelope, error, json_body, only_fields, profile_of
from .server_wishlist import QUALITY_PROFILES

WATCH_SOURCES = ("spotify", "itunes", "deezer", "discogs", "musicbrainz", "amazon")


class WatchlistRoutes:
    """Watchlist handlers; mixed into :class:`~.server.SoulSyncServer`, whose state they use."""

    watchlists: dict[int, list[JsonObject]]
    watchlist_scanning: bool

    def _next_row(self) -> int:
        raise NotImplementedError

    # ------------------------------------------------------------------ watchlist

    async def watchlist(self, request: web.Request) -> web.Response:
        artists = self.watchlists.get(profile_of(request), [])
        return envelope({"artists": [only_fields(a, request) for a in artists]})

    @staticmethod
    def _watched(artist: JsonObject, artist_id: str) -> bool:
        """``artist_id_match_sql``: an id matches any provider column."""
        return any(artist[f"{source}_artist_id"] == artist_id for source in WATCH_SOURCES)

    async def watchlist_add(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        artist_id, name = body.get("artist_id"), body.get("artist_name")
        if not artist_id or not name:
            return error("BAD_REQUEST", "Missing 'artist_id' or 'artist_name'.", 400)
        source = body.get("source")
        if source is None:
            source = "itunes" if str(artist_id).isdigit() else "spotify"  # the legacy guess
        elif source not in WATCH_SOURCES:
            return error("BAD_REQUEST", f"Unknown source. Supported: {', '.join(sorted(WATCH_SOURCES))}.", 400)
        quality = body.get("quality_profile_id")
        if quality is not None and quality not in QUALITY_PROFILES:
            return error("BAD_REQUEST", "Unknown quality_profile_id.", 400)
        artists = self.watchlists.setdefault(profile_of(request), [])
        if not any(self._watched(a, str(artist_id)) for a in artists):
            artist: JsonObject = {"id": self._next_row(), "source": source}
            artist.update({f"{s}_artist_id": str(artist_id) if s == source else None for s in WATCH_SOURCES})
            artist.update(artist_name=name, profile_id=profile_of(request), quality_profile_id=quality)
            artists.append({**artist, **WATCHLIST_FILTERS})
        return envelope({"message": f"Added {name} to watchlist."}, status=201)

    async def watchlist_remove(self, request: web.Request) -> web.Response:
        artists = self.watchlists.get(profile_of(request), [])
        for artist in artists:
            if self._watched(artist, request.match_info["artist_id"]):
                artists.remove(artist)
                return envelope({"message": "Artist removed from watchlist."})
        return error("NOT_FOUND", "Artist not found in watchlist.", 404)

    async def watchlist_update(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        updates: JsonObject = {k: v for k, v in body.items() if k in WATCHLIST_FILTERS}
        if "quality_profile_id" in body:
            if body["quality_profile_id"] not in QUALITY_PROFILES:
                return error("BAD_REQUEST", "Unknown quality_profile_id.", 400)
            updates["quality_profile_id"] = body["quality_profile_id"]
        if not updates:
            allowed = ", ".join(sorted({*WATCHLIST_FILTERS, "quality_profile_id"}))
            return error("BAD_REQUEST", f"No valid fields provided. Allowed: {allowed}", 400)
        for artist in self.watchlists.get(profile_of(request), []):
            if self._watched(artist, request.match_info["artist_id"]):
                artist.update(updates)
                return envelope({"message": "Watchlist settings updated.", "updated": updates})
        return error("NOT_FOUND", "Artist not found in watchlist.", 404)

    async def watchlist_scan(self, request: web.Request) -> web.Response:
        if self.watchlist_scanning:
            return error("CONFLICT", "Watchlist scan is already running.", 409)
        self.watchlist_scanning = True
        return envelope({"message": "Watchlist scan started."})

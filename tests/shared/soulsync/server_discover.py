"""Metadata search, discover, playlists and ListenBrainz on the SoulSync conformance server (3.1.9).

* **Metadata search offline**: ``catalogue_online=False`` answers 200 with no hits and the
  requested source, as the real one did without network.
* ``/discover/bubbles`` is ``{snapshots: {artist_bubbles, search_bubbles,
  discover_downloads}}``, another type a 400; the discover pool is paginated.

Approximated: the bodies of playlists and listenbrainz, and the catalogue contents, which are
small fixed samples.
"""

from __future__ import annotations

from aiohttp import web

from .catalogue import CATALOGUE_ALBUMS, CATALOGUE_ARTISTS, CATALOGUE_TRACKS
from .common import JsonObject, envelope, error, json_body, page_args, pagination, profile_of

BUBBLE_TYPES = ("artist_bubbles", "search_bubbles", "discover_downloads")


class DiscoverRoutes:
    """Search, discover and playlist handlers; mixed into :class:`~.server.SoulSyncServer`, whose state they use."""

    catalogue_online: bool
    bubbles: dict[str, JsonObject]

    # ------------------------------------------------------------------ search

    async def search(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        body = await json_body(request)
        query = str(body.get("query", "")).strip()
        limit = min(50, max(1, int(body.get("limit", 20))))
        source = str(body.get("source", "auto")) if kind == "tracks" else "deezer"
        if not query:
            return error("BAD_REQUEST", "Missing 'query' in request body.", 400)
        catalogue = {"tracks": CATALOGUE_TRACKS, "albums": CATALOGUE_ALBUMS, "artists": CATALOGUE_ARTISTS}[kind]
        words = query.lower().split()
        hits = []
        if self.catalogue_online:
            for item in catalogue:
                text = " ".join([str(item["name"]), *item.get("artists", []), str(item.get("album", ""))]).lower()
                if all(w in text for w in words):
                    hits.append(item)
        if not hits:
            return envelope({kind: [], "source": source})
        return envelope({kind: hits[:limit], "source": "deezer"})

    # ------------------------------------------------------------------ discover (bodies approximated)

    async def discover_pool(self, request: web.Request) -> web.Response:
        page, limit = page_args(request, default_limit=100, max_limit=500)
        source = request.query.get("source")
        if source and source not in ("spotify", "itunes"):
            return error("BAD_REQUEST", "source must be 'spotify' or 'itunes'.", 400)
        tracks = CATALOGUE_TRACKS
        chunk = tracks[(page - 1) * limit : page * limit]
        return envelope({"tracks": chunk}, pagination(page, limit, len(tracks)))

    async def discover_pool_metadata(self, request: web.Request) -> web.Response:
        return envelope({"last_populated": "2026-03-03T12:00:00", "track_count": 2, "profile_id": profile_of(request)})

    async def discover_similar(self, request: web.Request) -> web.Response:
        return envelope({"artists": CATALOGUE_ARTISTS[1:]})

    async def discover_recent(self, request: web.Request) -> web.Response:
        return envelope({"releases": CATALOGUE_ALBUMS[:1]})

    async def discover_bubbles(self, request: web.Request) -> web.Response:
        return envelope({"snapshots": {kind: self.bubbles.get(kind) for kind in BUBBLE_TYPES}})

    async def discover_bubble(self, request: web.Request) -> web.Response:
        kind = request.match_info["snapshot_type"]
        if kind not in BUBBLE_TYPES:
            return error("BAD_REQUEST", f"type must be one of: {', '.join(BUBBLE_TYPES)}", 400)
        if kind not in self.bubbles:
            return error("NOT_FOUND", f"No '{kind}' snapshot found.", 404)
        return envelope({"snapshot": self.bubbles[kind]})

    # ------------------------------------------------------------------ playlists

    def _playlists(self, source: str) -> list[JsonObject]:
        return [{"id": f"{source}-pl1", "name": "Road Trip", "track_count": 1, "source": source}]

    async def playlists(self, request: web.Request) -> web.Response:
        return envelope({"playlists": self._playlists(request.query.get("source", "spotify"))})

    async def playlist(self, request: web.Request) -> web.Response:
        playlist_id = request.match_info["playlist_id"]
        if playlist_id != "spotify-pl1":
            return error("NOT_FOUND", f"Playlist {playlist_id} not found.", 404)
        return envelope({"playlist": {**self._playlists("spotify")[0], "tracks": CATALOGUE_TRACKS[:1]}})

    async def playlist_sync(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not body.get("tracks"):
            return error("BAD_REQUEST", "Missing 'tracks' in body.", 400)
        playlist_id = request.match_info["playlist_id"]
        return envelope({"message": "Playlist sync started.", "playlist_id": playlist_id}, status=202)

    # ------------------------------------------------------------------ listenbrainz (approximated)

    async def lb_playlists(self, request: web.Request) -> web.Response:
        return envelope({"playlists": [{"id": "lb-weekly", "title": "Weekly Jams", "track_count": 1}]})

    async def lb_playlist(self, request: web.Request) -> web.Response:
        if request.match_info["playlist_id"] != "lb-weekly":
            return error("NOT_FOUND", "Playlist not found.", 404)
        return envelope({"playlist": {"id": "lb-weekly", "title": "Weekly Jams", "tracks": CATALOGUE_TRACKS[:1]}})

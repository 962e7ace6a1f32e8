"""The fixed samples the SoulSync conformance server answers with: catalogue hits, library
entries and the watchlist's filter defaults (approximated contents; shapes as SoulSync 3.1.9's
``api/search.py``, ``api/library.py`` and ``api/watchlist.py`` return them)."""

from __future__ import annotations

from .common import JsonObject

CATALOGUE_TRACKS: list[JsonObject] = [
    {
        "id": "3135556",
        "name": "Around the World",
        "artists": ["Daft Punk"],
        "album": "Homework",
        "duration_ms": 429000,
        "popularity": 80,
        "preview_url": None,
        "image_url": None,
        "release_date": "1997-01-20",
    },
    {
        "id": "3135553",
        "name": "One More Time",
        "artists": ["Daft Punk"],
        "album": {"id": "302127", "name": "Discovery", "album_type": "album", "release_date": "2001-03-12"},
        "duration_ms": 320000,
        "popularity": 90,
        "preview_url": None,
        "image_url": None,
        "release_date": "2001-03-12",
    },
    {
        "id": "1109731",
        "name": "Roygbiv",
        "artists": ["Boards of Canada"],
        "album": "Music Has the Right to Children",
        "duration_ms": 151000,
        "popularity": 60,
        "preview_url": None,
        "image_url": None,
        "release_date": "1998-04-20",
    },
]
CATALOGUE_ALBUMS: list[JsonObject] = [
    {
        "id": "302127",
        "name": "Discovery",
        "artists": ["Daft Punk"],
        "release_date": "2001-03-12",
        "total_tracks": 14,
        "album_type": "album",
        "image_url": None,
    },
    {
        "id": "301775",
        "name": "Homework",
        "artists": ["Daft Punk"],
        "release_date": "1997-01-20",
        "total_tracks": 16,
        "album_type": "album",
        "image_url": None,
    },
]
CATALOGUE_ARTISTS: list[JsonObject] = [
    {
        "id": "27",
        "name": "Daft Punk",
        "popularity": 85,
        "genres": ["electronic"],
        "followers": 5000000,
        "image_url": None,
    },
    {
        "id": "1046",
        "name": "Boards of Canada",
        "popularity": 60,
        "genres": ["idm"],
        "followers": 600000,
        "image_url": None,
    },
]

LIBRARY_ARTISTS: list[JsonObject] = [
    {"id": "1", "name": "Aphex Twin", "genres": ["idm"], "spotify_artist_id": "6kBDZFXuLrZgHnvmPu9NsG"},
    {
        "id": "2",
        "name": "Boards of Canada",
        "genres": ["idm", "ambient"],
        "spotify_artist_id": "2VAvhf61GgLYmC6C8anyX1",
    },
    {"id": "3", "name": "Daft Punk", "genres": ["electronic", "house"], "spotify_artist_id": "4tZwfgrHOc3mvqYlEYSvnL"},
    # Read from a Jellyfin library: listed, but no look-up by this id works.
    {"id": "f3a9c2e1b7", "name": "Jellyfin Ensemble", "genres": ["jazz"], "spotify_artist_id": None},
]
LIBRARY_ALBUMS: list[JsonObject] = [
    {"id": "10", "artist_id": "3", "title": "Discovery", "year": 2001, "genres": ["house"], "track_count": 2},
    {"id": "11", "artist_id": "2", "title": "Geogaddi", "year": 2002, "genres": ["ambient"], "track_count": 1},
    {"id": "12", "artist_id": "1", "title": "Syro", "year": 2014, "genres": ["idm"], "track_count": 1},
]
LIBRARY_TRACKS: list[JsonObject] = [
    {
        "id": "100",
        "album_id": "10",
        "artist_id": "3",
        "title": "One More Time",
        "artist_name": "Daft Punk",
        "track_number": 1,
    },
    {
        "id": "101",
        "album_id": "10",
        "artist_id": "3",
        "title": "Aerodynamic",
        "artist_name": "Daft Punk",
        "track_number": 2,
    },
    {
        "id": "102",
        "album_id": "11",
        "artist_id": "2",
        "title": "Music Is Math",
        "artist_name": "Boards of Canada",
        "track_number": 1,
    },
    {
        "id": "103",
        "album_id": "12",
        "artist_id": "1",
        "title": "minipops 67",
        "artist_name": "Aphex Twin",
        "track_number": 1,
    },
]
PROVIDERS = ("spotify", "musicbrainz", "itunes", "deezer", "audiodb", "tidal", "qobuz", "genius")
WATCHLIST_FILTERS = {
    "include_albums": True,
    "include_eps": True,
    "include_singles": True,
    "include_live": False,
    "include_remixes": False,
    "include_acoustic": False,
    "include_compilations": False,
}
"""The watchlist's release filters and their defaults."""
SENSITIVE = {"spotify.client_secret", "soulseek.api_key", "plex.token", "listenbrainz.token"}

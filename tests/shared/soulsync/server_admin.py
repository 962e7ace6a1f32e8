"""System, settings and API keys, profiles, retag and cache on the SoulSync conformance server (3.1.9).

* **Bootstrap** (``api/settings.py``): ``POST /api-keys/bootstrap`` needs no key, answers 201
  with the raw key while no key exists, then 403 ``FORBIDDEN``.
* **Settings** lists ``api_keys`` with each ``key_hash``. ``GET /api/v1/api-keys-internal``
  (``web_server.py``, a web-UI route outside the blueprint) lists the keys' labels and
  prefixes to anyone, without a key and without a rate limit (issue 24).
* **Retag**: ``DELETE /retag/groups`` always 500 ``RETAG_ERROR``; deleting an unknown group
  answers 200; stats are ``{groups, tracks, artists}``. Deleting profile 1 is 403
  ``FORBIDDEN``.
* **Services flags** (``api/system.py``): ``spotify`` and ``soulseek`` are always true.

Approximated: the bodies of profiles and cache, and the library and activity contents, which are
small fixed samples.
"""

from __future__ import annotations

from aiohttp import web

from .catalogue import LIBRARY_ALBUMS, LIBRARY_ARTISTS, LIBRARY_TRACKS, SENSITIVE
from .common import JsonObject, Task, envelope, error, json_body, page_args, pagination


class AdminRoutes:
    """System, settings, key, profile, retag and cache handlers; mixed into :class:`~.server.SoulSyncServer`,
    whose state they use."""

    tasks: dict[str, Task]
    keys: list[JsonObject]
    settings: JsonObject
    profiles: dict[int, JsonObject]
    retag_groups: dict[int, JsonObject]

    def add_key(self, label: str = "test") -> str:
        raise NotImplementedError

    # ------------------------------------------------------------------ system

    async def system_status(self, request: web.Request) -> web.Response:
        return envelope(
            {
                "uptime": "2h 15m 30s",
                "uptime_seconds": 8130,
                # Not health checks: spotify falls back to iTunes/Deezer, soulseek is "the object exists".
                "services": {"spotify": True, "soulseek": True, "hydrabase": False},
            }
        )

    async def system_activity(self, request: web.Request) -> web.Response:
        return envelope({"activities": [{"icon": "download", "title": "Download complete", "time": "1m ago"}]})

    async def system_stats(self, request: web.Request) -> web.Response:
        active = sum(1 for t in self.tasks.values() if t.status in ("downloading", "queued", "searching"))
        # "active" counts SoulSync's tasks only: what /request handed to the Soulseek daemon is not there.
        return envelope(
            {
                "library": {
                    "artists": len(LIBRARY_ARTISTS),
                    "albums": len(LIBRARY_ALBUMS),
                    "tracks": len(LIBRARY_TRACKS),
                },
                "database": {"size_mb": 1.5, "last_update": "2026-03-03 12:00:00"},
                "downloads": {"active": active},
            }
        )

    # ------------------------------------------------------------------ settings and keys

    def _redacted(self, config: JsonObject, prefix: str = "") -> JsonObject:
        out: JsonObject = {}
        for key, value in config.items():
            full = f"{prefix}.{key}" if prefix else key
            if full in SENSITIVE:
                out[key] = "***REDACTED***"
            elif isinstance(value, dict):
                out[key] = self._redacted(value, full)
            else:
                out[key] = value
        return out

    async def get_settings(self, request: web.Request) -> web.Response:
        # 3.1.9 lists the stored keys with their hashes among the settings.
        keys = [{f: k[f] for f in ("id", "label", "key_hash", "key_prefix", "created_at")} for k in self.keys]
        return envelope({"settings": {**self._redacted(self.settings), "api_keys": keys}})

    async def patch_settings(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not body:
            return error("BAD_REQUEST", "Empty body.", 400)
        updated = []
        for key, value in body.items():
            if key == "api_keys":
                continue
            *parents, leaf = key.split(".")
            node = self.settings
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
            updated.append(key)
        return envelope({"message": "Settings updated.", "updated_keys": updated})

    async def api_keys(self, request: web.Request) -> web.Response:
        fields = ("id", "label", "key_prefix", "created_at", "last_used_at")
        return envelope({"keys": [{f: k.get(f) for f in fields} for k in self.keys]})

    async def api_keys_internal(self, request: web.Request) -> web.Response:
        """``web_server.py`` ``list_api_keys_internal``: the key list for the settings page, without a key
        (``admin_only`` lets everyone through while no login is set up), not rate limited (issue 24)."""
        fields = ("id", "label", "key_prefix", "created_at", "last_used_at")
        keys = [{f: k.get(f) for f in fields} for k in self.keys]
        return web.json_response({"success": True, "data": {"keys": keys}})

    def _new_key(self, label: str) -> web.Response:
        raw = self.add_key(label)
        record = self.keys[-1]
        fields = ("id", "label", "key_prefix", "created_at")
        return envelope({"key": raw, **{f: record[f] for f in fields}}, status=201)

    async def api_key_create(self, request: web.Request) -> web.Response:
        return self._new_key(str((await json_body(request)).get("label", "")))

    async def api_key_bootstrap(self, request: web.Request) -> web.Response:
        if self.keys:
            return error("FORBIDDEN", "API keys already exist. Use an authenticated request to create more.", 403)
        return self._new_key(str((await json_body(request)).get("label", "Default")))

    async def api_key_revoke(self, request: web.Request) -> web.Response:
        before = len(self.keys)
        self.keys = [k for k in self.keys if k["id"] != request.match_info["key_id"]]
        if len(self.keys) == before:
            return error("NOT_FOUND", "API key not found.", 404)
        return envelope({"message": "API key revoked."})

    # ------------------------------------------------------------------ profiles (bodies approximated)

    def _profile(self, request: web.Request) -> JsonObject | None:
        return self.profiles.get(int(request.match_info["profile_id"]))

    async def profiles_list(self, request: web.Request) -> web.Response:
        return envelope({"profiles": list(self.profiles.values())})

    async def profile_create(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not body.get("name"):
            return error("BAD_REQUEST", "Missing 'name'.", 400)
        profile_id = max(self.profiles) + 1
        self.profiles[profile_id] = {"id": profile_id, "name": body["name"], "is_admin": False}
        return envelope({"profile": self.profiles[profile_id]}, status=201)

    async def profile_get(self, request: web.Request) -> web.Response:
        profile = self._profile(request)
        if profile is None:
            return error("NOT_FOUND", "Profile not found.", 404)
        return envelope({"profile": profile})

    async def profile_put(self, request: web.Request) -> web.Response:
        profile = self._profile(request)
        if profile is None:
            return error("NOT_FOUND", "Profile not found.", 404)
        profile.update({k: v for k, v in (await json_body(request)).items() if k in ("name", "avatar")})
        return envelope({"profile": profile})

    async def profile_delete(self, request: web.Request) -> web.Response:
        profile_id = int(request.match_info["profile_id"])
        if profile_id == 1:
            return error("FORBIDDEN", "Cannot delete the default admin profile.", 403)
        if self.profiles.pop(profile_id, None) is None:
            return error("NOT_FOUND", "Profile not found.", 404)
        return envelope({"message": "Profile deleted."})

    # ------------------------------------------------------------------ retag, cache (approximated)

    async def retag_list(self, request: web.Request) -> web.Response:
        return envelope({"groups": list(self.retag_groups.values())})

    async def retag_clear(self, request: web.Request) -> web.Response:
        # 3.1.9: this route fails on every call and clears nothing.
        return error("RETAG_ERROR", "'MusicDatabase' object has no attribute 'clear_all_retag_groups'", 500)

    async def retag_get(self, request: web.Request) -> web.Response:
        group = self.retag_groups.get(int(request.match_info["group_id"]))
        if group is None:
            return error("NOT_FOUND", "Retag group not found.", 404)
        return envelope({"group": group, "tracks": []})

    async def retag_delete(self, request: web.Request) -> web.Response:
        group_id = int(request.match_info["group_id"])
        self.retag_groups.pop(group_id, None)  # an unknown group is "deleted" too
        return envelope({"message": f"Retag group {group_id} deleted."})

    async def retag_stats(self, request: web.Request) -> web.Response:
        groups = self.retag_groups.values()
        return envelope(
            {
                "groups": len(groups),
                "tracks": sum(g["track_count"] for g in groups),
                "artists": len({g["artist_name"] for g in groups}),
            }
        )

    async def cache_entries(self, request: web.Request) -> web.Response:
        page, limit = page_args(request)
        entries = [{"key": f"{request.path.rsplit('/', 1)[-1]}:{n}", "hits": n} for n in range(3)]
        return envelope({"entries": entries[(page - 1) * limit : page * limit]}, pagination(page, limit, len(entries)))

    async def cache_stats(self, request: web.Request) -> web.Response:
        return envelope({"total": 3, "hits": 3, "path": request.path})

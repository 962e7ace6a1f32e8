"""qBittorrent's ``torrents/*`` routes: reading, acting, the queue, limits, categories and tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import aiohttp

from ..exceptions import PeerdeckConflictError, PeerdeckInputError, PeerdeckNotSupportedError
from ..validation import validate_info_hash
from .core import QBittorrentCore
from .wire import (
    COUNT_API,
    SEED_MODE_API,
    SHARE_LIMIT_ACTION_API,
    SHARE_LIMITS_MODE_API,
    Hashes,
    JsonObject,
    flag,
    form_fields,
    int_text,
    join_hashes,
    non_negative,
)


class QBittorrentTorrentRoutes(QBittorrentCore):
    """Every ``torrents/*`` call: listing and inspecting torrents, adding and acting on them."""

    # ------------------------------------------------------------------ torrents: reading

    async def torrents_info(
        self,
        *,
        status_filter: str | None = None,
        category: str | None = None,
        tag: str | None = None,
        sort: str | None = None,
        reverse: bool | None = None,
        limit: int | None = None,
        offset: int | None = None,
        hashes: Hashes | None = None,
    ) -> list[JsonObject]:
        """Torrents, optionally filtered; use :meth:`status_filter_name` for version-proof filters."""
        return cast(
            list[JsonObject],
            await self._get_json(
                "torrents/info",
                filter=status_filter,
                category=category,
                tag=tag,
                sort=sort,
                reverse=None if reverse is None else flag(reverse),
                limit=limit,
                offset=offset,
                hashes=None if hashes is None else join_hashes(hashes),
            ),
        )

    async def status_filter_name(self, generic: str) -> str:
        """Map ``paused``/``resumed`` onto the names this version knows (``stopped``/``running`` on 5.x).

        qBittorrent silently treats an unknown filter as "all", so the name must be right.
        """
        renames = {"paused": "stopped", "resumed": "running"}
        if await self._uses_stop_start():
            return renames.get(generic, generic)
        return {v: k for k, v in renames.items()}.get(generic, generic)

    async def can_count(self) -> bool:
        """Whether this version has ``torrents/count`` (5.0+, whose lists also sort before they serialise)."""
        return await self.api_version() >= COUNT_API

    async def torrents_count(self) -> int:
        """Number of torrents (WebAPI 2.10+)."""
        if not await self.can_count():
            raise PeerdeckNotSupportedError("torrents/count needs qBittorrent 5.0 or newer")
        return int_text((await self._api("GET", "torrents/count", decode="text")).data)

    async def torrents_properties(self, torrent_hash: str) -> JsonObject:
        """Generic properties of one torrent."""
        return cast(JsonObject, await self._get_json("torrents/properties", hash=validate_info_hash(torrent_hash)))

    async def torrents_trackers(self, torrent_hash: str) -> list[JsonObject]:
        """Trackers of one torrent."""
        return cast(list[JsonObject], await self._get_json("torrents/trackers", hash=validate_info_hash(torrent_hash)))

    async def torrents_webseeds(self, torrent_hash: str) -> list[JsonObject]:
        """Web seeds of one torrent."""
        return cast(list[JsonObject], await self._get_json("torrents/webseeds", hash=validate_info_hash(torrent_hash)))

    async def torrents_files(self, torrent_hash: str, indexes: Iterable[int] | None = None) -> list[JsonObject]:
        """Files of one torrent."""
        return cast(
            list[JsonObject],
            await self._get_json(
                "torrents/files",
                hash=validate_info_hash(torrent_hash),
                indexes=None if indexes is None else "|".join(str(i) for i in indexes),
            ),
        )

    async def torrents_piece_states(self, torrent_hash: str) -> list[int]:
        """Per-piece state (0 missing, 1 downloading, 2 have)."""
        return cast(list[int], await self._get_json("torrents/pieceStates", hash=validate_info_hash(torrent_hash)))

    async def torrents_piece_hashes(self, torrent_hash: str) -> list[str]:
        """Per-piece SHA-1 hashes."""
        return cast(list[str], await self._get_json("torrents/pieceHashes", hash=validate_info_hash(torrent_hash)))

    async def torrents_download_limit(self, hashes: Hashes) -> dict[str, int]:
        """Per-torrent download limits in B/s."""
        reply = await self._api("POST", "torrents/downloadLimit", data={"hashes": join_hashes(hashes)}, decode="json")
        return cast(dict[str, int], reply.data)

    async def torrents_upload_limit(self, hashes: Hashes) -> dict[str, int]:
        """Per-torrent upload limits in B/s."""
        reply = await self._api("POST", "torrents/uploadLimit", data={"hashes": join_hashes(hashes)}, decode="json")
        return cast(dict[str, int], reply.data)

    # ------------------------------------------------------------------ torrents: acting

    async def torrents_stop(self, hashes: Hashes) -> None:
        """Pause (≤ 4.6) or stop (5.x) torrents; the route is picked by API version."""
        joined = join_hashes(hashes)
        route = "torrents/stop" if await self._uses_stop_start() else "torrents/pause"
        await self._post(route, hashes=joined)

    async def torrents_start(self, hashes: Hashes) -> None:
        """Resume (≤ 4.6) or start (5.x) torrents; the route is picked by API version."""
        joined = join_hashes(hashes)
        route = "torrents/start" if await self._uses_stop_start() else "torrents/resume"
        await self._post(route, hashes=joined)

    async def torrents_delete(self, hashes: Hashes, *, delete_files: bool = False) -> None:
        """Remove torrents, and their data when ``delete_files``."""
        await self._post("torrents/delete", hashes=join_hashes(hashes), deleteFiles=flag(delete_files))

    async def torrents_recheck(self, hashes: Hashes) -> None:
        """Re-verify the data of torrents."""
        await self._post("torrents/recheck", hashes=join_hashes(hashes))

    async def torrents_reannounce(self, hashes: Hashes) -> None:
        """Announce to trackers again now."""
        await self._post("torrents/reannounce", hashes=join_hashes(hashes))

    async def torrents_add(
        self,
        *,
        urls: Sequence[str] = (),
        torrent_files: Sequence[tuple[str, bytes]] = (),
        save_path: str | None = None,
        category: str | None = None,
        tags: Sequence[str] = (),
        stopped: bool = False,
        skip_checking: bool = False,
        rename: str | None = None,
        upload_limit: int | None = None,
        download_limit: int | None = None,
        ratio_limit: float | None = None,
        seeding_time_limit: int | None = None,
        auto_tmm: bool | None = None,
        sequential: bool | None = None,
        first_last_piece_priority: bool | None = None,
    ) -> Any:
        """Add torrents by magnet/URL or .torrent content.

        Returns the daemon's answer: ``None`` before WebAPI 2.14, the JSON summary after.
        ``Fails.`` (older daemons) and 409/415 become typed errors.
        """
        if not urls and not torrent_files:
            raise PeerdeckInputError("nothing to add: give a magnet link, a URL or a .torrent file")
        form = aiohttp.FormData()
        if urls:
            form.add_field("urls", "\n".join(urls))
        for filename, content in torrent_files:
            if not content.startswith(b"d"):
                raise PeerdeckInputError(f"{filename!r} is not a .torrent file (not bencoded)")
            form.add_field("torrents", content, filename=filename, content_type="application/x-bittorrent")
        fields: dict[str, str | int | float | bool | None] = {
            "savepath": save_path,
            "category": category,
            "tags": ",".join(tags) if tags else None,
            "stopped" if await self._uses_stop_start() else "paused": flag(stopped),
            "seedMode" if await self.api_version() >= SEED_MODE_API else "skip_checking": (
                flag(skip_checking) if skip_checking else None
            ),
            "rename": rename,
            "upLimit": upload_limit,
            "dlLimit": download_limit,
            "ratioLimit": ratio_limit,
            "seedingTimeLimit": seeding_time_limit,
            "autoTMM": None if auto_tmm is None else flag(auto_tmm),
            "sequentialDownload": None if sequential is None else flag(sequential),
            "firstLastPiecePrio": None if first_last_piece_priority is None else flag(first_last_piece_priority),
        }
        for key, value in form_fields(fields).items():
            form.add_field(key, value)
        try:
            reply = await self._api("POST", "torrents/add", data=form, decode="auto")
        except PeerdeckConflictError as err:
            raise PeerdeckInputError("qBittorrent could not add the torrent (already added, or invalid)") from err
        if isinstance(reply.data, str) and reply.data.strip() == "Fails.":
            raise PeerdeckInputError("qBittorrent could not add the torrent (already added, or invalid)")
        return reply.data

    async def torrents_add_trackers(self, torrent_hash: str, urls: Sequence[str]) -> None:
        """Add tracker URLs to a torrent."""
        await self._post("torrents/addTrackers", hash=validate_info_hash(torrent_hash), urls="\n".join(urls))

    async def torrents_edit_tracker(self, torrent_hash: str, orig_url: str, new_url: str) -> None:
        """Replace a tracker URL (``origUrl`` became ``url`` in WebAPI 2.13)."""
        old_name = "url" if await self.api_version() >= (2, 13, 0) else "origUrl"
        await self._api(
            "POST",
            "torrents/editTracker",
            data={"hash": validate_info_hash(torrent_hash), old_name: orig_url, "newUrl": new_url},
            decode="text",
        )

    async def torrents_remove_trackers(self, torrent_hash: str, urls: Sequence[str]) -> None:
        """Remove trackers from a torrent."""
        await self._post("torrents/removeTrackers", hash=validate_info_hash(torrent_hash), urls="|".join(urls))

    async def torrents_add_peers(self, hashes: Hashes, peers: Sequence[str]) -> None:
        """Add peers (``host:port``) to torrents."""
        await self._post("torrents/addPeers", hashes=join_hashes(hashes), peers="|".join(peers))

    async def torrents_increase_priority(self, hashes: Hashes) -> None:
        """Move torrents up the queue."""
        await self._queue_op("torrents/increasePrio", hashes)

    async def torrents_decrease_priority(self, hashes: Hashes) -> None:
        """Move torrents down the queue."""
        await self._queue_op("torrents/decreasePrio", hashes)

    async def torrents_top_priority(self, hashes: Hashes) -> None:
        """Move torrents to the top of the queue."""
        await self._queue_op("torrents/topPrio", hashes)

    async def torrents_bottom_priority(self, hashes: Hashes) -> None:
        """Move torrents to the bottom of the queue."""
        await self._queue_op("torrents/bottomPrio", hashes)

    async def _queue_op(self, route: str, hashes: Hashes) -> None:
        try:
            await self._post(route, hashes=join_hashes(hashes))
        except PeerdeckConflictError as err:
            raise PeerdeckNotSupportedError("torrent queueing is turned off in qBittorrent") from err

    async def torrents_file_priority(self, torrent_hash: str, file_ids: Iterable[int], priority: int) -> None:
        """Set the priority (0 skip, 1 normal, 6 high, 7 max) of some files."""
        if priority not in (0, 1, 6, 7):
            raise PeerdeckInputError("file priority must be 0, 1, 6 or 7")
        await self._post(
            "torrents/filePrio",
            hash=validate_info_hash(torrent_hash),
            id="|".join(str(i) for i in file_ids),
            priority=priority,
        )

    async def torrents_set_download_limit(self, hashes: Hashes, limit: int) -> None:
        """Per-torrent download limit in B/s."""
        await self._post("torrents/setDownloadLimit", hashes=join_hashes(hashes), limit=non_negative(limit, "limit"))

    async def torrents_set_upload_limit(self, hashes: Hashes, limit: int) -> None:
        """Per-torrent upload limit in B/s."""
        await self._post("torrents/setUploadLimit", hashes=join_hashes(hashes), limit=non_negative(limit, "limit"))

    async def torrents_set_share_limits(
        self,
        hashes: Hashes,
        *,
        ratio_limit: float,
        seeding_time_limit: int,
        inactive_seeding_time_limit: int = -2,
    ) -> None:
        """Share limits (-2 = global, -1 = none).

        Each WebAPI version requires what it knows: the inactive limit from 2.9, the action taken at the limit
        from 2.12 and how limits combine from 2.15.3; those two are left to the global settings ("Default").
        """
        version = await self.api_version()
        await self._post(
            "torrents/setShareLimits",
            hashes=join_hashes(hashes),
            ratioLimit=ratio_limit,
            seedingTimeLimit=seeding_time_limit,
            inactiveSeedingTimeLimit=inactive_seeding_time_limit,
            shareLimitAction="Default" if version >= SHARE_LIMIT_ACTION_API else None,
            shareLimitsMode="Default" if version >= SHARE_LIMITS_MODE_API else None,
        )

    async def torrents_set_location(self, hashes: Hashes, location: str) -> None:
        """Move torrents' data to another directory."""
        try:
            await self._post("torrents/setLocation", hashes=join_hashes(hashes), location=location)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(f"qBittorrent cannot write to {location!r}") from err

    async def torrents_rename(self, torrent_hash: str, name: str) -> None:
        """Rename a torrent."""
        await self._post("torrents/rename", hash=validate_info_hash(torrent_hash), name=name)

    async def torrents_set_category(self, hashes: Hashes, category: str) -> None:
        """Put torrents in a category ("" removes it)."""
        try:
            await self._post("torrents/setCategory", hashes=join_hashes(hashes), category=category)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(f"qBittorrent has no category {category!r}") from err

    async def torrents_categories(self) -> dict[str, JsonObject]:
        """Every category with its save path."""
        return cast(dict[str, JsonObject], await self._get_json("torrents/categories"))

    async def torrents_create_category(self, name: str, save_path: str = "") -> None:
        """Create a category."""
        try:
            await self._post("torrents/createCategory", category=name, savePath=save_path)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(f"category name {name!r} is invalid or already exists") from err

    async def torrents_edit_category(self, name: str, save_path: str) -> None:
        """Change a category's save path."""
        try:
            await self._post("torrents/editCategory", category=name, savePath=save_path)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(f"category {name!r} cannot be edited") from err

    async def torrents_remove_categories(self, names: Iterable[str]) -> None:
        """Delete categories."""
        await self._post("torrents/removeCategories", categories="\n".join(names))

    async def torrents_add_tags(self, hashes: Hashes, tags: Iterable[str]) -> None:
        """Tag torrents."""
        await self._post("torrents/addTags", hashes=join_hashes(hashes), tags=",".join(tags))

    async def torrents_remove_tags(self, hashes: Hashes, tags: Iterable[str] = ()) -> None:
        """Untag torrents (all tags when none given)."""
        await self._post("torrents/removeTags", hashes=join_hashes(hashes), tags=",".join(tags))

    async def torrents_tags(self) -> list[str]:
        """Every tag."""
        return cast(list[str], await self._get_json("torrents/tags"))

    async def torrents_create_tags(self, tags: Iterable[str]) -> None:
        """Create tags."""
        await self._post("torrents/createTags", tags=",".join(tags))

    async def torrents_delete_tags(self, tags: Iterable[str]) -> None:
        """Delete tags."""
        await self._post("torrents/deleteTags", tags=",".join(tags))

    async def torrents_set_auto_management(self, hashes: Hashes, enable: bool) -> None:
        """Automatic torrent management on or off."""
        await self._post("torrents/setAutoManagement", hashes=join_hashes(hashes), enable=flag(enable))

    async def torrents_toggle_sequential_download(self, hashes: Hashes) -> None:
        """Flip sequential download."""
        await self._post("torrents/toggleSequentialDownload", hashes=join_hashes(hashes))

    async def torrents_toggle_first_last_piece_priority(self, hashes: Hashes) -> None:
        """Flip first/last piece priority."""
        await self._post("torrents/toggleFirstLastPiecePrio", hashes=join_hashes(hashes))

    async def torrents_set_force_start(self, hashes: Hashes, value: bool) -> None:
        """Force start on or off."""
        await self._post("torrents/setForceStart", hashes=join_hashes(hashes), value=flag(value))

    async def torrents_set_super_seeding(self, hashes: Hashes, value: bool) -> None:
        """Super seeding on or off."""
        await self._post("torrents/setSuperSeeding", hashes=join_hashes(hashes), value=flag(value))

    async def torrents_rename_file(self, torrent_hash: str, old_path: str, new_path: str) -> None:
        """Rename a file inside a torrent."""
        await self._rename("torrents/renameFile", torrent_hash, old_path, new_path)

    async def torrents_rename_folder(self, torrent_hash: str, old_path: str, new_path: str) -> None:
        """Rename a folder inside a torrent."""
        await self._rename("torrents/renameFolder", torrent_hash, old_path, new_path)

    async def _rename(self, route: str, torrent_hash: str, old_path: str, new_path: str) -> None:
        try:
            await self._post(route, hash=validate_info_hash(torrent_hash), oldPath=old_path, newPath=new_path)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(f"cannot rename {old_path!r} to {new_path!r}") from err

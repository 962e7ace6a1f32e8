"""Async client for qBittorrent's WebUI API v2 (qBittorrent 4.1 to 5.2).

Every route of the WebUI API is a method of :class:`QBittorrentClient`, named after the route.
The plumbing (login, the request wrapper, error mapping, the WebAPI version) is in ``core.py``,
the ``torrents/*`` routes in ``torrents.py`` and how values are spelled on the wire in
``wire.py``; the application, log, sync, transfer, RSS and search routes are here. Version
differences are handled inside: ``stop``/``start`` replaced ``pause``/``resume`` in WebAPI 2.11,
login answers changed in 5.2, and API keys (Bearer) arrived in 5.2.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, cast

from ..exceptions import PeerdeckConflictError, PeerdeckInputError, PeerdeckNotFoundError, PeerdeckNotSupportedError
from ..validation import validate_info_hash
from .torrents import QBittorrentTorrentRoutes
from .wire import API_KEY_API, JsonObject, flag, int_text, non_negative


class QBittorrentClient(QBittorrentTorrentRoutes):
    """Every WebUI API v2 call as a typed coroutine."""

    # ------------------------------------------------------------------ app

    async def app_version(self) -> str:
        """qBittorrent's version, e.g. ``v4.5.2``."""
        return str((await self._api("GET", "app/version", decode="text")).data)

    async def app_webapi_version(self) -> str:
        """The WebAPI version string, e.g. ``2.8.19``."""
        return ".".join(str(p) for p in await self.api_version())

    async def app_build_info(self) -> JsonObject:
        """Versions of Qt, libtorrent, Boost, OpenSSL and the bitness."""
        return cast(JsonObject, await self._get_json("app/buildInfo"))

    async def app_shutdown(self) -> None:
        """Ask qBittorrent to quit."""
        await self._post("app/shutdown")

    async def app_preferences(self) -> JsonObject:
        """Every application preference."""
        return cast(JsonObject, await self._get_json("app/preferences"))

    async def app_set_preferences(self, preferences: Mapping[str, Any]) -> None:
        """Change some preferences (only the keys given)."""
        await self._post("app/setPreferences", json=json.dumps(dict(preferences)))

    async def app_default_save_path(self) -> str:
        """The default save path."""
        return str((await self._api("GET", "app/defaultSavePath", decode="text")).data)

    async def app_network_interfaces(self) -> list[JsonObject]:
        """Network interfaces qBittorrent can bind to."""
        return cast(list[JsonObject], await self._get_json("app/networkInterfaceList"))

    async def app_network_interface_addresses(self, iface: str = "") -> list[str]:
        """Addresses of one interface (all when empty)."""
        return cast(list[str], await self._get_json("app/networkInterfaceAddressList", iface=iface))

    async def app_rotate_api_key(self) -> str:
        """Create a new API key (qBittorrent 5.2+); returns it."""
        if await self.api_version() < API_KEY_API:
            raise PeerdeckNotSupportedError("API keys need qBittorrent 5.2 (WebAPI 2.14.1) or newer")
        reply = await self._api("POST", "app/rotateAPIKey", decode="json")
        data = reply.data
        return str(data.get("apiKey", "")) if isinstance(data, dict) else str(data)

    # ------------------------------------------------------------------ log

    async def log_main(
        self,
        *,
        normal: bool = True,
        info: bool = True,
        warning: bool = True,
        critical: bool = True,
        last_known_id: int = -1,
    ) -> list[JsonObject]:
        """Application log entries newer than ``last_known_id``."""
        return cast(
            list[JsonObject],
            await self._get_json(
                "log/main",
                normal=flag(normal),
                info=flag(info),
                warning=flag(warning),
                critical=flag(critical),
                last_known_id=last_known_id,
            ),
        )

    async def log_peers(self, *, last_known_id: int = -1) -> list[JsonObject]:
        """Peer log entries (banned peers and why)."""
        return cast(list[JsonObject], await self._get_json("log/peers", last_known_id=last_known_id))

    # ------------------------------------------------------------------ sync

    async def sync_maindata(self, rid: int = 0) -> JsonObject:
        """The raw main data since ``rid`` (a delta unless ``full_update``); see :class:`MaindataState`."""
        return cast(JsonObject, await self._get_json("sync/maindata", rid=rid))

    async def sync_torrent_peers(self, torrent_hash: str, rid: int = 0) -> JsonObject:
        """Peers of one torrent, as a delta since ``rid``."""
        return cast(
            JsonObject, await self._get_json("sync/torrentPeers", hash=validate_info_hash(torrent_hash), rid=rid)
        )

    # ------------------------------------------------------------------ transfer

    async def transfer_info(self) -> JsonObject:
        """Global speeds, session totals and connection status (cheap)."""
        return cast(JsonObject, await self._get_json("transfer/info"))

    async def transfer_speed_limits_mode(self) -> bool:
        """True when the alternative speed limits are on."""
        reply = await self._api("GET", "transfer/speedLimitsMode", decode="text")
        return str(reply.data).strip() == "1"

    async def transfer_toggle_speed_limits_mode(self) -> None:
        """Flip the alternative speed limits."""
        await self._post("transfer/toggleSpeedLimitsMode")

    async def transfer_set_speed_limits_mode(self, alternative: bool) -> None:
        """Turn the alternative speed limits on or off (idempotent, unlike toggling)."""
        if await self.transfer_speed_limits_mode() != alternative:
            await self.transfer_toggle_speed_limits_mode()

    async def transfer_download_limit(self) -> int:
        """Global download limit in B/s (0 = none)."""
        return int_text((await self._api("GET", "transfer/downloadLimit", decode="text")).data)

    async def transfer_set_download_limit(self, limit: int) -> None:
        """Set the global download limit in B/s (0 = none)."""
        await self._post("transfer/setDownloadLimit", limit=non_negative(limit, "limit"))

    async def transfer_upload_limit(self) -> int:
        """Global upload limit in B/s (0 = none)."""
        return int_text((await self._api("GET", "transfer/uploadLimit", decode="text")).data)

    async def transfer_set_upload_limit(self, limit: int) -> None:
        """Set the global upload limit in B/s (0 = none)."""
        await self._post("transfer/setUploadLimit", limit=non_negative(limit, "limit"))

    async def transfer_ban_peers(self, peers: Iterable[str]) -> None:
        """Ban peers given as ``host:port``."""
        await self._post("transfer/banPeers", peers="|".join(peers))

    # ------------------------------------------------------------------ RSS

    async def rss_add_folder(self, path: str) -> None:
        """Create an RSS folder (``a\\b`` for nesting)."""
        await self._rss_op("rss/addFolder", path=path)

    async def rss_add_feed(self, url: str, path: str = "") -> None:
        """Subscribe to a feed."""
        await self._rss_op("rss/addFeed", url=url, path=path)

    async def rss_remove_item(self, path: str) -> None:
        """Remove a feed or folder."""
        await self._rss_op("rss/removeItem", path=path)

    async def rss_move_item(self, item_path: str, dest_path: str) -> None:
        """Move or rename a feed or folder."""
        await self._rss_op("rss/moveItem", itemPath=item_path, destPath=dest_path)

    async def rss_items(self, *, with_data: bool = False) -> JsonObject:
        """Every feed and folder (with articles when ``with_data``)."""
        return cast(JsonObject, await self._get_json("rss/items", withData=flag(with_data)))

    async def rss_mark_as_read(self, item_path: str, article_id: str | None = None) -> None:
        """Mark a feed, or one article, as read."""
        await self._rss_op("rss/markAsRead", itemPath=item_path, articleId=article_id)

    async def rss_refresh_item(self, item_path: str) -> None:
        """Refresh a feed or folder now."""
        await self._rss_op("rss/refreshItem", itemPath=item_path)

    async def rss_set_rule(self, name: str, definition: Mapping[str, Any]) -> None:
        """Create or replace an auto-downloading rule."""
        await self._rss_op("rss/setRule", ruleName=name, ruleDef=json.dumps(dict(definition)))

    async def rss_rename_rule(self, name: str, new_name: str) -> None:
        """Rename an auto-downloading rule."""
        await self._rss_op("rss/renameRule", ruleName=name, newRuleName=new_name)

    async def rss_remove_rule(self, name: str) -> None:
        """Delete an auto-downloading rule."""
        await self._rss_op("rss/removeRule", ruleName=name)

    async def rss_rules(self) -> dict[str, JsonObject]:
        """Every auto-downloading rule."""
        return cast(dict[str, JsonObject], await self._get_json("rss/rules"))

    async def rss_matching_articles(self, name: str) -> dict[str, list[str]]:
        """Articles matching a rule, per feed."""
        return cast(dict[str, list[str]], await self._get_json("rss/matchingArticles", ruleName=name))

    async def _rss_op(self, route: str, **fields: str | None) -> None:
        try:
            await self._post(route, **fields)
        except PeerdeckConflictError as err:
            raise PeerdeckInputError(
                f"qBittorrent refused the RSS change ({route.rsplit('/', maxsplit=1)[-1]})"
            ) from err

    # ------------------------------------------------------------------ search

    async def search_start(self, pattern: str, *, plugins: str = "enabled", category: str = "all") -> int:
        """Start a search job; returns its id."""
        if not pattern.strip():
            raise PeerdeckInputError("the search text is empty")
        try:
            reply = await self._api(
                "POST",
                "search/start",
                data={"pattern": pattern, "plugins": plugins, "category": category},
                decode="json",
            )
        except PeerdeckConflictError as err:
            raise PeerdeckNotSupportedError(
                "qBittorrent cannot search now (no Python on its host, or too many searches running)"
            ) from err
        return int(reply.data["id"])

    async def search_stop(self, search_id: int) -> None:
        """Stop a search job."""
        await self._search_op("search/stop", search_id)

    async def search_status(self, search_id: int | None = None) -> list[JsonObject]:
        """Status of one search job, or of all."""
        try:
            return cast(list[JsonObject], await self._get_json("search/status", id=search_id))
        except PeerdeckNotFoundError as err:
            raise PeerdeckNotFoundError(f"qBittorrent has no search job {search_id}", 404) from err

    async def search_results(self, search_id: int, *, limit: int = 0, offset: int = 0) -> JsonObject:
        """Results of a search job: ``{status, results, total}``."""
        try:
            return cast(JsonObject, await self._get_json("search/results", id=search_id, limit=limit, offset=offset))
        except PeerdeckNotFoundError as err:
            raise PeerdeckNotFoundError(f"qBittorrent has no search job {search_id}", 404) from err

    async def search_delete(self, search_id: int) -> None:
        """Delete a search job and its results."""
        await self._search_op("search/delete", search_id)

    async def _search_op(self, route: str, search_id: int) -> None:
        try:
            await self._post(route, id=search_id)
        except PeerdeckNotFoundError as err:
            raise PeerdeckNotFoundError(f"qBittorrent has no search job {search_id}", 404) from err

    async def search_plugins(self) -> list[JsonObject]:
        """Installed search plugins (empty list: search cannot work)."""
        return cast(list[JsonObject], await self._get_json("search/plugins"))

    async def search_install_plugin(self, sources: Iterable[str]) -> None:
        """Install plugins from URLs or file paths."""
        await self._post("search/installPlugin", sources="|".join(sources))

    async def search_uninstall_plugin(self, names: Iterable[str]) -> None:
        """Uninstall plugins."""
        await self._post("search/uninstallPlugin", names="|".join(names))

    async def search_enable_plugin(self, names: Iterable[str], enable: bool) -> None:
        """Enable or disable plugins."""
        await self._post("search/enablePlugin", names="|".join(names), enable=flag(enable))

    async def search_update_plugins(self) -> None:
        """Update every plugin."""
        await self._post("search/updatePlugins")


__all__ = ["QBittorrentClient"]

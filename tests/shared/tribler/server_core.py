"""Settings and statistics on the Tribler conformance server (8.4.3).

``core/restapi/settings_endpoint.py`` (the whole configuration; a POST is merged recursively)
and ``core/restapi/statistics_endpoint.py`` at ``v8.4.3``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .records import rest


class CoreRoutes:
    """Settings and statistics handlers; mixed into :class:`~.server.TriblerServer`, whose state they use."""

    settings: dict[str, Any]
    local_catalogue: list[dict[str, Any]]

    async def get_settings(self, _: web.Request) -> web.Response:
        return rest({"settings": self.settings})

    async def update_settings(self, request: web.Request) -> web.Response:
        def merge(target: dict[str, Any], updates: dict[str, Any]) -> None:
            for key, value in updates.items():
                if isinstance(value, dict):
                    merge(target.setdefault(key, {}), value)
                else:
                    target[key] = value

        merge(self.settings, await request.json())
        return rest({"modified": True})

    async def statistics_tribler(self, _: web.Request) -> web.Response:
        stats = {
            "peers": 12,
            "db_size": 4096,
            "num_torrents": len(self.local_catalogue),
            "libtorrent": {"sessions": [], "total_recv_bytes": 0, "total_sent_bytes": 0},
            "endpoint_version": "0.2.1",
        }
        return rest({"tribler_statistics": stats})

    async def statistics_ipv8(self, _: web.Request) -> web.Response:
        return rest({"ipv8_statistics": {"total_up": 1000, "total_down": 2000}})

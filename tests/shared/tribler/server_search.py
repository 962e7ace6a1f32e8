"""Search on the Tribler conformance server (8.4.3): remote searches answered over the event
stream, the local database's search, completions and popular torrents.

Handlers of ``core/content_discovery/restapi/search_endpoint.py`` and
``core/database/restapi/database_endpoint.py`` at ``v8.4.3``: a remote search answers its
``request_uuid`` and the peers asked at once; each peer's results come later as
``remote_query_results`` frames (also those of other clients' searches, on every stream).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp import web

from .records import handled, rest, torrent_metadata


class SearchRoutes:
    """Search handlers; mixed into :class:`~.server.TriblerServer`, whose state they use."""

    remote_catalogue: list[dict[str, Any]]
    peer_catalogues: list[list[dict[str, Any]]]
    local_catalogue: list[dict[str, Any]]
    search_peers: list[str]
    search_delay: float
    _tasks: set[asyncio.Task[None]]

    def notify(self, topic: str, **kwargs: Any) -> None:
        raise NotImplementedError

    @staticmethod
    def _matches(query: str, entry: dict[str, Any]) -> bool:
        words = query.lower().replace("*", "").split()
        return all(word in entry["name"].lower() for word in words)

    async def remote_search(self, request: web.Request) -> web.Response:
        query = request.query.get("fts_text")
        if query is None:
            return handled(f"Got search with no fts_text: {dict(request.query)}", 400)
        request_uuid = str(uuid.uuid4())
        task = asyncio.create_task(self._answer(request_uuid, query))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return rest({"request_uuid": request_uuid, "peers": self.search_peers})

    async def _answer(self, request_uuid: str, query: str) -> None:
        """Peers answer after a while, each with what it has (often the same torrents)."""
        fts = f'"{query}"*'
        foreign = [torrent_metadata("Another client's search", 1)]
        for index, peer in enumerate(self.search_peers):
            await asyncio.sleep(self.search_delay)
            # Another client's search: every open stream gets its results too.
            self.notify("remote_query_results", query="other*", results=foreign, uuid=str(uuid.uuid4()), peer=peer)
            catalogue = self.peer_catalogues[index] if self.peer_catalogues else self.remote_catalogue
            matches = [entry for entry in catalogue if self._matches(query, entry)]
            self.notify("remote_query_results", query=fts, results=matches, uuid=request_uuid, peer=peer)

    async def local_search(self, request: web.Request) -> web.Response:
        query = request.query.get("fts_text")
        if query is None:
            return handled(f"Got search with no fts_text: {dict(request.query)}", 400)
        try:
            first, last = int(request.query.get("first", 1)), int(request.query.get("last", 50))
            sort_desc = _parse_bool(request.query.get("sort_desc", "true"))
            _parse_bool(request.query.get("hide_xxx", "false"))
        except ValueError:
            return handled("Error processing request parameters", 400)
        matches = [entry for entry in self.local_catalogue if self._matches(query, entry)]
        body: dict[str, Any] = {
            "results": matches[first - 1 : last],
            "first": first,
            "last": last,
            "sort_by": None,
            "sort_desc": sort_desc,
        }
        if request.query.get("include_total"):
            body.update(total=len(matches), max_rowid=len(self.local_catalogue))
        return rest(body)

    async def completions(self, request: web.Request) -> web.Response:
        prefix = request.query.get("q")
        if not prefix:
            return handled("query parameter missing", 400)
        words = {w for e in self.local_catalogue for w in e["name"].lower().split() if w.startswith(prefix.lower())}
        return rest({"completions": sorted(words)[:5]})

    async def popular(self, _: web.Request) -> web.Response:
        popular = sorted(self.local_catalogue, key=lambda e: -(e["num_seeders"] + e["num_leechers"]))
        return rest({"results": popular[:50], "first": 1, "last": 50})


def _parse_bool(value: str) -> bool:
    """The core's ``parse_bool``: true/false or 1/0, anything else a ValueError."""
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ValueError(value)

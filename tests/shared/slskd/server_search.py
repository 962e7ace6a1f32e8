"""The search routes, as slskd runs a search (sources: docs/supported.md, "slskd conformance server").

* ``POST /searches`` starts the search and answers at once with the new record; from 0.24.0 a
  second POST while one is being started answers 429 (``SearchesController.cs`` ``SearchRequestLimiter``);
  before 0.24.0 there is no such limit.
* Soulseek.NET runs at most ``maximumConcurrentSearches`` searches at once and parks the others in
  ``Queued`` (none before Soulseek.NET 7.0, i.e. slskd 0.22.0-0.22.2; 10 by default in 0.22.3-0.23.x;
  2 from 0.24.0, set in slskd's ``Program.cs``).
* ``searchTimeout`` is an *inactivity* timeout: the timer starts when the search goes ``InProgress`` and
  restarts on every response (``SearchInternal.cs``). The response and file limits end it early.
* Responses are kept in memory and written to the record only when the search has ended, together
  with ``endedAt``; the final state (``Completed, …``) is written a moment earlier by the state
  callback, so a reader can see ``isComplete`` with no responses yet (``SearchService.cs``).
* ``PUT /searches/{id}`` cancels: the search ends ``Completed, Cancelled`` and its responses are
  still written (the same finalising code runs).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from aiohttp import web

from .server_common import ONLY_ONE, Peer, Search, ServerBase, now_iso


class SearchesMixin(ServerBase):
    """The search routes."""

    def _search_slots(self) -> asyncio.Semaphore | None:
        """Soulseek.NET's search semaphore for this version (None: no limit)."""
        if self.version < (0, 22, 3):
            return None
        if self._search_semaphore is None:
            self._search_semaphore = asyncio.Semaphore(2 if self.version >= (0, 24, 0) else 10)
        return self._search_semaphore

    async def search_create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return self.text("The request body is not valid JSON.", 400)
        if not isinstance(body, dict) or not str(body.get("searchText") or "").strip():
            return self.text("The SearchText field is required.", 400)
        search_id = str(body.get("id") or uuid.uuid4())
        try:
            search_id = str(uuid.UUID(search_id))
        except ValueError:
            return self.text(f"The value '{search_id}' is not valid.", 400)
        limited = self.version >= (0, 24, 0)
        if limited and self.search_busy >= 1:
            return self.text(ONLY_ONE, 429)
        self.search_busy += 1
        self.max_search_busy = max(self.max_search_busy, self.search_busy)
        try:
            await asyncio.sleep(self.config.operation_delay)
            if search_id in self.searches:
                return self.text(f"An active search with ID {search_id} is already in progress.", 409)
            search = Search(
                record={
                    "id": search_id,
                    "searchText": body["searchText"],
                    "token": len(self.searches) + 1000,
                    "state": "Requested",
                    "isComplete": False,
                    "startedAt": now_iso(),
                    "responseCount": 0,
                    "fileCount": 0,
                    "lockedFileCount": 0,
                },
                request=body,
            )
            self.searches[search_id] = search
            search.task = self._spawn(self._run_search(search))
            return web.json_response({**search.record, "responses": []})
        finally:
            self.search_busy -= 1

    async def _run_search(self, search: Search) -> None:
        slots = self._search_slots()
        try:
            if slots is None:
                await self._search_network(search)
            else:
                search.record["state"] = "Queued"
                async with slots:
                    await self._search_network(search)
        except asyncio.CancelledError:
            if search.cancelled:
                self._end_search(search, "Cancelled")
            raise

    async def _search_network(self, search: Search) -> None:
        words = str(search.record["searchText"]).lower().split()
        inactivity = float(search.request.get("searchTimeout", 15000)) / 1000.0
        response_limit = int(search.request.get("responseLimit", 250))
        file_limit = int(search.request.get("fileLimit", 25000))
        await asyncio.sleep(self.config.response_interval)
        search.record["state"] = "InProgress"
        started = time.monotonic()
        expires = started + inactivity
        for peer in sorted(self.peers.values(), key=lambda p: p.response_delay):
            matches = {n: s for n, s in peer.files.items() if all(word in n.lower() for word in words)}
            if not peer.online or not matches:
                continue
            arrives = max(started + peer.response_delay, time.monotonic() + self.config.response_interval)
            if arrives > expires:
                break
            await asyncio.sleep(arrives - time.monotonic())
            search.received.append(self._response(search, peer, matches))
            expires = time.monotonic() + inactivity
            search.record["responseCount"] = len(search.received)
            search.record["fileCount"] += sum(1 for n in matches if n not in peer.locked)
            search.record["lockedFileCount"] += sum(1 for n in matches if n in peer.locked)
            if len(search.received) >= response_limit:
                self._end_search(search, "ResponseLimitReached")
                return
            if search.record["fileCount"] >= file_limit:
                self._end_search(search, "FileLimitReached")
                return
        await asyncio.sleep(max(0.0, expires - time.monotonic()))
        self._end_search(search, "TimedOut")

    @staticmethod
    def _response(search: Search, peer: Peer, matches: dict[str, int]) -> dict[str, Any]:
        def entry(name: str, size: int) -> dict[str, Any]:
            extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            item: dict[str, Any] = {
                "filename": name,
                "size": size,
                "code": 1,
                "extension": extension,
                "isLocked": name in peer.locked,
            }
            if extension == "mp3":
                item.update({"bitRate": peer.bitrate, "length": 215, "isVariableBitRate": False})
            elif extension == "flac":
                item.update({"bitDepth": 16, "sampleRate": 44100, "length": 215})
            return item

        unlocked = [entry(n, s) for n, s in matches.items() if n not in peer.locked]
        locked = [entry(n, s) for n, s in matches.items() if n in peer.locked]
        return {
            "username": peer.username,
            "fileCount": len(unlocked),
            "files": unlocked,
            "lockedFileCount": len(locked),
            "lockedFiles": locked,
            "hasFreeUploadSlot": peer.free_slot,
            "queueLength": peer.queue_length,
            "uploadSpeed": peer.upload_speed,
            "token": search.record["token"],
        }

    def _end_search(self, search: Search, reason: str) -> None:
        """The final state now (state callback), the responses and ``endedAt`` a moment later."""
        if search.record["isComplete"]:
            return
        search.record["state"] = f"Completed, {reason}"
        search.record["isComplete"] = True
        self._spawn(self._persist_responses(search))

    async def _persist_responses(self, search: Search) -> None:
        await asyncio.sleep(self.config.search_finalize_delay)
        search.responses = list(search.received)
        search.record["endedAt"] = now_iso()

    def _search(self, request: web.Request) -> Search:
        try:
            search_id = str(uuid.UUID(request.match_info["id"]))
        except ValueError:
            raise web.HTTPNotFound() from None
        search = self.searches.get(search_id)
        if search is None:
            raise web.HTTPNotFound()
        return search

    async def search_list(self, _request: web.Request) -> web.Response:
        return web.json_response([{**s.record, "responses": []} for s in self.searches.values()])

    async def search_get(self, request: web.Request) -> web.Response:
        search = self._search(request)
        include = self.flag(request, "includeResponses", default=False)
        return web.json_response({**search.record, "responses": search.responses if include else []})

    async def search_responses(self, request: web.Request) -> web.Response:
        return web.json_response(self._search(request).responses)

    async def search_cancel(self, request: web.Request) -> web.Response:
        search = self._search(request)
        if search.task is not None and not search.task.done():
            search.cancelled = True
            search.task.cancel()
        return web.Response(status=200)

    async def search_delete(self, request: web.Request) -> web.Response:
        search = self._search(request)
        if search.task is not None:
            search.task.cancel()
        del self.searches[search.record["id"]]
        return web.Response(status=204)

"""The download routes of the SoulSync conformance server: the task list, cancelling, and text requests (3.1.9).

* **``POST /request``** (3.1.9): with ``request_bug`` on (the default) it answers 500
  ``INTERNAL_ERROR`` "An unexpected error occurred." although the job is queued; off, the
  documented 202. Either way the match goes straight to the Soulseek daemon
  (``soulseek_downloads``): **no download task is created**, and the request record stops
  at ``downloading`` with the remote file name as ``download_id``. Queries in
  ``unmatched_queries`` end ``not_found``.
* **Download tasks** (``api/downloads.py``): list sorted by ``status_change_time``
  descending, ``status`` filter, ``limit`` clamped to 1..500, ``offset``, ``total``. Every
  poll is one step of the task engine (``SoulSyncServer._tick``, see ``server.py``).
  ``album_name`` is the wishlist track's album object, ``batch_id`` the run's sub-batch.
* **Cancel mismatch**: the cancel route looks the id up among the Soulseek daemon's transfer
  ids (kept hidden, as SoulSync does not list them), so a task id gives 500
  ``CANCEL_FAILED``; a missing ``username`` gives 400; no Soulseek daemon gives 503.
  Cancel-all clears the Soulseek daemon's list and leaves SoulSync's tasks as they were.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from .common import JsonObject, Task, envelope, error, json_body


class DownloadRoutes:
    """Download and request handlers; mixed into :class:`~.server.SoulSyncServer`, whose state they use."""

    request_bug: bool
    unmatched_queries: set[str]
    slskd_configured: bool
    tasks: dict[str, Task]
    music_requests: dict[str, JsonObject]
    request_bodies: list[JsonObject]
    soulseek_downloads: list[JsonObject]

    def _stamp(self) -> float:
        raise NotImplementedError

    def _tick(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ downloads

    async def downloads(self, request: web.Request) -> web.Response:
        self._tick()
        try:
            limit = int(request.query.get("limit", 100))
        except ValueError:
            limit = 100
        try:
            offset = int(request.query.get("offset", 0))
        except ValueError:
            offset = 0
        limit, offset = max(1, min(limit, 500)), max(0, offset)
        wanted = {s.strip() for s in request.query.get("status", "").split(",") if s.strip()}
        tasks = [t for t in self.tasks.values() if not wanted or t.status in wanted]
        tasks.sort(key=lambda t: (t.status_change_time, t.id), reverse=True)
        return envelope(
            {
                "downloads": [t.public() for t in tasks[offset : offset + limit]],
                "total": len(tasks),
                "limit": limit,
                "offset": offset,
            }
        )

    async def cancel(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not body.get("username"):
            return error("BAD_REQUEST", "Missing 'username' in body.", 400)
        if not self.slskd_configured:
            return error("NOT_AVAILABLE", "Soulseek client not configured.", 503)
        wanted = request.match_info["download_id"]
        for task in self.tasks.values():
            if task.slskd_id == wanted and task.username == body["username"]:
                task.status, task.status_change_time = "cancelled", self._stamp()
                return envelope({"message": "Download cancelled."})
        return error("CANCEL_FAILED", "Failed to cancel download.", 500)

    async def cancel_all(self, request: web.Request) -> web.Response:
        if not self.slskd_configured:
            return error("NOT_AVAILABLE", "Soulseek client not configured.", 503)
        # Cancels and clears the Soulseek daemon's downloads; SoulSync's own task list is untouched.
        self.soulseek_downloads.clear()
        return envelope({"message": "All downloads cancelled and cleared."})

    # ------------------------------------------------------------------ request

    async def create_request(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        self.request_bodies.append(body)
        query = str(body.get("query") or "").strip()
        if not query:
            return error("BAD_REQUEST", "Missing 'query' in request body.", 400)
        request_id = str(uuid.uuid4())
        record: JsonObject = {
            "request_id": request_id,
            "query": query,
            "status": "searching",
            "download_id": None,
            "error": None,
            "completed_at": None,
        }
        self.music_requests[request_id] = record
        if query in self.unmatched_queries:
            record.update(status="not_found", error="No match found", completed_at="2026-03-03T12:00:00")
        else:
            # Handed to the Soulseek daemon as is: no SoulSync task, the record stops at "downloading".
            filename = f"@@music\\{query}.flac"
            self.soulseek_downloads.append({"username": "peer", "filename": filename})
            record.update(status="downloading", download_id=filename, completed_at="2026-03-03T12:00:00")
        if self.request_bug:
            # 3.1.9: `return api_success({...}), 202` nests a tuple; Flask raises TypeError after queuing.
            return error("INTERNAL_ERROR", "An unexpected error occurred.", 500)
        return envelope({"request_id": request_id, "status": "queued", "query": query}, status=202)

    async def request_status(self, request: web.Request) -> web.Response:
        record = self.music_requests.get(request.match_info["request_id"])
        if record is None:
            return error("NOT_FOUND", "Request not found or expired.", 404)
        return envelope(dict(record))

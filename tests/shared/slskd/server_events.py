"""The event log routes (0.22+): ``GET /events`` and ``POST /events/{type}``.

* Records are ``{timestamp, type, data, id}``; ``data`` is a JSON string of the event without its
  ``id``, ``timestamp`` and ``type``, nulls written out (``EventRecord.cs``).
* Pages are sorted by ``timestamp``, newest first, with ``X-Total-Count`` (``EventService.cs``).
  A ``DownloadFileComplete`` is stamped with the transfer's ``endedAt`` but raised after the file
  was moved, so it can sort below an event recorded in between (``DownloadService.cs``).
* ``POST /events/{type}`` raises a sample; a ``DownloadFileComplete`` sample carries an empty
  ``Transfer`` (empty Guid, null username and filename, state ``None``) (``EventsController.cs``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from .server_common import EVENT_TYPES, ServerBase, now_iso

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
EMPTY_TRANSFER: dict[str, Any] = {
    "batchId": None,
    "id": EMPTY_GUID,
    "username": None,
    "direction": "Download",
    "filename": None,
    "size": 0,
    "state": "None",
    "stateDescription": None,
    "requestedAt": "0001-01-01T00:00:00",
    "enqueuedAt": None,
    "startedAt": None,
    "endedAt": None,
    "bytesTransferred": 0,
    "averageSpeed": 0,
    "placeInQueue": None,
    "exception": None,
    "attempts": 0,
    "nextAttemptAt": None,
    "removed": False,
    "bytesRemaining": 0,
    "elapsedTime": None,
    "percentComplete": 0,
    "remainingTime": None,
}


class EventsMixin(ServerBase):
    """The event log routes."""

    def _raise_event(self, event_type: str, payload: dict[str, Any], *, timestamp: str | None = None) -> dict[str, Any]:
        if self.version < (0, 22, 0):
            return {}
        event = {"id": str(uuid.uuid4()), "timestamp": timestamp or now_iso(), "type": event_type, "version": 0}
        event.update(payload)
        data = {k: v for k, v in event.items() if k not in ("id", "timestamp", "type")}
        self.events.append(
            {"timestamp": event["timestamp"], "type": event_type, "data": json.dumps(data), "id": event["id"]}
        )
        return event

    async def events_list(self, request: web.Request) -> web.Response:
        try:
            offset = int(request.query.get("offset", "0"))
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return web.Response(status=400)
        if offset < 0:
            return self.text("Offset must be greater than or equal to zero", 400)
        if limit <= 0:
            return self.text("Limit must be greater than zero", 400)
        ordered = sorted(self.events, key=lambda e: e["timestamp"], reverse=True)
        return web.json_response(ordered[offset : offset + limit], headers={"X-Total-Count": str(len(self.events))})

    async def event_raise(self, request: web.Request) -> web.Response:
        requested = request.match_info["type"]
        matches = [t for t in (*EVENT_TYPES, "None", "Any") if t.lower() == requested.lower()]
        if not matches:
            names = ", ".join(EVENT_TYPES)
            return self.text(f"Unknown event type '{requested}'; must be one of {names}", 400)
        if matches[0] in ("None", "Any"):
            return self.text(f"Event type '{requested}' can not be raised", 400)
        d = await self.json_string(request) or ""
        samples: dict[str, dict[str, Any]] = {
            "DownloadFileComplete": {
                "localFilename": f"{d}local.file",
                "remoteFilename": f"{d}remote.file",
                "transfer": dict(EMPTY_TRANSFER),
            },
            "DownloadDirectoryComplete": {
                "localDirectoryName": f"{d}local.directory",
                "remoteDirectoryName": f"{d}remote.directory",
                "username": f"{d}username",
            },
            "UploadFileComplete": {
                "localFilename": f"{d}local.file",
                "remoteFilename": f"{d}remote.file",
                "transfer": {**EMPTY_TRANSFER, "direction": "Download"},
            },
            "PrivateMessageReceived": {"message": {"id": 42, "username": f"{d}username", "message": f"{d}message"}},
            "RoomMessageReceived": {"message": {"roomName": f"{d}room", "username": f"{d}username"}},
        }
        event = self._raise_event(matches[0], samples.get(matches[0], {}))
        return web.json_response(event, status=201)

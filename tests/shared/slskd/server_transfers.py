"""The transfer routes (sources in docs/supported.md, "slskd").

* Records start ``Queued, Locally`` from 0.24 (``Queued, Remotely`` before), then ``Queued,
  Remotely`` → ``Initializing`` → ``InProgress`` → ``Completed, Succeeded`` / ``Errored`` /
  ``Rejected`` (file not shared) / ``Cancelled``.
* 0.22 to 0.23 answer a per-user enqueue after each file in turn was queued at the peer, and 500
  if any was refused (``DownloadService.cs`` 0.22.5); a duplicate is refused (Soulseek.NET).
* Cancel is asynchronous; ``?remove=true`` removes finished records only (500 before 0.24.2 for
  an unfinished one, silently skipped after); the username segment is not looked at.
* A finished download's ``DownloadFileComplete`` is stamped with ``endedAt`` and raised after the
  file was moved (``move_delay``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from aiohttp import web

from .server_common import (
    ONLY_ONE,
    Peer,
    ServerBase,
    now_iso,
    timespan,
)


class TransfersMixin(ServerBase):
    """The transfer routes."""

    def _transfer_record(
        self, transfer_id: str, username: str, filename: str, size: int, state: str, direction: str = "Download"
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": transfer_id,
            "username": username,
            "direction": direction,
            "filename": filename,
            "size": size,
            "state": state,
            "requestedAt": now_iso(),
            "bytesTransferred": 0,
            "averageSpeed": 0.0,
            "bytesRemaining": size,
            "percentComplete": 0.0,
            "removed": False,
        }
        if self.version >= (0, 26, 0):
            record["attempts"] = 0
        return record

    def _enqueue_one(self, peer: Peer, filename: str, size: int, batch_id: str | None) -> dict[str, Any]:
        transfer_id = str(uuid.uuid4())
        # From 0.24.0 records start "Queued, Locally" until the peer is asked (DownloadService.cs).
        first = "Queued, Locally" if self.version >= (0, 24, 0) else "Queued, Remotely"
        record = self._transfer_record(transfer_id, peer.username, filename, size, first)
        record["enqueuedAt"] = now_iso()
        record["placeInQueue"] = peer.queue_length + 1
        if batch_id is not None:
            record["batchId"] = batch_id
        self.downloads[transfer_id] = record
        record_task = self._spawn(self._run_transfer(peer, record))
        record_task.set_name(transfer_id)
        return record

    def _in_flight(self, username: str, filename: str) -> bool:
        return any(
            t["username"] == username and t["filename"] == filename and "Completed" not in t["state"]
            for t in self.downloads.values()
        )

    async def _run_transfer(self, peer: Peer, record: dict[str, Any]) -> None:
        tick = self.config.tick
        await asyncio.sleep(tick)
        if record["filename"] in peer.files:
            record["state"] = "Queued, Remotely"
        while peer.hold:  # noqa: ASYNC110 - tests flip this plain flag at any time
            await asyncio.sleep(tick)
        if record["filename"] not in peer.files:
            self._end_transfer(record, "Completed, Rejected", "File not shared.")
            return
        record["state"] = "Initializing"
        record.pop("placeInQueue", None)
        await asyncio.sleep(tick)
        record["state"] = "InProgress"
        record["startedAt"] = now_iso()
        size = int(record["size"])
        started = time.monotonic()
        for step in range(1, 4):
            await asyncio.sleep(tick)
            done = size * step // 4
            elapsed = max(time.monotonic() - started, 1e-3)
            record.update(
                {
                    "bytesTransferred": done,
                    "bytesRemaining": size - done,
                    "percentComplete": round(100.0 * done / size, 2) if size else 0.0,
                    "averageSpeed": done / elapsed,
                    "elapsedTime": timespan(elapsed),
                    "remainingTime": timespan((size - done) / (done / elapsed) if done else 0.0),
                }
            )
            if step == 2 and record["filename"] in peer.errored:
                self._end_transfer(record, "Completed, Errored", "Remote connection closed")
                return
        await asyncio.sleep(tick)
        record.update({"bytesTransferred": size, "bytesRemaining": 0, "percentComplete": 100.0})
        self._end_transfer(record, "Completed, Succeeded", None)
        ended = record["endedAt"]
        await asyncio.sleep(self.config.move_delay)  # the file is moved before the event is raised
        local = "/downloads/" + record["filename"].replace("\\", "/").rsplit("/", 1)[-1]
        self._raise_event(
            "DownloadFileComplete",
            {"localFilename": local, "remoteFilename": record["filename"], "transfer": dict(record)},
            timestamp=ended,
        )

    @staticmethod
    def _end_transfer(record: dict[str, Any], state: str, exception: str | None) -> None:
        record["state"] = state
        record["endedAt"] = now_iso()
        record.pop("placeInQueue", None)
        if exception is not None:
            record["exception"] = exception

    def _cancel_task(self, transfer_id: str) -> None:
        for task in self.tasks:
            if task.get_name() == transfer_id:
                task.cancel()

    async def _enqueue_slot(self) -> bool:
        """slskd 0.24+ allows two enqueues in flight; a third answers 429."""
        if self.version >= (0, 24, 0) and self.enqueue_busy >= 2:
            return False
        self.enqueue_busy += 1
        self.max_enqueue_busy = max(self.max_enqueue_busy, self.enqueue_busy)
        await asyncio.sleep(self.config.operation_delay)
        return True

    async def legacy_enqueue(self, request: web.Request) -> web.Response:
        username = self.username(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, list):
            return self.text("The input was not valid.", 400)
        if not body:
            return self.text("At least one file is required", 400)
        if any(not isinstance(f, dict) or not f.get("filename") for f in body):
            return self.text("One or more files in the request are null", 400)
        if any(".." in str(f["filename"]).replace("\\", "/").split("/") for f in body):
            return self.text("One or more files in the request contain a dangerous path traversal segment", 400)
        if not await self._enqueue_slot():
            return self.text(ONLY_ONE, 429)
        try:
            peer = self.peers.get(username)
            if peer is None or not peer.online:
                return self.text(f"Failed to enqueue download: User {username} appears to be offline", 500)
            if self.version < (0, 24, 0):
                return await self._enqueue_one_by_one(peer, body)
            enqueued, failed = [], []
            for item in body:
                if self._in_flight(username, item["filename"]):
                    failed.append(item["filename"])
                    continue
                enqueued.append(dict(self._enqueue_one(peer, item["filename"], int(item.get("size", 0)), None)))
            if self.version >= (0, 26, 0):
                # System.Text.Json skips tuple fields: each (Filename, Message) comes out as {}.
                return web.json_response({"enqueued": enqueued, "failed": [{} for _ in failed]}, status=201)
            return web.json_response({"enqueued": enqueued, "failed": failed}, status=201)
        finally:
            self.enqueue_busy -= 1

    async def _enqueue_one_by_one(self, peer: Peer, body: list[dict[str, Any]]) -> web.Response:
        """0.22-0.23: each file in turn, answering once the peer has queued every one; a refused file
        (here: one the peer does not share) makes the answer a 500, the others stay enqueued."""
        errors: list[str] = []
        for item in body:
            if self._in_flight(peer.username, item["filename"]):
                # Soulseek.NET's DuplicateTransferException (SoulseekClient.cs)
                errors.append(
                    f"An active or queued download of {item['filename']} from {peer.username} is already in progress"
                )
                continue
            record = self._enqueue_one(peer, item["filename"], int(item.get("size", 0)), None)
            await asyncio.sleep(peer.enqueue_delay)
            if item["filename"] not in peer.files:
                self._cancel_task(record["id"])
                self._end_transfer(record, "Completed, Rejected", "File not shared.")
                errors.append(f"Download of {item['filename']} from {peer.username} was rejected: File not shared.")
        if errors:
            return self.text("One or more errors occurred. (" + ") (".join(errors) + ")", 500)
        return web.Response(status=201)

    async def batch_enqueue(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("username") or not isinstance(body.get("files"), list):
            return self.text("The Username field is required. The Files field is required.", 400)
        files = body["files"]
        if any(not isinstance(f, dict) or not f.get("filename") or "size" not in f for f in files):
            return self.text("One or more files in the request are null", 400)
        names = [f["filename"] for f in files]
        if len(set(names)) != len(names):
            return self.text("Two or more files in the request are repeated", 400)
        try:
            batch_id = str(uuid.UUID(str(body.get("id") or uuid.uuid4())))
            search_id = str(uuid.UUID(body["searchId"])) if body.get("searchId") else None
        except ValueError:
            return self.text("One or more provided identifiers is not a valid GUID/UUID", 400)
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        destination = options.get("destination")
        if destination is not None and not _relative_path(destination):
            # [RelativePath(OperatingSystem.All)], [NonTraversingPath], [String(AllowEmpty = false)]
            return self.text("The field Destination must be a relative path without traversal segments.", 400)
        if not await self._enqueue_slot():
            return self.text(ONLY_ONE, 429)
        try:
            peer = self.peers.get(body["username"])
            if peer is None or not peer.online:
                return self.text(f"User {body['username']} appears to be offline", 404)
            if batch_id in self.batches:
                return self.text(f"A batch with ID {batch_id} already exists", 409)
            transfers, failures = [], []
            for item in files:
                if self._in_flight(peer.username, item["filename"]):
                    failures.append({"filename": item["filename"], "message": "A download is already in progress"})
                    continue
                transfers.append(self._enqueue_one(peer, item["filename"], int(item["size"]), batch_id))
            batch: dict[str, Any] = {
                "id": batch_id,
                "username": peer.username,
                "direction": "Download",
                "createdAt": now_iso(),
                # Only the destination is kept: the controller drops externalId (TransfersController.cs).
                "options": {"destination": destination} if destination is not None else {},
                "transfers": [dict(t) for t in transfers],
            }
            if search_id is not None:
                batch["searchId"] = search_id
            self.batches[batch_id] = batch
            status = 201 if not failures else (207 if transfers else 200)
            return web.json_response({"batch": batch, "failures": failures}, status=status)
        finally:
            self.enqueue_busy -= 1

    async def batch_get(self, request: web.Request) -> web.Response:
        try:
            batch_id = str(uuid.UUID(request.match_info["id"]))
        except ValueError:
            return self.text(f"The specified id {request.match_info['id']} is not a valid GUID/UUID", 400)
        batch = self.batches.get(batch_id)
        if batch is None:
            return web.Response(status=404)
        return web.json_response({**batch, "transfers": [self.downloads.get(t["id"], t) for t in batch["transfers"]]})

    @staticmethod
    def _group(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        users: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for record in records:
            name = record["filename"].replace("/", "\\")
            directory = name.rsplit("\\", 1)[0] if "\\" in name else ""
            users.setdefault(record["username"], {}).setdefault(directory, []).append(record)
        return [
            {
                "username": username,
                "directories": [
                    {"directory": d, "fileCount": len(files), "files": files} for d, files in directories.items()
                ],
            }
            for username, directories in users.items()
        ]

    def _list(self, store: dict[str, dict[str, Any]], request: web.Request) -> web.Response:
        include_removed = self.flag(request, "includeRemoved", default=False)
        return web.json_response(self._group([t for t in store.values() if include_removed or not t["removed"]]))

    def _user(self, store: dict[str, dict[str, Any]], request: web.Request) -> web.Response:
        username = self.username(request)
        records = [t for t in store.values() if t["username"] == username and not t["removed"]]
        if not records:
            return web.Response(status=404)
        return web.json_response(self._group(records)[0])

    @staticmethod
    def _one(store: dict[str, dict[str, Any]], request: web.Request) -> dict[str, Any]:
        try:
            transfer_id = str(uuid.UUID(request.match_info["id"]))
        except ValueError:
            raise web.HTTPBadRequest() from None
        record = store.get(transfer_id)  # the username segment is not looked at
        if record is None:
            raise web.HTTPNotFound()
        return record

    async def list_downloads(self, request: web.Request) -> web.Response:
        return self._list(self.downloads, request)

    async def list_uploads(self, request: web.Request) -> web.Response:
        return self._list(self.uploads, request)

    async def user_downloads(self, request: web.Request) -> web.Response:
        return self._user(self.downloads, request)

    async def user_uploads(self, request: web.Request) -> web.Response:
        return self._user(self.uploads, request)

    async def get_download(self, request: web.Request) -> web.Response:
        return web.json_response(self._one(self.downloads, request))

    async def get_upload(self, request: web.Request) -> web.Response:
        return web.json_response(self._one(self.uploads, request))

    async def download_position(self, request: web.Request) -> web.Response:
        record = self._one(self.downloads, request)
        if "placeInQueue" not in record:
            return web.Response(status=404)
        return web.json_response(record["placeInQueue"])

    async def _cancelled(self, record: dict[str, Any]) -> None:
        """Cancelling is asynchronous: the transfer's task winds down, then the record is final."""
        await asyncio.sleep(self.config.cancel_delay)
        if "Completed" not in record["state"]:
            self._end_transfer(record, "Completed, Cancelled", "Operation cancelled")

    async def cancel_download(self, request: web.Request) -> web.Response:
        """``DELETE …/downloads/{username}/{id}[?remove=true]`` (TransfersController, DownloadService).

        Cancel (TryCancel) never fails; removing is for completed records only: before 0.24.2 an
        unknown id is 404 and a running one throws (500, the message as a JSON string); from 0.24.2
        both are skipped silently (204) and a running record stays listed.
        """
        try:
            transfer_id = str(uuid.UUID(request.match_info["id"]))
        except ValueError:
            return web.Response(status=400)
        record = self.downloads.get(transfer_id)
        if record is not None and "Completed" not in record["state"]:
            self._cancel_task(record["id"])
            self._spawn(self._cancelled(record))
        if not self.flag(request, "remove", default=False):
            return web.Response(status=204)
        skips = self.version >= (0, 24, 2)
        if record is None:
            return web.Response(status=204 if skips else 404)
        if "Completed" not in record["state"]:
            if skips:
                return web.Response(status=204)
            return web.json_response("Invalid attempt to remove a download before it is complete", status=500)
        record["removed"] = True
        return web.Response(status=204)

    async def cancel_upload(self, request: web.Request) -> web.Response:
        record = self._one(self.uploads, request)
        if "Completed" not in record["state"]:
            self._cancel_task(record["id"])
            self._end_transfer(record, "Completed, Cancelled", "Operation cancelled")
        if self.flag(request, "remove", default=False):
            record["removed"] = True
        return web.Response(status=204)

    @staticmethod
    def _clear(store: dict[str, dict[str, Any]]) -> web.Response:
        for record in store.values():
            if "Completed" in record["state"]:
                record["removed"] = True
        return web.Response(status=204)

    async def clear_completed_downloads(self, _request: web.Request) -> web.Response:
        return self._clear(self.downloads)

    async def clear_completed_uploads(self, _request: web.Request) -> web.Response:
        return self._clear(self.uploads)


def _relative_path(path: object) -> bool:
    """What slskd 0.26 accepts as a batch destination (EnqueueDownloadBatchRequest.cs)."""
    if not isinstance(path, str) or not path.strip():
        return False
    text = path.replace("\\", "/")
    absolute = text.startswith("/") or (len(text) > 1 and text[1] == ":")
    return not absolute and ".." not in text.split("/")

"""Async client for slskd's REST API (``/api/v0``, slskd 0.22 to 0.26).

Every route of the areas the ``slskd-api`` package covers (application, conversations,
events, files, logs, options, relay, rooms, searches, server, session, shares, telemetry,
transfers, users) is a method of :class:`SlskdClient`, plus the 0.26 download batches. The
plumbing (auth, requests, 429s, the version) is in ``core.py``, the administration routes in
``admin.py``. What the daemon does differently per version is handled inside: enqueues go through
``POST /transfers/downloads/batches`` on 0.26 and later, and through the per-user route before
(whose answer changed in 0.24, and which 0.22 to 0.23 answer only once the peer queued each file);
names with ``/`` reach routes from 0.24.2; options and telemetry routes moved in 0.24.x.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..exceptions import PeerdeckInputError, PeerdeckInvalidResponseError, PeerdeckResponseError
from .admin import SlskdAdminRoutes
from .core import (
    BATCHES_VERSION,
    ENQUEUE_RESULT_VERSION,
    SLOW_ENQUEUE,
    EnqueueFailure,
    EnqueueResult,
    EventsPage,
    JsonObject,
    check_destination,
    encode_segment,
    event_data,
    file_list,
    flag,
    json_object,
    json_objects,
    opt_str,
    parse_version,
    route_missing,
)

__all__ = ["EnqueueFailure", "EnqueueResult", "EventsPage", "JsonObject", "SlskdClient", "event_data", "parse_version"]


class SlskdClient(SlskdAdminRoutes):
    """Every slskd API call as a typed coroutine."""

    # ------------------------------------------------------------------ server

    async def server_state(self) -> JsonObject:
        """``GET /server``: ``{address, ipEndPoint, state: "Connected, LoggedIn", isConnected, …}``."""
        return json_object(await self._get("server"), "server state")

    async def server_connect(self) -> bool:
        """``PUT /server``; True when slskd (re)connected, False when its watchdog restarted instead (205)."""
        reply = await self._api("PUT", "server", decode="none")
        return reply.status != 205

    async def server_disconnect(self, message: str = "") -> None:
        """``DELETE /server`` with a JSON-string message for the log."""
        await self._api("DELETE", "server", json_body=message, decode="none")

    # ------------------------------------------------------------------ searches

    async def searches_create(
        self,
        search_text: str,
        *,
        search_id: str | None = None,
        search_timeout: int = 15000,
        response_limit: int = 100,
        file_limit: int = 10000,
        filter_responses: bool = True,
        minimum_response_file_count: int = 1,
        maximum_peer_queue_length: int | None = None,
        minimum_peer_upload_speed: int | None = None,
    ) -> JsonObject:
        """``POST /searches``, serialised (slskd allows one at a time). ``search_timeout`` is in ms."""
        if not search_text.strip():
            raise PeerdeckInputError("the search text is empty")
        body: JsonObject = {
            "id": search_id or str(uuid.uuid4()),
            "searchText": search_text,
            "searchTimeout": search_timeout,
            "responseLimit": response_limit,
            "fileLimit": file_limit,
            "filterResponses": filter_responses,
            "minimumResponseFileCount": minimum_response_file_count,
        }
        if maximum_peer_queue_length is not None:
            body["maximumPeerQueueLength"] = maximum_peer_queue_length
        if minimum_peer_upload_speed is not None:
            body["minimumPeerUploadSpeed"] = minimum_peer_upload_speed
        reply = await self._serialised(self._search_lock, "POST", "searches", json_body=body, decode="json")
        return json_object(reply.data, "search")

    async def searches(self) -> list[JsonObject]:
        """``GET /searches``: every search, without responses."""
        return json_objects(await self._get("searches"), "searches")

    async def search(self, search_id: str, *, include_responses: bool = False) -> JsonObject:
        """``GET /searches/{id}``: ``{id, searchText, state, isComplete, responseCount, fileCount, …}``."""
        params = {"includeResponses": flag(include_responses)}
        return json_object(await self._get(f"searches/{encode_segment(search_id)}", params), "search")

    async def search_responses(self, search_id: str) -> list[JsonObject]:
        """``GET /searches/{id}/responses``: one record per responding user, with their files."""
        return json_objects(await self._get(f"searches/{encode_segment(search_id)}/responses"), "responses")

    async def search_stop(self, search_id: str) -> None:
        """``PUT /searches/{id}``: stop a running search (its state becomes ``Completed, Cancelled``)."""
        await self._api("PUT", f"searches/{encode_segment(search_id)}", decode="none")

    async def search_delete(self, search_id: str) -> None:
        """``DELETE /searches/{id}``."""
        await self._api("DELETE", f"searches/{encode_segment(search_id)}", decode="none")

    # ------------------------------------------------------------------ transfers

    async def transfers_downloads(self, *, include_removed: bool = False) -> list[JsonObject]:
        """``GET /transfers/downloads``: ``[{username, directories: [{directory, files: [Transfer]}]}]``."""
        return json_objects(
            await self._get("transfers/downloads", {"includeRemoved": flag(include_removed)}), "downloads"
        )

    async def transfers_user_downloads(self, username: str) -> JsonObject:
        """``GET /transfers/downloads/{username}``: ``{username, directories}``."""
        return json_object(await self._get(f"transfers/downloads/{await self._user(username)}"), "downloads")

    async def transfers_download(self, username: str, transfer_id: str) -> JsonObject:
        """``GET /transfers/downloads/{username}/{id}``: one Transfer record."""
        route = f"transfers/downloads/{encode_segment(username)}/{encode_segment(transfer_id)}"
        return json_object(await self._get(route), "download")

    async def transfers_queue_position(self, username: str, transfer_id: str) -> int:
        """``GET …/{id}/position``: the place in the remote user's queue (slskd asks the peer)."""
        route = f"transfers/downloads/{encode_segment(username)}/{encode_segment(transfer_id)}/position"
        value = await self._get(route)
        if not isinstance(value, int):
            raise PeerdeckInvalidResponseError("slskd sent a queue position that is not a number")
        return value

    async def transfers_cancel_download(self, username: str, transfer_id: str, *, remove: bool = False) -> None:
        """``DELETE /transfers/downloads/{username}/{id}``: cancel, and drop the record with ``remove``."""
        route = f"transfers/downloads/{encode_segment(username)}/{encode_segment(transfer_id)}"
        await self._api("DELETE", route, params={"remove": flag(remove)}, decode="none")

    async def transfers_clear_completed_downloads(self) -> None:
        """``DELETE /transfers/downloads/all/completed``: drop every finished download record."""
        await self._api("DELETE", "transfers/downloads/all/completed", decode="none")

    async def transfers_uploads(self, *, include_removed: bool = False) -> list[JsonObject]:
        """``GET /transfers/uploads``: same shape as downloads."""
        return json_objects(await self._get("transfers/uploads", {"includeRemoved": flag(include_removed)}), "uploads")

    async def transfers_user_uploads(self, username: str) -> JsonObject:
        """``GET /transfers/uploads/{username}``."""
        return json_object(await self._get(f"transfers/uploads/{encode_segment(username)}"), "uploads")

    async def transfers_upload(self, username: str, transfer_id: str) -> JsonObject:
        """``GET /transfers/uploads/{username}/{id}``."""
        route = f"transfers/uploads/{encode_segment(username)}/{encode_segment(transfer_id)}"
        return json_object(await self._get(route), "upload")

    async def transfers_cancel_upload(self, username: str, transfer_id: str, *, remove: bool = False) -> None:
        """``DELETE /transfers/uploads/{username}/{id}``."""
        route = f"transfers/uploads/{encode_segment(username)}/{encode_segment(transfer_id)}"
        await self._api("DELETE", route, params={"remove": flag(remove)}, decode="none")

    async def transfers_clear_completed_uploads(self) -> None:
        """``DELETE /transfers/uploads/all/completed``."""
        await self._api("DELETE", "transfers/uploads/all/completed", decode="none")

    async def transfers_batch(self, batch_id: str) -> JsonObject:
        """``GET /transfers/downloads/batches/{id}`` (0.26+)."""
        return json_object(await self._get(f"transfers/downloads/batches/{encode_segment(batch_id)}"), "batch")

    async def transfers_enqueue(
        self,
        username: str,
        files: Sequence[tuple[str, int]],
        *,
        destination: str | None = None,
        search_id: str | None = None,
    ) -> EnqueueResult:
        """Enqueue downloads by the best route this slskd has: batches on 0.26+, else the per-user route.

        A batches route that answers 404 without a message or 405 (a build or proxy without
        it) switches this client to the per-user route for good.
        """
        if self._batches is None:
            version = await self.version()
            if version is not None:
                self._batches = version >= BATCHES_VERSION
        if self._batches is False:
            if destination is not None:
                raise PeerdeckInputError("slskd before 0.26 cannot choose a destination per download")
            return await self.transfers_enqueue_legacy(username, files)
        try:
            result = await self.transfers_enqueue_batch(username, files, destination=destination, search_id=search_id)
        except PeerdeckResponseError as err:
            if self._batches is None and route_missing(err):
                self._batches = False
                return await self.transfers_enqueue(username, files, destination=destination)
            raise
        self._batches = True
        return result

    async def transfers_enqueue_batch(
        self,
        username: str,
        files: Sequence[tuple[str, int]],
        *,
        batch_id: str | None = None,
        search_id: str | None = None,
        destination: str | None = None,
        external_id: str | None = None,
    ) -> EnqueueResult:
        """``POST /transfers/downloads/batches`` (0.26+): 201 all enqueued, 207 some, 200 none.

        ``destination`` is relative to slskd's downloads directory (an absolute one is refused here, as
        slskd would with 400); slskd 0.26.0 accepts ``external_id`` but does not keep it.
        """
        body: JsonObject = {
            "username": username,
            "files": file_list(files),
            "id": batch_id or str(uuid.uuid4()),
        }
        if search_id is not None:
            body["searchId"] = search_id
        if destination is not None:
            check_destination(destination)
        options = {k: v for k, v in (("destination", destination), ("externalId", external_id)) if v is not None}
        if options:
            body["options"] = options
        reply = await self._serialised(
            self._enqueue_lock, "POST", "transfers/downloads/batches", json_body=body, decode="json"
        )
        data = json_object(reply.data, "batch")
        found = data.get("batch")
        batch: JsonObject = found if isinstance(found, dict) else {}
        failures = [
            EnqueueFailure(str(f.get("filename", "")), opt_str(f.get("message")))
            for f in data.get("failures") or []
            if isinstance(f, dict)
        ]
        transfers = [t for t in batch.get("transfers") or [] if isinstance(t, dict)]
        return EnqueueResult(
            username=username,
            enqueued=tuple(transfers),
            failed=tuple(failures),
            batch_id=opt_str(batch.get("id")) or body["id"],
            via_batches=True,
            raw=data,
        )

    async def transfers_enqueue_legacy(self, username: str, files: Sequence[tuple[str, int]]) -> EnqueueResult:
        """``POST /transfers/downloads/{username}``: ``{enqueued, failed}`` (0.24+) or, before, 201 empty.

        slskd 0.22 to 0.23 answers only once the peer has queued every file, one after another, and
        500 if any was refused while the rest stay enqueued; so there each file is its own request
        with a long time limit, and a 500 is that file's refusal.
        """
        segment = await self._user(username)
        body = file_list(files)
        version = await self.version()
        if version is not None and version < ENQUEUE_RESULT_VERSION:
            return await self._enqueue_each(username, segment, body)
        reply = await self._serialised(
            self._enqueue_lock, "POST", f"transfers/downloads/{segment}", json_body=body, decode="auto"
        )
        data = reply.data if isinstance(reply.data, dict) else {}
        failed: list[EnqueueFailure] = []
        for item in data.get("failed") or []:
            if isinstance(item, str):
                failed.append(EnqueueFailure(item))
            elif isinstance(item, dict):
                # 0.26 serialises (Filename, Message) tuples; their fields may or may not appear.
                name = item.get("filename") or item.get("item1")
                failed.append(EnqueueFailure(str(name or ""), opt_str(item.get("message") or item.get("item2"))))
        enqueued = tuple(t for t in data.get("enqueued") or [] if isinstance(t, dict))
        return EnqueueResult(username=username, enqueued=enqueued, failed=tuple(failed), raw=reply.data)

    async def _enqueue_each(self, username: str, segment: str, body: list[JsonObject]) -> EnqueueResult:
        failed: list[EnqueueFailure] = []
        for item in body:
            try:
                await self._serialised(
                    self._enqueue_lock,
                    "POST",
                    f"transfers/downloads/{segment}",
                    json_body=[item],
                    decode="none",
                    time_limit=max(self.request_timeout, SLOW_ENQUEUE),
                )
            except PeerdeckResponseError as err:
                if err.status != 500:
                    raise
                failed.append(EnqueueFailure(str(item["filename"]), str(err)))
        return EnqueueResult(username=username, failed=tuple(failed))

    # ------------------------------------------------------------------ users

    async def user_endpoint(self, username: str) -> JsonObject:
        """``GET /users/{username}/endpoint``: ``{addressFamily, address, port}``."""
        return json_object(await self._get(f"users/{await self._user(username)}/endpoint"), "endpoint")

    async def user_browse(self, username: str, *, time_limit: float | None = None) -> JsonObject:
        """``GET /users/{username}/browse``: every shared directory (``time_limit`` in s: large shares are slow)."""
        reply = await self._api(
            "GET", f"users/{await self._user(username)}/browse", decode="json", time_limit=time_limit
        )
        return json_object(reply.data, "browse")

    async def user_browse_status(self, username: str) -> JsonObject:
        """``GET /users/{username}/browse/status``: progress of a running browse; 404 when none runs."""
        return json_object(await self._get(f"users/{await self._user(username)}/browse/status"), "browse status")

    async def user_directory(
        self, username: str, directory: str, *, time_limit: float | None = None
    ) -> list[JsonObject]:
        """``POST /users/{username}/directory``: the contents of one remote directory.

        slskd 0.22.0 to 0.22.2 answers one directory object, later versions a list; both come back as a list.
        """
        reply = await self._api(
            "POST",
            f"users/{await self._user(username)}/directory",
            json_body={"directory": directory},
            decode="json",
            time_limit=time_limit,
        )
        if isinstance(reply.data, dict):
            return [reply.data]
        return json_objects(reply.data, "directory")

    async def user_info(self, username: str) -> JsonObject:
        """``GET /users/{username}/info``: description, free slot, queue length, upload slots."""
        return json_object(await self._get(f"users/{await self._user(username)}/info"), "user info")

    async def user_status(self, username: str) -> JsonObject:
        """``GET /users/{username}/status``: ``{isPrivileged, presence}``."""
        return json_object(await self._get(f"users/{await self._user(username)}/status"), "user status")

    # ------------------------------------------------------------------ conversations

    async def conversations(
        self, *, include_inactive: bool = False, unacknowledged_only: bool = False
    ) -> list[JsonObject]:
        """``GET /conversations``."""
        params = {"includeInactive": flag(include_inactive), "unAcknowledgedOnly": flag(unacknowledged_only)}
        return json_objects(await self._get("conversations", params), "conversations")

    async def conversation(self, username: str, *, include_messages: bool = True) -> JsonObject:
        """``GET /conversations/{username}``."""
        params = {"includeMessages": flag(include_messages)}
        return json_object(await self._get(f"conversations/{encode_segment(username)}", params), "conversation")

    async def conversation_messages(self, username: str, *, unacknowledged_only: bool = False) -> list[JsonObject]:
        """``GET /conversations/{username}/messages``."""
        params = {"unAcknowledgedOnly": flag(unacknowledged_only)}
        return json_objects(await self._get(f"conversations/{encode_segment(username)}/messages", params), "messages")

    async def conversation_send(self, username: str, message: str) -> None:
        """``POST /conversations/{username}`` with the message as a JSON string."""
        await self._api("POST", f"conversations/{encode_segment(username)}", json_body=message, decode="none")

    async def conversation_acknowledge(self, username: str, message_id: int) -> None:
        """``PUT /conversations/{username}/{id}``: mark one message read."""
        await self._api("PUT", f"conversations/{encode_segment(username)}/{int(message_id)}", decode="none")

    async def conversation_acknowledge_all(self, username: str) -> None:
        """``PUT /conversations/{username}``: mark every message read."""
        await self._api("PUT", f"conversations/{encode_segment(username)}", decode="none")

    async def conversation_close(self, username: str) -> None:
        """``DELETE /conversations/{username}``."""
        await self._api("DELETE", f"conversations/{encode_segment(username)}", decode="none")

    # ------------------------------------------------------------------ rooms

    async def rooms_joined(self) -> list[str]:
        """``GET /rooms/joined``: names of the joined rooms."""
        data = await self._get("rooms/joined")
        if not isinstance(data, list):
            raise PeerdeckInvalidResponseError("slskd sent joined rooms that are not a list")
        return [str(name) for name in data]

    async def rooms_available(self) -> list[JsonObject]:
        """``GET /rooms/available``: the server's room list."""
        return json_objects(await self._get("rooms/available"), "rooms")

    async def room_join(self, room: str) -> JsonObject | None:
        """``POST /rooms/joined``: the room, or None when already joined (slskd answers 200 empty)."""
        reply = await self._api("POST", "rooms/joined", json_body=room, decode="auto")
        return dict(reply.data) if isinstance(reply.data, dict) else None

    async def room(self, room: str) -> JsonObject:
        """``GET /rooms/joined/{room}``: name, users and messages."""
        return json_object(await self._get(f"rooms/joined/{encode_segment(room)}"), "room")

    async def room_leave(self, room: str) -> None:
        """``DELETE /rooms/joined/{room}``."""
        await self._api("DELETE", f"rooms/joined/{encode_segment(room)}", decode="none")

    async def room_send(self, room: str, message: str) -> None:
        """``POST /rooms/joined/{room}/messages``."""
        await self._api("POST", f"rooms/joined/{encode_segment(room)}/messages", json_body=message, decode="none")

    async def room_messages(self, room: str) -> list[JsonObject]:
        """``GET /rooms/joined/{room}/messages``."""
        return json_objects(await self._get(f"rooms/joined/{encode_segment(room)}/messages"), "room messages")

    async def room_set_ticker(self, room: str, ticker: str) -> None:
        """``POST /rooms/joined/{room}/ticker``."""
        await self._api("POST", f"rooms/joined/{encode_segment(room)}/ticker", json_body=ticker, decode="none")

    async def room_add_member(self, room: str, username: str) -> None:
        """``POST /rooms/joined/{room}/members``: add a member to a private room."""
        await self._api("POST", f"rooms/joined/{encode_segment(room)}/members", json_body=username, decode="none")

    async def room_users(self, room: str) -> list[JsonObject]:
        """``GET /rooms/joined/{room}/users``."""
        return json_objects(await self._get(f"rooms/joined/{encode_segment(room)}/users"), "room users")

    # ------------------------------------------------------------------ events

    async def events(self, *, offset: int = 0, limit: int = 100) -> EventsPage:
        """``GET /events`` (0.22+): newest first; each ``data`` is a JSON string (see :func:`event_data`)."""
        reply = await self._api("GET", "events", params={"offset": offset, "limit": limit}, decode="json")
        total = reply.headers.get("X-Total-Count")
        return EventsPage(tuple(json_objects(reply.data, "events")), int(total) if total and total.isdigit() else None)

    async def event_raise(self, event_type: str, disambiguator: str = "") -> JsonObject:
        """``POST /events/{type}``: raise a sample event (to test webhooks and scripts)."""
        reply = await self._api("POST", f"events/{encode_segment(event_type)}", json_body=disambiguator, decode="json")
        return json_object(reply.data, "event")

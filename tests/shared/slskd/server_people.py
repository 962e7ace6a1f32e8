"""Users, conversations and rooms (sources in docs/supported.md, "slskd").

``POST /users/{username}/directory`` answers one directory object on 0.22.0 to 0.22.2 (Soulseek.NET
6.5) and a list later; usernames in routes are URL-decoded from 0.24.2.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .server_common import (
    Peer,
    ServerBase,
    now_iso,
)


class PeopleMixin(ServerBase):
    """Users, conversations and rooms."""

    # ------------------------------------------------------------------ users

    def _peer(self, request: web.Request) -> Peer:
        peer = self.peers.get(self.username(request))
        if peer is None or not peer.online:
            raise web.HTTPNotFound(text=f"User {request.match_info['username']} appears to be offline")
        return peer

    async def user_endpoint(self, request: web.Request) -> web.Response:
        peer = self._peer(request)
        port = 2234 + sum(map(ord, peer.username)) % 1000
        return web.json_response({"addressFamily": "InterNetwork", "address": "203.0.113.5", "port": port})

    @staticmethod
    def _directories(peer: Peer) -> list[dict[str, Any]]:
        folders: dict[str, list[dict[str, Any]]] = {}
        for name, size in peer.files.items():
            directory, _, base = name.replace("/", "\\").rpartition("\\")
            extension = base.rsplit(".", 1)[-1] if "." in base else ""
            folders.setdefault(directory, []).append(
                {
                    "code": 1,
                    "filename": base,
                    "size": size,
                    "extension": extension,
                    "attributeCount": 0,
                    "attributes": [],
                }
            )
        return [{"name": d, "fileCount": len(f), "files": f} for d, f in folders.items()]

    async def user_browse(self, request: web.Request) -> web.Response:
        peer = self._peer(request)
        total = sum(peer.files.values())
        self.browsing[peer.username] = {
            "username": peer.username,
            "size": total,
            "bytesTransferred": 0,
            "bytesRemaining": total,
            "percentComplete": 0,
        }
        try:
            await asyncio.sleep(peer.browse_delay)
        finally:
            del self.browsing[peer.username]
        directories = self._directories(peer)
        return web.json_response(
            {
                "directoryCount": len(directories),
                "directories": directories,
                "lockedDirectoryCount": 0,
                "lockedDirectories": [],
            }
        )

    async def user_browse_status(self, request: web.Request) -> web.Response:
        status = self.browsing.get(self.username(request))
        if status is None:
            return web.Response(status=404)
        return web.json_response(status)

    async def user_directory(self, request: web.Request) -> web.Response:
        peer = self._peer(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("directory"):
            return web.Response(status=400)
        wanted = str(body["directory"]).replace("/", "\\")
        found = [d for d in self._directories(peer) if d["name"] == wanted]
        if not found:
            return self.text(f"Directory {wanted} not found", 404)
        # Soulseek.NET 6.5 (slskd 0.22.0-0.22.2) returns one Directory; 7.0 and later a list.
        return web.json_response(found[0] if self.version < (0, 22, 3) else found)

    async def user_info(self, request: web.Request) -> web.Response:
        peer = self._peer(request)
        return web.json_response(
            {
                "description": f"{peer.username}'s shares",
                "hasFreeUploadSlot": peer.free_slot,
                "hasPicture": False,
                "queueLength": peer.queue_length,
                "uploadSlots": 2,
            }
        )

    async def user_status(self, request: web.Request) -> web.Response:
        self._peer(request)
        return web.json_response({"isPrivileged": False, "presence": "Online"})

    # ------------------------------------------------------------------ conversations

    @staticmethod
    def _conversation_view(conversation: dict[str, Any], include_messages: bool) -> dict[str, Any]:
        unacked = sum(1 for m in conversation["messages"] if not m["isAcknowledged"] and m["direction"] == "In")
        view = {
            "username": conversation["username"],
            "isActive": conversation["isActive"],
            "unAcknowledgedMessageCount": unacked,
            "hasUnAcknowledgedMessages": unacked > 0,
        }
        if include_messages:
            view["messages"] = conversation["messages"]
        return view

    def _conversation(self, request: web.Request) -> dict[str, Any]:
        conversation = self.conversations.get(request.match_info["username"])
        if conversation is None:
            raise web.HTTPNotFound()
        return conversation

    async def conversations_list(self, request: web.Request) -> web.Response:
        include_inactive = self.flag(request, "includeInactive", default=False)
        unacked_only = self.flag(request, "unAcknowledgedOnly", default=False)
        views = [
            self._conversation_view(c, include_messages=False)
            for c in self.conversations.values()
            if include_inactive or c["isActive"]
        ]
        return web.json_response([v for v in views if not unacked_only or v["hasUnAcknowledgedMessages"]])

    async def conversation_get(self, request: web.Request) -> web.Response:
        include = self.flag(request, "includeMessages", default=True)
        return web.json_response(self._conversation_view(self._conversation(request), include))

    async def conversation_messages(self, request: web.Request) -> web.Response:
        messages = self._conversation(request)["messages"]
        if self.flag(request, "unAcknowledgedOnly", default=False):
            messages = [m for m in messages if not m["isAcknowledged"]]
        return web.json_response(messages)

    async def conversation_send(self, request: web.Request) -> web.Response:
        message = await self.json_string(request)
        username = request.match_info["username"]
        if not message:
            return web.Response(status=400)
        conversation = self.conversations.setdefault(username, {"username": username, "isActive": True, "messages": []})
        conversation["isActive"] = True
        conversation["messages"].append(
            {
                "timestamp": now_iso(),
                "id": len(conversation["messages"]) + 1,
                "username": username,
                "direction": "Out",
                "message": message,
                "isAcknowledged": True,
                "wasReplayed": False,
            }
        )
        return web.Response(status=201)

    async def conversation_ack(self, request: web.Request) -> web.Response:
        conversation = self._conversation(request)
        for message in conversation["messages"]:
            if str(message["id"]) == request.match_info["id"]:
                message["isAcknowledged"] = True
                return web.Response(status=200)
        return web.Response(status=404)

    async def conversation_ack_all(self, request: web.Request) -> web.Response:
        for message in self._conversation(request)["messages"]:
            message["isAcknowledged"] = True
        return web.Response(status=200)

    async def conversation_close(self, request: web.Request) -> web.Response:
        self._conversation(request)["isActive"] = False
        return web.Response(status=204)

    # ------------------------------------------------------------------ rooms

    def _room(self, request: web.Request) -> dict[str, Any]:
        room = self.rooms.get(request.match_info["room"])
        if room is None:
            raise web.HTTPNotFound()
        return room

    async def rooms_list_available(self, _request: web.Request) -> web.Response:
        return web.json_response(self.rooms_available)

    async def rooms_list_joined(self, _request: web.Request) -> web.Response:
        return web.json_response(list(self.rooms))

    async def room_join(self, request: web.Request) -> web.Response:
        name = await self.json_string(request)
        if not name:
            return web.Response(status=400)
        if name in self.rooms:
            return web.Response(status=200)
        known = {r["name"]: r for r in self.rooms_available}
        self.rooms[name] = {
            "name": name,
            "isPrivate": bool(known.get(name, {}).get("isPrivate")),
            "users": [
                {
                    "username": "me",
                    "status": "Online",
                    "averageSpeed": 0,
                    "uploadCount": 0,
                    "fileCount": 3,
                    "directoryCount": 2,
                    "slotsFree": 2,
                    "countryCode": "NL",
                }
            ],
            "messages": [],
            "tickers": {},
            "members": [],
        }
        return web.json_response(self.rooms[name], status=201)

    async def room_get(self, request: web.Request) -> web.Response:
        return web.json_response(self._room(request))

    async def room_leave(self, request: web.Request) -> web.Response:
        self._room(request)
        del self.rooms[request.match_info["room"]]
        return web.Response(status=204)

    async def room_messages(self, request: web.Request) -> web.Response:
        return web.json_response(self._room(request)["messages"])

    async def room_send(self, request: web.Request) -> web.Response:
        room = self._room(request)
        message = await self.json_string(request)
        if not message:
            return web.Response(status=400)
        room["messages"].append(
            {"timestamp": now_iso(), "username": "me", "message": message, "roomName": room["name"]}
        )
        return web.Response(status=201)

    async def room_ticker(self, request: web.Request) -> web.Response:
        room = self._room(request)
        room["tickers"]["me"] = await self.json_string(request) or ""
        return web.Response(status=201)

    async def room_member(self, request: web.Request) -> web.Response:
        room = self._room(request)
        username = await self.json_string(request)
        if not username:
            return web.Response(status=400)
        room["members"].append(username)
        return web.Response(status=201)

    async def room_users(self, request: web.Request) -> web.Response:
        return web.json_response(self._room(request)["users"])

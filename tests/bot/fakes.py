"""Test doubles: a typed fake Backend, and a Discord harness that feeds real Interaction objects
through the bot's real CommandTree and ViewStore while a fake webhook adapter records every
response (nothing leaves the process)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import discord
from discord.ext import commands
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from peerdeck import (
    ALL,
    BackendInfo,
    BackendKind,
    Capabilities,
    EnqueueOptions,
    EnqueueTarget,
    PeerdeckConnectionError,
    SearchHit,
    SearchKind,
    Status,
    Transfer,
    TransferEvent,
    TransferSelector,
    TransferState,
    TransferTracker,
    Update,
)
from peerdeck.backend import poll_events

APP_ID = 900000000000000001
GUILD_ID = 900000000000000002
CHANNEL_ID = 900000000000000003
BOT_USER_ID = 900000000000000004
ADMIN_ID = 100000000000000001
FRIEND_ID = 100000000000000002
STRANGER_ID = 100000000000000003
WRITER_ROLE = 200000000000000001
READER_ROLE = 200000000000000002
ADMINISTRATOR = 1 << 3
_ids = itertools.count(300000000000000000)


class FakeBackend:
    """An in-memory daemon implementing the Backend protocol."""

    def __init__(
        self,
        *,
        kind: BackendKind = BackendKind.QBITTORRENT,
        capabilities: Capabilities | None = None,
        transfers: list[Transfer] | None = None,
        hits: list[SearchHit] | None = None,
    ) -> None:
        self.kind = kind
        self.capabilities = capabilities or Capabilities(search=SearchKind.PLUGIN)
        self.items: dict[str, Transfer] = {t.id: t for t in transfers or []}
        self.hits = hits or []
        self.calls: list[tuple[str, Any]] = []
        self.stall = False
        self.down = False
        """Every call fails as when nothing listens at the daemon's address."""
        self.entered = asyncio.Event()
        self.closed = False
        self.tracker = TransferTracker()

    async def _op(self, name: str, arg: Any = None) -> None:
        self.calls.append((name, arg))
        self.entered.set()
        if self.down:
            raise PeerdeckConnectionError(f"{name}: cannot reach qBittorrent because the connection was refused")
        if self.stall:
            await asyncio.Event().wait()

    async def info(self) -> BackendInfo:
        await self._op("info")
        return BackendInfo(self.kind, "1.0")

    async def status(self) -> Status:
        await self._op("status")
        counts: dict[TransferState, int] = {}
        for t in self.items.values():
            counts[t.state] = counts.get(t.state, 0) + 1
        return Status(connected=True, download_rate=2048, upload_rate=1024, counts=counts)

    async def transfers(self) -> list[Transfer]:
        await self._op("transfers")
        return list(self.items.values())

    async def search(self, query: str, *, timeout: float = 30.0, limit: int | None = None) -> AsyncIterator[SearchHit]:
        await self._op("search", query)
        for hit in self.hits[:limit]:
            await asyncio.sleep(0)
            yield hit

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> list[str]:
        await self._op("enqueue", target)
        tid = f"t{len(self.items) + 1}"
        name = target.title if isinstance(target, SearchHit) else getattr(target, "uri", "item")
        self.items[tid] = Transfer(tid, name, TransferState.ACTIVE, progress=0.1)
        return [tid]

    def _each(self, ids: TransferSelector) -> list[str]:
        return list(self.items) if ids is ALL else list(ids)

    async def pause(self, ids: TransferSelector) -> None:
        await self._op("pause", ids)
        for tid in self._each(ids):
            self.set_state(tid, TransferState.PAUSED)

    async def resume(self, ids: TransferSelector) -> None:
        await self._op("resume", ids)
        for tid in self._each(ids):
            self.set_state(tid, TransferState.ACTIVE)

    async def remove(self, ids: TransferSelector, *, delete_data: bool = False) -> None:
        await self._op("remove", (ids, delete_data))
        for tid in self._each(ids):
            self.items.pop(tid, None)

    async def update(self) -> Update:
        status = await self.status()
        return Update(status, dict(self.items), tuple(self.tracker.observe(self.items)))

    def export_state(self) -> dict[str, Any]:
        return dict(self.tracker.export_state())

    def restore_state(self, data: Mapping[str, Any]) -> None:
        self.tracker = TransferTracker()
        self.tracker.restore_state(data)

    def events(self, *, interval: float = 10.0) -> AsyncIterator[TransferEvent]:
        return poll_events(self, interval)

    async def close(self) -> None:
        self.closed = True

    def set_state(self, tid: str, state: TransferState, progress: float | None = None) -> None:
        old = self.items[tid]
        done = 1.0 if state is TransferState.COMPLETED else old.progress
        self.items[tid] = Transfer(tid, old.name, state, progress=done if progress is None else progress)


@dataclass
class Call:
    """One request the bot made to Discord."""

    method: str
    path: str
    body: dict[str, Any]

    @property
    def is_defer(self) -> bool:
        return self.path.endswith("/callback") and self.body.get("type") == 5

    @property
    def data(self) -> dict[str, Any]:
        """The message part: the callback's ``data`` or the webhook body itself."""
        return self.body.get("data") or {} if self.path.endswith("/callback") else self.body

    @property
    def text(self) -> str:
        """Content plus embed titles and descriptions."""
        data = self.data
        parts = [data.get("content") or ""]
        for embed in data.get("embeds") or []:
            parts += [embed.get("title", ""), embed.get("description", ""), embed.get("footer", {}).get("text", "")]
        return "\n".join(parts)

    @property
    def ephemeral(self) -> bool:
        return bool(self.data.get("flags", 0) & 64)


class FakeAdapter(AsyncWebhookAdapter):
    """Records every interaction response and webhook call instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.changed = asyncio.Event()
        self.messages: dict[str, dict[str, Any]] = {}

    async def request(self, route: Any, session: Any, *, payload: Any = None, multipart: Any = None, **_: Any) -> Any:
        body = payload
        if body is None and multipart:
            body = json.loads(next(p["value"] for p in multipart if p["name"] == "payload_json"))
        call = Call(route.method, route.path, body or {})
        self.calls.append(call)
        self.changed.set()
        if route.path.endswith("/callback"):
            return {"interaction": {"id": str(route.webhook_id), "type": 2}}
        token = route.webhook_token
        message = _message(call.data, next(_ids) if route.method == "POST" else None)
        self.messages[token] = message
        return message

    async def wait_for(self, predicate: Callable[[list[Call]], bool]) -> None:
        """Wait until the recorded calls satisfy ``predicate``."""
        while not predicate(self.calls):
            self.changed.clear()
            await self.changed.wait()


def _message(data: dict[str, Any], message_id: int | None) -> dict[str, Any]:
    return {
        "id": str(message_id or next(_ids)),
        "channel_id": str(CHANNEL_ID),
        "guild_id": str(GUILD_ID),
        "author": {"id": str(BOT_USER_ID), "username": "peerdeck", "discriminator": "0", "avatar": None, "bot": True},
        "content": data.get("content") or "",
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": data.get("embeds") or [],
        "pinned": False,
        "type": 0,
        "flags": data.get("flags", 0),
        "components": data.get("components") or [],
    }


@dataclass
class Member:
    """Who clicks or types."""

    id: int
    roles: tuple[int, ...] = ()
    admin: bool = False


ADMIN = Member(ADMIN_ID, admin=True)
FRIEND = Member(FRIEND_ID, roles=(WRITER_ROLE,))
READER = Member(STRANGER_ID + 10, roles=(READER_ROLE,))
STRANGER = Member(STRANGER_ID)


@dataclass
class Harness:
    """Drives the bot like Discord's gateway would, with responses recorded by ``adapter``."""

    bot: commands.Bot
    adapter: FakeAdapter
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def _base(self, member: Member, kind: int, data: dict[str, Any], token: str) -> dict[str, Any]:
        return {
            "id": str(next(_ids)),
            "application_id": str(APP_ID),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": str(GUILD_ID),
            "channel_id": str(CHANNEL_ID),
            "channel": channel_payload(),
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": "0",
            "attachment_size_limit": 10485760,
            "entitlements": [],
            "authorizing_integration_owners": {},
            "context": 0,
            "member": {
                "user": {"id": str(member.id), "username": f"user{member.id}", "discriminator": "0", "avatar": None},
                "roles": [str(r) for r in member.roles],
                "joined_at": "2025-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(ADMINISTRATOR if member.admin else 0),
            },
            "data": data,
        }

    def _dispatch(self, payload: dict[str, Any]) -> set[asyncio.Task[Any]]:
        async_context.set(self.adapter)
        before = asyncio.all_tasks()
        self.bot._connection.parse_interaction_create(payload)
        return {t for t in asyncio.all_tasks() - before if not _background(t)}

    async def _settle(self, tasks: set[asyncio.Task[Any]]) -> None:
        while tasks:
            before = asyncio.all_tasks()
            await asyncio.gather(*tasks, return_exceptions=True)
            tasks = {t for t in asyncio.all_tasks() - before if not t.done() and not _background(t)}

    def command_payload(
        self, name: str, options: dict[str, Any], member: Member, focused: str | None = None
    ) -> dict[str, Any]:
        opts = []
        attachments: dict[str, Any] = {}
        for key, value in options.items():
            if isinstance(value, dict):  # an attachment payload
                attachments[value["id"]] = value
                opt: dict[str, Any] = {"name": key, "type": 11, "value": value["id"]}
            else:
                opt = {"name": key, "type": 5 if isinstance(value, bool) else 3, "value": value}
            if key == focused:
                opt["focused"] = True
            opts.append(opt)
        data = {
            "id": str(next(_ids)),
            "name": name,
            "type": 1,
            "options": opts,
            "resolved": {"attachments": attachments},
        }
        return self._base(member, 4 if focused else 2, data, f"token-{next(_ids)}")

    async def command(self, name: str, member: Member = ADMIN, **options: Any) -> list[Call]:
        """Run a slash command to the end; returns the calls it made."""
        start = len(self.adapter.calls)
        await self._settle(self._dispatch(self.command_payload(name, options, member)))
        return self.adapter.calls[start:]

    def start_command(self, name: str, member: Member = ADMIN, **options: Any) -> set[asyncio.Task[Any]]:
        """Dispatch a slash command without waiting for it."""
        return self._dispatch(self.command_payload(name, options, member))

    async def autocomplete(
        self, name: str, focused: str, member: Member = ADMIN, **options: Any
    ) -> list[dict[str, Any]]:
        """The choices the bot offers for ``focused``."""
        start = len(self.adapter.calls)
        await self._settle(self._dispatch(self.command_payload(name, options, member, focused)))
        answers = [c for c in self.adapter.calls[start:] if c.body.get("type") == 8]
        assert len(answers) == 1, self.adapter.calls[start:]
        return list(answers[0].body["data"]["choices"])

    def _click_payload(
        self, message: dict[str, Any], custom_id: str, member: Member, values: list[str] | None
    ) -> dict[str, Any]:
        component_type = 3 if values is not None else 2
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = values
        payload = self._base(member, 3, data, f"token-{next(_ids)}")
        payload["message"] = message
        return payload

    async def click(
        self, message: dict[str, Any], custom_id: str, member: Member = ADMIN, values: list[str] | None = None
    ) -> list[Call]:
        """Use a component of ``message``; returns the calls it made."""
        start = len(self.adapter.calls)
        await self._settle(self._dispatch(self._click_payload(message, custom_id, member, values)))
        return self.adapter.calls[start:]

    def start_click(self, message: dict[str, Any], custom_id: str, member: Member = ADMIN) -> set[asyncio.Task[Any]]:
        """Press a button of ``message`` without waiting for it."""
        return self._dispatch(self._click_payload(message, custom_id, member, None))


def _background(task: asyncio.Task[Any]) -> bool:
    """Tasks that outlive a response: the notice loop, a backend's event follower, a view's timeout timer,
    and a connection handler of a test server running in the same loop."""
    name = getattr(task.get_coro(), "__qualname__", "")
    return (
        task.get_name().startswith("peerdeck-")
        or name.endswith("__timeout_task_impl")
        or name == "RequestHandler.start"
    )


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component of a message, flattened."""
    return [c for row in message.get("components", []) for c in row.get("components", [])]


def custom_id(message: dict[str, Any], prefix: str) -> str:
    """The custom id starting with ``prefix``."""
    return next(c["custom_id"] for c in components(message) if c.get("custom_id", "").startswith(prefix))


def channel_payload() -> dict[str, Any]:
    """The test channel, as interactions and ``GET /channels/{id}`` describe it."""
    return {
        "id": str(CHANNEL_ID),
        "type": 0,
        "guild_id": str(GUILD_ID),
        "name": "downloads",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "flags": 0,
    }


def guild_payload() -> dict[str, Any]:
    """The test guild with its roles, as the gateway would cache it."""
    role = {"hoist": False, "managed": False, "mentionable": False, "color": 0, "position": 1, "permissions": "0"}
    return {
        "id": str(GUILD_ID),
        "name": "test",
        "owner_id": str(ADMIN_ID),
        "roles": [
            {**role, "id": str(GUILD_ID), "name": "@everyone", "position": 0},
            {**role, "id": str(WRITER_ROLE), "name": "Seedbox"},
            {**role, "id": str(READER_ROLE), "name": "Friends"},
        ],
        "channels": [],
        "members": [],
        "emojis": [],
        "stickers": [],
        "features": [],
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "premium_tier": 0,
        "system_channel_flags": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
    }


@dataclass
class BotRequest:
    """One request the bot made with its own token (channel messages, not interaction responses)."""

    method: str
    path: str
    channel_id: int | None
    message_id: int | None
    body: dict[str, Any]


class FakeDiscordHTTP:
    """Stands in for ``bot.http.request``: records what the bot posts, edits and deletes in channels.

    ``missing`` holds message ids that answer 404, as when someone deleted the message."""

    def __init__(self) -> None:
        self.requests: list[BotRequest] = []
        self.missing: set[int] = set()

    def install(self, bot: commands.Bot) -> None:
        bot.http.request = self.request  # type: ignore[method-assign]

    async def request(self, route: Any, *, json: Any = None, **_: Any) -> Any:
        _, found, tail = route.url.partition("/messages/")
        message_id = int(tail) if found and tail.isdigit() else None
        channel_id = None if route.channel_id is None else int(route.channel_id)
        call = BotRequest(route.method, route.path, channel_id, message_id, json or {})
        self.requests.append(call)
        if message_id is not None and message_id in self.missing:
            raise discord.NotFound(_Response(404), {"code": 10008, "message": "Unknown Message"})
        if route.method == "DELETE":
            return None
        if route.method == "GET" and route.path == "/channels/{channel_id}":
            return channel_payload()
        message = _message(json or {}, message_id or next(_ids))
        message["channel_id"] = str(channel_id)
        return message

    def edits(self, message_id: int) -> list[BotRequest]:
        """The edits of one message."""
        return [r for r in self.requests if r.method == "PATCH" and r.message_id == message_id]


class _Response:
    """Just enough of an aiohttp response for discord.HTTPException."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "Not Found"

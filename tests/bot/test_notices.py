"""Completion notices: to the requester and the channel, each exactly once, across restarts."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord

from peerdeck import Magnet, Transfer, TransferState
from peerdeck_bot.config import parse_config
from peerdeck_bot.service import PeerdeckService
from peerdeck_bot.state import Delivery, Request

from .conftest import MakeHarness, config_data
from .fakes import FRIEND, FakeBackend


class Sink:
    """Records deliveries; can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[Delivery] = []
        self.fail = False

    async def __call__(self, nonce: str, batch: Sequence[Delivery]) -> bool:
        if self.fail:
            return False
        self.sent.extend(batch)
        return True


async def start(tmp_path: Path, backend: FakeBackend, **sections: dict[str, Any]) -> PeerdeckService:
    service = PeerdeckService(
        parse_config(config_data(["seedbox"], **sections), base_dir=tmp_path), backends={"seedbox": backend}
    )
    await service.start()
    return service


async def test_notice_is_sent_once_and_not_again_after_restart(tmp_path: Path) -> None:
    backend = FakeBackend(transfers=[Transfer("old", "Old", TransferState.COMPLETED, progress=1.0)])
    sink = Sink()
    service = await start(tmp_path, backend)
    await service.poll()  # primes: what was already done is not news
    await service.enqueue("seedbox", Magnet("magnet:?xt=urn:btih:" + "c" * 40), FRIEND.id, "dm")
    await service.poll()
    backend.set_state("t2", TransferState.COMPLETED)
    await service.poll()
    await service.flush(sink)
    await service.poll()
    await service.flush(sink)
    await service.close()

    restarted = await start(tmp_path, backend)
    await restarted.poll()
    await restarted.flush(sink)

    assert [(d.transfer_id, d.target, d.user_id) for d in sink.sent] == [
        ("t2", "dm", FRIEND.id),
        ("t2", "channel", FRIEND.id),
    ]


async def test_completion_while_offline_is_announced_once_after_restart(tmp_path: Path) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "Film", TransferState.ACTIVE, progress=0.3)])
    sink = Sink()
    service = await start(tmp_path, backend)
    await service.poll()
    await service.close()
    backend.set_state("h1", TransferState.COMPLETED)

    for _ in range(2):
        restarted = await start(tmp_path, backend)
        await restarted.poll()
        await restarted.flush(sink)
        await restarted.close()

    assert [(d.name, d.target, d.user_id) for d in sink.sent] == [("Film", "channel", None)]


async def test_failed_delivery_is_retried_not_lost(tmp_path: Path) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "Film", TransferState.ACTIVE)])
    sink = Sink()
    service = await start(tmp_path, backend, notices={"announce_all": True})
    await service.poll()
    backend.set_state("h1", TransferState.FAILED)
    await service.poll()
    sink.fail = True
    await service.flush(sink)
    await service.close()

    sink.fail = False
    restarted = await start(tmp_path, backend)
    await restarted.flush(sink)
    await restarted.flush(sink)

    assert [(d.outcome, d.attempts) for d in sink.sent] == [("failed", 1)]


async def test_channel_choice_mentions_only_the_requester(make_harness: MakeHarness, monkeypatch: Any) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "@everyone Film", TransferState.ACTIVE)])
    _, core = await make_harness({"seedbox": backend})
    await core.service.poll()
    core.service.store.state.requests.setdefault("seedbox", {})["h1"] = Request(FRIEND.id, "channel")
    backend.set_state("h1", TransferState.COMPLETED)
    posted: list[dict[str, Any]] = []

    class Channel:
        async def send(self, **kwargs: Any) -> None:
            posted.append(kwargs)

    async def channel() -> Channel:
        return Channel()

    monkeypatch.setattr(core, "resolve_channel", channel)
    await core.run_notices()
    await core.run_notices()

    assert len(posted) == 1
    assert posted[0]["content"] == f"<@{FRIEND.id}>"
    mentions: discord.AllowedMentions = posted[0]["allowed_mentions"]
    assert mentions.to_dict() == {"parse": [], "users": [FRIEND.id]}
    assert "@\u200beveryone Film" in posted[0]["embed"].description


async def test_dm_notice_goes_to_the_requester(make_harness: MakeHarness, monkeypatch: Any) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "Film", TransferState.ACTIVE)])
    _, core = await make_harness({"seedbox": backend}, discord={"notify_channel_id": None})
    await core.service.poll()
    core.service.store.state.requests.setdefault("seedbox", {})["h1"] = Request(FRIEND.id, "dm")
    backend.set_state("h1", TransferState.COMPLETED)
    dms: list[tuple[int, str]] = []

    class User:
        def __init__(self, uid: int) -> None:
            self.uid = uid

        async def send(self, text: str, **_: Any) -> None:
            dms.append((self.uid, text))

    async def user(uid: int) -> User:
        return User(uid)

    monkeypatch.setattr(core, "resolve_user", user)
    await core.run_notices()
    await core.run_notices()

    assert dms == [(FRIEND.id, "Your download **Film** on seedbox has finished downloading.")]


class Crash(BaseException):
    """The process dies right after Discord accepted a message, before the bot saved anything."""


class NonceChannel:
    """Discord's side of ``enforce_nonce``: a second message with a known nonce is not posted again."""

    def __init__(self) -> None:
        self.posted: dict[str, list[str]] = {}
        self.tries: list[str] = []

    def post(self, nonce: str, batch: Sequence[Delivery]) -> None:
        self.tries.append(nonce)
        self.posted.setdefault(nonce, [d.name for d in batch])


async def test_a_crash_between_send_and_save_neither_loses_nor_duplicates(tmp_path: Path) -> None:
    backend = FakeBackend(
        transfers=[Transfer("h1", "Film", TransferState.ACTIVE), Transfer("h2", "Show", TransferState.ACTIVE)]
    )
    discord_side = NonceChannel()
    service = await start(tmp_path, backend)
    await service.poll()
    backend.set_state("h1", TransferState.COMPLETED)
    await service.poll()

    async def send_then_crash(nonce: str, batch: Sequence[Delivery]) -> bool:
        discord_side.post(nonce, batch)
        raise Crash

    with contextlib.suppress(Crash):
        await service.flush(send_then_crash)
    backend.set_state("h2", TransferState.COMPLETED)  # finishes while the bot is down

    async def send(nonce: str, batch: Sequence[Delivery]) -> bool:
        discord_side.post(nonce, batch)
        return True

    for _ in range(2):
        restarted = await start(tmp_path, backend)
        await restarted.poll()
        await restarted.flush(send)
        await restarted.close()

    assert list(discord_side.posted.values()) == [["Film"], ["Show"]]
    assert len(discord_side.tries) == 3  # Film twice, with the same nonce

"""Helpers for end-to-end bot tests: the extension loaded from a TOML file, driven through the harness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from peerdeck_bot.__main__ import main

from .fakes import Call, Harness, Member, components, custom_id


class Notices:
    """Stands in for Discord when the bot posts completion notices: records channel posts and DMs."""

    def __init__(self) -> None:
        self.channel: list[dict[str, Any]] = []
        self.dms: list[tuple[int, str]] = []

    def install(self, core: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        notices = self

        class Channel:
            async def send(self, **kwargs: Any) -> None:
                notices.channel.append(kwargs)

        class User:
            def __init__(self, uid: int) -> None:
                self.uid = uid

            async def send(self, text: str, **_: Any) -> None:
                notices.dms.append((self.uid, text))

        async def channel() -> Channel:
            return Channel()

        async def user(uid: int) -> User:
            return User(uid)

        monkeypatch.setattr(core, "resolve_channel", channel)
        monkeypatch.setattr(core, "resolve_user", user)

    @property
    def lines(self) -> list[str]:
        """Every line of every channel summary."""
        return [line for post in self.channel for line in (post["embed"].description or "").splitlines()]


async def wait_until(predicate: Callable[[], Awaitable[bool]], what: str, limit: float = 60.0) -> None:
    """Poll ``predicate`` until it holds; fails with ``what`` after ``limit`` s (a bound, not a measurement)."""
    deadline = time.monotonic() + limit
    while not await predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def search_and_enqueue(harness: Harness, member: Member, query: str, backend: str, title: str) -> list[Call]:
    """``/search``, tick the hit whose label contains ``title``, press Enqueue; returns the Enqueue calls."""
    harness.adapter.messages.clear()
    searched = await harness.command("search", member, query=query, backend=backend)
    assert searched[0].is_defer, searched
    [final] = harness.adapter.messages.values()
    select = next((c for c in components(final) if c["type"] == 3), None)
    assert select is not None, searched[-1].text
    value = next(o["value"] for o in select["options"] if title in o["label"])
    picked = await harness.click(final, select["custom_id"], member, values=[value])
    assert picked[0].body["type"] == 7
    redrawn = {**final, "components": picked[0].body["data"]["components"]}
    return await harness.click(redrawn, custom_id(redrawn, "pd:enq:"), member)


def check_config(path: Path, capsys: pytest.CaptureFixture[str]) -> Awaitable[tuple[int, str]]:
    """Run ``peerdeck-bot --check-config`` (the CLI runs its own event loop, so in a thread)."""

    async def run() -> tuple[int, str]:
        with pytest.raises(SystemExit) as exit_:
            await asyncio.to_thread(main, ["--config", str(path), "--check-config"])
        code = exit_.value.code
        return (code if isinstance(code, int) else -1), capsys.readouterr().out

    return run()


def table(out: str) -> dict[str, list[str]]:
    """``--check-config`` rows by backend name: the cells kind, url, mark, then the result text."""
    rows: dict[str, list[str]] = {}
    for line in out.splitlines()[2:]:
        cells = line.split(None, 4)
        if len(cells) == 5:
            rows[cells[0]] = cells[1:]
    return rows

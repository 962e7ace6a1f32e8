"""Fixtures: the slskd conformance server on 127.0.0.1 (a free port) and clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp import web

from peerdeck.slskd import SlskdClient

from .server import Config, Peer, SlskdConformance


@dataclass
class Running:
    """A started conformance server and the base URL (with its url_base) to reach it."""

    server: SlskdConformance
    url: str

    @property
    def api_key(self) -> str:
        assert self.server.config.api_key is not None
        return self.server.config.api_key


Starter = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_slskd() -> AsyncIterator[Starter]:
    runners: list[web.AppRunner] = []

    async def start(config: Config | None = None, peers: list[Peer] | None = None) -> Running:
        conformance = SlskdConformance(config, peers)
        runner = web.AppRunner(conformance.app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return Running(conformance, f"http://127.0.0.1:{port}{conformance.config.url_base.rstrip('/')}")

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def slskd(start_slskd: Starter) -> Running:
    return await start_slskd()


@pytest.fixture
async def client(slskd: Running) -> AsyncIterator[SlskdClient]:
    async with SlskdClient(slskd.url, api_key=slskd.api_key) as c:
        yield c

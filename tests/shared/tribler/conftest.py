"""Fixtures: a conformance Tribler core per test, and a client and backend pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web

from peerdeck import Credentials
from peerdeck.tribler import Backoff, TriblerBackend, TriblerClient

from .server import API_KEY, TriblerServer, serve

FAST = Backoff(initial=0.01, maximum=0.05)


@dataclass
class Core:
    """A running conformance server: its state, its app and its URL."""

    server: TriblerServer
    app: web.Application
    url: str


@pytest.fixture
async def core() -> AsyncIterator[Core]:
    server = TriblerServer()
    app = server.app()
    async for url in serve(app):
        server.url = url
        yield Core(server, app, url)


@pytest.fixture
async def client(core: Core) -> AsyncIterator[TriblerClient]:
    async with TriblerClient(core.url, api_key=API_KEY, startup_wait=5.0, startup_retry_interval=0.01) as tribler:
        yield tribler


@pytest.fixture
async def backend(core: Core) -> AsyncIterator[TriblerBackend]:
    tribler = TriblerBackend(core.url, Credentials(api_key=API_KEY), startup_wait=5.0, events_backoff=FAST)
    tribler.client.startup_retry_interval = 0.01
    try:
        yield tribler
    finally:
        await tribler.close()

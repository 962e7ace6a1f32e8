"""Fixtures: recorded Syncthing answers and a client/backend against a mocked URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aioresponses import aioresponses

from peerdeck import Credentials
from peerdeck.syncthing import SyncthingBackend, SyncthingClient

from .syncthing_daemons import SyncthingDaemon, running_pair

URL = "http://127.0.0.1:8384"
KEY = "s3cr3t-api-key-for-tests"


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


@pytest.fixture
async def client() -> AsyncIterator[SyncthingClient]:
    async with SyncthingClient(URL, api_key=KEY, request_timeout=2.0) as st:
        yield st


@pytest.fixture
async def backend() -> AsyncIterator[SyncthingBackend]:
    st = SyncthingBackend(URL, Credentials(api_key=KEY), request_timeout=2.0, event_timeout=1, file_events=True)
    yield st
    await st.close()


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[SyncthingDaemon, SyncthingDaemon]]:
    """Two real syncthing 1.x daemons on loopback sharing folder ``shared`` (A: data-a, B: data-b)."""
    with running_pair(tmp_path) as daemons:
        yield daemons

"""Fixtures: a real qbittorrent-nox per test module, and clients logged into it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from peerdeck import Credentials
from peerdeck.qbittorrent import QBittorrentBackend, QBittorrentClient

from .daemon import QBittorrentDaemon, run_qbittorrent


@pytest.fixture(scope="module")
def qbittorrent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QBittorrentDaemon]:
    with run_qbittorrent(tmp_path_factory.mktemp("qbittorrent")) as daemon:
        yield daemon


@pytest.fixture
async def qbt_client(qbittorrent: QBittorrentDaemon) -> AsyncIterator[QBittorrentClient]:
    async with QBittorrentClient(
        qbittorrent.url, username=qbittorrent.username, password=qbittorrent.password
    ) as client:
        yield client


@pytest.fixture
async def qbt_backend(qbittorrent: QBittorrentDaemon) -> AsyncIterator[QBittorrentBackend]:
    backend = QBittorrentBackend(qbittorrent.url, Credentials(qbittorrent.username, qbittorrent.password))
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
def save_path(qbittorrent: QBittorrentDaemon) -> Path:
    return qbittorrent.save_path

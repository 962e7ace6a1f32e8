"""Build a backend from the few settings a user types in (kind, URL, credentials)."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from .backend import Backend
from .client import DEFAULT_TIMEOUT
from .exceptions import PeerdeckInputError
from .models import BackendKind, Credentials
from .qbittorrent import QBittorrentBackend
from .slskd import SlskdBackend
from .soulsync import SoulSyncBackend
from .syncthing import SyncthingBackend
from .tribler import TriblerBackend


def create_backend(
    kind: BackendKind | str,
    url: str,
    credentials: Credentials,
    *,
    session: aiohttp.ClientSession | None = None,
    verify_ssl: bool = True,
    request_timeout: float = DEFAULT_TIMEOUT,
) -> Backend:
    """Return the backend for ``kind``; raises :class:`PeerdeckInputError` for an unknown kind."""
    try:
        backend_kind = BackendKind(kind)
    except ValueError as err:
        known = ", ".join(k.value for k in BackendKind)
        raise PeerdeckInputError(f"unknown daemon kind {kind!r}; expected one of {known}") from err
    constructors: dict[BackendKind, Callable[..., Backend]] = {
        BackendKind.QBITTORRENT: QBittorrentBackend,
        BackendKind.SOULSYNC: SoulSyncBackend,
        BackendKind.SYNCTHING: SyncthingBackend,
        BackendKind.SLSKD: SlskdBackend,
        BackendKind.TRIBLER: TriblerBackend,
    }
    constructor = constructors.get(backend_kind)
    if constructor is None:
        raise PeerdeckInputError(f"no backend for {backend_kind.value} yet")
    return constructor(url, credentials, session=session, verify_ssl=verify_ssl, request_timeout=request_timeout)

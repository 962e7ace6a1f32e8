"""Daemon-independent data models shared by every backend.

They are frozen dataclasses so they can be compared, hashed and handed between tasks
safely. ``raw`` keeps the daemon's own record for callers that need a field we do not
model; it is excluded from equality so two reads of an unchanged item compare equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Final, Literal, TypeAlias


class BackendKind(StrEnum):
    """The daemons Peerdeck talks to."""

    QBITTORRENT = "qbittorrent"
    SYNCTHING = "syncthing"
    SLSKD = "slskd"
    SOULSYNC = "soulsync"
    TRIBLER = "tribler"


class TransferState(StrEnum):
    """Normalised transfer state; every daemon's states map onto these six."""

    QUEUED = "queued"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TransferEventKind(StrEnum):
    """What happened to a transfer between two observations."""

    ADDED = "added"
    STATE_CHANGED = "state_changed"
    COMPLETED = "completed"
    FAILED = "failed"
    REMOVED = "removed"


class SearchKind(StrEnum):
    """What a backend's search looks through."""

    NONE = "none"
    P2P = "p2p"
    PLUGIN = "plugin"
    METADATA = "metadata"
    FILENAME = "filename"


class _AllTransfers(Enum):
    ALL = "all"


ALL: Final = _AllTransfers.ALL
"""Selects every transfer in ``pause``/``resume``/``remove``."""

TransferSelector: TypeAlias = tuple[str, ...] | list[str] | Literal[_AllTransfers.ALL]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do, so front-ends hide or explain what it cannot."""

    search: SearchKind = SearchKind.NONE
    enqueue: bool = True
    pause: bool = True
    resume: bool = True
    remove: bool = True
    delete_data: bool = True
    events_pushed: bool = False
    alternative_speed: bool = False
    free_space: bool = False


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """Identity and version of a daemon."""

    kind: BackendKind
    version: str
    api_version: str | None = None
    identity: str | None = None
    """A stable id of the daemon where it has one (Syncthing device id)."""
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """A daemon's overall state at one moment."""

    connected: bool
    download_rate: int = 0
    upload_rate: int = 0
    counts: Mapping[TransferState, int] = field(default_factory=dict)
    free_space: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def count(self, state: TransferState) -> int:
        """Number of transfers in ``state`` (0 when none)."""
        return self.counts.get(state, 0)


@dataclass(frozen=True, slots=True)
class Transfer:
    """One download, upload or sync job, whatever the daemon calls it."""

    id: str
    name: str
    state: TransferState
    progress: float = 0.0
    progress_known: bool = True
    """False where the daemon does not tell progress (``progress`` is then 0, not a measure)."""
    size: int | None = None
    done_bytes: int | None = None
    download_rate: int = 0
    upload_rate: int = 0
    eta: float | None = None
    """Seconds until done, or None when unknown or infinite."""
    save_path: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    added_at: datetime | None = None
    completed_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class HitFolder:
    """The remote folder behind a folder hit: an album, as Soulseek users share and fetch them."""

    path: str
    files: tuple[tuple[str, int], ...]
    """The files the search found there (full remote path, size); enqueue fetches the whole folder."""
    formats: tuple[str, ...] = ()
    """File extensions found, most common first (``("flac",)``)."""
    bitrate_min: int | None = None
    bitrate_max: int | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result; pass it back to ``enqueue`` to download it."""

    id: str
    title: str
    size: int | None = None
    source: str | None = None
    """Where the hit comes from: a Soulseek user, a search plugin, a catalogue."""
    seeders: int | None = None
    leechers: int | None = None
    bitrate: int | None = None
    queue_length: int | None = None
    free_slot: bool | None = None
    link: str | None = None
    """A magnet or URL that ``enqueue`` can use, where the daemon gives one."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    folder: HitFolder | None = None
    """Set on a folder hit (slskd): ``enqueue`` then downloads the whole folder."""


@dataclass(frozen=True, slots=True)
class TransferEvent:
    """A change seen on one transfer."""

    kind: TransferEventKind
    transfer: Transfer
    previous_state: TransferState | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Magnet:
    """A magnet link to enqueue."""

    uri: str


@dataclass(frozen=True, slots=True)
class TorrentUrl:
    """An http(s) URL of a .torrent file to enqueue."""

    url: str


@dataclass(frozen=True, slots=True)
class TorrentFile:
    """The bytes of a .torrent file to enqueue."""

    content: bytes = field(repr=False)
    filename: str = "upload.torrent"


@dataclass(frozen=True, slots=True)
class RemoteFiles:
    """Files offered by a peer (Soulseek user + remote paths and sizes)."""

    source: str
    files: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class TextRequest:
    """A free-text request the daemon resolves itself (SoulSync "find and download")."""

    query: str


EnqueueTarget: TypeAlias = Magnet | TorrentUrl | TorrentFile | SearchHit | RemoteFiles | TextRequest


class Enqueued(list[str]):
    """What ``enqueue`` returns: the new transfers' ids, and a notice when they cannot be followed.

    ``untracked`` is True when the daemon took the download but will never list it (SoulSync
    hands a ``/request`` straight to the Soulseek daemon): no transfer and no completion will
    ever be seen. ``notice`` says so, or why no id could be given, in words for a user.
    ``pending`` is True when the daemon took it and is still preparing downloads that will be
    listed (and announced as added) later (SoulSync's album search): no id yet, and no failure.
    """

    def __init__(
        self, ids: Iterable[str] = (), *, notice: str | None = None, untracked: bool = False, pending: bool = False
    ) -> None:
        super().__init__(ids)
        self.notice = notice
        self.untracked = untracked
        self.pending = pending


@dataclass(frozen=True, slots=True)
class EnqueueOptions:
    """Where and how to enqueue; a backend ignores what it has no notion of."""

    save_path: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    start_paused: bool = False


@dataclass(frozen=True, slots=True)
class Update:
    """One refresh of a backend: its status, every transfer, and what changed since the last."""

    status: Status
    transfers: Mapping[str, Transfer]
    events: tuple[TransferEvent, ...] = ()
    restarted: bool = False
    """The daemon restarted since the last refresh (this one reconciled): what a caller keeps of the old
    process, such as its version, should be read again."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a daemon needs to let us in; secrets are kept out of ``repr``."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)

"""What the bot must remember across restarts, kept in one small JSON file written atomically."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from peerdeck import HitFolder, SearchHit

from .config import NOTIFY_MODES, NotifyMode

_LOGGER = logging.getLogger(__name__)
MAX_SEARCHES = 50
VERSION = 1
PACKED = "~packed"
"""Marks a transfer tracker's state as the bot stores it: the ids it must follow, and digests of the finished."""
DIGEST_BYTES = 6
"""Per finished transfer: 20,000 of them take 160 kB, and two ids share a digest about once in 10^10 transfers."""
Digests: TypeAlias = frozenset[bytes]
_DAMAGE = (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError)
"""What reading a damaged or foreign state file can raise (UnicodeDecodeError and JSON errors are ValueErrors)."""


@dataclass(slots=True)
class SearchRecord:
    """One user's search and the hits found so far, so result menus outlive a restart."""

    id: str
    user_id: int
    backend: str
    query: str
    hits: list[SearchHit] = field(default_factory=list)
    done: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    """Who enqueued a transfer and how they want to hear about it."""

    user_id: int
    mode: NotifyMode


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notice to one place (a DM or the channel summary), sent exactly once."""

    backend: str
    transfer_id: str
    name: str
    outcome: str
    """``completed`` or ``failed``."""
    target: str
    """``dm`` or ``channel``."""
    user_id: int | None = None
    mention: bool = False
    also_ping: tuple[int, ...] = ()
    """Channel notices: people who asked to be told about someone else's download."""
    own: bool = True
    """DMs: False when the user is watching someone else's download."""
    attempts: int = 0
    message: str | None = None
    """Write-ahead record: the message this notice goes out in, fixed (and saved) before the first
    try; it is also the message's nonce, so a resend after a crash is not posted twice."""

    @property
    def key(self) -> str:
        """Identity of this delivery."""
        who = f":{self.user_id}" if self.target == "dm" else ""
        return f"{self.backend}:{self.transfer_id}:{self.outcome}:{self.target}{who}"


@dataclass(slots=True)
class BotState:
    """The persisted state."""

    trackers: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: dict[str, dict[str, Request]] = field(default_factory=dict)
    outbox: list[Delivery] = field(default_factory=list)
    searches: dict[str, SearchRecord] = field(default_factory=dict)
    prefs: dict[int, NotifyMode] = field(default_factory=dict)
    watchers: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    """Per backend and transfer: who else asked to hear when it finishes."""
    boards: dict[int, int] = field(default_factory=dict)
    """Live status boards: channel id → message id."""


class StateStore:
    """Loads and saves :class:`BotState`; saving replaces the file atomically, and only when it changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state = BotState()
        self.problem: str | None = None
        """Why the last save failed (None when it worked): the bot keeps running on what it has in memory."""
        self.writes = 0
        self._saved: str | None = None
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        """Read the file if there is one; a damaged file is set aside and the bot starts afresh."""
        self.state, self._saved = await asyncio.to_thread(self._read)

    async def save(self) -> bool:
        """Write the current state if it differs from what was last written; False when writing failed.

        A failure is logged once and kept in :attr:`problem`, never raised: a download that was
        accepted must not be reported as failed because a note about it could not be saved.
        """
        async with self._lock:
            text = json.dumps(_dump(self.state), separators=(",", ":"), default=str)
            if text == self._saved:
                return True
            try:
                await asyncio.to_thread(_write_atomic, self.path, text)
            except OSError as err:
                problem = f"cannot write the state file {self.path}: {err.strerror or type(err).__name__}"
            else:
                self._saved, self.problem = text, None
                self.writes += 1
                return True
            if problem != self.problem:
                _LOGGER.error("%s; notices may be repeated or lost after a restart", problem)
            self.problem = problem
            return False

    def add_search(self, record: SearchRecord) -> None:
        """Remember a search, forgetting the oldest beyond :data:`MAX_SEARCHES`."""
        searches = self.state.searches
        searches[record.id] = record
        while len(searches) > MAX_SEARCHES:
            del searches[next(iter(searches))]

    def _read(self) -> tuple[BotState, str | None]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return BotState(), None
        except OSError as err:
            _LOGGER.error("cannot read the state file %s (%s); starting afresh", self.path, err.strerror)  # noqa: TRY400 - no traceback for a path problem
            return BotState(), None
        try:
            text = data.decode("utf-8")
            return _parse(json.loads(text)), text
        except _DAMAGE as err:
            why = _damage_words(err)
        aside = self.path.with_suffix(self.path.suffix + ".damaged")
        try:
            os.replace(self.path, aside)
        except OSError as err:
            _LOGGER.warning(
                "state file %s is damaged (%s) and cannot be set aside (%s); ignoring it and starting afresh",
                self.path,
                why,
                err.strerror or type(err).__name__,
            )
        else:
            _LOGGER.warning("state file %s is damaged (%s); kept it as %s and starting afresh", self.path, why, aside)
        return BotState(), None


def damage_reason(path: Path) -> str | None:
    """Why the state file at ``path`` cannot be used, or None when it is fine or absent (for ``--check-config``)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):  # missing, or unwritable_reason says why
        return None
    except OSError as err:
        return f"cannot be read: {err.strerror or type(err).__name__}"
    try:
        _parse(json.loads(data.decode("utf-8")))
    except _DAMAGE as err:
        return _damage_words(err)
    return None


def _damage_words(err: BaseException) -> str:
    if isinstance(err, UnicodeDecodeError):
        return "not text"
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON at line {err.lineno}"
    if isinstance(err, RecursionError):
        return "nested too deeply"
    if str(err) == "unknown state version":
        return "written by an unknown version of the bot"
    return "not laid out as the bot writes it"


def unwritable_reason(path: Path) -> str | None:
    """Why the bot could not write its state file at ``path``, or None when it can (tried for real)."""
    if path.is_dir():
        return f"{path} is a directory"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        return f"cannot write in {path.parent}: {err.strerror or type(err).__name__}"
    return None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def digest(transfer_id: str) -> bytes:
    """The short fingerprint a finished transfer is remembered by."""
    return hashlib.sha256(transfer_id.encode("utf-8", "surrogatepass")).digest()[:DIGEST_BYTES]


def pack_tracker(exported: dict[str, Any], memo: dict[str, bytes] | None = None) -> dict[str, Any]:
    """A backend's exported tracker state cut to what the bot needs: for each transfer tracker in it
    (``{id: {"name", "state", "done"}}``, at the top or one level down), the states of the unfinished
    transfers by id, and only a digest of each finished one (so it is not announced again).

    ``memo`` keeps the digests between calls (it is refilled with only the current ids, so it stays
    the size of the daemon's list): a poll then hashes only what finished since the last one.
    """
    fresh: dict[str, bytes] = {}
    if _tracker_shaped(exported):
        packed = _pack(exported, memo or {}, fresh)
    else:
        packed = {k: _pack(v, memo or {}, fresh) if _tracker_shaped(v) else v for k, v in exported.items()}
    if memo is not None:
        memo.clear()
        memo.update(fresh)
    return packed


def unpack_tracker(saved: dict[str, Any]) -> tuple[dict[str, Any], Digests]:
    """What to hand the backend's ``restore_state``, and the digests of transfers announced before."""
    if PACKED in saved:
        return _unpack(saved)
    restored: dict[str, Any] = {}
    found: set[bytes] = set()
    for key, value in saved.items():
        if isinstance(value, dict) and PACKED in value:
            restored[key], done = _unpack(value)
            found |= done
        else:
            restored[key] = value
    return restored, frozenset(found)


def _tracker_shaped(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(item, dict) and "state" in item and "done" in item for item in value.values())
    )


def _pack(tracker: dict[str, dict[str, Any]], memo: dict[str, bytes], fresh: dict[str, bytes]) -> dict[str, Any]:
    open_: dict[str, Any] = {}
    done: list[bytes] = []
    for tid, item in tracker.items():
        if not item.get("done"):
            open_[tid] = item["state"]
            continue
        known = memo.get(tid)
        fresh[tid] = known = known if known is not None else digest(tid)
        done.append(known)
    return {PACKED: {"open": open_, "done": base64.b64encode(b"".join(done)).decode("ascii")}}


def _unpack(saved: dict[str, Any]) -> tuple[dict[str, Any], Digests]:
    packed = saved[PACKED]
    open_ = {str(tid): {"state": str(state), "done": False} for tid, state in packed["open"].items()}
    raw = base64.b64decode(packed["done"], validate=True)
    done = frozenset(raw[i : i + DIGEST_BYTES] for i in range(0, len(raw), DIGEST_BYTES))
    return open_, done


def _dump(state: BotState) -> dict[str, Any]:
    return {
        "version": VERSION,
        "trackers": state.trackers,
        "requests": {
            b: {tid: {"user_id": r.user_id, "mode": r.mode} for tid, r in reqs.items()}
            for b, reqs in state.requests.items()
        },
        "outbox": [
            {
                "backend": d.backend,
                "transfer_id": d.transfer_id,
                "name": d.name,
                "outcome": d.outcome,
                "target": d.target,
                "user_id": d.user_id,
                "mention": d.mention,
                "also_ping": list(d.also_ping),
                "own": d.own,
                "attempts": d.attempts,
                "message": d.message,
            }
            for d in state.outbox
        ],
        "searches": {
            sid: {
                "user_id": s.user_id,
                "backend": s.backend,
                "query": s.query,
                "done": s.done,
                "hits": [_dump_hit(h) for h in s.hits],
            }
            for sid, s in state.searches.items()
        },
        "prefs": {str(uid): mode for uid, mode in state.prefs.items()},
        "watchers": state.watchers,
        "boards": {str(channel): message for channel, message in state.boards.items()},
    }


def _dump_hit(hit: SearchHit) -> dict[str, Any]:
    """The hit without empty fields (a stored hit was already cut to what the menu and enqueue need)."""
    data = {name: value for name in SearchHit.__slots__ if (value := getattr(hit, name)) not in (None, {})}
    if hit.folder is not None:
        data["folder"] = asdict(hit.folder)
    return data


def _load_hit(data: dict[str, Any]) -> SearchHit:
    """A stored hit; a folder hit gets its folder back as a :class:`HitFolder`."""
    folder = data.get("folder")
    if not isinstance(folder, dict):
        return SearchHit(**data)
    restored = HitFolder(
        path=str(folder["path"]),
        files=tuple((str(name), int(size)) for name, size in folder["files"]),
        formats=tuple(str(f) for f in folder.get("formats", ())),
        bitrate_min=folder.get("bitrate_min"),
        bitrate_max=folder.get("bitrate_max"),
    )
    return SearchHit(**{**data, "folder": restored})


def _parse(data: dict[str, Any]) -> BotState:
    if data.get("version") != VERSION:
        raise ValueError("unknown state version")
    return BotState(
        trackers={str(b): _checked_tracker(t) for b, t in data["trackers"].items()},
        requests={
            str(b): {str(tid): Request(int(r["user_id"]), _mode(r["mode"])) for tid, r in reqs.items()}
            for b, reqs in data["requests"].items()
        },
        outbox=[
            Delivery(
                backend=str(d["backend"]),
                transfer_id=str(d["transfer_id"]),
                name=str(d["name"]),
                outcome=str(d["outcome"]),
                target=str(d["target"]),
                user_id=None if d["user_id"] is None else int(d["user_id"]),
                mention=bool(d["mention"]),
                also_ping=tuple(int(u) for u in d.get("also_ping", ())),
                own=bool(d.get("own", True)),
                attempts=int(d["attempts"]),
                message=None if d.get("message") is None else str(d["message"]),
            )
            for d in data["outbox"]
        ],
        searches={
            str(sid): SearchRecord(
                id=str(sid),
                user_id=int(s["user_id"]),
                backend=str(s["backend"]),
                query=str(s["query"]),
                hits=[_load_hit(h) for h in s["hits"]],
                done=bool(s["done"]),
            )
            for sid, s in data["searches"].items()
        },
        prefs={int(uid): _mode(mode) for uid, mode in data["prefs"].items()},
        watchers={
            str(b): {str(tid): [int(u) for u in users] for tid, users in items.items()}
            for b, items in data.get("watchers", {}).items()
        },
        boards={int(channel): int(message) for channel, message in data.get("boards", {}).items()},
    )


def _checked_tracker(saved: Any) -> dict[str, Any]:
    """A saved tracker state, unpacked once here so a damaged one counts as damage of the file."""
    if not isinstance(saved, dict):
        raise TypeError("a tracker state is not a table")
    unpack_tracker(saved)
    return saved


def _mode(value: Any) -> NotifyMode:
    for mode in NOTIFY_MODES:
        if value == mode:
            return mode
    raise ValueError(f"unknown notify mode {value!r}")

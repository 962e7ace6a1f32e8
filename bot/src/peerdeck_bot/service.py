"""The verbs behind the slash commands, over Peerdeck backends, with no Discord in sight."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeAlias, TypeVar

import aiohttp

from peerdeck import (
    ALL,
    Backend,
    BackendKind,
    EnqueueTarget,
    Magnet,
    PeerdeckError,
    PeerdeckTimeoutError,
    SearchHit,
    SearchKind,
    Status,
    TextRequest,
    TorrentFile,
    TorrentUrl,
    Transfer,
    TransferEventKind,
    TransferSelector,
    TransferState,
    create_backend,
)

from .config import BotConfig, NotifyMode
from .errors import BackendError, UserFacingError, describe, needs_log
from .filters import HitFilter
from .notices import plan_messages, queue_notices, settle
from .pacing import Cooldown, HourlyQuota, SearchGate
from .state import Delivery, Digests, Request, SearchRecord, StateStore, digest, pack_tracker, unpack_tracker
from .text import label

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
Verb: TypeAlias = Literal["search", "enqueue", "pause", "resume", "remove", "status"]
HIT_PREFIX = "#hit:"
TRANSFER_PREFIX = "#t:"
"""Autocomplete values for transfers: a short hash of backend and id, stable across refreshes and restarts
(a ``backend:id`` value can pass Discord's 100-character limit, e.g. a Syncthing device id)."""
MAX_CHOICES = 25
SLOT_PATIENCE = 600.0
"""Longest wait for a free search slot: an interaction can be answered for 15 minutes."""
SearchStep: TypeAlias = Literal["waiting", "hits"]
CHOICE_MAX = 100
"""Characters of an autocomplete choice's name."""
ACTIVE_STATES = (TransferState.ACTIVE, TransferState.QUEUED)
_FILE_TARGETS: frozenset[type] = frozenset({Magnet, TorrentUrl, TorrentFile, SearchHit})
ACCEPTS: Mapping[BackendKind, tuple[frozenset[type], str]] = {
    BackendKind.QBITTORRENT: (_FILE_TARGETS, "magnet links, http(s) links to .torrent files, .torrent files"),
    BackendKind.TRIBLER: (_FILE_TARGETS, "magnet links, http(s) links to .torrent files, .torrent files"),
    BackendKind.SLSKD: (frozenset({SearchHit}), "results of a search"),
    BackendKind.SOULSYNC: (frozenset({TextRequest, SearchHit}), "a title or artist as text, results of a search"),
    BackendKind.SYNCTHING: (frozenset(), "nothing: it only syncs shared folders"),
}
"""What each kind of daemon can download, and how to say so to a user."""
_TARGET_WORDS: Mapping[type, str] = {
    Magnet: "a magnet link",
    TorrentUrl: "a link",
    TorrentFile: "a .torrent file",
    SearchHit: "a search result",
    TextRequest: "plain text",
}


def transfer_key(backend: str, transfer_id: str) -> str:
    """The short, stable autocomplete value of one transfer."""
    digest = hashlib.sha256(f"{backend}\0{transfer_id}".encode()).hexdigest()[:12]
    return f"{TRANSFER_PREFIX}{digest}"


@dataclass(slots=True)
class Slot:
    """One configured backend and what the bot keeps about it."""

    name: str
    backend: Backend
    transfers: list[Transfer] = field(default_factory=list)
    status: Status | None = None
    """From the last refresh; None until one worked, and again after one failed."""
    error: str = "not reached yet"
    """Why ``status`` is None."""
    refreshed_at: float | None = None
    outage: str | None = None
    """Why the last refreshes failed, as logged (once per outage and reason)."""
    digests: dict[str, bytes] = field(default_factory=dict)
    """Of the finished transfers last seen, so a poll hashes only what is new."""
    announced_before: Digests = frozenset()
    """Digests of the transfers an earlier run announced as finished, until the first refresh has seen them."""


@dataclass(frozen=True, slots=True)
class Report:
    """What /status shows for one backend."""

    name: str
    kind: str
    status: Status | None
    transfers: tuple[Transfer, ...] = ()
    error: str | None = None
    filtered: bool = False
    """``transfers`` holds only those matching the filters asked for."""


@dataclass(frozen=True, slots=True)
class TransferFilter:
    """What /status narrows the transfer lists to."""

    state: TransferState | None = None
    text: str = ""

    def __bool__(self) -> bool:
        return self.state is not None or bool(self.text.strip())

    def keeps(self, transfer: Transfer) -> bool:
        """Whether ``transfer`` passes."""
        if self.state is not None and transfer.state is not self.state:
            return False
        return self.text.strip().casefold() in transfer.name.casefold()


@dataclass(frozen=True, slots=True)
class ActResult:
    """What pausing or resuming did on one backend."""

    backend: str
    error: str | None = None


class PeerdeckService:
    """Backends, caches, searches, requests and completion notices."""

    def __init__(
        self,
        config: BotConfig,
        *,
        backends: Mapping[str, Backend] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.store = StateStore(config.state_file)
        self.cooldown = Cooldown(config.limits.search_cooldown, clock)
        self.quota = HourlyQuota(config.limits.enqueues_per_hour, clock)
        self._given = dict(backends) if backends is not None else None
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._slots: dict[str, Slot] = {}
        self._gates: dict[str, SearchGate] = {}
        self._refresh_task: asyncio.Task[None] | None = None
        self._poll_lock = asyncio.Lock()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the saved state and create the backends (no network traffic yet).

        Secrets are read before the HTTP session opens, so a missing one leaves nothing to close."""
        await self.store.load()
        if self._given is not None:
            backends = self._given
        else:
            credentials = {b.name: b.credentials() for b in self.config.backends}
            self._session = aiohttp.ClientSession()
            backends = {
                b.name: create_backend(
                    b.kind,
                    b.url,
                    credentials[b.name],
                    session=self._session,
                    verify_ssl=b.verify_ssl,
                    request_timeout=self.config.limits.backend_timeout,
                )
                for b in self.config.backends
            }
        for name, backend in backends.items():
            slot = self._slots[name] = Slot(name, backend)
            self._gates[name] = SearchGate(self.config.limits.searches_per_backend)
            saved = self.store.state.trackers.get(name)
            if saved is None:
                continue
            restorable, slot.announced_before = unpack_tracker(saved)
            try:
                backend.restore_state(restorable)
            except (ValueError, KeyError, TypeError, AttributeError):
                _LOGGER.warning("the saved progress of %s is unusable; it will be followed afresh", name)
                slot.announced_before = frozenset()

    async def close(self) -> None:
        """Stop background work, save what changed since the last poll, close every backend and the HTTP session."""
        if self._refresh_task is not None:
            self._refresh_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh_task
        if self._slots:
            await self.store.save()
        for slot in self._slots.values():
            with contextlib.suppress(PeerdeckError, OSError):
                await slot.backend.close()
        self._slots.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ backends

    @property
    def names(self) -> list[str]:
        """Configured backend names, in config order."""
        return list(self._slots)

    def slot(self, name: str) -> Slot:
        """The backend called ``name``."""
        slot = self._slots.get(name)
        if slot is None:
            raise UserFacingError(f"There is no backend called {name!r}. Known: {', '.join(self._slots)}.")
        return slot

    def pick(self, name: str | None, verb: Verb) -> str:
        """The backend to use for ``verb``: the one asked for, else the first that can do it."""
        if name:
            slot = self.slot(name)
            explanation = self._cannot(slot, verb)
            if explanation:
                raise UserFacingError(explanation)
            return slot.name
        for slot in self._slots.values():
            if not self._cannot(slot, verb):
                return slot.name
        first = next(iter(self._slots.values()))
        raise UserFacingError(self._cannot(first, verb) or f"No backend can {verb}.")

    def capable(self, name: str | None, verb: Verb) -> tuple[list[str], list[str]]:
        """Backends that can do ``verb`` (only ``name`` when given) and why the others cannot."""
        if name:
            return [self.pick(name, verb)], []
        able = [s.name for s in self._slots.values() if not self._cannot(s, verb)]
        unable = [why for s in self._slots.values() if (why := self._cannot(s, verb))]
        if not able:
            raise UserFacingError(unable[0] if unable else f"No backend can {verb}.")
        return able, unable

    def _cannot(self, slot: Slot, verb: Verb) -> str | None:
        caps = slot.backend.capabilities
        label = f"{slot.name} ({slot.backend.kind.value})"
        names = self.config.command_names
        if verb == "search" and caps.search is SearchKind.NONE:
            return f"{label} has no search. Use /{names['enqueue']} with a magnet link or URL instead."
        if verb == "enqueue" and not caps.enqueue:
            return f"{label} cannot start downloads from here; add them in the daemon itself."
        if verb == "pause" and not caps.pause:
            return (
                f"{label} cannot pause transfers. Use /{names['remove']} to cancel one, "
                "or lower its speed limits in the daemon's own settings."
            )
        if verb == "resume" and not caps.resume:
            return f"{label} cannot resume transfers. Search for the item again and enqueue it anew."
        if verb == "remove" and not caps.remove:
            return f"{label} cannot remove transfers; do it in the daemon itself."
        return None

    async def call(self, name: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one backend operation under the configured timeout, with errors tagged by backend."""
        timeout = self.config.limits.backend_timeout
        try:
            async with asyncio.timeout(timeout):
                return await operation()
        except TimeoutError:
            raise BackendError(name, PeerdeckTimeoutError(f"no answer within {timeout:g} s")) from None
        except PeerdeckError as err:
            if needs_log(err):
                _LOGGER.info("%s answered with an error: %s", name, err)
            raise BackendError(name, err) from err

    # ------------------------------------------------------------------ status

    async def reports(self, name: str | None, only: TransferFilter | None = None) -> list[Report]:
        """Status and transfers (those passing ``only``) of one backend, or of all of them at once."""
        names = [self.slot(name).name] if name else self.names
        reports = await asyncio.gather(*(self._report(n) for n in names))
        return [_filtered(r, only) for r in reports]

    async def _report(self, name: str) -> Report:
        slot = self._slots[name]
        kind = slot.backend.kind.value
        try:
            status = await self.call(name, slot.backend.status)
            transfers = await self.call(name, slot.backend.transfers)
        except BackendError as err:
            return Report(name, kind, None, error=describe(err))
        slot.status = status
        self._remember(slot, transfers)
        return Report(name, kind, status, tuple(transfers))

    def cached_reports(self) -> list[Report]:
        """What the last refresh saw of every backend, without asking any daemon (for status boards)."""
        return [
            Report(s.name, s.backend.kind.value, s.status, tuple(s.transfers), None if s.status else s.error)
            for s in self._slots.values()
        ]

    # ------------------------------------------------------------------ search

    def new_search(self, user_id: int, backend: str, query: str) -> SearchRecord:
        """Register a search so its result menu can find it again, even after a restart."""
        record = SearchRecord(secrets.token_hex(5), user_id, backend, query)
        self.store.add_search(record)
        return record

    def search_record(self, search_id: str) -> SearchRecord:
        """A remembered search."""
        record = self.store.state.searches.get(search_id)
        if record is None:
            raise UserFacingError("These results have expired. Run the search again.")
        return record

    async def stream_search(
        self, record: SearchRecord, hit_filter: HitFilter | None = None
    ) -> AsyncGenerator[SearchStep]:
        """Fill ``record.hits`` once the daemon has a free search slot: yield ``"waiting"`` first when it has
        none, then ``"hits"`` whenever new hits are worth showing, at most every ``edit_interval`` s.

        Close the iterator when stopping early (``contextlib.aclosing``), so the slot is given back at once.
        """
        gate = self._gates[record.backend]
        if gate.full:
            yield "waiting"
        try:
            async with gate.turn(SLOT_PATIENCE), contextlib.aclosing(self._stream_hits(record, hit_filter)) as hits:
                async for _ in hits:
                    yield "hits"
        except TimeoutError:  # only waiting for the slot can time out here
            record.done = True
            raise UserFacingError(
                f"{record.backend} is still busy with other people's searches. Try again in a few minutes."
            ) from None

    async def _stream_hits(self, record: SearchRecord, hit_filter: HitFilter | None) -> AsyncGenerator[None]:
        limits = self.config.limits
        backend = self.slot(record.backend).backend
        changed = asyncio.Event()
        wanted = hit_filter or HitFilter()

        async def pump() -> None:
            async with asyncio.timeout(limits.search_timeout + limits.backend_timeout):
                limit = None if wanted.active else limits.search_limit
                async for hit in backend.search(record.query, timeout=limits.search_timeout, limit=limit):
                    if not wanted.keeps(hit):
                        continue
                    record.hits.append(_compact(hit, backend.kind))
                    changed.set()
                    if len(record.hits) >= limits.search_limit:
                        return

        task = asyncio.create_task(pump())
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=limits.edit_interval)
                if changed.is_set() and not task.done():
                    changed.clear()
                    yield
            task.result()
        except TimeoutError:
            if not record.hits:
                raise BackendError(record.backend, PeerdeckTimeoutError("search timed out")) from None
        except PeerdeckError as err:
            raise BackendError(record.backend, err) from err
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            record.done = True
            await self.store.save()

    def hit_choices(self, user_id: int, current: str) -> list[tuple[str, str]]:
        """Autocomplete entries for a user's recent search hits."""
        text = current.casefold()
        choices: list[tuple[str, str]] = []
        for record in reversed(self.store.state.searches.values()):
            if record.user_id != user_id:
                continue
            for index, hit in enumerate(record.hits):
                if text in hit.title.casefold():
                    where = f" ({record.backend})"
                    shown = label(hit.title, CHOICE_MAX - len(where)) + where
                    choices.append((shown, f"{HIT_PREFIX}{record.id}:{index}"))
                if len(choices) >= MAX_CHOICES:
                    return choices
        return choices

    def parse_target(self, text: str, backend: str | None) -> tuple[str, EnqueueTarget]:
        """The backend and enqueue target a user typed or picked."""
        text = text.strip()
        if text.startswith(HIT_PREFIX):
            search_id, _, index = text[len(HIT_PREFIX) :].rpartition(":")
            record = self.search_record(search_id)
            if not index.isdigit() or int(index) >= len(record.hits):
                raise UserFacingError("That search result no longer exists. Run the search again.")
            return record.backend, record.hits[int(index)]
        name = self.pick(backend, "enqueue")
        if not text:
            raise UserFacingError("Give a magnet link, a URL, a search result or a .torrent file.")
        target: EnqueueTarget
        if text.startswith("magnet:"):
            target = Magnet(text)
        elif text.startswith(("http://", "https://")):
            target = TorrentUrl(text)
        else:
            target = TextRequest(text)
        return name, target

    def check_accepts(self, name: str, target: EnqueueTarget) -> None:
        """Refuse, in the user's words, what this kind of daemon cannot download."""
        slot = self.slot(name)
        accepted, words = ACCEPTS.get(slot.backend.kind, (frozenset(), ""))
        if accepted and type(target) not in accepted:
            given = _TARGET_WORDS.get(type(target), "that")
            raise UserFacingError(f"{slot.name} ({slot.backend.kind.value}) cannot download {given}; it takes {words}.")

    # ------------------------------------------------------------------ acting

    def notify_mode(self, user_id: int, chosen: NotifyMode | None) -> NotifyMode:
        """The user's notice preference, remembering an explicit choice."""
        if chosen is not None:
            self.store.state.prefs[user_id] = chosen
            return chosen
        return self.store.state.prefs.get(user_id, self.config.default_notify)

    async def enqueue(self, name: str, target: EnqueueTarget, user_id: int, mode: NotifyMode) -> list[str]:
        """Start a download and remember who asked for it."""
        slot = self.slot(name)
        explanation = self._cannot(slot, "enqueue")
        if explanation:
            raise UserFacingError(explanation)
        self.check_accepts(name, target)
        ids = await self.call(name, lambda: slot.backend.enqueue(target))
        requests = self.store.state.requests.setdefault(name, {})
        for transfer_id in ids:
            requests[transfer_id] = Request(user_id, mode)
        await self.store.save()
        self.refresh_soon()
        return ids

    async def watch(self, user_id: int, name: str, transfer: Transfer) -> bool:
        """Tell ``user_id`` when someone else's transfer finishes; False when they already asked."""
        watchers = self.store.state.watchers.setdefault(name, {}).setdefault(transfer.id, [])
        if user_id in watchers:
            return False
        watchers.append(user_id)
        await self.store.save()
        return True

    async def set_notify_mode(self, user_id: int, mode: NotifyMode) -> None:
        """Remember how the user wants their notices."""
        self.store.state.prefs[user_id] = mode
        await self.store.save()

    async def find_key(self, key: str, verb: Verb) -> tuple[str, Transfer]:
        """The transfer behind an autocomplete value, from the cache or, after a restart, the daemons."""
        unreachable: list[BackendError] = []
        for fresh in (False, True):
            for slot in self._slots.values():
                if fresh:
                    try:
                        self._remember(slot, await self.call(slot.name, slot.backend.transfers))
                    except BackendError as err:
                        unreachable.append(err)
                        continue
                found = next((t for t in slot.transfers if transfer_key(slot.name, t.id) == key), None)
                if found is not None:
                    self.pick(slot.name, verb)
                    return slot.name, found
        if unreachable:  # it may well be there: say why the bot cannot tell
            raise UserFacingError(
                describe(unreachable[0]) + " The bot cannot check that transfer until then; nothing was changed."
            )
        raise UserFacingError("That transfer is gone (finished and cleared, or removed). Pick it again.")

    async def find(self, name: str | None, text: str, verb: Verb) -> tuple[str, Transfer]:
        """The one transfer the user typed or picked."""
        text = text.strip()
        if text.startswith(TRANSFER_PREFIX):
            return await self.find_key(text, verb)
        prefix, sep, rest = text.partition(":")
        if sep and prefix in self._slots and (not name or name == prefix):
            name, text = prefix, rest
        backend = self.pick(name, verb)
        slot = self._slots[backend]
        transfers = await self.call(backend, slot.backend.transfers)
        self._remember(slot, transfers)
        exact = [t for t in transfers if t.id == text]
        matches = exact or [t for t in transfers if t.name.casefold() == text.casefold()]
        matches = matches or [t for t in transfers if text.casefold() in t.name.casefold()]
        if not matches:
            raise UserFacingError(f"No transfer on {backend} matches {text!r}.")
        if len(matches) > 1:
            shown = ", ".join(t.name for t in matches[:3])
            raise UserFacingError(
                f"{text!r} matches {len(matches)} transfers on {backend} ({shown}…). Pick one from the suggestions."
            )
        return backend, matches[0]

    async def act(self, verb: Literal["pause", "resume"], name: str, selector: TransferSelector) -> None:
        """Pause or resume transfers."""
        backend = self._slots[name].backend
        operation = backend.pause if verb == "pause" else backend.resume
        await self.call(name, lambda: operation(selector))
        self.refresh_soon()

    async def act_on_all(self, verb: Literal["pause", "resume"], names: Sequence[str]) -> list[ActResult]:
        """Pause or resume everything on each of ``names`` at once; one daemon's failure does not stop the others."""

        async def one(name: str) -> ActResult:
            try:
                await self.act(verb, name, ALL)
            except BackendError as err:
                return ActResult(name, describe(err))
            return ActResult(name)

        return list(await asyncio.gather(*(one(n) for n in names)))

    async def remove(self, name: str, selector: TransferSelector, *, delete_data: bool) -> None:
        """Remove transfers (and their data when asked)."""
        backend = self._slots[name].backend
        await self.call(name, lambda: backend.remove(selector, delete_data=delete_data))
        self.refresh_soon()

    # ------------------------------------------------------------------ cache for autocomplete

    def transfer_choices(self, current: str, backend: str | None, *, offer_all: bool) -> list[tuple[str, str]]:
        """Autocomplete entries from the cache; never waits on a daemon."""
        self.refresh_soon(stale_only=True)
        text = current.casefold()
        choices: list[tuple[str, str]] = []
        if offer_all and text in "all":
            choices.append(("all transfers", "all"))
        many = len(self._slots) > 1
        for slot in self._slots.values():
            if backend and slot.name != backend:
                continue
            for transfer in slot.transfers:
                if text not in transfer.name.casefold():
                    continue
                where = f" · {slot.name}" if many else ""
                facts = f" · {transfer.state.value} {transfer.progress:.0%}{where}"
                shown = label(transfer.name, CHOICE_MAX - len(facts)) + facts
                choices.append((shown, transfer_key(slot.name, transfer.id)))
                if len(choices) >= MAX_CHOICES:
                    return choices
        return choices

    def refresh_soon(self, *, stale_only: bool = False) -> None:
        """Refresh the transfer cache in the background, unless a refresh is running."""
        if self._refresh_task is not None and not self._refresh_task.done():
            return
        if stale_only:
            now = self.clock()
            interval = self.config.limits.poll_interval
            if all(s.refreshed_at is not None and now - s.refreshed_at < interval for s in self._slots.values()):
                return
        self._refresh_task = asyncio.create_task(self.poll())

    def _remember(self, slot: Slot, transfers: Sequence[Transfer]) -> None:
        slot.transfers = list(transfers)
        slot.refreshed_at = self.clock()

    # ------------------------------------------------------------------ completion notices

    async def poll(self) -> None:
        """Refresh every backend once and queue the notices for what finished since the last look.

        The backends' own events are the source (they catch what snapshots miss: a Syncthing
        folder's next sync cycle, an slskd download cleared before the next look); what each
        backend has announced is saved with the outbox, so a restart announces once what
        finished meanwhile and nothing twice.
        """
        async with self._poll_lock:
            for slot in list(self._slots.values()):
                try:
                    update = await self.call(slot.name, slot.backend.update)
                except BackendError as err:
                    if describe(err) != slot.outage:  # once per outage and reason, not every poll
                        _LOGGER.warning("cannot refresh %s: %s", slot.name, describe(err))
                    slot.status, slot.error = None, describe(err)
                    slot.outage = slot.error
                    continue
                if slot.outage is not None:
                    _LOGGER.info("%s answers again", slot.name)
                    slot.outage = None
                slot.status = update.status
                self._remember(slot, list(update.transfers.values()))
                for event in update.events:
                    if event.kind is TransferEventKind.COMPLETED and digest(event.transfer.id) in slot.announced_before:
                        continue  # announced by an earlier run; this run's tracker only now meets it again
                    queue_notices(
                        self.store.state, self.config, slot.name, event, listed=event.transfer.id in update.transfers
                    )
                slot.announced_before = frozenset()
                self.store.state.trackers[slot.name] = pack_tracker(slot.backend.export_state(), slot.digests)
            self.store.state.outbox = plan_messages(self.store.state.outbox)
            await self.store.save()  # the one write of a poll, also the write-ahead record of the notices

    async def flush(self, send: Callable[[str, Sequence[Delivery]], Awaitable[bool]]) -> None:
        """Hand each pending message (its id, its notices) to ``send``; what it reports done is not handed over again.

        Write-ahead: which notices share a message, and that message's id (its nonce), were saved by
        the poll that found them, so a resend after a crash before the next save is the same message
        with the same nonce, which Discord posts only once. What was sent is saved by the next poll
        (or on close): the file is written at most once per poll.
        """
        outbox = self.store.state.outbox
        if not outbox:
            return
        if any(d.message is None for d in outbox):  # queued outside a poll (or by an older release)
            self.store.state.outbox = outbox = plan_messages(outbox)
            await self.store.save()
        for message in [m for m in dict.fromkeys(d.message for d in outbox) if m is not None]:
            done = await send(message, [d for d in outbox if d.message == message])
            remaining = settle(self.store.state.outbox, message, done=done)
            self.store.state.outbox = outbox = remaining


def _filtered(report: Report, only: TransferFilter | None) -> Report:
    if not only:
        return report
    return replace(report, transfers=tuple(t for t in report.transfers if only.keeps(t)), filtered=True)


def _compact(hit: SearchHit, kind: BackendKind) -> SearchHit:
    """The hit as remembered: what the result menu shows and what enqueue reads, nothing else.

    A hit with a link is enqueued from the link; slskd enqueues from the user, file and size;
    SoulSync sends the whole track it found to its wishlist, so that is kept as it came."""
    if hit.link:
        raw: Mapping[str, object] = {}
    elif kind is BackendKind.SLSKD:
        raw = {k: hit.raw[k] for k in _SLSKD_ENQUEUE_KEYS if k in hit.raw}
    else:
        raw = hit.raw
    return replace(hit, leechers=None, raw=raw)


_SLSKD_ENQUEUE_KEYS = ("username", "filename", "size", "searchId", "directory")


def active_first(transfers: Sequence[Transfer]) -> list[Transfer]:
    """Transfers ordered for display: active and queued first, fastest first."""
    return sorted(transfers, key=lambda t: (t.state not in ACTIVE_STATES, -t.download_rate, t.name.casefold()))

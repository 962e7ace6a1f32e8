"""SoulSync behind Peerdeck's unified :class:`~peerdeck.backend.Backend`.

SoulSync is an automation layer over a Soulseek daemon, so the verbs mean something
slightly different (as a real SoulSync 3.1.9 does it):

* search looks through metadata catalogues (Deezer, iTunes, Spotify), not Soulseek: it
  yields tracks, albums and artists, and a track hit can be enqueued;
* enqueue of a track hit (by default) puts it on the wishlist and starts a wishlist run of
  that one track (``track_ids``), whose download task SoulSync lists: the task is looked for
  and its id returned. A track SoulSync is downloading already is not started twice (see
  :mod:`.wishlist`: SoulSync itself would download it again);
  A free-text request (``POST /request``) is handed straight to the Soulseek daemon and
  never appears in SoulSync's download list, so it is answered at once with an
  :class:`~peerdeck.models.Enqueued` marked ``untracked`` that says so;
* SoulSync lists no download progress (0 until completed), so it is reported unknown;
* there is no pause; cancelling single tasks through SoulSync 3.1.x does not work (its
  cancel wants the Soulseek daemon's transfer id, which SoulSync does not list);
  cancelling all clears the Soulseek daemon's list, not SoulSync's;
* status comes from ``/system/status`` and ``/system/stats``; their ``services`` flags are
  not health checks (``spotify`` and ``soulseek`` are always true), so they are only
  passed on in ``extra``.

SoulSync allows 60 requests a minute on each route: one refresh costs one on three routes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp

from ..backend import TrackedBackend, count_states
from ..client import DEFAULT_TIMEOUT
from ..exceptions import (
    PeerdeckConflictError,
    PeerdeckError,
    PeerdeckInputError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckServerError,
)
from ..models import (
    ALL,
    BackendInfo,
    BackendKind,
    Capabilities,
    Credentials,
    Enqueued,
    EnqueueOptions,
    EnqueueTarget,
    SearchHit,
    SearchKind,
    Status,
    TextRequest,
    Transfer,
    TransferSelector,
    TransferState,
)
from .client import SoulSyncClient
from .models import DownloadTask, MetadataResults
from .ratelimit import RateLimiter
from .wishlist import (
    DEFAULT_ALBUM_BUNDLE_MIN_TRACKS,
    WishlistTrack,
    album_groups,
    is_future_release,
    same_track,
    unfinished,
)

_LOGGER = logging.getLogger(__name__)

STATE_MAP: dict[str, TransferState] = {
    "queued": TransferState.QUEUED,
    "pending": TransferState.QUEUED,
    "searching": TransferState.QUEUED,
    "downloading": TransferState.ACTIVE,
    "post_processing": TransferState.ACTIVE,
    "completed": TransferState.COMPLETED,
    "failed": TransferState.FAILED,
    "not_found": TransferState.FAILED,
    "cancelled": TransferState.CANCELLED,
}
"""SoulSync task statuses; an unknown one is taken as active (work in progress)."""

_UNFINISHED = 0.99
_SEARCH_KINDS = ("tracks", "albums", "artists")
_SEARCH_MAX = 50
_SEARCH_DEFAULT = 20
LISTS_INTERVAL = 300.0
"""Seconds between reads of the wishlist and watchlist sizes (see ``_list_sizes``)."""

ALBUM_TIMEOUT = 300.0
"""Seconds the tasks of a run are awaited (SoulSync's album search took 45 to 47 s) before a warning."""

REQUEST_UNTRACKED = (
    "SoulSync sent this request straight to the Soulseek daemon: it is not trackable through SoulSync "
    "(it never appears in SoulSync's downloads), so its progress and completion cannot be seen here. "
    "Look for it in the Soulseek daemon (slskd)."
)
WISHLIST_EMPTY = "SoulSync's wishlist is empty, so there is nothing to download."
WISHLIST_RUNNING = (
    "SoulSync's automatic wishlist run is going, and SoulSync refuses another run meanwhile; it downloads the "
    "tracks that were on the wishlist when it started, and the others in its next run."
)
TRACK_RUNNING = (
    "SoulSync's automatic wishlist run is going, and SoulSync refuses another run meanwhile: the track waits on "
    "the wishlist for its next run (SoulSync runs it every few hours, or press Process wishlist later)."
)
TRACK_DOWNLOADING = "SoulSync is downloading this track already; no second download was started."
WISHLIST_DOWNLOADING = (
    "SoulSync is downloading every track on the wishlist already ({count}); no second download was started."
)
ALBUM_SEARCHING = (
    "SoulSync is searching for {albums} as whole albums first; their downloads are listed (and announced as "
    "added) when that search ends, about a minute from now."
)
STILL_SEARCHING = (
    "SoulSync is still searching for {count} of the wishlist's tracks from an earlier run (an album search takes "
    "about a minute); nothing was started twice, and their downloads are announced as added when they appear."
)
UNRELEASED = "{count} on the wishlist {verb} not released yet; SoulSync searches {pronoun} once {pronoun} {verb} out."
TASKS_NOT_YET = (
    "SoulSync started the run, but no download task has appeared yet for {count} of its tracks; they are "
    "announced as added when they appear."
)

OTHER_PROFILE = (
    "SoulSync runs the wishlist of profile 1 for every API call, whatever profile is asked for (its run takes "
    "the profile from the web session, and an API client has none), so profile {profile}'s tracks would not be "
    "downloaded; use profile 1, or enqueue tracks as requests (track_enqueue='request')"
)

PAUSE_UNSUPPORTED = (
    "SoulSync has no pause or resume; cancel with remove(ALL) (single tasks are cancelled in slskd) "
    "and enqueue the request again later"
)


def to_transfer(task: DownloadTask) -> Transfer:
    """Map one SoulSync download task onto a :class:`Transfer`.

    SoulSync 3.1.9 lists ``progress`` 0 and ``size`` null, also once a task is completed, so
    progress is unknown (``progress_known`` False) until then rather than a made-up 0 %.
    A percentage a later version might list is taken, kept below 1 until "completed"
    (tagged and moved: a 100 % download still in post-processing is not done).
    """
    state = STATE_MAP.get(task.status, TransferState.ACTIVE)
    completed = state is TransferState.COMPLETED
    known = completed or task.progress > 0
    progress = 1.0 if completed else min(max(task.progress / 100.0, 0.0), _UNFINISHED)
    changed = _timestamp(task.status_change_time)
    return Transfer(
        id=task.id,
        name=_task_name(task),
        state=state,
        progress=progress,
        progress_known=known,
        size=task.size,
        done_bytes=task.size if completed else None,
        completed_at=changed if state is TransferState.COMPLETED else None,
        raw=task.raw,
    )


def search_hits(kind: str, results: MetadataResults) -> list[SearchHit]:
    """Catalogue results as hits whose id says what they are (``track:…``, ``album:…``, ``artist:…``)."""
    singular = kind.removesuffix("s")
    hits: list[SearchHit] = []
    for item in results.items:
        name = str(item.get("name") or "")
        artists = _artist_names(item.get("artists"))
        title = f"{artists} - {name}" if artists else name
        hit_id = f"{singular}:{item.get('id', '')}"
        hits.append(SearchHit(id=hit_id, title=title, source=results.source or None, raw=item))
    return hits


class SoulSyncBackend(TrackedBackend[SoulSyncClient]):
    """SoulSync through the unified verbs, honest about what it cannot do."""

    kind = BackendKind.SOULSYNC
    capabilities = Capabilities(search=SearchKind.METADATA, pause=False, resume=False, delete_data=False)

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
        profile_id: int | None = None,
        key_in_query: bool = False,
        rate_limiter: RateLimiter | None = None,
        track_enqueue: Literal["request", "wishlist"] = "wishlist",
        confirm_timeout: float = 6.0,
        confirm_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``track_enqueue`` picks how a track hit is downloaded: through the wishlist (SoulSync
        lists its tasks) or as a request (handed to the Soulseek daemon, untracked);
        ``confirm_timeout`` bounds the look for the tasks a wishlist run starts.
        """
        super().__init__(
            SoulSyncClient(
                url,
                api_key=credentials.api_key,
                key_in_query=key_in_query,
                profile_id=profile_id,
                rate_limiter=rate_limiter,
                session=session,
                verify_ssl=verify_ssl,
                request_timeout=request_timeout,
            )
        )
        self.track_enqueue = track_enqueue
        self.confirm_timeout = confirm_timeout
        self.confirm_interval = confirm_interval
        self._clock = clock
        self._sleep = sleep
        self._tasks: dict[str, DownloadTask] = {}
        self.album_timeout = ALBUM_TIMEOUT
        """Seconds the tasks of a run started here are awaited (a log warning then)."""
        self._wishlist_lock = asyncio.Lock()
        """One wishlist run at a time from here: two would both see a track as not started."""
        self._awaited: dict[str, tuple[WishlistTrack, float, frozenset[str]]] = {}
        """Tracks of runs started here whose tasks have not appeared yet: deadline, and the tasks
        listed before the run (an older task of the same song is not its task)."""
        self._album_min_tracks: int | None = None
        self.lists_interval = LISTS_INTERVAL
        """Seconds between reads of the wishlist and watchlist sizes (two requests)."""
        self._lists: tuple[int | None, int | None] = (None, None)
        self._lists_read_at: float | None = None

    # ------------------------------------------------------------------ reading

    async def info(self) -> BackendInfo:
        """SoulSync's API reports no version; this call is a connection and key test."""
        await self.client.system_status()
        return BackendInfo(kind=self.kind, version="unknown", api_version="v1", name="SoulSync")

    async def _refresh(self) -> tuple[Status, dict[str, Transfer]]:
        system = await self.client.system_status()
        stats = await self.client.system_stats()
        self._remember(await self.client.all_downloads(), replace=True)
        self._settle_awaited(self._tasks.values())
        transfers = {tid: to_transfer(task) for tid, task in self._tasks.items()}
        self._announce(self._tracker.observe(transfers))
        counts = count_states(transfers.values())
        wishlist_size, watchlist_size = await self._list_sizes()
        status = Status(
            connected=True,
            counts=counts,
            extra={
                "uptime": system.uptime,
                "uptime_seconds": system.uptime_seconds,
                "library_artists": stats.artists,
                "library_albums": stats.albums,
                "library_tracks": stats.tracks,
                "database_size_mb": stats.database_size_mb,
                "active_downloads": stats.active_downloads,
                "wishlist_size": wishlist_size,
                "watchlist_size": watchlist_size,
                # Passed on for display only: spotify and soulseek are always true.
                "reported_services": dict(system.services),
            },
        )
        return status, transfers

    async def _list_sizes(self) -> tuple[int | None, int | None]:
        """Wishlist tracks and watched artists of the profile, read at most every ``lists_interval`` s.

        SoulSync allows 60 requests a minute per key, and the lists change only when someone
        edits them or a wishlist run or watchlist scan ends: reading them on every refresh would
        spend the budget for nothing.
        """
        now = self._clock()
        if self._lists_read_at is None or now - self._lists_read_at >= self.lists_interval:
            wishlist = await self.client.wishlist(limit=1, fields=("id",))
            watchlist = await self.client.watchlist(fields=("id",))
            total = wishlist.pagination.total if wishlist.pagination is not None else len(wishlist.items)
            self._lists = (total, len(watchlist))
            self._lists_read_at = now
        return self._lists

    def _remember(self, tasks: Iterable[DownloadTask], *, replace: bool = False) -> None:
        fresh = {task.id: task for task in tasks}
        self._tasks = fresh if replace else {**self._tasks, **fresh}

    # ------------------------------------------------------------------ search

    async def search(self, query: str, *, timeout: float = 30.0, limit: int | None = None) -> AsyncIterator[SearchHit]:
        """Tracks, then albums, then artists from SoulSync's metadata catalogues (three requests)."""
        text = query.strip()
        if not text:
            raise PeerdeckInputError("the search text is empty")
        searches = {
            "tracks": self.client.search_tracks,
            "albums": self.client.search_albums,
            "artists": self.client.search_artists,
        }
        deadline = self._clock() + timeout
        sent = 0
        for kind in _SEARCH_KINDS:
            remaining = deadline - self._clock()
            if remaining <= 0:
                return
            wanted = _SEARCH_DEFAULT if limit is None else min(_SEARCH_MAX, limit - sent)
            try:
                async with asyncio.timeout(remaining):
                    results = await searches[kind](text, limit=wanted)
            except TimeoutError:
                return  # the caller's deadline ran out (a silent daemon raises PeerdeckTimeoutError)
            for hit in search_hits(kind, results):
                yield hit
                sent += 1
                if limit is not None and sent >= limit:
                    return

    # ------------------------------------------------------------------ acting

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> Enqueued:
        """Download a track hit or a free-text request; see the module notes for what each gives.

        Save path, category and tags are SoulSync's to decide and are ignored.
        """
        if options is not None and options.start_paused:
            raise PeerdeckNotSupportedError("SoulSync cannot add a download paused; it has no pause")
        if isinstance(target, TextRequest):
            return await self._request_download(target.query)
        if isinstance(target, SearchHit):
            kind, _, _ = target.id.partition(":")
            if kind == "track":
                if self.track_enqueue == "wishlist":
                    return await self._wishlist_download(target)
                return await self._request_download(target.title)
            if kind == "album":
                raise PeerdeckNotSupportedError(
                    "SoulSync downloads single tracks from a request; enqueue the album's tracks, "
                    "or watch its artist (client.add_to_watchlist) to get new releases"
                )
            if kind == "artist":
                raise PeerdeckNotSupportedError(
                    "an artist cannot be downloaded; watch it with client.add_to_watchlist to get its releases"
                )
            raise PeerdeckInputError(f"{target.id!r} is not a SoulSync search hit")
        raise PeerdeckNotSupportedError(
            f"SoulSync cannot enqueue a {type(target).__name__}; give a TextRequest or a track search hit"
        )

    async def _request_download(self, query: str) -> Enqueued:
        """``POST /request``: SoulSync hands the best match to the Soulseek daemon, untracked.

        SoulSync 3.1.9 answers 500 ``INTERNAL_ERROR`` although it queued the job; that answer
        counts as taken. Either way nothing will ever show in SoulSync's downloads, so this
        says so at once instead of waiting for a task that cannot come.
        """
        if not query.strip():
            raise PeerdeckInputError("the request text is empty")
        try:
            await self.client.request(query)
        except PeerdeckServerError as err:
            if err.code != "INTERNAL_ERROR":
                raise
            _LOGGER.debug("SoulSync answered 500 to the request %r (its 3.1.9 bug); the job is queued", query)
        return Enqueued(notice=REQUEST_UNTRACKED, untracked=True)

    async def _wishlist_download(self, hit: SearchHit) -> Enqueued:
        """Put the hit's track on the wishlist and run the wishlist for that track alone.

        A track SoulSync is downloading already (an earlier pick, a run started elsewhere)
        gets that task's id instead of a second download.
        """
        if not hit.raw:
            raise PeerdeckInputError("this search hit carries no track data for the wishlist")
        self._check_run_profile()
        async with self._wishlist_lock:
            try:
                added = await self.client.wishlist_add(hit.raw, failure_reason="Requested through Peerdeck")
                track = WishlistTrack.from_track_data(added.track_id, added.track.get("track_data") or hit.raw)
            except PeerdeckConflictError:
                # Refused as a duplicate of an entry filed under another id: run that entry.
                _LOGGER.debug("%s is already on the wishlist", hit.title)
                wanted = WishlistTrack.from_track_data(str(hit.raw.get("id") or ""), hit.raw)
                track = next((t for t in await self._wishlist_tracks() if same_track(t, wanted)), wanted)
            tasks = await self.client.all_downloads()
            running = [task for task in tasks if unfinished(task) and track.matches(task)]
            if running:
                self._remember(running)
                return Enqueued([task.id for task in running], notice=TRACK_DOWNLOADING)
            if self._is_awaited(track):
                return Enqueued(notice=STILL_SEARCHING.format(count=1), pending=True)
            started = await self._run_wishlist([track], {task.id for task in tasks})
            if started is None:
                return Enqueued(notice=TRACK_RUNNING)
            return started

    async def process_wishlist(self) -> Enqueued:
        """Run the wishlist for the tracks SoulSync is not downloading yet; return the tasks it started.

        SoulSync would download again every track an earlier run is still downloading, so
        those are left out (when that is all of them, nothing is sent and the notice says
        so). Tracks of one album are searched as an album first: their tasks come later, and
        the result is ``pending`` with a notice instead of looking like nothing started.
        """
        self._check_run_profile()
        async with self._wishlist_lock:
            listed = await self._wishlist_tracks()
            if not listed:
                return Enqueued(notice=WISHLIST_EMPTY)
            wishlist = [track for track in listed if not is_future_release(track.release_date)]
            unreleased = _unreleased(len(listed) - len(wishlist))
            if not wishlist:
                return Enqueued(notice=unreleased)
            tasks = await self.client.all_downloads()
            self._settle_awaited(tasks)
            running = [task for task in tasks if unfinished(task) and any(t.matches(task) for t in wishlist)]
            todo = [
                track
                for track in wishlist
                if not any(track.matches(task) for task in running) and not self._is_awaited(track)
            ]
            if not todo:
                self._remember(running)
                waiting = sum(1 for track in wishlist if self._is_awaited(track))
                if waiting:
                    return _noting(Enqueued(notice=STILL_SEARCHING.format(count=waiting), pending=True), unreleased)
                notice = WISHLIST_DOWNLOADING.format(count=_downloads(len(running)))
                return _noting(Enqueued(notice=notice), unreleased)
            started = await self._run_wishlist(todo, {task.id for task in tasks})
            return _noting(started if started is not None else Enqueued(notice=WISHLIST_RUNNING), unreleased)

    def _check_run_profile(self) -> None:
        """Refuse a wishlist run for a profile other than 1, which SoulSync 3.1.9 would not run.

        ``POST /wishlist/process`` hands over to the web UI's handler, which reads the profile from
        the session (``web_server.py`` ``_set_profile_context``), and an API client has none.
        """
        profile = self.client.profile_id
        if profile is not None and profile != 1:
            raise PeerdeckNotSupportedError(OTHER_PROFILE.format(profile=profile))

    async def _wishlist_tracks(self) -> list[WishlistTrack]:
        """Every wishlist entry of the profile (pages of 200, SoulSync's largest)."""
        tracks: list[WishlistTrack] = []
        page = 1
        while True:
            result = await self.client.wishlist(
                page=page, limit=200, fields=("id", "track_id", "track_name", "track_data")
            )
            tracks.extend(WishlistTrack.from_entry(item) for item in result.items)
            if result.pagination is None or not result.pagination.has_next or not result.items:
                return [track for track in tracks if track.track_id]
            page += 1

    async def _run_wishlist(self, tracks: list[WishlistTrack], before: set[str]) -> Enqueued | None:
        """Run the wishlist for ``tracks`` only and report their tasks; None while SoulSync's own run goes."""
        try:
            await self.client.process_wishlist([track.track_id for track in tracks])
        except PeerdeckConflictError:
            return None
        albums, singles = album_groups(tracks, await self._album_bundle_min_tracks())
        earlier = frozenset(before)
        deadline = self._clock() + self.album_timeout
        for track in (t for group in albums.values() for t in group):
            self._awaited[track.track_id] = (track, deadline, earlier)
        new = await self._new_tasks(before, singles) if singles else []
        missing = [track for track in singles if not any(track.matches(task) for task in new)]
        for track in missing:
            self._awaited[track.track_id] = (track, deadline, earlier)
        notices = []
        if albums:
            notices.append(ALBUM_SEARCHING.format(albums=", ".join(repr(name) for name in albums)))
        if missing:
            notices.append(TASKS_NOT_YET.format(count=len(missing)))
        return Enqueued([task.id for task in new], notice=" ".join(notices) or None, pending=bool(notices))

    async def _album_bundle_min_tracks(self) -> int:
        """SoulSync's ``wishlist.album_bundle_min_tracks`` (read once; its default when unreadable)."""
        if self._album_min_tracks is None:
            value: Any = None
            try:
                wishlist = (await self.client.settings()).get("wishlist")
                value = wishlist.get("album_bundle_min_tracks") if isinstance(wishlist, dict) else None
            except PeerdeckError as err:
                _LOGGER.debug("SoulSync's settings could not be read (%s); album searches from 2 tracks", err)
            valid = isinstance(value, int) and not isinstance(value, bool) and value >= 1
            self._album_min_tracks = value if valid else DEFAULT_ALBUM_BUNDLE_MIN_TRACKS
        return self._album_min_tracks

    async def _new_tasks(self, before: set[str], tracks: list[WishlistTrack]) -> list[DownloadTask]:
        """New tasks of ``tracks``, looked for until each has one or ``confirm_timeout`` passes."""
        deadline = self._clock() + self.confirm_timeout
        while True:
            new = [
                task
                for task in await self.client.all_downloads()
                if task.id not in before and any(track.matches(task) for track in tracks)
            ]
            remaining = deadline - self._clock()
            if all(any(track.matches(task) for task in new) for track in tracks) or remaining <= 0:
                self._remember(new)
                return new
            await self._sleep(min(self.confirm_interval, remaining))

    def _is_awaited(self, track: WishlistTrack) -> bool:
        awaited = self._awaited.get(track.track_id)
        return awaited is not None and awaited[1] > self._clock()

    def _settle_awaited(self, tasks: Iterable[DownloadTask]) -> None:
        """Forget awaited tracks whose task appeared; warn about those that never came."""
        if not self._awaited:
            return
        listed = list(tasks)
        now = self._clock()
        for track_id, (track, deadline, earlier) in list(self._awaited.items()):
            if any(task.id not in earlier and track.matches(task) for task in listed):
                del self._awaited[track_id]
            elif deadline <= now:
                del self._awaited[track_id]
                _LOGGER.warning(
                    "SoulSync started no download for %r within %.0f s of its wishlist run (its search found "
                    "nothing yet?); it stays on the wishlist",
                    track.name,
                    self.album_timeout,
                )

    async def pause(self, ids: TransferSelector) -> None:
        """Not supported: SoulSync has no pause."""
        raise PeerdeckNotSupportedError(PAUSE_UNSUPPORTED)

    async def resume(self, ids: TransferSelector) -> None:
        """Not supported: SoulSync has no pause, so nothing to resume."""
        raise PeerdeckNotSupportedError(PAUSE_UNSUPPORTED)

    async def remove(self, ids: TransferSelector, *, delete_data: bool = False) -> None:
        """Cancel downloads; single tasks only where SoulSync can route the id.

        ``ALL`` is SoulSync's cancel-all: it cancels and clears every download in the Soulseek
        daemon (requests included), but SoulSync's own task list is left as it was, so its
        tasks go on being listed until SoulSync itself notices.

        SoulSync 3.1.x forwards a single id to slskd as a transfer id, and its task ids are
        not slskd's, so a single cancel is answered 500 ``CANCEL_FAILED``; that becomes a
        :class:`PeerdeckNotSupportedError` naming the slskd user and file to cancel there.
        """
        if delete_data:
            raise PeerdeckNotSupportedError("SoulSync's cancel keeps downloaded files; delete them on disk")
        if ids is ALL:
            await self.client.cancel_all_downloads()
            return
        wanted = list(ids)
        if not wanted:
            raise PeerdeckInputError("no downloads given")
        if any(task_id not in self._tasks for task_id in wanted):
            self._remember(await self.client.all_downloads())
        for task_id in wanted:
            await self._cancel_one(task_id)

    async def _cancel_one(self, task_id: str) -> None:
        task = self._tasks.get(task_id)
        if task is None:
            raise PeerdeckNotFoundError(f"SoulSync has no download task {task_id!r}", 404)
        if not task.username:
            raise PeerdeckNotSupportedError(
                f"the task {_task_name(task)!r} has no Soulseek source yet, and SoulSync can only cancel "
                "at the source; use remove(ALL) or wait until it is downloading"
            )
        try:
            await self.client.cancel_download(task.id, task.username)
        except PeerdeckServerError as err:
            if err.code != "CANCEL_FAILED":
                raise
            raise PeerdeckNotSupportedError(
                f"SoulSync 3.1.x cancels by slskd transfer id, which its download list does not show; cancel "
                f"{task.filename or _task_name(task)!r} from user {task.username!r} in slskd, or use remove(ALL)"
            ) from err


def _unreleased(count: int) -> str | None:
    """The notice for wishlist tracks left out until their release, None when there are none."""
    if not count:
        return None
    if count == 1:
        return UNRELEASED.format(count="1 track", verb="is", pronoun="it")
    return UNRELEASED.format(count=f"{count} tracks", verb="are", pronoun="them")


def _noting(result: Enqueued, extra: str | None) -> Enqueued:
    """``result`` with ``extra`` added to its notice."""
    if extra is None:
        return result
    notice = f"{result.notice} {extra}" if result.notice else extra
    return Enqueued(list(result), notice=notice, pending=result.pending, untracked=result.untracked)


def _downloads(count: int) -> str:
    return f"{count} download" if count == 1 else f"{count} downloads"


def _task_name(task: DownloadTask) -> str:
    if task.track_name:
        return f"{task.artist_name} - {task.track_name}" if task.artist_name else task.track_name
    if task.filename:
        return task.filename.replace("\\", "/").rsplit("/", 1)[-1]
    return task.id


def _artist_names(value: Any) -> str:
    """Catalogue artists come as names or as ``{"name": …}`` objects."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return ""
    names = [str(a.get("name", "")) if isinstance(a, Mapping) else str(a) for a in value]
    return ", ".join(n for n in names if n)


def _timestamp(value: Any) -> datetime | None:
    """SoulSync's ``status_change_time``: epoch seconds, or an ISO text from other code paths."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None

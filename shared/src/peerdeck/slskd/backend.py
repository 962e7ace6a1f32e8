"""slskd behind Peerdeck's unified :class:`~peerdeck.backend.Backend`.

What slskd cannot do is said, not faked: it has no pause or resume, so those raise
:class:`PeerdeckNotSupportedError` naming the alternatives (cancel, then enqueue the same
file again). Transfers are polled (slskd has no push channel for them); the ``/events``
log (0.22+) fills in downloads that completed and were cleared between two polls, so a
completion is still announced, once (webhook test samples, which carry an empty transfer,
are not completions). A restart as another version, or one that emptied the event log, is
noticed in the tick that sees it: routes are chosen again and the log is read afresh.

Removing is for finished records in slskd: a running download is cancelled first, and removed
once its record says ``Completed``; a remove slskd accepts but does not do is reported.

Transfer ids are ``"<username>/<transfer uuid>"``. Usernames may contain ``/``, so ids
are split on the *last* ``/``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ..backend import TrackedBackend, count_states
from ..client import DEFAULT_TIMEOUT
from ..exceptions import (
    PeerdeckError,
    PeerdeckInputError,
    PeerdeckNotSupportedError,
    PeerdeckPartialError,
    PeerdeckResponseError,
)
from ..models import (
    ALL,
    BackendInfo,
    BackendKind,
    Capabilities,
    Credentials,
    EnqueueOptions,
    EnqueueTarget,
    RemoteFiles,
    SearchHit,
    SearchKind,
    Status,
    Transfer,
    TransferEvent,
    TransferEventKind,
    TransferSelector,
    TransferState,
)
from .client import EnqueueResult, JsonObject, SlskdClient, event_data
from .eventlog import EventLog, is_real_transfer
from .search import basename, build_hits, folder_of, run_search
from .states import parse_flags, server_is_online, transfer_state

_SEARCH_POLL = 0.5
_CANCEL_WAIT = 10.0
"""Seconds a remove waits for slskd to finish cancelling a download (its record then says Completed)."""
_CANCEL_POLL = 0.2
_FOLDER_READ = 20.0
"""Seconds to ask a peer for a whole folder before enqueueing only the files the search found."""
_SHOWN_FAILURES = 5
_NO_PAUSE = (
    "slskd cannot pause or resume downloads; cancel them (remove) and enqueue the same files again "
    "(the search hit, or RemoteFiles with the user, path and size) to start over"
)
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$")


def make_id(username: str, transfer_id: str) -> str:
    """The backend's transfer id: ``"<username>/<uuid>"``."""
    return f"{username}/{transfer_id}"


def split_id(value: str) -> tuple[str, str]:
    """``"us/er/uuid"`` → ``("us/er", "uuid")``: usernames may contain ``/``, uuids cannot."""
    username, sep, transfer_id = value.rpartition("/")
    if not sep or not username or not transfer_id:
        raise PeerdeckInputError(f"{value!r} is not a slskd transfer id (<username>/<id>)")
    return username, transfer_id


def to_transfer(record: Mapping[str, Any]) -> Transfer:
    """Map one slskd Transfer record onto a :class:`Transfer`."""
    username = str(record.get("username", ""))
    filename = str(record.get("filename", ""))
    state = transfer_state(record.get("state"))
    percent = record.get("percentComplete")
    speed = record.get("averageSpeed")
    return Transfer(
        id=make_id(username, str(record.get("id", ""))),
        name=basename(filename),
        state=state,
        progress=min(1.0, max(0.0, float(percent) / 100.0)) if isinstance(percent, int | float) else 0.0,
        size=_opt_int(record.get("size")),
        done_bytes=_opt_int(record.get("bytesTransferred")),
        download_rate=int(speed) if state is TransferState.ACTIVE and isinstance(speed, int | float) else 0,
        eta=parse_timespan(record.get("remainingTime")) if state is TransferState.ACTIVE else None,
        category=username or None,
        added_at=parse_time(record.get("requestedAt") or record.get("enqueuedAt")),
        completed_at=parse_time(record.get("endedAt")),
        raw=dict(record),
    )


def flatten(groups: Iterable[Mapping[str, Any]]) -> list[JsonObject]:
    """``[{username, directories: [{files: [Transfer]}]}]`` → the Transfer records."""
    return [
        dict(item)
        for group in groups
        for directory in group.get("directories") or []
        for item in directory.get("files") or []
        if isinstance(item, Mapping)
    ]


def parse_timespan(value: Any) -> float | None:
    """A .NET TimeSpan (``"1.02:03:04.5"``) in seconds."""
    if not isinstance(value, str):
        return None
    match = _TIMESPAN.match(value.strip())
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def parse_time(value: Any) -> datetime | None:
    """ISO timestamps from slskd (UTC, 7 fractional digits, sometimes without an offset)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = re.match(r"\d*", rest)
        fraction = digits.group(0) if digits else ""
        text = f"{head}.{fraction[:6]}{rest[len(fraction) :]}" if fraction else head + rest
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class SlskdBackend(TrackedBackend[SlskdClient]):
    """slskd through the unified verbs."""

    kind = BackendKind.SLSKD
    capabilities = Capabilities(search=SearchKind.P2P, pause=False, resume=False, delete_data=False)

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
        search_poll_interval: float = _SEARCH_POLL,
    ) -> None:
        super().__init__(
            SlskdClient(
                url,
                api_key=credentials.api_key,
                username=credentials.username,
                password=credentials.password,
                session=session,
                verify_ssl=verify_ssl,
                request_timeout=request_timeout,
            )
        )
        self.search_poll_interval = search_poll_interval
        self.cancel_wait = _CANCEL_WAIT
        self._log = EventLog(self.client, parse_time, on_restart=self.daemon_restarted)
        self._event_completed: set[str] = set()

    # ------------------------------------------------------------------ reading

    async def info(self) -> BackendInfo:
        """slskd's version and the Soulseek user it is logged in as."""
        state = await self.client.application_state()
        version = _sub(state, "version")
        text = version.get("current") or version.get("full") or await self.client.application_version()
        return BackendInfo(
            kind=self.kind,
            version=str(text),
            api_version="v0",
            identity=_opt_str(_sub(state, "user").get("username")),
            name="slskd",
        )

    async def _refresh(self) -> tuple[Status, dict[str, Transfer]]:
        state = await self.client.application_state()
        self._note_version(state)
        downloads = flatten(await self.client.transfers_downloads())
        uploads = flatten(await self.client.transfers_uploads())
        transfers = {t.id: t for t in map(to_transfer, downloads)}
        primed = self._tracker.primed
        seen = self._tracker.observe(transfers)
        self._event_completed.update(e.transfer.id for e in seen if e.kind is TransferEventKind.COMPLETED)
        self._announce(seen)
        self._announce(await self._completions_from_log(transfers, primed))
        self.reconcile_due = False  # every refresh reads every transfer: a restart is reconciled by this one
        return self._build_status(state, transfers, uploads), transfers

    def export_state(self) -> dict[str, Any]:
        """The tracker's state under ``transfers``, and where the event log was last read under ``event_log``."""
        if not self._tracker.primed:
            return {}
        state: dict[str, Any] = {"transfers": super().export_state()}
        position = self._log.position()
        if position is not None:
            state["event_log"] = position
        return state

    def restore_state(self, data: Mapping[str, Any]) -> None:
        """Resume the tracker and the event log; completions announced are not announced again.

        A state saved before the event log's position was kept is the tracker's alone.
        """
        nested = data.get("transfers")
        transfers: Mapping[str, Any] = nested if isinstance(nested, Mapping) else data
        super().restore_state(transfers)
        self._event_completed.update(
            str(key) for key, item in transfers.items() if isinstance(item, Mapping) and item.get("done")
        )
        if isinstance(nested, Mapping):
            self._log.resume(data.get("event_log"))

    def _note_version(self, state: Mapping[str, Any]) -> None:
        """Another version than the routes were chosen for means slskd restarted as another build."""
        version = _sub(state, "version")
        text = _opt_str(version.get("current") or version.get("full"))
        if text is not None:
            self.client.note_version(text)
        self.note_daemon_version(text)

    async def _completions_from_log(self, transfers: Mapping[str, Transfer], primed: bool) -> list[TransferEvent]:
        """COMPLETED events for real downloads slskd logged as complete but no longer lists."""
        records = await self._log.read()
        if not primed or records is None:
            return []
        events: list[TransferEvent] = []
        for record in reversed(records):
            if record.get("type") != "DownloadFileComplete":
                continue
            raw = event_data(record).get("transfer")
            if not is_real_transfer(raw):
                continue  # a webhook test sample ("POST /events/DownloadFileComplete") has an empty transfer
            transfer = to_transfer(raw)
            if transfer.id in transfers or transfer.id in self._event_completed:
                continue
            if transfer.state is not TransferState.COMPLETED:
                transfer = replace(transfer, state=TransferState.COMPLETED, progress=1.0)
            self._event_completed.add(transfer.id)
            events.append(
                TransferEvent(TransferEventKind.COMPLETED, transfer, None, parse_time(record.get("timestamp")))
            )
        return events

    def _build_status(
        self, state: Mapping[str, Any], transfers: Mapping[str, Transfer], uploads: list[JsonObject]
    ) -> Status:
        counts = count_states(transfers.values())
        server, version, shares = _sub(state, "server"), _sub(state, "version"), _sub(state, "shares")
        if "state" in server:
            connected = server_is_online(server.get("state"))
        else:
            connected = bool(server.get("isConnected")) and bool(server.get("isLoggedIn"))
        upload_rate = sum(
            int(u.get("averageSpeed", 0))
            for u in uploads
            if transfer_state(u.get("state")) is TransferState.ACTIVE and isinstance(u.get("averageSpeed"), int | float)
        )
        return Status(
            connected=connected,
            download_rate=sum(t.download_rate for t in transfers.values()),
            upload_rate=upload_rate,
            counts=counts,
            extra={
                "server_state": server.get("state"),
                "server_address": server.get("address"),
                "version": version.get("current") or version.get("full"),
                "update_available": version.get("isUpdateAvailable"),
                "pending_restart": state.get("pendingRestart"),
                "pending_reconnect": state.get("pendingReconnect"),
                "shares_ready": shares.get("ready"),
                "shared_files": shares.get("files"),
                "shared_directories": shares.get("directories"),
                "uploads": len(uploads),
            },
        )

    # ------------------------------------------------------------------ acting

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> list[str]:
        """Download a search hit or a user's files; returns ``"<username>/<id>"`` of the new transfers."""
        opts = options or EnqueueOptions()
        search_id: str | None = None
        files: tuple[tuple[str, int], ...]
        if isinstance(target, SearchHit) and target.folder is not None:
            username = str(target.raw.get("username") or target.source or "")
            if not username or not target.folder.files:
                raise PeerdeckInputError("this folder hit does not name a Soulseek user and its files")
            files = await self._whole_folder(username, target.folder.path, target.folder.files)
            search_id = _opt_str(target.raw.get("searchId"))
        elif isinstance(target, SearchHit):
            username = str(target.raw.get("username") or target.source or "")
            filename = str(target.raw.get("filename") or "")
            size = target.raw.get("size", target.size)
            if not username or not filename or not isinstance(size, int):
                raise PeerdeckInputError("this search hit does not name a Soulseek user, file and size")
            files = ((filename, size),)
            search_id = _opt_str(target.raw.get("searchId"))
        elif isinstance(target, RemoteFiles):
            username, files = target.source, tuple(target.files)
        else:
            raise PeerdeckNotSupportedError(
                f"slskd cannot enqueue a {type(target).__name__}; give a search hit or RemoteFiles (user + files)"
            )
        result = await self.client.transfers_enqueue(username, files, destination=opts.save_path, search_id=search_id)
        refused_all = result.raw is not None or len({f.filename for f in result.failed}) >= len(files)
        if result.failed and not result.enqueued and refused_all:
            reasons = "; ".join(f"{f.filename}: {f.message or 'refused'}" for f in result.failed)
            raise PeerdeckResponseError(f"slskd enqueued none of the files ({reasons})", 200)
        return await self._new_ids(result, files)

    async def _whole_folder(
        self, username: str, path: str, found: tuple[tuple[str, int], ...]
    ) -> tuple[tuple[str, int], ...]:
        """Every file of a remote folder, as the peer lists it now; the files the search found if the
        peer cannot be asked (offline, slow, or the folder is gone)."""
        try:
            directories = await self.client.user_directory(username, path, time_limit=_FOLDER_READ)
        except PeerdeckError:
            return found
        separator = "\\" if "\\" in path or "/" not in path else "/"
        files: list[tuple[str, int]] = []
        for directory in directories:
            name = str(directory.get("name") or path)
            if name.replace("/", "\\").rstrip("\\") != path.replace("/", "\\").rstrip("\\"):
                continue
            for item in directory.get("files") or []:
                if not isinstance(item, Mapping):
                    continue
                filename, size = str(item.get("filename") or ""), item.get("size")
                if not filename or not isinstance(size, int) or item.get("isLocked"):
                    continue
                full = filename if folder_of(filename) else f"{path}{separator}{filename}"
                files.append((full, size))
        return tuple(files) or found

    async def _new_ids(self, result: EnqueueResult, files: Iterable[tuple[str, int]]) -> list[str]:
        """Ids of the new transfers; slskd ≤0.23 does not return them, so they are looked up by filename."""
        if result.enqueued:
            return [make_id(str(t.get("username", result.username)), str(t.get("id"))) for t in result.enqueued]
        wanted = {name for name, _ in files} - {f.filename for f in result.failed}
        records = flatten([await self.client.transfers_user_downloads(result.username)])
        newest: dict[str, JsonObject] = {}
        for record in records:
            name = str(record.get("filename"))
            if name in wanted and str(record.get("requestedAt", "")) >= str(
                newest.get(name, {}).get("requestedAt", "")
            ):
                newest[name] = record
        return [make_id(result.username, str(r.get("id"))) for r in newest.values()]

    async def pause(self, ids: TransferSelector) -> None:
        """Not supported: slskd has no pause."""
        raise PeerdeckNotSupportedError(_NO_PAUSE)

    async def resume(self, ids: TransferSelector) -> None:
        """Not supported: slskd has no resume (enqueue the file again instead)."""
        raise PeerdeckNotSupportedError(_NO_PAUSE)

    async def cancel(self, ids: TransferSelector) -> None:
        """Cancel downloads but keep their records (state ``Completed, Cancelled``), so they can be retried."""
        for username, transfer_id in await self._select(ids):
            await self.client.transfers_cancel_download(username, transfer_id, remove=False)

    async def remove(self, ids: TransferSelector, *, delete_data: bool = False) -> None:
        """Drop download records; a running one is cancelled first and removed once slskd says it ended.

        slskd removes only finished records (before 0.24.2 it answers 500 for a running one, later
        204 while still listing it), so the listing is checked afterwards. Every transfer is tried;
        those not removed are named in one :class:`PeerdeckPartialError`. The listing is read once
        per step, not once per download, and ``ALL`` is removed with one request.
        """
        if delete_data:
            raise PeerdeckNotSupportedError(
                "slskd does not say where a download was saved, so its data cannot be deleted with it; "
                "delete the file through the files API (remote_file_management) instead"
            )
        listed = await self._listed_states()
        selected = [split_id(key) for key in listed] if ids is ALL else await self._select(ids)
        failed: dict[str, str] = {}
        for username, transfer_id in selected:
            key = make_id(username, transfer_id)
            if key not in listed:
                failed[key] = "slskd does not list this download"
            elif "Completed" not in parse_flags(listed[key]):
                try:
                    await self.client.transfers_cancel_download(username, transfer_id, remove=False)
                except PeerdeckError as err:
                    failed[key] = str(err)
        pending = [(u, i) for u, i in selected if make_id(u, i) not in failed]
        if not pending:
            if failed:
                raise _partial([], failed, len(selected))
            return  # nothing listed: nothing to remove
        ended = await self._until_ended({make_id(u, i) for u, i in pending})
        if ids is ALL:
            await self.client.transfers_clear_completed_downloads()  # every finished record, in one request
        else:
            for username, transfer_id in pending:
                if make_id(username, transfer_id) not in ended:
                    continue
                try:
                    await self.client.transfers_cancel_download(username, transfer_id, remove=True)
                except PeerdeckError as err:
                    failed[make_id(username, transfer_id)] = str(err)
        still = await self._listed_states()
        for username, transfer_id in pending:
            key = make_id(username, transfer_id)
            if key in failed or key not in still:
                continue
            if key in ended:
                failed[key] = "slskd accepted the remove but still lists the download"
            else:
                failed[key] = (
                    f"slskd had not finished cancelling it after {self.cancel_wait:.0f} s "
                    f"(state {still[key]!r}); try again in a moment"
                )
        if failed:
            done = [make_id(u, i) for u, i in selected if make_id(u, i) not in failed]
            raise _partial(done, failed, len(selected))

    async def _listed_states(self) -> dict[str, str]:
        """``{"<username>/<id>": state}`` of every listed download (one request)."""
        return {
            make_id(str(r.get("username")), str(r.get("id"))): str(r.get("state"))
            for r in flatten(await self.client.transfers_downloads())
        }

    async def _until_ended(self, keys: set[str]) -> set[str]:
        """Which of ``keys`` slskd lists as ended (``Completed``), waiting up to :attr:`cancel_wait`."""
        deadline = time.monotonic() + self.cancel_wait
        while True:
            states = await self._listed_states()
            ended = {key for key in keys if "Completed" in parse_flags(states.get(key))}
            if ended == keys or time.monotonic() >= deadline:
                return ended
            await asyncio.sleep(_CANCEL_POLL)

    async def _select(self, ids: TransferSelector) -> list[tuple[str, str]]:
        if ids is ALL:
            records = flatten(await self.client.transfers_downloads())
            return [(str(r.get("username")), str(r.get("id"))) for r in records]
        selected = [split_id(i) for i in ids]
        if not selected:
            raise PeerdeckInputError("no transfers given")
        return selected

    # ------------------------------------------------------------------ search

    async def search(
        self,
        query: str,
        *,
        timeout: float = 30.0,
        limit: int | None = None,
    ) -> AsyncGenerator[SearchHit]:
        """Hits from Soulseek peers, folder hits first, once slskd has them (when the search ends).

        The search is stopped in time to be read before ``timeout`` and deleted once read.
        """
        search_id, responses = await run_search(self.client, query, timeout, self.search_poll_interval)
        for sent, hit in enumerate(build_hits(search_id, responses), start=1):
            yield hit
            if limit is not None and sent >= limit:
                return


def _partial(done: Sequence[str], failed: Mapping[str, str], total: int) -> PeerdeckPartialError:
    shown = "; ".join(f"{key}: {reason}" for key, reason in list(failed.items())[:_SHOWN_FAILURES])
    more = f" (and {len(failed) - _SHOWN_FAILURES} more)" if len(failed) > _SHOWN_FAILURES else ""
    return PeerdeckPartialError(
        f"slskd removed {len(done)} of {total} downloads; not removed: {shown}{more}",
        done=tuple(done),
        failed=failed,
    )


def _sub(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested object of the application state, or an empty one (keys vary between versions)."""
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None


def _opt_str(value: Any) -> str | None:
    return str(value) if value is not None and value != "" else None

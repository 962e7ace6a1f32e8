"""What a daemon and Home Assistant really spend while an integration runs inside a real Home Assistant.

Generic parts of the real-HA benchmarks (daemon-agnostic):

* :func:`bench_venv` — a separate environment for the Home Assistant under test (its own
  requirements, e.g. core integrations' client packages), so the test environment is untouched;
* :class:`RealHomeAssistant` — ``hass -c <config>`` started from that environment with a fresh
  config folder (onboarded over REST, custom integrations copied as HACS does), config entries
  added and removed through the real config flow;
* :class:`CountingProxy` — a TCP proxy in front of a daemon that counts HTTP requests (per path)
  and bytes on the wire, rewriting ``Host`` so daemons that check it still answer;
* :func:`cpu_seconds` / :class:`CpuWindow` — process CPU (user + system) from ``/proc/<pid>/stat``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts.demo_support.homeassistant import (  # noqa: E402
    HomeAssistantApi,
    HomeAssistantProcess,
    Login,
    write_config,
)

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
LOG_PROBLEM = re.compile(r" (?:WARNING|ERROR|CRITICAL) \([^)]*\) \[([^\]]+)\] ")
"""A warning or worse in Home Assistant's log; the group is the logger's name."""
DEFAULT_VENV = Path(os.environ.get("PEERDECK_BENCH_VENV", Path.home() / ".cache" / "peerdeck" / "bench-venv"))


# ---------------------------------------------------------------------------------------------- environment


def bench_venv(
    python: str, requirements: Sequence[Path], editable: Sequence[Path] = (), path: Path = DEFAULT_VENV
) -> Path:
    """A venv at ``path`` with ``requirements`` (and ``editable`` projects) installed; returns its python.

    Re-installs only when the requirement files changed (their text is stamped in the venv).
    """
    stamp_text = "\n".join(p.read_text() for p in requirements) + "\n" + "\n".join(map(str, editable))
    stamp = path / "peerdeck-bench-requirements"
    venv_python = path / "bin" / "python"
    if venv_python.exists() and stamp.exists() and stamp.read_text() == stamp_text:
        return venv_python
    if not venv_python.exists():
        subprocess.run([python, "-m", "venv", str(path)], check=True)
    args = [str(venv_python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    for requirement in requirements:
        args += ["-r", str(requirement)]
    for project in editable:
        args += ["-e", str(project)]
    subprocess.run(args, check=True)
    stamp.write_text(stamp_text)
    return venv_python


# ---------------------------------------------------------------------------------------------- CPU


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """CPU seconds (user + system) process ``pid`` (or only its thread ``thread``) has used so far."""
    path = Path(f"/proc/{pid}/stat") if thread is None else Path(f"/proc/{pid}/task/{thread}/stat")
    fields = path.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def wake_ups(pid: int, thread: int | None = None) -> int:
    """Times thread ``thread`` of process ``pid`` (its main thread by default: Home Assistant's event loop) went to
    sleep waiting and was woken again (``voluntary_ctxt_switches``): a count, which this machine's noise does not
    move, of what costs an idle process most here (see docs/benchmarks.md, waking up)."""
    status = Path(f"/proc/{pid}/task/{pid if thread is None else thread}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("voluntary_ctxt_switches"))


def worker_pid(pid: int) -> int:
    """The process doing a daemon's work: ``pid``'s only child when it has one (syncthing 1.19 keeps a
    monitor parent even with ``--no-restart``; its server runs as the child), else ``pid`` itself."""
    children = [
        int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()
    ]
    return children[0] if len(children) == 1 else pid


@dataclass
class CpuWindow:
    """CPU used by named processes (or threads) over a wall-clock window (:meth:`begin`, then :meth:`end`)."""

    pids: Mapping[str, int | tuple[int, int]]
    """A process id, or a thread as (process id, thread id), per name."""
    started: float = 0.0
    wall: float = 0.0
    _start_cpu: dict[str, float] = field(default_factory=dict)
    _start_wake_ups: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds per process name, once ended."""
    wake_ups: dict[str, int] = field(default_factory=dict)
    """Wake-ups of each process's main thread (or of the thread named), once ended."""

    def begin(self) -> None:
        self._start_cpu = {name: self._read(name) for name in self.pids}
        self._start_wake_ups = {name: self._wake_ups(name) for name in self.pids}
        self.started = time.monotonic()

    def end(self) -> None:
        self.wall = time.monotonic() - self.started
        self.cpu = {name: self._read(name) - self._start_cpu[name] for name in self.pids}
        self.wake_ups = {name: self._wake_ups(name) - self._start_wake_ups[name] for name in self.pids}

    def _wake_ups(self, name: str) -> int:
        target = self.pids[name]
        return wake_ups(*target) if isinstance(target, tuple) else wake_ups(target)

    def _read(self, name: str) -> float:
        target = self.pids[name]
        return cpu_seconds(*target) if isinstance(target, tuple) else cpu_seconds(target)

    def per_minute(self, name: str) -> float:
        """CPU seconds per minute of ``name`` over the window."""
        return self.cpu[name] * 60.0 / self.wall


async def wait_until_quiet(pid: int, *, step: float = 15.0, tolerance: float = 0.25, timeout: float = 300.0) -> float:
    """Wait until process ``pid`` uses CPU at a steady rate (after start-up or a bulk add); returns it (s/s).

    Steady: two consecutive ``step``-s slices within ``tolerance`` of each other (or both under 5 ms/s).
    """
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        start = cpu_seconds(pid)
        await asyncio.sleep(step)
        rate = (cpu_seconds(pid) - start) / step
        if previous is not None and (
            abs(rate - previous) <= tolerance * max(rate, previous) or max(rate, previous) < 0.005
        ):
            return rate
        if time.monotonic() > deadline:
            return rate
        previous = rate


# ---------------------------------------------------------------------------------------------- proxy


@dataclass
class WireCounts:
    """What went through a :class:`CountingProxy`."""

    requests: Counter[str] = field(default_factory=Counter)
    """Requests per ``path`` (plus ``?filter=…`` where a query names one)."""
    bytes_up: int = 0
    bytes_down: int = 0
    full_reads: int = 0
    """Requests that read every item (as the proxy's ``full_read`` tells), counted as they happen."""

    def copy(self) -> WireCounts:
        return WireCounts(Counter(self.requests), self.bytes_up, self.bytes_down, self.full_reads)

    def since(self, earlier: WireCounts) -> WireCounts:
        """The difference from an earlier copy."""
        return WireCounts(
            self.requests - earlier.requests,
            self.bytes_up - earlier.bytes_up,
            self.bytes_down - earlier.bytes_down,
            self.full_reads - earlier.full_reads,
        )

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


class CountingProxy:
    """An HTTP/1.1 TCP proxy on 127.0.0.1 that counts requests per path and bytes each way.

    Requests are parsed only as far as needed (request line, headers, ``Content-Length`` body);
    ``Host`` (and the proxy's address in ``Origin``/``Referer``) is rewritten to the daemon's own,
    since daemons that check them (qBittorrent, Syncthing) would refuse the proxy's port.
    Responses are relayed byte for byte.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        label_params: Iterable[str] = ("filter",),
        full_read: Callable[[str, Mapping[str, str]], bool] | None = None,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.label_params = tuple(label_params)
        self.full_read = full_read
        """Tells, from a request's path and query, whether it reads every item (counted in ``full_reads``)."""
        self.counts = WireCounts()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        tasks = [
            asyncio.create_task(self._requests(reader, up_writer)),
            asyncio.create_task(self._responses(up_reader, writer)),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for stream in (writer, up_writer):
                with contextlib.suppress(Exception):
                    stream.close()

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = f"{self.target_host}:{self.target_port}".encode()
        ours = f"127.0.0.1:{self.port}".encode()
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            lines = head.split(b"\r\n")
            length = 0
            for index, line in enumerate(lines[1:], start=1):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"host":
                    lines[index] = b"Host: " + host
                elif name.strip().lower() in (b"origin", b"referer"):
                    lines[index] = line.replace(ours, host)
                elif name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            self._count(lines[0])
            body = await reader.readexactly(length) if length else b""
            data = b"\r\n".join(lines) + body
            self.counts.bytes_up += len(data)
            writer.write(data)
            await writer.drain()

    async def _responses(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65536):
            self.counts.bytes_down += len(chunk)
            writer.write(chunk)
            await writer.drain()

    def _count(self, request_line: bytes) -> None:
        parts = request_line.decode("latin-1").split(" ")
        target = urlsplit(parts[1] if len(parts) > 1 else "")
        params = dict(parse_qsl(target.query))
        labels = [f"{name}={params[name]}" for name in self.label_params if name in params]
        self.counts.requests[target.path + (f"?{'&'.join(labels)}" if labels else "")] += 1
        if self.full_read is not None and self.full_read(target.path, params):
            self.counts.full_reads += 1


@contextlib.asynccontextmanager
async def counting_proxy(target_url: str, **kwargs: Any) -> AsyncIterator[CountingProxy]:
    """A :class:`CountingProxy` in front of ``target_url`` (``http://host:port``) until the block ends."""
    target = urlsplit(target_url)
    proxy = CountingProxy(target.hostname or "127.0.0.1", target.port or 80, **kwargs)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


# ---------------------------------------------------------------------------------------------- Home Assistant


class RealHomeAssistant:
    """A real Home Assistant process from a given environment, onboarded, with entries added by config flow."""

    def __init__(self, python: Path, config_dir: Path, port: int, session: aiohttp.ClientSession) -> None:
        self.process = HomeAssistantProcess(config_dir, port, hass=python.with_name("hass"))
        self.api = HomeAssistantApi(session, self.process.url)
        self.session = session

    @property
    def pid(self) -> int:
        return self.process.pid

    async def start(self, downloads: Path) -> None:
        """Write a fresh config folder (Peerdeck copied as HACS does), start ``hass``, wait and onboard a user."""
        await asyncio.to_thread(downloads.mkdir, parents=True, exist_ok=True)
        write_config(self.process.config_dir, self.process.port, downloads)
        self.process.start()
        await self.process.wait_until_up(self.session)
        await self.api.onboard(Login(username="bench", password="peerdeck-bench"))  # noqa: S106 - throwaway local user
        await self.api.confirm_http_config()  # or Home Assistant 2026.11 restarts after 5 minutes
        # Onboarding's access token expires after 30 minutes; benchmarks run longer.
        self.api.token = await self.api.long_lived_token("bench")

    async def version(self) -> str:
        """The running Home Assistant's version."""
        (config,) = await self.api.websocket({"type": "get_config"})
        return str(config["version"])

    async def add_entry(self, handler: str, *answers: Mapping[str, Any]) -> dict[str, Any]:
        """Add a config entry through ``handler``'s real config flow; returns the entry."""
        return await self.api.config_flow(handler, *answers)

    async def remove_entry(self, entry_id: str) -> None:
        await self.api.remove_entry(entry_id)

    async def entity_count(self, prefix: str = "") -> int:
        """How many entity states exist (whose ids start with ``prefix``)."""
        return sum(1 for state in await self.api.states() if state["entity_id"].startswith(prefix))

    @contextlib.asynccontextmanager
    async def subscription(self, command: Mapping[str, Any]) -> AsyncIterator[Subscription]:
        """A websocket subscription (``command``) held open, as a frontend card holds it, until the block ends.

        Its events are read and counted as they come; the subscription ends with the connection.
        """
        received = Subscription()
        async with self.api.websocket_connection() as ws:
            await ws.send_json({"id": 1, **command})
            result = await ws.receive_json(timeout=30)
            while result.get("type") != "result":  # an event may come before the result
                result = await ws.receive_json(timeout=30)
            if not result.get("success"):
                raise RuntimeError(f"websocket command {command.get('type')} failed: {result.get('error')}")

            async def read() -> None:
                async for message in ws:
                    if message.type is aiohttp.WSMsgType.TEXT:
                        received.events += 1
                        received.bytes += len(message.data)

            reader = asyncio.create_task(read())
            try:
                yield received
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    def log_problems(self, *loggers: str) -> list[str]:
        """The warnings and errors in Home Assistant's log from loggers whose names contain one of ``loggers``."""
        path = self.process.config_dir / "home-assistant.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return [
            line
            for line in lines
            if (match := LOG_PROBLEM.search(line)) and any(name in match.group(1) for name in loggers)
        ]

    def stop(self) -> None:
        self.process.stop()

    def keep_logs(self) -> Path:
        """Copy Home Assistant's logs out of the config folder (removed after a run); returns where they went."""
        kept = Path(tempfile.mkdtemp(prefix="peerdeck-realha-log-"))
        for log in (self.process.config_dir / "home-assistant.log", self.process.log_path):
            if log.exists():
                shutil.copy2(log, kept / log.name)
        return kept


@dataclass
class Subscription:
    """What a held-open websocket subscription has received so far."""

    events: int = 0
    bytes: int = 0

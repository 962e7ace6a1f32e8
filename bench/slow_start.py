"""How long one slow daemon holds up Home Assistant's start (issue 22: 47 s with answers in 5-9 s).

A real qbittorrent-nox on loopback behind a proxy that holds every request back a random 5-9 s
(seeded), then sends it on a fresh connection: qBittorrent drops a connection idle for 7 s
(``KEEP_ALIVE_DURATION``, src/base/http/server.cpp), so a proxy that connected first and waited
would lose the request before it reached the daemon (an entry "briefly in setup_retry with no
request reaching the daemon"). A real Home Assistant (``hass`` of the running environment,
Peerdeck's library from this checkout) has one Peerdeck entry for it, added by the config flow
while the proxy is quick. Then Home Assistant is restarted ``--runs`` times in each of
``--modes`` (proxy quick, proxy slow), and each start prints:

* ``initialized`` — Home Assistant's own "Home Assistant initialized in X s" (its log);
* ``sensor valued`` — seconds from starting ``hass`` until the entry's transfer-count sensor has a value.

    .venv/bin/python -m bench.slow_start [--runs 2] [--min-delay 5] [--max-delay 9] [--modes quick,slow]

Compare with an older checkout by running the same script from a copy of it (``git archive``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "shared" / "src")]

from bench.realha import RealHomeAssistant  # noqa: E402
from tests.shared.qbittorrent.daemon import free_port, run_qbittorrent  # noqa: E402

INITIALIZED = re.compile(r"Home Assistant initialized in ([0-9.]+)s")
BOOTSTRAP_LOG = "    homeassistant.bootstrap: info\n"
ENTITY_TIMEOUT = 300.0


class DelayingProxy:
    """An HTTP/1.1 proxy on 127.0.0.1 that holds each request back ``delay()`` s and then sends it to
    the daemon on a connection of its own (``Host`` rewritten to the daemon's, which checks it)."""

    def __init__(self, target: str, delay: Callable[[], float]) -> None:
        parsed = urlsplit(target)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.delay = delay
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> DelayingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Requests on one client connection come one after the other (the client waits for each
        answer), so a new request means the previous answer was relayed whole."""
        upstream: asyncio.StreamWriter | None = None
        relay: asyncio.Task[None] | None = None
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = 0
                for index, line in enumerate(lines[1:], start=1):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"host":
                        lines[index] = f"Host: {self.host}:{self.port}".encode()
                    elif name.strip().lower() == b"content-length":
                        length = int(value.strip() or 0)
                body = await reader.readexactly(length) if length else b""
                await asyncio.sleep(self.delay())
                if relay is not None and upstream is not None:
                    relay.cancel()
                    upstream.close()
                up_reader, upstream = await asyncio.open_connection(self.host, self.port)
                upstream.write(b"\r\n".join(lines) + body)
                await upstream.drain()
                relay = asyncio.create_task(_pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
            pass
        finally:
            if relay is not None:
                relay.cancel()
            for stream in (upstream, writer):
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()


async def start_once(hass: RealHomeAssistant, sensor: str) -> tuple[float | None, float | None]:
    """Start ``hass`` again; returns HA's own start time and the seconds until ``sensor`` has a value
    (None where that did not happen within ``ENTITY_TIMEOUT`` s)."""
    log = hass.process.config_dir / "home-assistant.log"
    log.unlink(missing_ok=True)
    started = time.monotonic()
    hass.process.start()
    initialized = None
    while time.monotonic() - started < ENTITY_TIMEOUT:
        if initialized is None:  # (an onboarded Home Assistant's API answers only once it has started)
            text = log.read_text(errors="replace") if log.exists() else ""
            if match := INITIALIZED.search(text):
                initialized = float(match.group(1))
        else:
            states = {state["entity_id"]: state["state"] for state in await hass.api.states()}
            if states.get(sensor) not in (None, "unavailable", "unknown"):
                return initialized, time.monotonic() - started
        await asyncio.sleep(0.25)
    return initialized, None


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


async def main(args: argparse.Namespace) -> int:
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO / "shared" / "src"), os.environ.get("PYTHONPATH", "")])
    rng = random.Random(22)
    slow = False

    def delay() -> float:
        return rng.uniform(args.min_delay, args.max_delay) if slow else 0.0

    base = Path(tempfile.mkdtemp(prefix="peerdeck-slow-start-"))
    try:
        with run_qbittorrent(base / "qbittorrent") as daemon:
            async with DelayingProxy(daemon.url, delay) as proxy, aiohttp.ClientSession() as session:
                hass = RealHomeAssistant(Path(sys.executable), base / "homeassistant", free_port(), session)
                await hass.start(base / "downloads")
                login = {"url": proxy.url, "username": daemon.username, "password": daemon.password}
                entry = await hass.add_entry(
                    "peerdeck", {"kind": "qbittorrent"}, {**login, "advanced": {"verify_ssl": True, "timeout": 10}}
                )
                await asyncio.sleep(5)
                sensor = next(
                    state["entity_id"]
                    for state in await hass.api.states()
                    if state["entity_id"].startswith("sensor.") and state["entity_id"].endswith("_transfers")
                )
                hass.stop()
                config = hass.process.config_dir / "configuration.yaml"
                config.write_text(config.read_text().replace("  logs:\n", "  logs:\n" + BOOTSTRAP_LOG, 1))
                print(f"Peerdeck entry {entry['title']}; watching {sensor}; machine shared (figures are rough)")
                for slow in (mode == "slow" for mode in args.modes):
                    figures = []
                    for _ in range(args.runs):
                        figures.append(await start_once(hass, sensor))
                        problems = hass.log_problems("peerdeck")
                        hass.stop()
                        for line in problems[:3]:
                            print(f"    log: {line[:240]}")
                    label = f"answers in {args.min_delay:g}-{args.max_delay:g} s" if slow else "quick daemon"
                    inits = ", ".join(_seconds(i) for i, _ in figures)
                    ready = ", ".join(_seconds(e) for _, e in figures)
                    print(f"{label:>22}: initialized in {inits} s; sensor valued after {ready} s", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--min-delay", type=float, default=5.0)
    parser.add_argument("--max-delay", type=float, default=9.0)
    parser.add_argument("--modes", type=lambda text: text.split(","), default=["quick", "slow"])
    sys.exit(asyncio.run(main(parser.parse_args())))

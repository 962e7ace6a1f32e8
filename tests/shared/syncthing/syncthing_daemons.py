"""Start real ``syncthing`` daemons on loopback with throwaway homes (real-daemon tests, benchmark).

Every instance is cut off from the outside world: GUI and sync listener on 127.0.0.1, no
global or local discovery, relays, NAT/STUN, usage or crash reporting, upgrade checks.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SYNCTHING = shutil.which("syncthing") or "syncthing"
START_TIMEOUT = 30.0

_OPTIONS = {
    "globalAnnounceEnabled": "false",
    "localAnnounceEnabled": "false",
    "relaysEnabled": "false",
    "natEnabled": "false",
    "urAccepted": "-1",
    "crashReportingEnabled": "false",
    "autoUpgradeIntervalH": "0",
    "startBrowser": "false",
    "stunKeepaliveStartS": "0",
    "announceLANAddresses": "false",
    "reconnectionIntervalS": "2",
    "progressUpdateIntervalS": "1",
}


START_ATTEMPTS = 3
_PORT_TAKEN = b"Failed starting API: listen tcp"


class _PortTakenError(RuntimeError):
    """Syncthing could not listen on its GUI port: something else took it after it was picked."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SyncthingDaemon:
    """One syncthing process with its home, ports and API key."""

    home: Path
    name: str
    api_key: str = field(default_factory=lambda: secrets.token_hex(16))
    gui_port: int = field(default_factory=free_port)
    listen_port: int = field(default_factory=free_port)
    device_id: str = ""
    process: subprocess.Popen[bytes] | None = None
    answered: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gui_port}"

    @property
    def listen_address(self) -> str:
        return f"tcp://127.0.0.1:{self.listen_port}"

    @property
    def log_path(self) -> Path:
        return self.home / "syncthing.log"

    def generate(self) -> None:
        """Create keys and config, then lock the config down to loopback."""
        self.home.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [SYNCTHING, f"-generate={self.home}"],
            env=self._env(),
            check=True,
            capture_output=True,
            timeout=60,
        )
        tree = ET.parse(self.home / "config.xml")  # noqa: S314 - the config syncthing just generated
        root = tree.getroot()
        device = root.find("device")
        if device is None:
            raise RuntimeError("syncthing -generate wrote no device")
        self.device_id = device.attrib["id"]
        device.set("name", self.name)
        gui = root.find("gui")
        options = root.find("options")
        if gui is None or options is None:
            raise RuntimeError("syncthing -generate wrote no <gui> or <options>")
        _set(gui, "address", f"127.0.0.1:{self.gui_port}")
        _set(gui, "apikey", self.api_key)
        _set(options, "listenAddress", self.listen_address)
        for key, value in _OPTIONS.items():
            _set(options, key, value)
        tree.write(self.home / "config.xml")

    def add_peer(self, peer: SyncthingDaemon) -> None:
        """Know ``peer`` at its static loopback address (before start)."""
        tree = ET.parse(self.home / "config.xml")  # noqa: S314 - the config syncthing just generated
        root = tree.getroot()
        device = ET.Element(
            "device", {"id": peer.device_id, "name": peer.name, "compression": "metadata", "introducer": "false"}
        )
        ET.SubElement(device, "address").text = peer.listen_address
        ET.SubElement(device, "paused").text = "false"
        ET.SubElement(device, "autoAcceptFolders").text = "false"
        root.insert(1, device)
        tree.write(self.home / "config.xml")

    def add_folder(
        self, folder_id: str, path: Path, peers: list[SyncthingDaemon], *, rescan_s: int = 2, watcher_delay_s: int = 1
    ) -> None:
        """Share ``path`` as ``folder_id`` with ``peers`` (before start), rescanned every ``rescan_s`` s and
        watched, changes gathered for ``watcher_delay_s`` s (tests want both fast; Syncthing's defaults are
        3600 and 10)."""
        path.mkdir(parents=True, exist_ok=True)
        tree = ET.parse(self.home / "config.xml")  # noqa: S314 - the config syncthing just generated
        root = tree.getroot()
        folder = ET.Element(
            "folder",
            {
                "id": folder_id,
                "label": folder_id,
                "path": str(path),
                "type": "sendreceive",
                "rescanIntervalS": str(rescan_s),
                "fsWatcherEnabled": "true",
                "fsWatcherDelayS": str(watcher_delay_s),
                "ignorePerms": "false",
                "autoNormalize": "true",
            },
        )
        for member in [self, *peers]:
            ET.SubElement(folder, "device", {"id": member.device_id, "introducedBy": ""})
        ET.SubElement(folder, "paused").text = "false"
        root.insert(0, folder)
        tree.write(self.home / "config.xml")

    def start(self) -> None:
        """Run the daemon and wait until its REST API answers.

        A first start whose GUI port was taken in the meantime (another test run picked the same free port) moves
        to a new port; a restart keeps its port, as tests that restart a daemon reuse its URL.
        """
        for _ in range(START_ATTEMPTS - 1):
            try:
                self._start_once()
            except _PortTakenError:
                if self.answered:
                    raise
                self._move_gui(free_port())
            else:
                return
        self._start_once()

    def _start_once(self) -> None:
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [SYNCTHING, "serve", f"--home={self.home}", "--no-browser", "--no-restart", "--no-upgrade"],
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if _PORT_TAKEN in self.log_path.read_bytes()[log_start:]:
                    raise _PortTakenError(self.gui_port)
                raise RuntimeError(f"syncthing {self.name} exited with {self.process.returncode}: {self.log_tail()}")
            if self._answers():
                self.answered = True
                return
            time.sleep(0.1)
        raise RuntimeError(f"syncthing {self.name} did not answer within {START_TIMEOUT} s: {self.log_tail()}")

    def _move_gui(self, port: int) -> None:
        self.gui_port = port
        tree = ET.parse(self.home / "config.xml")  # noqa: S314 - the config this harness wrote
        gui = tree.getroot().find("gui")
        if gui is None:
            raise RuntimeError("syncthing's config lost its <gui>")
        _set(gui, "address", f"127.0.0.1:{port}")
        tree.write(self.home / "config.xml")

    def stop(self) -> None:
        """Stop the daemon (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _answers(self) -> bool:
        request = urllib.request.Request(  # noqa: S310 - fixed http://127.0.0.1 URL
            f"{self.url}/rest/system/ping", headers={"X-API-Key": self.api_key}
        )
        try:
            with urllib.request.urlopen(request, timeout=1) as reply:  # noqa: S310
                return bool(reply.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ST")}
        env.update(
            {
                "STNODEFAULTFOLDER": "1",
                "STNOUPGRADE": "1",
                "STNORESTART": "1",
                "HOME": str(self.home),
            }
        )
        return env


def _set(parent: ET.Element, tag: str, value: str) -> None:
    element = parent.find(tag)
    if element is None:
        element = ET.SubElement(parent, tag)
    element.text = value


@contextmanager
def running_pair(base: Path) -> Iterator[tuple[SyncthingDaemon, SyncthingDaemon]]:
    """A and B of :func:`linked_pair`, started, sharing folder ``shared`` (A: ``data-a``, B: ``data-b``)."""
    a, b = linked_pair(base)
    try:
        a.start()
        b.start()
        yield a, b
    finally:
        a.stop()
        b.stop()


def linked_pair(
    base: Path,
    folder_id: str = "shared",
    *,
    names: tuple[str, str] = ("A", "B"),
    rescan_s: int = 2,
    watcher_delay_s: int = 1,
) -> tuple[SyncthingDaemon, SyncthingDaemon]:
    """Two generated daemons that know each other and share ``folder_id`` (not started yet)."""
    a = SyncthingDaemon(base / "a", names[0])
    b = SyncthingDaemon(base / "b", names[1])
    a.generate()
    b.generate()
    a.add_peer(b)
    b.add_peer(a)
    a.add_folder(folder_id, base / "data-a", [b], rescan_s=rescan_s, watcher_delay_s=watcher_delay_s)
    b.add_folder(folder_id, base / "data-b", [a], rescan_s=rescan_s, watcher_delay_s=watcher_delay_s)
    return a, b

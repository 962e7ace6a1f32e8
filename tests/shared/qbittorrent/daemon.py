"""Start a real qbittorrent-nox on loopback with a throwaway profile and a known password.

Used by the real-daemon tests here, by the Home Assistant and Discord tests, and by the
benchmark. DHT, LSD, PeX, UPnP/NAT-PMP are off and the session binds to ``lo`` only, so
nothing leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USERNAME = "admin"
PASSWORD = "peerdeck-test-password"


@dataclass
class QBittorrentDaemon:
    """A running qbittorrent-nox."""

    url: str
    port: int
    profile: Path
    save_path: Path
    process: subprocess.Popen[bytes]
    username: str = USERNAME
    password: str = PASSWORD

    @property
    def pid(self) -> int:
        """Process id (for reading its CPU time from /proc)."""
        return self.process.pid


def installed_version() -> str:
    """The version of the installed qbittorrent-nox, as its ``--version`` prints it (e.g. ``4.5.2``)."""
    binary = shutil.which("qbittorrent-nox")
    if binary is None:
        raise RuntimeError("qbittorrent-nox is not installed; ./scripts/test installs it with apt")
    printed = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    return printed.split()[-1].removeprefix("v")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def password_hash(password: str) -> str:
    """qBittorrent's ``WebUI\\Password_PBKDF2`` value (PBKDF2-HMAC-SHA512, 100,000 rounds)."""
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 100_000, 64)
    return f'"@ByteArray({base64.b64encode(salt).decode()}:{base64.b64encode(key).decode()})"'


def write_config(profile: Path, port: int, save_path: Path, password: str) -> None:
    """Write the profile's qBittorrent.conf before the first start."""
    config_dir = profile / "qBittorrent" / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    listen = free_port()
    lines = [
        "[LegalNotice]",
        "Accepted=true",
        "",
        "[BitTorrent]",
        "Session\\DHTEnabled=false",
        "Session\\LSDEnabled=false",
        "Session\\PeXEnabled=false",
        f"Session\\Port={listen}",
        "Session\\Interface=lo",
        "Session\\InterfaceName=lo",
        "Session\\InterfaceAddress=127.0.0.1",
        f"Session\\DefaultSavePath={save_path}",
        "Session\\QueueingSystemEnabled=false",
        "Session\\AnonymousModeEnabled=true",
        "",
        "[Network]",
        "PortForwardingEnabled=false",
        "",
        "[Preferences]",
        "Connection\\UPnP=false",
        "Connection\\ResolvePeerCountries=false",
        "General\\Locale=en",
        "WebUI\\Address=127.0.0.1",
        f"WebUI\\Port={port}",
        "WebUI\\LocalHostAuth=true",
        f"WebUI\\Username={USERNAME}",
        f"WebUI\\Password_PBKDF2={password_hash(password)}",
        "WebUI\\MaxAuthenticationFailCount=5",
        "",
    ]
    (config_dir / "qBittorrent.conf").write_text("\n".join(lines))


@contextmanager
def run_qbittorrent(
    base_dir: Path, *, password: str = PASSWORD, start_timeout: float = 30.0
) -> Iterator[QBittorrentDaemon]:
    """Run qbittorrent-nox until the block ends; raises (never skips) when it cannot start."""
    binary = shutil.which("qbittorrent-nox")
    if binary is None:
        raise RuntimeError("qbittorrent-nox is not installed; ./scripts/test installs it with apt")
    port = free_port()
    profile = base_dir / "profile"
    save_path = base_dir / "downloads"
    save_path.mkdir(parents=True, exist_ok=True)
    write_config(profile, port, save_path, password)
    log = (base_dir / "qbittorrent.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--profile={profile}", f"--webui-port={port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, start_timeout)
        yield QBittorrentDaemon(
            url=url, port=port, profile=profile, save_path=save_path, process=process, password=password
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"qbittorrent-nox exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/app/version", timeout=2):  # noqa: S310 - loopback only
                return
        except urllib.error.HTTPError:
            return  # 403 without a session: the WebUI is up
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"qbittorrent-nox did not answer on {url} within {timeout} s")

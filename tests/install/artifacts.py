"""The release's artifacts as users get them: built by ``scripts/release``, served by a package index on loopback.

Also the doctored copies the install test's negative checks use: a wheel that lacks a module, a wheel that
declares a dependency Home Assistant's constraints refuse, a zip whose files are not at its root.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import html
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELEASE_TIMEOUT = 600.0
"""``uv build`` fetches the build backend (hatchling) from the package index the first time."""


@dataclass(frozen=True)
class Release:
    """What ``scripts/release`` built."""

    client_wheel: Path
    bot_wheel: Path
    integration_zip: Path


def build_release(out: Path) -> Release:
    """Run ``scripts/release`` into ``out`` with this Python's uv (no set-up: the test environment is one)."""
    env = {**os.environ, "PEERDECK_RELEASE_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)  # the build reads the sources; nothing imports them
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "release"), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RELEASE_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/release failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    (client,) = out.glob("peerdeck-*-py3-none-any.whl")
    (bot,) = out.glob("peerdeck_bot-*-py3-none-any.whl")
    return Release(client_wheel=client, bot_wheel=bot, integration_zip=out / "peerdeck.zip")


def _project(wheel: Path) -> str:
    """The PEP 503 normalised project name of a wheel file."""
    return re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()


@dataclass
class PackageIndex:
    """A PEP 503 "simple" index on 127.0.0.1 that serves the given wheels and nothing else."""

    root: Path
    url: str = ""
    requested: list[str] = field(default_factory=list)
    """Every path asked for, in order (to show who fetched what)."""

    def publish(self, *wheels: Path) -> None:
        """Put the wheels in the index (one project page per project, each link with its sha256)."""
        simple = self.root / "simple"
        files = self.root / "files"
        files.mkdir(parents=True, exist_ok=True)
        projects: dict[str, list[Path]] = {}
        for wheel in wheels:
            shutil.copy2(wheel, files / wheel.name)
            projects.setdefault(_project(wheel), []).append(files / wheel.name)
        for project, paths in projects.items():
            page = simple / project
            page.mkdir(parents=True, exist_ok=True)
            links = "".join(
                f'<a href="../../files/{html.escape(p.name)}#sha256={hashlib.sha256(p.read_bytes()).hexdigest()}">'
                f"{html.escape(p.name)}</a>\n"
                for p in paths
            )
            (page / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
        listing = "".join(f'<a href="{name}/">{name}</a>\n' for name in sorted(p.name for p in simple.iterdir()))
        (simple / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{listing}</body></html>\n")

    @contextlib.contextmanager
    def serving(self) -> Iterator[str]:
        """Serve the index until the block ends; yields its URL (``…/simple``)."""
        requested = self.requested

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                requested.append(self.path)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the test reads :attr:`PackageIndex.requested` instead."""

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(self.root)))
        thread = threading.Thread(target=server.serve_forever, name="package-index", daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}/simple"
        try:
            yield self.url
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)

    def fetched(self, wheel: Path) -> bool:
        """Whether someone downloaded this wheel from the index."""
        return any(path.split("#")[0].endswith(f"/files/{wheel.name}") for path in self.requested)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def rewrite_wheel(wheel: Path, out_dir: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    """A copy of ``wheel`` in ``out_dir`` with each member passed through ``change`` (``None`` drops it) and
    its RECORD rewritten to match, as a broken build would have produced it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        names = source.namelist()
        (record,) = [name for name in names if name.endswith(".dist-info/RECORD")]
        lines = []
        for name in names:
            if name == record:
                continue
            data = change(name, source.read(name))
            if data is None:
                continue
            copy.writestr(name, data)
            lines.append(_record_line(name, data))
        copy.writestr(record, "\n".join([*lines, f"{record},,"]) + "\n")
    return target


def without_module(wheel: Path, out_dir: Path, module: str) -> Path:
    """The wheel without one module's file (``peerdeck/qbittorrent/maindata.py``)."""
    return rewrite_wheel(wheel, out_dir, lambda name, data: None if name == module else data)


def with_requirement(wheel: Path, out_dir: Path, requirement: str) -> Path:
    """The wheel with one more ``Requires-Dist`` line in its METADATA."""

    def change(name: str, data: bytes) -> bytes:
        if not name.endswith(".dist-info/METADATA"):
            return data
        head, sep, body = data.decode().partition("\n\n")
        return f"{head}\nRequires-Dist: {requirement}{sep}{body}".encode()

    return rewrite_wheel(wheel, out_dir, change)


def nested_zip(integration_zip: Path, out: Path, folder: str) -> Path:
    """The integration zip with its files under ``folder/`` instead of at its root (the layout mistake
    a zip of the repository's ``custom_components`` makes)."""
    with zipfile.ZipFile(integration_zip) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for name in source.namelist():
            copy.writestr(f"{folder}/{name}", source.read(name))
    return out


def install_zip(integration_zip: Path, config_dir: Path, domain: str = "peerdeck") -> Path:
    """Unpack the zip into ``<config>/custom_components/<domain>/``, as HACS does with a release zip
    (``zip_release``) and as the manual install tells users to."""
    target = config_dir / "custom_components" / domain
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with zipfile.ZipFile(integration_zip) as archive:
        archive.extractall(target)
    return target

"""Install the release the way its users do, end to end, on the stack the tests run on.

``scripts/release`` builds the artifacts; a package index on 127.0.0.1 serves the built wheels (and nothing else of
ours); a fresh Home Assistant whose environment has no ``peerdeck`` gets ``custom_components/peerdeck`` from the
release zip, starts, installs the manifest's requirement itself through its own installer (uv with Home
Assistant's constraints; the index is added as Home Assistant's container image adds its own wheel index, with
``UV_EXTRA_INDEX_URL``), and a config entry is set up through the config flow against a real qbittorrent-nox.
Everything else comes from Home Assistant's environment or the normal package index, as for any user.

The same steps with a doctored artifact must fail: a wheel that misses a module, a wheel that declares a
dependency Home Assistant's constraints refuse, a zip whose files are not at its root. And the bot:
``pip install peerdeck-bot`` from the same index into a clean virtual environment, then ``peerdeck-bot --help``
(and not with a bot wheel that misses a module). Before all that, the artifacts are compared file by file with the
checkout, so a module no run imports cannot go missing unseen either.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from scripts.demo_support.homeassistant import HomeAssistantApi, HomeAssistantProcess, Login, write_config
from tests.install.artifacts import (
    ROOT,
    PackageIndex,
    Release,
    build_release,
    install_zip,
    nested_zip,
    with_requirement,
    without_module,
)
from tests.install.environment import Environment, base_environment, clean_env, fresh_home_assistant
from tests.shared.qbittorrent.daemon import QBittorrentDaemon, free_port, installed_version, run_qbittorrent

pytestmark = [pytest.mark.daemon, pytest.mark.install]

ENTITY_TIMEOUT = 120.0
MISSING_MODULE = "peerdeck/qbittorrent/maindata.py"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    return build_release(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def qbittorrent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QBittorrentDaemon]:
    with run_qbittorrent(tmp_path_factory.mktemp("qbittorrent")) as daemon:
        yield daemon


def _tree(folder: Path) -> dict[str, bytes]:
    """The files under ``folder`` (no bytecode caches), by their path relative to it."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_artifacts_hold_every_file(release: Release) -> None:
    """The zip is the integration folder as HACS would copy it from the repository, and each wheel holds every
    file of its package (modules the end-to-end run below never imports included)."""
    with zipfile.ZipFile(release.integration_zip) as archive:
        unpacked = {name: archive.read(name) for name in archive.namelist()}
    assert unpacked == _tree(ROOT / "custom_components" / "peerdeck")
    for wheel, package in ((release.client_wheel, "shared/src/peerdeck"), (release.bot_wheel, "bot/src/peerdeck_bot")):
        prefix = Path(package).name
        with zipfile.ZipFile(wheel) as archive:
            packed = {name: archive.read(name) for name in archive.namelist() if name.startswith(f"{prefix}/")}
        assert packed == {f"{prefix}/{name}": data for name, data in _tree(ROOT / package).items()}, wheel.name


@dataclass
class Attempt:
    """What happened when a fresh Home Assistant was given the artifacts."""

    environment: Environment
    index: PackageIndex
    entry: dict[str, Any] | None
    """The config entry the flow created, or ``None``."""
    error: str
    """Why the flow failed (empty when it did not)."""
    log: str
    """Home Assistant's output."""
    devices: list[dict[str, Any]]
    states: dict[str, str]
    """The entry's entities and their states."""


async def _entry_entities(api: HomeAssistantApi, entry_id: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The entry's devices and its (enabled) entities' states once every sensor has a value."""
    deadline = time.monotonic() + ENTITY_TIMEOUT
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        (registry,) = await api.websocket({"type": "config/entity_registry/list"})
        ours = [e["entity_id"] for e in registry if e.get("config_entry_id") == entry_id and not e.get("disabled_by")]
        every = {s["entity_id"]: s["state"] for s in await api.states()}
        states = {entity: every.get(entity, "missing") for entity in ours}
        if states and all(state not in ("missing", "unavailable") for state in states.values()):
            (devices,) = await api.websocket({"type": "config/device_registry/list"})
            return [d for d in devices if entry_id in d.get("config_entries", [])], states
        await asyncio.sleep(1)
    raise AssertionError(f"the entry's entities did not all get values within {ENTITY_TIMEOUT:.0f} s: {states}")


async def install_and_configure(
    tmp: Path, integration_zip: Path, wheels: list[Path], qbittorrent: QBittorrentDaemon
) -> Attempt:
    """A fresh Home Assistant with the zip unpacked as HACS does, the wheels on the index; add a qBittorrent."""
    environment = await asyncio.to_thread(fresh_home_assistant, base_environment(), tmp / "venv")
    assert environment.distribution("homeassistant")
    assert environment.imports("peerdeck") is None, "the fresh environment must not have peerdeck"
    index = PackageIndex(tmp / "index")
    index.publish(*wheels)
    port = free_port()
    config, downloads = tmp / "config", tmp / "downloads"
    downloads.mkdir()
    write_config(config, port, downloads)  # this also copies the checkout's integration: replaced next
    install_zip(integration_zip, config)
    entry: dict[str, Any] | None = None
    error = ""
    devices: list[dict[str, Any]] = []
    states: dict[str, str] = {}
    with index.serving() as url:
        hass = HomeAssistantProcess(config, port, environment.hass, env=clean_env(UV_EXTRA_INDEX_URL=url))
        hass.start()
        try:
            async with aiohttp.ClientSession() as session:
                await hass.wait_until_up(session)
                api = HomeAssistantApi(session, hass.url)
                await api.onboard(Login())
                await api.confirm_http_config()
                connection = {"url": qbittorrent.url, "username": qbittorrent.username}
                try:
                    entry = await api.add_entry("qbittorrent", {**connection, "password": qbittorrent.password})
                except RuntimeError as err:
                    error = str(err)
                if entry is not None:
                    devices, states = await _entry_entities(api, entry["entry_id"])
        finally:
            await asyncio.to_thread(hass.stop)
    log = hass.log_tail(400)
    return Attempt(environment, index, entry, error, log, devices, states)


async def test_home_assistant_installs_the_release(
    tmp_path: Path, release: Release, qbittorrent: QBittorrentDaemon
) -> None:
    attempt = await install_and_configure(
        tmp_path, release.integration_zip, [release.client_wheel, release.bot_wheel], qbittorrent
    )
    assert attempt.entry is not None, f"{attempt.error}\n{attempt.log}"
    assert attempt.entry["state"] == "loaded"
    # Home Assistant's installer fetched our wheel from our index, and nothing of ours came from elsewhere.
    assert attempt.index.fetched(release.client_wheel)
    assert not attempt.index.fetched(release.bot_wheel)
    assert attempt.environment.distribution("peerdeck") == "0.1.0"
    where = attempt.environment.imports("peerdeck")
    assert where is not None
    assert Path(where).is_relative_to(attempt.environment.prefix)
    assert attempt.environment.distribution("peerdeck-bot") is None
    # The entry talks to the real daemon: its device carries qBittorrent's own version, every sensor has a value.
    assert [device["sw_version"] for device in attempt.devices] == [installed_version()]
    assert any(entity.startswith("sensor.") for entity in attempt.states)


async def test_a_wheel_that_misses_a_module_fails(
    tmp_path: Path, release: Release, qbittorrent: QBittorrentDaemon
) -> None:
    doctored = without_module(release.client_wheel, tmp_path / "doctored", MISSING_MODULE)
    attempt = await install_and_configure(tmp_path, release.integration_zip, [doctored], qbittorrent)
    assert attempt.entry is None
    assert attempt.index.fetched(doctored)
    assert attempt.environment.distribution("peerdeck") == "0.1.0"  # installed, but unusable
    assert "peerdeck.qbittorrent.maindata" in attempt.log


async def test_a_dependency_the_constraints_refuse_fails(
    tmp_path: Path, release: Release, qbittorrent: QBittorrentDaemon
) -> None:
    constraints = await asyncio.to_thread(Path(_constraints_file(base_environment())).read_text)
    pinned = re.search(r"^aiohttp==(\S+)$", constraints, re.MULTILINE)
    assert pinned, "Home Assistant's constraints pin aiohttp"
    doctored = with_requirement(release.client_wheel, tmp_path / "doctored", f"aiohttp<{pinned[1]}")
    attempt = await install_and_configure(tmp_path, release.integration_zip, [doctored], qbittorrent)
    assert attempt.entry is None
    assert attempt.environment.distribution("peerdeck") is None
    assert "Unable to install package peerdeck==0.1.0" in attempt.log


async def test_a_zip_with_its_files_in_a_folder_fails(
    tmp_path: Path, release: Release, qbittorrent: QBittorrentDaemon
) -> None:
    doctored = nested_zip(release.integration_zip, tmp_path / "peerdeck.zip", "peerdeck")
    attempt = await install_and_configure(tmp_path, doctored, [release.client_wheel], qbittorrent)
    assert attempt.entry is None
    assert "Invalid handler" in attempt.error
    assert not attempt.index.fetched(release.client_wheel)
    assert attempt.environment.distribution("peerdeck") is None


def _constraints_file(base: Path) -> str:
    """The path of the constraints file Home Assistant's installer passes to uv."""
    code = (
        "import homeassistant.requirements as r, pathlib\nprint(pathlib.Path(r.__file__).with_name(r.CONSTRAINT_FILE))"
    )
    return subprocess.run(
        [str(base / "bin" / "python"), "-c", code], env=clean_env(), capture_output=True, text=True, check=True
    ).stdout.strip()


def _bot(tmp: Path, wheels: list[Path]) -> tuple[PackageIndex, subprocess.CompletedProcess[str]]:
    """``pip install peerdeck-bot`` from the index into a new virtual environment, then ``peerdeck-bot --help``."""
    venv = tmp / "bot-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=clean_env())
    index = PackageIndex(tmp / "index")
    index.publish(*wheels)
    with index.serving() as url:
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--extra-index-url", url, "peerdeck-bot"],
            check=True,
            env=clean_env(),
            timeout=600,
        )
    helped = subprocess.run(
        [str(venv / "bin" / "peerdeck-bot"), "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )
    return index, helped


def test_pip_installs_the_bot(tmp_path: Path, release: Release) -> None:
    index, helped = _bot(tmp_path, [release.client_wheel, release.bot_wheel])
    assert helped.returncode == 0, helped.stderr
    assert "--check-config" in helped.stdout
    assert index.fetched(release.bot_wheel)
    assert index.fetched(release.client_wheel)


def test_a_bot_wheel_that_misses_a_module_fails(tmp_path: Path, release: Release) -> None:
    doctored = without_module(release.bot_wheel, tmp_path / "doctored", "peerdeck_bot/cogs.py")
    index, helped = _bot(tmp_path, [release.client_wheel, doctored])
    assert index.fetched(doctored)
    assert helped.returncode != 0
    assert "peerdeck_bot.cogs" in helped.stderr

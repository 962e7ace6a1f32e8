"""``./scripts/demo``: real qBittorrent, Syncthing and Home Assistant with Peerdeck, on 127.0.0.1, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from .daemons import Daemons, keep_busy, seed_torrents, start_daemons
from .dashboard import build_dashboard
from .homeassistant import HomeAssistantApi, HomeAssistantProcess, Login, write_config

REPOSITORY = Path(__file__).resolve().parents[2]

_LOGGER = logging.getLogger("peerdeck.demo")
ENTITY_TIMEOUT = 90.0
DASHBOARD = "dashboard-peerdeck"

INTRO = """\
## Peerdeck demo
Live data from a real **qBittorrent** (downloading from a second one on 127.0.0.1) and two real
**Syncthing** instances syncing a folder. Flip *Pause all*, or watch the *Transfer* event fire when a
download completes. Every value comes from the daemons through Peerdeck.
"""


def _free_port(preferred: int | None = None) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred or 0))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def on_host(path: Path) -> Path:
    """Where ``path`` is on the host: today's stack runs inside its root (``PEERDECK_HOST_ROOT``, set by
    scripts/demo), where only the repository is bound at the same path."""
    host_root = os.environ.get("PEERDECK_HOST_ROOT")
    if not host_root or path.is_relative_to(REPOSITORY):
        return path
    return Path(host_root + str(path))


def _say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


async def _wait_for_entities(api: HomeAssistantApi, entry_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Wait until every entry has entities and none of its sensors is unavailable; returns the registry."""
    deadline = time.monotonic() + ENTITY_TIMEOUT
    waiting_for = "entities"
    while time.monotonic() < deadline:
        (registry,) = await api.websocket({"type": "config/entity_registry/list"})
        ours = [e for e in registry if e.get("platform") == "peerdeck" and not e.get("disabled_by")]
        if all(any(e.get("config_entry_id") == entry_id for e in ours) for entry_id in entry_ids):
            states = {s["entity_id"]: s["state"] for s in await api.states()}
            sensors = [e["entity_id"] for e in ours if e["entity_id"].startswith("sensor.")]
            bad = [entity for entity in sensors if states.get(entity) in (None, "unavailable")]
            if sensors and not bad:
                return list(registry)
            waiting_for = f"values of {', '.join(bad)}"
        await asyncio.sleep(1)
    raise RuntimeError(f"Peerdeck's entities did not come up within {ENTITY_TIMEOUT:.0f} s (waiting for {waiting_for})")


def _bot_config(workdir: Path, daemons: Daemons) -> tuple[Path, dict[str, str]]:
    """A peerdeck-bot config for the demo's daemons; secrets go in environment variables, not the file."""
    qbt, (syncthing, _) = daemons.qbittorrent, daemons.syncthing
    guild = os.environ.get("DISCORD_GUILD_ID", "").strip()
    lines = ["[discord]", 'token_env = "DISCORD_TOKEN"', 'state_file = "bot-state.json"']
    if guild.isdigit():
        lines.append(f"guild_ids = [{guild}]")
    lines += [
        "",
        "[backends.qbittorrent]",
        'kind = "qbittorrent"',
        f'url = "{qbt.url}"',
        f'username = "{qbt.username}"',
        'password_env = "PEERDECK_DEMO_QBITTORRENT_PASSWORD"',
        "",
        "[backends.syncthing]",
        'kind = "syncthing"',
        f'url = "{syncthing.url}"',
        'api_key_env = "PEERDECK_DEMO_SYNCTHING_API_KEY"',
        "",
    ]
    folder = workdir / "bot"
    folder.mkdir(exist_ok=True)
    path = folder / "peerdeck-bot.toml"
    path.write_text("\n".join(lines))
    env = {
        "PEERDECK_DEMO_QBITTORRENT_PASSWORD": qbt.password,
        "PEERDECK_DEMO_SYNCTHING_API_KEY": syncthing.api_key,
    }
    return path, env


class BotProcess:
    """``python -m peerdeck_bot`` against the demo's daemons, in its own process group."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.config = config
        self.env = {**os.environ, **env}
        self.log_path = config.with_name("bot.log")
        self.process: subprocess.Popen[bytes] | None = None

    def _argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "peerdeck_bot", "--config", str(self.config), *args]

    def check(self) -> str:
        """``--check-config``: connect to each backend and print a table."""
        done = subprocess.run(  # noqa: S603 - fixed argv
            self._argv("--check-config"), env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        return (done.stdout + done.stderr).strip()

    def start(self) -> None:
        """Register the slash commands when a guild is configured, then run the bot."""
        with self.log_path.open("ab") as log:
            if os.environ.get("DISCORD_GUILD_ID", "").strip().isdigit():
                subprocess.run(  # noqa: S603 - fixed argv
                    self._argv("sync"), env=self.env, stdout=log, stderr=subprocess.STDOUT, timeout=60, check=False
                )
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                self._argv("run"),
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def stop(self) -> None:
        """Stop the bot (SIGTERM to its group, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


async def run(args: argparse.Namespace) -> int:
    """Start everything, report, wait for Ctrl-C (or ``--exit-after``), stop everything."""
    started = time.monotonic()
    login = Login()
    if args.workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="peerdeck-demo-"))
    else:
        workdir = args.workdir.resolve()
        if workdir.exists() and any(workdir.iterdir()):
            raise SystemExit(f"--workdir {workdir} is not empty; give a new or empty folder")
        workdir.mkdir(parents=True, exist_ok=True)
    port = args.port or _free_port(None if args.headless else 8123)
    hass = HomeAssistantProcess(workdir / "homeassistant", port)
    stack = contextlib.ExitStack()
    bot: BotProcess | None = None
    busy: asyncio.Task[None] | None = None
    starting: asyncio.Future[Daemons] | None = None
    try:
        write_config(hass.config_dir, port, workdir / "qbittorrent" / "downloads")
        _say(f"starting Home Assistant on {hass.url} (config in {on_host(hass.config_dir)})")
        hass.start()
        _say("starting qbittorrent-nox (ours and a seeder) and two syncthing instances on 127.0.0.1")
        starting = asyncio.ensure_future(asyncio.to_thread(start_daemons, workdir, stack))
        daemons = await asyncio.shield(starting)
        async with aiohttp.ClientSession() as session:
            await seed_torrents(daemons)
            _say(
                f"qBittorrent {daemons.qbittorrent.url} has {len(daemons.hashes)} demo torrents; "
                f"Syncthing {daemons.syncthing[0].url} and {daemons.syncthing[1].url} share a folder"
            )
            await hass.wait_until_up(session)
            _say(f"Home Assistant answers after {time.monotonic() - started:.1f} s; onboarding user {login.username!r}")
            api = HomeAssistantApi(session, hass.url)
            await api.onboard(login)
            await api.confirm_http_config()
            qbt, (syncthing, _) = daemons.qbittorrent, daemons.syncthing
            entries = [
                await api.add_entry(
                    "qbittorrent", {"url": qbt.url, "username": qbt.username, "password": qbt.password}
                ),
                await api.add_entry("syncthing", {"url": syncthing.url, "api_key": syncthing.api_key}),
            ]
            _say("config entries added through the config flow: " + ", ".join(e["title"] for e in entries))
            registry = await _wait_for_entities(api, [e["entry_id"] for e in entries])
            states = {state["entity_id"]: state for state in await api.states()}
            await api.install_dashboard(DASHBOARD, "Peerdeck", build_dashboard(entries, registry, states, intro=INTRO))
            token = await api.long_lived_token("Peerdeck demo")
            if os.environ.get("DISCORD_TOKEN"):
                config, env = _bot_config(workdir, daemons)
                bot = BotProcess(config, env)
                _say("DISCORD_TOKEN is set; checking the bot's config:\n" + bot.check())
                bot.start()
                _say(f"Discord bot running (log: {bot.log_path})")
            elapsed = time.monotonic() - started
            info = {
                "url": hass.url,
                "dashboard": f"{hass.url}/{DASHBOARD}/peerdeck",
                "username": login.username,
                "password": login.password,
                "token": token,
                "entries": [{"entry_id": e["entry_id"], "title": e["title"]} for e in entries],
                "qbittorrent": {
                    "url": qbt.url,
                    "username": qbt.username,
                    "password": qbt.password,
                    "hashes": daemons.hashes,
                },
                "syncthing": [d.url for d in daemons.syncthing],
                "syncthing_api_keys": [d.api_key for d in daemons.syncthing],
                "pids": {
                    "homeassistant": hass.pid,
                    "daemons": daemons.pids,
                    "bot": bot.process.pid if bot and bot.process else None,
                },
                "workdir": str(workdir),
                "workdir_on_host": str(on_host(workdir)),
                "startup_seconds": round(elapsed, 1),
            }
            if args.ready_file is not None:
                tmp = args.ready_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(info, indent=2))
                tmp.replace(args.ready_file)
            _say(f"ready in {elapsed:.1f} s")
            print(
                f"\n  Open         {info['dashboard']}\n"
                f"  Log in       user {login.username!r}, password {login.password!r}\n"
                f"  qBittorrent  {qbt.url} (its own Web UI: user {qbt.username!r}, password {qbt.password!r})\n"
                f"  Syncthing    {syncthing.url} (its own Web UI, no login on 127.0.0.1)\n"
                f"  Files in     {on_host(workdir)}\n"
                f"  HA config    {on_host(hass.config_dir)}\n"
                + (f"  Ready file   {on_host(args.ready_file.absolute())}\n" if args.ready_file is not None else "")
                + "  Stop         Ctrl-C (stops Home Assistant and every daemon)\n",
                flush=True,
            )
            busy = asyncio.create_task(keep_busy(daemons))
            if args.exit_after is not None:
                await asyncio.sleep(args.exit_after)
                _say(f"--exit-after {args.exit_after:g} s reached")
            else:
                await asyncio.Event().wait()
    except asyncio.CancelledError:
        _say("stopping")
    finally:
        if busy is not None:
            busy.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await busy
        if bot is not None:
            await asyncio.to_thread(bot.stop)
        await asyncio.to_thread(hass.stop)
        if starting is not None:  # a daemon still starting in its thread is stopped once it is up
            with contextlib.suppress(Exception):
                await starting
        await asyncio.to_thread(stack.close)
        if args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        _say("everything stopped")
    return 0


async def _main(args: argparse.Namespace) -> int:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    asked = False

    def stop() -> None:
        nonlocal asked
        if not asked and task is not None:
            asked = True
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop)
    try:
        return await run(args)
    except asyncio.CancelledError:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    parser.add_argument("--headless", action="store_true", help="for tests: pick a free port instead of 8123")
    parser.add_argument("--port", type=int, help="Home Assistant's port on 127.0.0.1 (default 8123, if free)")
    parser.add_argument("--ready-file", type=Path, help="write a JSON file with URLs, login and token when ready")
    parser.add_argument("--exit-after", type=float, help="stop everything after this many seconds")
    parser.add_argument("--workdir", type=Path, help="a new or empty folder for every profile (kept afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder after stopping")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="[demo] %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_main(args))
    except RuntimeError as err:
        print(f"[demo] failed: {err}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

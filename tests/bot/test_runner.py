"""The bot as a service (issue 27): Discord outages at start are waited out inside the process, and every
exit status means what the README's systemd unit and container recipe say it means."""

from __future__ import annotations

import asyncio
import configparser
import json
import logging
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from aiohttp import WSMsgType, web
from discord.gateway import DiscordWebSocket

import peerdeck_bot.runner
from peerdeck_bot.__main__ import main

from .e2e import wait_until
from .fakes import APP_ID, BOT_USER_ID

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fake-token-for-the-fake-discord"
CONFIG = """
[discord]
token_env = "PD_RUN_TOKEN"
state_file = "state.json"

[backends.seedbox]
kind = "qbittorrent"
url = "http://127.0.0.1:1"
username = "admin"
password_env = "PD_RUN_PASSWORD"
"""
USER = {"id": str(BOT_USER_ID), "username": "peerdeck", "discriminator": "0", "avatar": None, "bot": True}
APPLICATION = {
    "id": str(APP_ID),
    "name": "peerdeck",
    "description": "",
    "icon": None,
    "bot_public": False,
    "bot_require_code_grant": False,
    "owner": {**USER, "bot": False, "id": "100000000000000001", "username": "owner"},
    "verify_key": "0" * 64,
    "flags": 0,
}


def as_discord(data: dict[str, Any], status: int = 200) -> web.Response:
    """JSON the way Discord sends it: discord.py parses a body only if its type is exactly application/json."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def free_port() -> int:
    """A loopback port nothing listens on (yet): connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeDiscord:
    """Discord's REST API and gateway on loopback ports, each started only when the test says so (until
    then a connection is refused). The REST API answers 503 to its first ``503s`` logins; the gateway
    sends Hello, answers IDENTIFY with READY, and closes with ``close_code`` once told to."""

    def __init__(self, *, failing_logins: int = 0, token_ok: bool = True) -> None:
        self.api_port, self.gateway_port = free_port(), free_port()
        self.failing_logins = failing_logins
        self.token_ok = token_ok
        self.identified: list[dict[str, Any]] = []
        self.resumed = 0
        self.close_code = asyncio.get_running_loop().create_future()
        self._runners: list[web.AppRunner] = []
        self._gateway_runner: web.AppRunner | None = None

    async def _users_me(self, request: web.Request) -> web.Response:
        if self.failing_logins:
            self.failing_logins -= 1
            return as_discord({"message": "Service Unavailable", "code": 0}, status=503)
        if not self.token_ok or request.headers.get("Authorization") != f"Bot {TOKEN}":
            return as_discord({"message": "401: Unauthorized", "code": 0}, status=401)
        return as_discord(USER)

    async def _application(self, _: web.Request) -> web.Response:
        return as_discord(APPLICATION)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            if payload.get("op") == 6:  # RESUME after a lost connection
                self.resumed += 1
                await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": 2, "d": {}}))
                await ws.close(code=await asyncio.shield(self.close_code))
                break
            if payload.get("op") != 2:
                continue
            self.identified.append(payload["d"])
            ready = {
                "v": 10,
                "user": USER,
                "guilds": [],
                "session_id": "fake-session",
                "resume_gateway_url": f"ws://127.0.0.1:{self.gateway_port}/",
                "application": {"id": str(APP_ID), "flags": 0},
            }
            await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": 1, "d": ready}))
            await ws.close(code=await asyncio.shield(self.close_code))
        return ws

    async def start_api(self) -> None:
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", self._users_me)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        await self._start(app, self.api_port)

    async def start_gateway(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._gateway)
        self._gateway_runner = await self._start(app, self.gateway_port)

    async def stop_gateway(self) -> None:
        """The gateway goes away: open connections are closed (1001, going away), new ones refused."""
        assert self._gateway_runner is not None
        self._runners.remove(self._gateway_runner)
        await self._gateway_runner.cleanup()

    async def _start(self, app: web.Application, port: int) -> web.AppRunner:
        runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
        self._runners.append(runner)
        return runner

    async def stop(self) -> None:
        if not self.close_code.done():
            self.close_code.set_result(1000)
        for runner in self._runners:
            await runner.cleanup()


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(failing_logins=1)
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{fake.api_port}/api/v10")
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"ws://127.0.0.1:{fake.gateway_port}/"))
    monkeypatch.setattr(peerdeck_bot.runner, "RETRY_FIRST", 0.05)
    monkeypatch.setattr(peerdeck_bot.runner, "RETRY_MOST", 0.2)
    yield fake
    await fake.stop()


def bot_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PD_RUN_TOKEN", TOKEN)
    monkeypatch.setenv("PD_RUN_PASSWORD", "run-password")
    path = tmp_path / "bot.toml"
    path.write_text(CONFIG)
    return path


async def run_main(args: list[str]) -> int:
    """The CLI in a thread (it runs its own event loop); its exit status."""
    with pytest.raises(SystemExit) as exit_:
        await asyncio.to_thread(main, args)
    code = exit_.value.code
    return code if isinstance(code, int) else -1


def logged(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


async def test_refused_then_503_then_an_unreachable_gateway_are_waited_out_without_a_restart(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    fake_discord: FakeDiscord,
) -> None:
    caplog.set_level(logging.INFO)
    running = asyncio.create_task(run_main(["--config", str(bot_config(tmp_path, monkeypatch))]))

    async def said(text: str) -> bool:
        assert not running.done(), capsys.readouterr().err  # the process must not exit meanwhile
        return bool(logged(caplog, text))

    await wait_until(lambda: said("(connection refused)"), "the refused REST API was not reported")
    await fake_discord.start_api()  # answers 503 once, then logs the bot in
    await wait_until(lambda: said("its gateway:"), "the unreachable gateway was not reported")
    await fake_discord.start_gateway()
    await wait_until(lambda: said("connected to Discord as peerdeck"), "the bot never came up")
    fake_discord.close_code.set_result(4004)  # later, the owner resets the token: now a restart cannot help
    code = await running

    err = capsys.readouterr().err
    outages = [r.getMessage() for r in logged(caplog, "cannot connect to Discord: ")]
    assert [re.sub(r"; trying again.*", "", m) for m in outages] == [
        f"cannot connect to Discord: nothing answers at 127.0.0.1:{fake_discord.api_port} (connection refused)",
        "cannot connect to Discord: Discord answered 503 (it is having trouble)",
        f"cannot connect to Discord: its gateway: nothing answers at 127.0.0.1:{fake_discord.gateway_port} "
        "(connection refused)",
    ]
    assert len(logged(caplog, "Discord can be reached again")) == 1
    assert len(logged(caplog, "logging in using static token")) == 1  # discord.py's own line, not once per try
    assert [d["token"] for d in fake_discord.identified] == [TOKEN]
    assert code == 2
    assert err.strip().splitlines()[-1] == f"error: {peerdeck_bot.runner.TOKEN_REJECTED}"
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "Traceback" not in err


class QuickBackoff:
    """discord.py's reconnect backoff without its waits of up to minutes; counts the failed tries."""

    tries = 0

    def __init__(self, *_: Any, **__: Any) -> None:
        pass

    def delay(self) -> float:
        QuickBackoff.tries += 1
        return 0.05


async def test_a_connection_lost_while_running_is_one_line_and_no_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    fake_discord: FakeDiscord,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(discord.client, "ExponentialBackoff", QuickBackoff)
    monkeypatch.setattr(QuickBackoff, "tries", 0)
    fake_discord.failing_logins = 0
    await fake_discord.start_api()
    await fake_discord.start_gateway()
    running = asyncio.create_task(run_main(["--config", str(bot_config(tmp_path, monkeypatch))]))

    async def said(text: str, times: int = 1) -> bool:
        assert not running.done(), capsys.readouterr().err
        return len(logged(caplog, text)) >= times

    await wait_until(lambda: said("connected to Discord as peerdeck"), "the bot never came up")
    await fake_discord.stop_gateway()  # Discord's gateway goes away for a while
    await wait_until(lambda: _async(QuickBackoff.tries >= 3), "discord.py did not try to reconnect three times")
    await fake_discord.start_gateway()
    await wait_until(lambda: said("the connection to Discord is back"), "the bot never resumed")
    fake_discord.close_code.set_result(4004)
    code = await running

    lost = [r.getMessage() for r in logged(caplog, "lost the connection to Discord")]
    assert lost == [
        f"lost the connection to Discord: nothing answers at 127.0.0.1:{fake_discord.gateway_port} "
        "(connection refused); reconnecting by itself"
    ]
    assert fake_discord.resumed == 1
    assert code == 2
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def _async(value: bool) -> bool:
    return value


# ---------------------------------------------------------------- the README's unit against each exit path


def readme_unit() -> configparser.ConfigParser:
    readme = (ROOT / "bot" / "README.md").read_text()
    section = readme.split("### As a service (systemd)", 1)[1]
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(section.split("```ini\n", 1)[1].split("```", 1)[0])
    return unit


def systemd_restarts(unit: configparser.ConfigParser, status: int) -> bool:
    """Whether systemd restarts the service after its main process exits with ``status`` (systemd.service(5))."""
    service = unit["Service"]
    policy = service.get("Restart", "no")
    prevented = {int(s) for s in service.get("RestartPreventExitStatus", "").split()}
    clean = status == 0 or status in {int(s) for s in service.get("SuccessExitStatus", "").split()}
    if status in prevented:
        return False
    return policy == "always" or (policy == "on-failure" and not clean)


def docker_restarts(readme: str, status: int) -> tuple[bool, int | None]:
    """Whether ``docker run --restart ...`` of the README restarts after ``status``, and how often at most."""
    [policy] = re.findall(r"--restart[ =](\S+)", readme)
    name, _, limit = policy.partition(":")
    retries = int(limit) if limit else None
    if name == "no":
        return False, None
    if name in ("always", "unless-stopped"):
        return True, None
    assert name == "on-failure", policy
    return status != 0, retries


async def exit_path(path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord, config: Path) -> int:
    """Drive the runner into one exit path; its exit status."""
    if path == "config error":
        await asyncio.to_thread(config.write_text, CONFIG.replace("[backends.seedbox]", "[backends.seedbox]\ntypo = 1"))
    elif path == "missing secret":
        monkeypatch.delenv("PD_RUN_PASSWORD")
    elif path == "rejected token":
        fake.token_ok = False
        await fake.start_api()
    elif path == "unexpected error":

        async def broken(self: Any) -> None:
            raise RuntimeError("a bug")

        await fake.start_api()
        monkeypatch.setattr(peerdeck_bot.runner.PeerdeckBot, "setup_hook", broken)
    elif path == "check-config finds a daemon down":
        return await run_main(["--config", str(config), "--check-config"])
    return await run_main(["--config", str(config)])


@pytest.mark.parametrize(
    ("path", "restart_helps"),
    [
        ("config error", False),
        ("missing secret", False),
        ("rejected token", False),
        ("unexpected error", True),
        ("check-config finds a daemon down", True),
    ],
)
async def test_each_exit_path_meets_the_readmes_unit_and_container_recipe(
    path: str,
    restart_helps: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_discord: FakeDiscord,
    capsys: pytest.CaptureFixture[str],
) -> None:
    unit, readme = readme_unit(), (ROOT / "bot" / "README.md").read_text()

    status = await exit_path(path, tmp_path, monkeypatch, fake_discord, bot_config(tmp_path, monkeypatch))

    err = capsys.readouterr().err
    assert status != 0, err
    assert systemd_restarts(unit, status) is restart_helps, (path, status)
    assert "Traceback" not in err or path == "unexpected error"
    restarts, retries = docker_restarts(readme, status)
    assert restarts and retries is not None, "a config error would restart the container for ever"
    # systemd tests RestartPreventExitStatus= against the main process only (service_shall_restart() in
    # src/core/service.c reads main_exec_status): a config error found by a failing ExecStartPre= restarts for ever.
    pre_checks = [line for line in unit["Service"].get("ExecStartPre", "").splitlines() if line.strip()]
    assert all(line.startswith("-") for line in pre_checks), pre_checks
    assert not systemd_restarts(unit, 0) and not docker_restarts(readme, 0)[0]  # stopped on request: stays down


async def test_a_stop_from_the_service_manager_is_clean_and_status_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_discord: FakeDiscord
) -> None:
    fake_discord.failing_logins = 0
    await fake_discord.start_api()
    await fake_discord.start_gateway()
    config = bot_config(tmp_path, monkeypatch)
    script = (
        "import discord, yarl\n"
        "from discord.gateway import DiscordWebSocket\n"
        f"discord.http.Route.BASE = {discord.http.Route.BASE!r}\n"
        f"DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL({str(DiscordWebSocket.DEFAULT_GATEWAY)!r})\n"
        "from peerdeck_bot.__main__ import main\n"
        f"main(['--config', {str(config)!r}])\n"
    )
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    log: list[str] = []
    async with asyncio.timeout(60):  # a bound, not a measurement
        while not any("connected to Discord as peerdeck" in line for line in log):
            line = (await process.stderr.readline()).decode()
            assert line, "".join(log)
            log.append(line)

    process.send_signal(signal.SIGTERM)
    rest = (await process.stderr.read()).decode()
    status = await process.wait()

    assert status == 0, rest
    assert "stopped" in rest and "Traceback" not in rest
    assert not systemd_restarts(readme_unit(), status)
    assert (tmp_path / "state.json").is_file()  # saved on the way out

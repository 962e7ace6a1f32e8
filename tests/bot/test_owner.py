"""What a bot owner meets (issue 18): start-up failures, config mistakes, a host bot's own cogs and error
handler, reloads, hostile names, an unwritable state file, and words meant for users."""

from __future__ import annotations

import asyncio
import re
import socket
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from aiohttp import web
from discord import app_commands
from discord.ext import commands
from packaging.requirements import Requirement
from packaging.version import Version

import peerdeck
import peerdeck_bot.service
from peerdeck import (
    ALL,
    BackendKind,
    Capabilities,
    EnqueueOptions,
    EnqueueTarget,
    PeerdeckNotSupportedError,
    SearchHit,
    SearchKind,
    Transfer,
    TransferState,
)
from peerdeck_bot import render
from peerdeck_bot.__main__ import main
from peerdeck_bot.checkup import public_url
from peerdeck_bot.config import VERBS, parse_config
from peerdeck_bot.service import PeerdeckService, transfer_key
from tests.shared.tribler.server import serve

from .conftest import E2E_HEADER, MakeHarness, config_data, new_bot
from .e2e import check_config, table
from .fakes import ADMIN, FRIEND, READER, FakeAdapter, FakeBackend, Harness, components

ROOT = Path(__file__).resolve().parents[2]
RUNNER_CONFIG = """
[discord]
token_env = "PD_OWNER_TOKEN"
state_file = "state.json"

[backends.seedbox]
kind = "qbittorrent"
url = "http://127.0.0.1:1"
username = "admin"
password_env = "PD_OWNER_PASSWORD"
"""
MAGNET = "magnet:?xt=urn:btih:" + "c" * 40


def visible(text: str) -> str:
    """What Discord shows of escaped text: escaping backslashes and zero-width spaces disappear."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u200b", "")


async def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The CLI in a thread (it runs its own event loop); exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as exit_:
        await asyncio.to_thread(main, args)
    code = exit_.value.code
    out, err = capsys.readouterr()
    return (code if isinstance(code, int) else -1), out, err


def answering(handler: Callable[[web.Request], Awaitable[web.Response]]) -> web.Application:
    """A web app giving every request to ``handler``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@pytest.fixture
async def discord_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[str]]:
    """Discord's REST API on 127.0.0.1, refusing every token (401); yields the paths it was asked for."""
    asked: list[str] = []

    async def refuse(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)

    async for url in serve(answering(refuse)):
        monkeypatch.setattr(discord.http.Route, "BASE", f"{url}/api/v10")
        yield asked


def runner_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str = RUNNER_CONFIG) -> Path:
    monkeypatch.setenv("PD_OWNER_TOKEN", "not-a-real-token")
    monkeypatch.setenv("PD_OWNER_PASSWORD", "hunter2-secret")
    path = tmp_path / "bot.toml"
    path.write_text(text)
    return path


# ---------------------------------------------------------------- 1, 2: start-up


async def test_a_refused_token_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], discord_api: list[str]
) -> None:
    path = runner_config(tmp_path, monkeypatch)

    code, _, err = await run_main(["--config", str(path)], capsys)

    assert code == 2
    assert err.strip().splitlines() == [
        "error: Discord rejected the bot token; reset it under Bot → Reset Token and update the secret"
    ]
    assert "/api/v10/users/@me" in discord_api


async def test_no_network_during_sync_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    path = runner_config(tmp_path, monkeypatch)

    code, _, err = await run_main(["--config", str(path), "sync"], capsys)

    assert code == 1  # sync is a one-off: try again later
    [line] = err.strip().splitlines()
    assert line.startswith("error: cannot reach Discord: nothing answers at 127.0.0.1:")
    assert "Traceback" not in err


async def test_every_secret_is_checked_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], discord_api: list[str]
) -> None:
    extra = '\n[backends.music]\nkind = "slskd"\nurl = "http://127.0.0.1:2"\napi_key_env = "PD_OWNER_KEY"\n'
    path = runner_config(tmp_path, monkeypatch, RUNNER_CONFIG + extra)
    monkeypatch.delenv("PD_OWNER_PASSWORD")
    monkeypatch.delenv("PD_OWNER_KEY", raising=False)

    code, _, err = await run_main(["--config", str(path)], capsys)

    assert code == 2
    assert err.strip().splitlines() == [
        "config error: backends.seedbox: environment variable PD_OWNER_PASSWORD is not set",
        "config error: backends.music: environment variable PD_OWNER_KEY is not set",
    ]
    assert discord_api == []  # Discord was not contacted


# ---------------------------------------------------------------- 3, 19: URLs


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:99999", "a port from 1 to 65535"),
        ("http://127.0.0.1:0", "a port from 1 to 65535"),
        ("http://[::1", "a well-formed host"),
        ("http://:8080", "no host name"),
        ("http://admin:pw-in-url@127.0.0.1:8080", "take the user name and password out of the URL"),
    ],
)
async def test_bad_urls_are_config_errors_even_for_check_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    path = runner_config(tmp_path, monkeypatch, RUNNER_CONFIG.replace("http://127.0.0.1:1", url))

    code, out, err = await run_main(["--config", str(path), "--check-config"], capsys)

    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("config error: backends.seedbox.url: ") and message in line
    assert "pw-in-url" not in out + err


# ---------------------------------------------------------------- 4: sessions


async def test_a_failed_load_leaves_no_open_http_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    opened: list[aiohttp.ClientSession] = []
    real = aiohttp.ClientSession

    def recording(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
        session = real(*args, **kwargs)
        opened.append(session)
        return session

    monkeypatch.setattr(aiohttp, "ClientSession", recording)
    path = runner_config(tmp_path, monkeypatch)
    monkeypatch.delenv("PD_OWNER_PASSWORD")
    bot = await new_bot()
    bot.peerdeck_config = str(path)  # type: ignore[attr-defined]

    with pytest.raises(commands.ExtensionFailed, match="PD_OWNER_PASSWORD is not set"):
        await bot.load_extension("peerdeck_bot")

    assert all(session.closed for session in opened)
    await bot.close()


# ---------------------------------------------------------------- 5, 6, 7: a host bot


async def test_the_hosts_error_handler_stays_quiet_after_peerdeck_answered(make_harness: MakeHarness) -> None:
    music = FakeBackend(kind=BackendKind.SLSKD, capabilities=Capabilities(search=SearchKind.P2P, pause=False))
    harness, _ = await make_harness({"music": music})
    seen: list[BaseException] = []

    @harness.bot.tree.error
    async def host_error(interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        seen.append(error)

    refused = await harness.command("enqueue", READER, target=MAGNET)
    failed = await harness.command("pause", ADMIN, target="all")

    assert "not allowed" in refused[-1].text
    assert "music (slskd) cannot pause" in failed[-1].text
    assert seen == []


class HostCog(commands.Cog):
    """A host bot's own cog with its own /status."""

    @app_commands.command(name="status", description="The host's own status")
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        """Host command."""


async def test_a_host_cog_added_after_the_extension_keeps_its_command_across_reloads(tmp_path: Path) -> None:
    bot = await new_bot()
    bot.peerdeck_config = parse_config(config_data(["seedbox"]), base_dir=tmp_path)  # type: ignore[attr-defined]
    await bot.load_extension("peerdeck_bot")
    with pytest.raises(app_commands.CommandAlreadyRegistered):
        await bot.add_cog(HostCog())  # discord.py refuses by default; README says what to do
    host = HostCog()
    await bot.add_cog(host, override=True)
    [host_status] = host.get_app_commands()

    await bot.reload_extension("peerdeck_bot")
    assert bot.tree.get_command("status") is host_status
    assert bot.get_cog("Peerdeck").skipped == ["status"]  # type: ignore[union-attr]
    assert bot.tree.get_command("search") is not None

    await bot.unload_extension("peerdeck_bot")
    assert bot.tree.get_command("status") is host_status
    assert bot.tree.get_command("search") is None
    await bot.close()


@pytest.fixture
def fake_daemons(monkeypatch: pytest.MonkeyPatch) -> Callable[[FakeBackend], None]:
    """Make the extension, loaded from a config file, talk to a fake backend (also after a reload)."""

    def use(backend: FakeBackend) -> None:
        def create(*_: Any, **__: Any) -> FakeBackend:
            return backend

        monkeypatch.setattr(peerdeck, "create_backend", create)  # what a reloaded service imports
        monkeypatch.setattr(peerdeck_bot.service, "create_backend", create)

    return use


async def load_from_file(tmp_path: Path) -> Harness:
    path = tmp_path / "bot.toml"
    path.write_text(E2E_HEADER + '[backends.seedbox]\nkind = "qbittorrent"\nurl = "http://127.0.0.1:1"\n')
    bot = await new_bot()
    bot.peerdeck_config = str(path)  # type: ignore[attr-defined]
    await bot.load_extension("peerdeck_bot")
    return Harness(bot, FakeAdapter())


async def test_a_remove_confirmation_survives_reload_and_restart(
    tmp_path: Path, fake_daemons: Callable[[FakeBackend], None]
) -> None:
    backend = FakeBackend(
        transfers=[Transfer("h1", "Debian", TransferState.ACTIVE), Transfer("h2", "Ubuntu", TransferState.ACTIVE)]
    )
    fake_daemons(backend)
    harness = await load_from_file(tmp_path)
    await harness.command("remove", ADMIN, target="Debian")
    first = harness.adapter.messages[next(reversed(harness.adapter.messages))]
    await harness.command("remove", ADMIN, target="Ubuntu", delete_data=True)
    second = harness.adapter.messages[next(reversed(harness.adapter.messages))]

    await harness.bot.reload_extension("peerdeck_bot")
    after_reload = await harness.click(first, _button(first, "Remove"), ADMIN)
    await harness.bot.unload_extension("peerdeck_bot")
    await harness.bot.close()
    restarted = await load_from_file(tmp_path)
    not_owner = await restarted.click(second, _button(second, "Remove with files"), FRIEND)
    after_restart = await restarted.click(second, _button(second, "Remove with files"), ADMIN)

    assert after_reload[0].body["type"] == 7 and after_reload[-1].text.strip() == "Removed **Debian** from seedbox."
    assert "belong to someone else" in not_owner[0].text
    assert after_restart[-1].text.strip() == "Removed **Ubuntu** from seedbox and its files."
    assert [c for c in backend.calls if c[0] == "remove"] == [("remove", (["h1"], False)), ("remove", (["h2"], True))]
    await restarted.bot.unload_extension("peerdeck_bot")
    await restarted.bot.close()


def _button(message: dict[str, Any], label: str) -> str:
    return next(c["custom_id"] for c in components(message) if c.get("label") == label)


# ---------------------------------------------------------------- 8: cutting names


@pytest.mark.parametrize("name", ["a_" * 150, "abcd_" * 60, "**x" * 100, "x`" * 150, "ok " * 100])
def test_a_cut_name_keeps_as_many_visible_characters_as_any_other(name: str) -> None:
    cut = render.safe(name, 120)

    assert visible(cut) == " ".join(name.split())[:119] + "…"
    assert len(render.safe(name, 120, room=130)) <= 130


async def test_status_of_2000_markdown_heavy_names_shows_names_not_ellipses(make_harness: MakeHarness) -> None:
    names = ["__init__*" * 30 + f" {i}" for i in range(2000)]
    backend = FakeBackend(transfers=[Transfer(str(i), n, TransferState.ACTIVE) for i, n in enumerate(names)])
    harness, _ = await make_harness({"seedbox": backend})

    calls = await harness.command("status", READER)

    text = calls[-1].text
    assert "**…**" not in text
    assert text.count("\\_\\_init\\_\\_\\*" * 10) >= 10


# ---------------------------------------------------------------- 9, 10: the state file


async def test_an_unwritable_state_file_still_confirms_the_download(make_harness: MakeHarness, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a directory should be")
    backend = FakeBackend()
    harness, _ = await make_harness({"seedbox": backend}, discord={"state_file": "blocker/state.json"})

    calls = await harness.command("enqueue", FRIEND, target=MAGNET + "&dn=Film")

    assert "Queued **Film** on seedbox." in calls[-1].text
    assert "could not save its records" in calls[-1].text
    assert "Something went wrong" not in calls[-1].text
    assert [c[0] for c in backend.calls].count("enqueue") == 1


async def test_check_config_checks_the_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "blocker").write_text("")
    path = runner_config(tmp_path, monkeypatch, RUNNER_CONFIG.replace('"state.json"', '"blocker/state.json"'))

    code, out = await check_config(path, capsys)

    [row] = [line for line in out.splitlines() if line.startswith("state file")]
    assert code == 1
    assert "FAIL" in row and "cannot write in" in row and "blocker" in row
    assert "the state file cannot be written" in out


async def test_the_state_file_is_written_only_when_something_changed(tmp_path: Path) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "Film", TransferState.ACTIVE)])
    service = PeerdeckService(parse_config(config_data(["seedbox"]), base_dir=tmp_path), backends={"seedbox": backend})
    await service.start()
    await service.poll()
    path = tmp_path / "state.json"
    written = path.stat().st_ino  # every write replaces the file, so a new inode

    for _ in range(5):
        await service.poll()
    unchanged = path.stat().st_ino
    backend.set_state("h1", TransferState.PAUSED)
    await service.poll()

    assert unchanged == written
    assert path.stat().st_ino != written
    await service.close()


class SlskdLike(FakeBackend):
    """Hits as slskd gives them: no link, the file's full details in ``raw``."""

    def __init__(self) -> None:
        hits = [
            SearchHit(
                f"user{i}/Music/{i}.flac",
                f"{i}.flac",
                size=1000 + i,
                source=f"user{i}",
                bitrate=320,
                raw={
                    "username": f"user{i}",
                    "filename": f"Music/{i}.flac",
                    "size": 1000 + i,
                    "searchId": "s1",
                    "bitRate": 320,
                    "attributes": [{"type": 0, "value": 320}] * 5,
                    "blob": "x" * 2000,
                },
            )
            for i in range(100)
        ]
        super().__init__(kind=BackendKind.SLSKD, capabilities=Capabilities(search=SearchKind.P2P), hits=hits)


async def test_remembered_hits_keep_what_the_menu_and_enqueue_need_and_no_more(make_harness: MakeHarness) -> None:
    harness, core = await make_harness({"music": SlskdLike()}, limits={"search_cooldown": 0.001})
    for query in ("one", "two", "three"):
        await harness.command("search", FRIEND, query=query)
    for name in list(harness.bot.cogs):
        await harness.bot.remove_cog(name)
    text = core.service.store.path.read_text()

    backend = SlskdLike()
    restarted, _ = await make_harness({"music": backend}, limits={"search_cooldown": 0.001})
    choices = await restarted.autocomplete("enqueue", "target", FRIEND, target="42.flac")
    await restarted.command("enqueue", FRIEND, target=choices[0]["value"])

    assert "blob" not in text and "attributes" not in text
    [(_, hit)] = [c for c in backend.calls if c[0] == "enqueue"]
    assert dict(hit.raw) == {"username": "user42", "filename": "Music/42.flac", "size": 1042, "searchId": "s1"}
    assert (hit.title, hit.size, hit.bitrate, hit.source) == ("42.flac", 1042, 320, "user42")


# ---------------------------------------------------------------- 11, 18: install


def test_the_readme_gives_a_from_source_install_that_names_real_paths() -> None:
    readme = (ROOT / "bot" / "README.md").read_text()
    install = readme.split("## Install", 1)[1].split("\n## ", 1)[0]

    assert "pip install peerdeck-bot" in install
    lines = [line for line in install.splitlines() if line.startswith("pip install") and "./" in line]
    sources = [path for line in lines for path in re.findall(r"\./([\w-]+)", line)]
    assert {"shared", "bot"} <= set(sources)
    assert all((ROOT / s / "pyproject.toml").is_file() for s in sources)


def test_the_discord_py_floor_is_a_version_this_suite_runs_on() -> None:
    project = tomllib.loads((ROOT / "bot" / "pyproject.toml").read_text())["project"]
    [requirement] = [Requirement(r) for r in project["dependencies"] if r.startswith("discord.py")]
    floor = min(Version(s.version) for s in requirement.specifier if s.operator == ">=")
    installed = Version(discord.__version__)

    assert floor <= installed and installed in requirement.specifier
    # 2.4 (the old floor) rejects a View built outside a running loop, which these tests do;
    # the floor is the oldest minor release the suite has been run on.
    assert (floor.major, floor.minor) >= (2, 7), f"discord.py {floor} is allowed but not tested"


# ---------------------------------------------------------------- 13 to 17: commands


async def test_pause_all_acts_on_every_daemon_that_can_pause(make_harness: MakeHarness) -> None:
    first = FakeBackend(transfers=[Transfer("a1", "A", TransferState.ACTIVE)])
    second = FakeBackend(transfers=[Transfer("b1", "B", TransferState.ACTIVE)])
    music = FakeBackend(kind=BackendKind.SLSKD, capabilities=Capabilities(search=SearchKind.P2P, pause=False))
    harness, _ = await make_harness({"one": first, "music": music, "two": second})

    everywhere = await harness.command("pause", FRIEND, target="all")
    only_two = await harness.command("resume", FRIEND, target="all", backend="two")

    text = everywhere[-1].text
    assert text.splitlines()[0] == "Paused all transfers on one and two."
    assert "music (slskd) cannot pause transfers" in text
    assert ("pause", ALL) in first.calls and ("pause", ALL) in second.calls
    assert not [c for c in music.calls if c[0] == "pause"]
    assert only_two[-1].text.strip() == "Resumed all transfers on two."
    assert ("resume", ALL) not in first.calls


async def test_magnet_names_are_percent_decoded(make_harness: MakeHarness) -> None:
    harness, _ = await make_harness({"seedbox": FakeBackend()})

    calls = await harness.command("enqueue", FRIEND, target=MAGNET + "&dn=Big%20Buck%20Bunny%20%5B1080p%5D+x")

    assert "Queued **Big Buck Bunny [1080p] x** on seedbox." in calls[-1].text


class RefusingSoulSync(FakeBackend):
    """A backend that answers an enqueue with the library's developer wording."""

    def __init__(self) -> None:
        super().__init__(kind=BackendKind.SOULSYNC, capabilities=Capabilities(search=SearchKind.METADATA))

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> list[str]:
        await self._op("enqueue", target)
        raise PeerdeckNotSupportedError(f"SoulSync cannot enqueue a {type(target).__name__}; give a TextRequest")


async def test_users_never_see_the_librarys_type_names(make_harness: MakeHarness) -> None:
    music = FakeBackend(kind=BackendKind.SLSKD, capabilities=Capabilities(search=SearchKind.P2P, pause=False))
    harness, _ = await make_harness({"music": music, "soul": RefusingSoulSync()})

    text = await harness.command("enqueue", FRIEND, target="some song", backend="music")
    magnet = await harness.command("enqueue", FRIEND, target=MAGNET, backend="music")
    refused = await harness.command("enqueue", FRIEND, target="some song", backend="soul")

    replies = " ".join(c[-1].text for c in (text, magnet, refused))
    for word in ("TextRequest", "RemoteFiles", "SearchHit", "Magnet(", "TorrentUrl"):
        assert word not in replies
    assert "music (slskd) cannot download plain text; it takes results of a search." in text[-1].text
    assert "music (slskd) cannot download a magnet link" in magnet[-1].text
    assert "soul cannot do that." in refused[-1].text
    assert not [c for c in music.calls if c[0] == "enqueue"]


async def test_long_ids_on_long_backend_names_still_autocomplete(make_harness: MakeHarness) -> None:
    backend_name = "b" * 32
    long_id = "folder:" + "ABCDEFG-" * 12 + "x"
    backend = FakeBackend(transfers=[Transfer(long_id, "Photos", TransferState.ACTIVE)])
    harness, _ = await make_harness({backend_name: backend})
    await harness.command("status", ADMIN)  # fills the cache

    choices = await harness.autocomplete("pause", "target", FRIEND, target="phot")
    [value] = [c["value"] for c in choices if c["value"] != "all"]
    paused = await harness.command("pause", FRIEND, target=value)

    assert len(value) <= 100 and value == transfer_key(backend_name, long_id)
    assert "Paused **Photos**" in paused[-1].text
    assert ("pause", [long_id]) in backend.calls


async def test_a_search_that_could_not_run_starts_no_cooldown(make_harness: MakeHarness) -> None:
    sync = FakeBackend(kind=BackendKind.SYNCTHING, capabilities=Capabilities())
    box = FakeBackend(hits=[SearchHit("1", "Result", link=MAGNET)])
    harness, _ = await make_harness({"sync": sync, "box": box})

    refused = await harness.command("search", FRIEND, query="x", backend="sync")
    searched = await harness.command("search", FRIEND, query="x", backend="box")
    again = await harness.command("search", FRIEND, query="y", backend="box")

    assert "sync (syncthing) has no search" in refused[-1].text
    assert "· 1 hit ·" in searched[-1].text
    assert "search again in" in again[-1].text


# ---------------------------------------------------------------- 20: --check-config wording


@pytest.fixture
async def not_qbittorrent() -> AsyncIterator[int]:
    """Some other web server, answering 200 with a page to everything; yields its port."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(text="<html>hello</html>", content_type="text/html")

    async for url in serve(answering(page)):
        yield int(url.rsplit(":", 1)[1])


async def test_check_config_says_what_answers_and_when_https_meets_plain_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], not_qbittorrent: int
) -> None:
    other = RUNNER_CONFIG.replace("http://127.0.0.1:1", f"http://127.0.0.1:{not_qbittorrent}")
    tls = (
        f'\n[backends.tls]\nkind = "slskd"\nurl = "https://127.0.0.1:{not_qbittorrent}"\n'
        'api_key_env = "PD_OWNER_PASSWORD"\n'
    )

    async def missing(_: web.Request) -> web.Response:
        return web.Response(status=404, text="404: Not Found")

    async for url in serve(answering(missing)):
        nowhere = f'\n[backends.nowhere]\nkind = "slskd"\nurl = "{url}"\napi_key_env = "PD_OWNER_PASSWORD"\n'
        path = runner_config(tmp_path, monkeypatch, other + tls + nowhere)
        code, out = await check_config(path, capsys)

    rows = table(out)
    assert code == 1
    assert rows["seedbox"][2:] == [
        "FAIL",
        "something answers at this URL, but not the way qbittorrent does: is it the right URL and kind?",
    ]
    assert rows["tls"][2:] == [
        "FAIL",
        "the TLS handshake failed: if the daemon serves plain HTTP on this port, use http:// in the URL",
    ]
    assert rows["nowhere"][2:] == [
        "FAIL",
        "something answers at this URL, but has no slskd API there (404): is the URL right?",
    ]
    assert "hunter2" not in out


def test_the_readme_sample_config_and_command_table_agree_with_the_code(tmp_path: Path) -> None:
    readme = (ROOT / "bot" / "README.md").read_text()
    sample = readme.split("## Config file (TOML)", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    table_rows = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]

    config = parse_config(tomllib.loads(sample), base_dir=tmp_path)

    limits = tomllib.loads(sample)["limits"]
    assert set(limits) == set(type(config.limits).__slots__)
    assert all(limits[key] == getattr(config.limits, key) for key in limits)  # the sample shows the defaults
    documented = set(re.findall(r"^\| `/([a-z-]+)", table_rows, re.MULTILINE))
    documented |= set(re.findall(r", `/([a-z-]+)", table_rows))
    assert documented == set(VERBS)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://admin:pw@[::1]:8080/api?key=pw", "http://[::1]:8080/api"),
        ("http://[::1", "(not a valid URL)"),
        ("http://127.0.0.1:99999", "(not a valid URL)"),
    ],
)
def test_check_config_prints_urls_without_secrets_and_survives_malformed_ones(url: str, shown: str) -> None:
    assert public_url(url) == shown

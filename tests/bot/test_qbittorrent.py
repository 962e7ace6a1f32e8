"""End to end against a real qbittorrent-nox on 127.0.0.1: the extension loaded from a config file."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from peerdeck_bot.__main__ import main
from peerdeck_bot.service import transfer_key
from tests.shared.qbittorrent.daemon import QBittorrentDaemon, run_qbittorrent
from tests.shared.torrents import make_torrent

from .conftest import new_bot
from .fakes import ADMIN, CHANNEL_ID, FRIEND, READER, FakeAdapter, Harness, components

pytestmark = pytest.mark.daemon


@pytest.fixture(scope="module")
def qbittorrent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QBittorrentDaemon]:
    with run_qbittorrent(tmp_path_factory.mktemp("qbittorrent")) as daemon:
        yield daemon


def write_config(path: Path, daemon: QBittorrentDaemon, password_env: str = "PD_QBT_PASSWORD") -> Path:  # noqa: S107 - a variable name
    path.write_text(
        f"""
[discord]
notify_channel_id = {CHANNEL_ID}
state_file = "state.json"

[permissions]
write_roles = ["Seedbox"]

[limits]
poll_interval = 1

[backends.seedbox]
kind = "qbittorrent"
url = "{daemon.url}"
username = "{daemon.username}"
password_env = "{password_env}"
"""
    )
    return path


@pytest.fixture
async def cdn() -> AsyncIterator[tuple[str, dict[str, bytes]]]:
    """A stand-in for Discord's attachment CDN, on 127.0.0.1."""
    files: dict[str, bytes] = {}

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=files[request.match_info["name"]])

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", files
    await runner.cleanup()


async def test_enqueue_status_pause_resume_remove_and_one_notice(
    qbittorrent: QBittorrentDaemon,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cdn: tuple[str, dict[str, bytes]],
) -> None:
    monkeypatch.setenv("PD_QBT_PASSWORD", qbittorrent.password)
    torrent, info_hash = make_torrent("bot-e2e.bin", data_dir=qbittorrent.save_path)
    base, files = cdn
    files["bot-e2e.torrent"] = torrent
    bot = await new_bot()
    bot.http._HTTPClient__session = aiohttp.ClientSession()  # as after login: attachments are fetched with it
    bot.peerdeck_config = str(write_config(tmp_path / "bot.toml", qbittorrent))  # type: ignore[attr-defined]
    await bot.load_extension("peerdeck_bot")
    core: Any = bot.get_cog("Peerdeck")
    harness = Harness(bot, FakeAdapter())
    await core.service.poll()
    attachment = {
        "id": "555000000000000001",
        "filename": "bot-e2e.torrent",
        "size": len(torrent),
        "url": f"{base}/bot-e2e.torrent",
        "proxy_url": f"{base}/bot-e2e.torrent",
    }

    queued = await harness.command("enqueue", FRIEND, torrent=attachment, notify="channel")
    assert queued[0].is_defer
    assert "Queued **bot-e2e.torrent** on seedbox" in queued[-1].text

    posted: list[dict[str, Any]] = []

    class Channel:
        async def send(self, **kwargs: Any) -> None:
            posted.append(kwargs)

    async def channel() -> Channel:
        return Channel()

    monkeypatch.setattr(core, "resolve_channel", channel)
    deadline = time.monotonic() + 60
    while not posted:
        assert time.monotonic() < deadline, "qBittorrent never finished checking the local data"
        await core.run_notices()
        await asyncio.sleep(0.2)
    await core.run_notices()
    assert len(posted) == 1
    assert posted[0]["content"] == f"<@{FRIEND.id}>"
    assert "bot-e2e.bin" in posted[0]["embed"].description

    status = await harness.command("status", READER)
    assert status[0].is_defer
    assert "seedbox (qbittorrent)" in status[-1].text

    choices = await harness.autocomplete("pause", "target", FRIEND, target="bot-e2e")
    assert transfer_key("seedbox", info_hash) in [c["value"] for c in choices]
    paused = await harness.command("pause", FRIEND, target=transfer_key("seedbox", info_hash))
    assert "Paused **bot-e2e.bin** on seedbox" in paused[-1].text
    states = {t.id: t.state.value for t in await core.service.slot("seedbox").backend.transfers()}
    assert states[info_hash] in {"paused", "completed"}
    resumed = await harness.command("resume", FRIEND, target="bot-e2e")
    assert "Resumed **bot-e2e.bin**" in resumed[-1].text

    await harness.command("remove", ADMIN, target="bot-e2e")
    question = harness.adapter.messages[next(reversed(harness.adapter.messages))]
    confirm = next(c["custom_id"] for c in components(question) if c["label"].startswith("Remove"))
    done = await harness.click(question, confirm, ADMIN)
    assert "Removed **bot-e2e.bin** from seedbox" in done[-1].text
    assert info_hash not in {t.id for t in await core.service.slot("seedbox").backend.transfers()}

    await bot.unload_extension("peerdeck_bot")
    await bot.close()


async def test_check_config_connects_and_prints_a_table(
    qbittorrent: QBittorrentDaemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PD_QBT_PASSWORD", qbittorrent.password)
    monkeypatch.setenv("DISCORD_TOKEN", "not-a-real-token-but-secret")
    path = write_config(tmp_path / "bot.toml", qbittorrent)

    with pytest.raises(SystemExit) as exit_:
        await asyncio.to_thread(main, ["--config", str(path), "--check-config"])  # the CLI runs its own loop

    out = capsys.readouterr().out
    assert exit_.value.code == 0, out
    row = next(line for line in out.splitlines() if line.startswith("seedbox"))
    assert row.split()[:4] == ["seedbox", "qbittorrent", qbittorrent.url, "ok"]
    assert "discord token" in out and "present" in out
    assert "1 of 1 backends answered" in out
    assert qbittorrent.password not in out and "not-a-real-token" not in out


async def test_check_config_reports_rejected_credentials(
    qbittorrent: QBittorrentDaemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PD_QBT_WRONG", "wrong-password-value")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    path = write_config(tmp_path / "bot.toml", qbittorrent, password_env="PD_QBT_WRONG")

    with pytest.raises(SystemExit) as exit_:
        await asyncio.to_thread(main, ["--config", str(path), "--check-config"])  # the CLI runs its own loop

    out = capsys.readouterr().out
    assert exit_.value.code == 1
    assert "rejected the bot's credentials" in out
    assert "environment variable DISCORD_TOKEN is not set" in out
    assert "wrong-password-value" not in out


async def test_check_config_diagnoses_https_against_qbittorrents_plain_http_port(
    qbittorrent: QBittorrentDaemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PD_QBT_PASSWORD", qbittorrent.password)
    path = write_config(tmp_path / "bot.toml", qbittorrent)
    path.write_text(path.read_text().replace(qbittorrent.url, qbittorrent.url.replace("http://", "https://")))

    with pytest.raises(SystemExit) as exit_:
        await asyncio.to_thread(main, ["--config", str(path), "--check-config"])  # the CLI runs its own loop

    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("seedbox"))
    assert exit_.value.code == 1
    assert row.split(None, 4)[3:] == [
        "FAIL",
        "the TLS handshake failed: if the daemon serves plain HTTP on this port, use http:// in the URL",
    ]

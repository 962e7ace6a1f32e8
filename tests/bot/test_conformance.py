"""End to end against the conformance servers of slskd, SoulSync and Tribler (daemons that cannot run here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.shared.slskd.server import SlskdConformance
from tests.shared.soulsync.server import SoulSyncServer
from tests.shared.tribler.server import API_KEY as TRIBLER_KEY
from tests.shared.tribler.server import TriblerServer, serve, torrent_metadata

from .conftest import StartBot
from .e2e import Notices, check_config, search_and_enqueue, table, wait_until
from .fakes import FRIEND


@pytest.fixture
async def slskd(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[SlskdConformance, str]]:
    """slskd's conformance server on 127.0.0.1, with its API key in ``PD_SLSKD_KEY``."""
    async for running in serve_slskd(SlskdConformance(), monkeypatch):
        yield running


async def serve_slskd(
    server: SlskdConformance, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[SlskdConformance, str]]:
    """Run ``server`` on 127.0.0.1 (a free port) with its API key in ``PD_SLSKD_KEY``; yields it and its URL."""
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert server.config.api_key is not None
    monkeypatch.setenv("PD_SLSKD_KEY", server.config.api_key)
    yield server, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
async def soulsync(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SoulSyncServer]:
    """SoulSync's conformance server, with an API key in ``PD_SOULSYNC_KEY``."""
    server = SoulSyncServer()
    await server.start()
    monkeypatch.setenv("PD_SOULSYNC_KEY", server.add_key("bot"))
    yield server
    await server.close()


@pytest.fixture
async def tribler(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TriblerServer]:
    """Tribler's conformance core, with its API key in ``PD_TRIBLER_KEY``."""
    server = TriblerServer()
    monkeypatch.setenv("PD_TRIBLER_KEY", TRIBLER_KEY)
    async for url in serve(server.app()):
        server.url = url
        yield server


def slskd_backend(url: str, key_env: str = "PD_SLSKD_KEY") -> str:
    return f'[backends.music]\nkind = "slskd"\nurl = "{url}"\napi_key_env = "{key_env}"\n'


def soulsync_backend(server: SoulSyncServer, key_env: str = "PD_SOULSYNC_KEY") -> str:
    return f'[backends.soulsync]\nkind = "soulsync"\nurl = "{server.url}"\napi_key_env = "{key_env}"\n'


def tribler_backend(server: TriblerServer) -> str:
    return f'[backends.tribler]\nkind = "tribler"\nurl = "{server.url}"\napi_key_env = "PD_TRIBLER_KEY"\n'


async def until_notices(core: Any, notices: Notices, what: str) -> None:
    """Run notice rounds until a channel summary went out, then three more (to catch duplicates)."""

    async def posted() -> bool:
        await core.run_notices()
        return bool(notices.channel)

    await wait_until(posted, what)
    for _ in range(3):
        await core.run_notices()


async def test_slskd_search_pick_enqueue_notice_and_pause_explained(
    slskd: tuple[SlskdConformance, str], start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = slskd
    harness, core = await start_bot(slskd_backend(url))
    notices = Notices()
    notices.install(core, monkeypatch)
    await core.service.poll()

    queued = await search_and_enqueue(harness, FRIEND, "red song", "music", "Red Song")

    assert queued[0].is_defer
    assert "✅ Queued" in queued[-1].text and "Red Song" in queued[-1].text
    await until_notices(core, notices, "slskd never finished the download")
    assert len(notices.dms) == 1 and notices.dms[0][0] == FRIEND.id
    assert "Red Song" in notices.dms[0][1] and "has finished downloading" in notices.dms[0][1]
    assert len(notices.lines) == 1 and "Red Song" in notices.lines[0]

    paused = await harness.command("pause", FRIEND, target="all", backend="music")
    assert paused[0].is_defer and paused[-1].ephemeral
    assert "music (slskd) cannot pause transfers. Use /remove to cancel one" in paused[-1].text


async def test_slskd_bad_key_is_explained_privately(
    slskd: tuple[SlskdConformance, str], start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = slskd
    monkeypatch.setenv("PD_SLSKD_WRONG", "not-the-key-0123456789")
    harness, _ = await start_bot(slskd_backend(url, "PD_SLSKD_WRONG"))

    calls = await harness.command("search", FRIEND, query="blue", backend="music")

    assert calls[0].is_defer and calls[-1].ephemeral
    assert calls[-1].text == "music rejected the bot's credentials. Ask the bot owner to check them."


async def test_soulsync_search_pick_enqueue_notice_and_pause_explained(
    soulsync: SoulSyncServer, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, core = await start_bot(soulsync_backend(soulsync))
    notices = Notices()
    notices.install(core, monkeypatch)
    await core.service.poll()

    queued = await search_and_enqueue(harness, FRIEND, "daft punk", "soulsync", "One More Time")

    assert "✅ Queued" in queued[-1].text and "One More Time" in queued[-1].text
    await until_notices(core, notices, "SoulSync never finished the download")
    assert [uid for uid, _ in notices.dms] == [FRIEND.id]
    assert len(notices.lines) == 1 and "One More Time" in notices.lines[0]

    resumed = await harness.command("resume", FRIEND, target="all", backend="soulsync")
    assert "soulsync (soulsync) cannot resume transfers. Search for the item again" in resumed[-1].text


async def test_soulsync_request_is_said_to_go_straight_to_soulseek(
    soulsync: SoulSyncServer, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A free-text request never shows in SoulSync: the bot says so and promises no notice."""
    harness, core = await start_bot(soulsync_backend(soulsync))
    notices = Notices()
    notices.install(core, monkeypatch)
    await core.service.poll()

    queued = await harness.command("enqueue", FRIEND, target="Daft Punk - One More Time", backend="soulsync")

    text = queued[-1].text
    assert "straight to the Soulseek daemon" in text and "No completion notice can be sent for it." in text
    assert "DM" not in text and "when it finishes" not in text
    assert [d["filename"] for d in soulsync.soulseek_downloads] == ["@@music\\Daft Punk - One More Time.flac"]
    for _ in range(4):
        await core.run_notices()
    assert notices.dms == [] and notices.channel == []


async def test_soulsync_progress_is_shown_unknown(soulsync: SoulSyncServer, start_bot: StartBot) -> None:
    harness, core = await start_bot(soulsync_backend(soulsync))
    soulsync.advance_downloads = False
    soulsync.add_task("downloading", track_name="Roygbiv", artist_name="Boards of Canada", username="peer")
    await core.service.poll()

    status = await harness.command("status", FRIEND, backend="soulsync")

    assert "progress unknown **Boards of Canada - Roygbiv**" in status[-1].text
    assert "0%" not in status[-1].text


async def test_soulsync_rate_limit_is_explained_privately(soulsync: SoulSyncServer, start_bot: StartBot) -> None:
    harness, _ = await start_bot(soulsync_backend(soulsync))
    soulsync.rate_limit = 0  # another client on the host used up the minute

    calls = await harness.command("search", FRIEND, query="daft punk", backend="soulsync")
    status = await harness.command("status", FRIEND, backend="soulsync")

    assert calls[0].is_defer and calls[-1].ephemeral
    assert calls[-1].text == "soulsync asks the bot to slow down. Try again in 60 s."
    assert "soulsync asks the bot to slow down" in status[-1].text and status[-1].ephemeral


async def test_tribler_search_pick_enqueue_and_notice(
    tribler: TriblerServer, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    tribler.remote_catalogue = [torrent_metadata("Ubuntu 24.04 desktop", 6_000_000_000, seeders=900)]
    harness, core = await start_bot(tribler_backend(tribler))
    notices = Notices()
    notices.install(core, monkeypatch)
    await core.service.poll()

    queued = await search_and_enqueue(harness, FRIEND, "ubuntu", "tribler", "Ubuntu 24.04")

    assert "✅ Queued Ubuntu 24.04 desktop" in queued[-1].text
    [infohash] = tribler.downloads
    await core.run_notices()
    tribler.finish(infohash)
    await until_notices(core, notices, "the bot never saw Tribler finish the download")
    assert [uid for uid, _ in notices.dms] == [FRIEND.id]
    assert len(notices.lines) == 1 and "Ubuntu 24.04 desktop" in notices.lines[0]


async def test_check_config_against_the_conformance_servers(
    slskd: tuple[SlskdConformance, str],
    soulsync: SoulSyncServer,
    tribler: TriblerServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-token-must-not-show")
    monkeypatch.setenv("PD_WRONG", "wrong-key-must-not-show")
    path = tmp_path / "bot.toml"
    backends = slskd_backend(slskd[1]) + soulsync_backend(soulsync) + tribler_backend(tribler)
    path.write_text(backends + soulsync_backend(soulsync, "PD_WRONG").replace("backends.soulsync", "backends.bad"))

    code, out = await check_config(path, capsys)

    rows = table(out)
    assert code == 1, out
    assert rows["music"][:3] == ["slskd", slskd[1], "ok"] and rows["music"][3].startswith("slskd 0.26.0")
    assert rows["soulsync"][2:] == ["ok", "soulsync version not reported, connected"]
    assert rows["tribler"][2] == "ok" and rows["tribler"][3].startswith("tribler 8.4.3")
    assert rows["bad"][2:] == [
        "FAIL",
        "soulsync rejected the bot's credentials: check username and the secret behind api_key_env / api_key_file",
    ]
    assert "3 of 4 backends answered; 1 failed" in out
    assert "must-not-show" not in out
    assert soulsync.keys and all(k["key_prefix"] not in out for k in soulsync.keys)

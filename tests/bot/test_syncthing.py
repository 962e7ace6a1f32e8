"""End to end against two real, linked syncthing daemons on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peerdeck import TransferState
from peerdeck_bot.service import transfer_key
from tests.shared.syncthing.syncthing_daemons import SyncthingDaemon, linked_pair

from .conftest import StartBot
from .e2e import Notices, check_config, table, wait_until
from .fakes import FRIEND, READER, components

pytestmark = pytest.mark.daemon
Pair = tuple[SyncthingDaemon, SyncthingDaemon, Path]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Daemons A and B sharing folder ``shared`` (A's copy in ``data-a``); started once for the module."""
    base = tmp_path_factory.mktemp("syncthing")
    a, b = linked_pair(base)
    try:
        a.start()
        b.start()
        yield a, b, base / "data-a"
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def keys(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PD_ST_A", pair[0].api_key)
    monkeypatch.setenv("PD_ST_B", pair[1].api_key)


def backends(pair: Pair, *names: str) -> str:
    daemons = {"a": pair[0], "b": pair[1]}
    return "".join(
        f'[backends.{n}]\nkind = "syncthing"\nurl = "{daemons[n].url}"\napi_key_env = "PD_ST_{n.upper()}"\n'
        for n in names
    )


async def state_of(core: Any, backend: str, transfer_id: str) -> TransferState:
    transfers = await core.service.slot(backend).backend.transfers()
    state: TransferState = next(t.state for t in transfers if t.id == transfer_id)
    return state


@pytest.mark.usefixtures("keys")
async def test_status_pages_per_daemon_then_pause_and_resume_a_folder(pair: Pair, start_bot: StartBot) -> None:
    harness, core = await start_bot(backends(pair, "a", "b"))

    status = await harness.command("status", READER)

    assert status[0].is_defer
    first = harness.adapter.messages[next(reversed(harness.adapter.messages))]
    assert "a (syncthing)" in status[-1].text and "**shared**" in status[-1].text and "**B**" in status[-1].text
    assert "a · daemon 1 of 2" in status[-1].text
    next_id = next(c["custom_id"] for c in components(first) if c.get("label") == "Next")
    second = await harness.click(first, next_id, READER)
    assert second[0].body["type"] == 7  # the page is turned as the acknowledgement itself
    assert "b (syncthing)" in second[0].text and "**A**" in second[0].text and "b · daemon 2 of 2" in second[0].text

    await core.service.poll()
    choices = await harness.autocomplete("pause", "target", FRIEND, target="shared")
    assert {transfer_key("a", "folder:shared"), transfer_key("b", "folder:shared")} <= {c["value"] for c in choices}
    paused = await harness.command("pause", FRIEND, target=transfer_key("a", "folder:shared"))
    assert paused[0].is_defer and "Paused **shared** on a." in paused[-1].text

    async def is_paused() -> bool:
        return await state_of(core, "a", "folder:shared") is TransferState.PAUSED

    await wait_until(is_paused, "syncthing A never reported the folder paused")
    resumed = await harness.command("resume", FRIEND, target="shared", backend="a")
    assert "Resumed **shared** on a." in resumed[-1].text

    async def is_running() -> bool:
        return await state_of(core, "a", "folder:shared") is not TransferState.PAUSED

    await wait_until(is_running, "syncthing A never reported the folder resumed")


@pytest.mark.usefixtures("keys")
async def test_a_file_written_on_one_side_gives_exactly_one_notice(
    pair: Pair, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, data_a = pair
    harness, core = await start_bot(backends(pair, "b"))
    notices = Notices()
    notices.install(core, monkeypatch)

    async def settled() -> bool:
        await core.run_notices()
        states = {t.id: t.state for t in await core.service.slot("b").backend.transfers()}
        return bool(states) and all(s is TransferState.COMPLETED for s in states.values())

    await wait_until(settled, "the two daemons never settled")
    notices.channel.clear()
    (data_a / "hello from A.txt").write_text("synced by syncthing\n")

    async def posted() -> bool:
        await core.run_notices()
        return bool(notices.channel)

    await wait_until(posted, "syncthing B never finished syncing the new file")
    for _ in range(3):
        await core.run_notices()

    assert notices.lines == ["✅ **shared** · b"]
    assert notices.dms == []
    assert harness.adapter.calls == []


@pytest.mark.usefixtures("keys")
async def test_check_config_against_real_syncthing(
    pair: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PD_ST_WRONG", "wrong-api-key-value")
    path = tmp_path / "bot.toml"
    wrong = backends(pair, "a").replace("backends.a", "backends.wrong").replace("PD_ST_A", "PD_ST_WRONG")
    closed = '[backends.gone]\nkind = "syncthing"\nurl = "http://127.0.0.1:1"\napi_key_env = "PD_ST_A"\n'
    path.write_text(backends(pair, "a", "b") + wrong + closed)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)

    code, out = await check_config(path, capsys)

    rows = table(out)
    assert code == 1, out
    for name, daemon in (("a", pair[0]), ("b", pair[1])):
        assert rows[name][:3] == ["syncthing", daemon.url, "ok"]
        assert rows[name][3].startswith("syncthing 1.") or rows[name][3].startswith("syncthing 2.")
    assert rows["wrong"][2:] == [
        "FAIL",
        "syncthing rejected the bot's credentials: check username and the secret behind api_key_env / api_key_file",
    ]
    assert rows["gone"][2:] == [
        "FAIL",
        "nothing answers at 127.0.0.1:1 (connection refused): is the daemon running, and is the URL right?",
    ]
    assert "MISSING" in out and "environment variable DISCORD_TOKEN is not set" in out
    assert "2 of 4 backends answered; 2 failed" in out
    assert all(secret not in out for secret in (pair[0].api_key, pair[1].api_key, "wrong-api-key-value"))


@pytest.mark.usefixtures("keys")
async def test_check_config_over_https_meets_syncthings_own_certificate(
    pair: Pair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Syncthing's GUI port also speaks TLS, with a self-signed certificate: https is no mismatch there."""
    path = tmp_path / "bot.toml"
    https = backends(pair, "a", "b").replace("http://", "https://")
    path.write_text(https.replace('api_key_env = "PD_ST_B"', 'api_key_env = "PD_ST_B"\nverify_ssl = false'))

    code, out = await check_config(path, capsys)

    rows = table(out)
    assert code == 1
    assert rows["a"][2:] == ["FAIL", "its TLS certificate was rejected; for a self-signed one set verify_ssl = false"]
    assert rows["b"][2] == "ok"

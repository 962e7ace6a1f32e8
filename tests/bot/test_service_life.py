"""What an owner meets running the bot for real (issue 27): daemons that are down, a damaged state file in a
directory the bot cannot write, hostile names, many searches and boards at once, secrets in --check-config,
the state file's writes and size with 20,000 transfers, and the words users read."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import re
import unicodedata
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from peerdeck import (
    EnqueueOptions,
    EnqueueTarget,
    PeerdeckForbiddenError,
    PeerdeckInputError,
    SearchHit,
    Transfer,
    TransferState,
)
from peerdeck_bot import render
from peerdeck_bot.checkup import mask
from peerdeck_bot.config import parse_config
from peerdeck_bot.errors import UserFacingError
from peerdeck_bot.pacing import HourlyQuota
from peerdeck_bot.service import PeerdeckService
from peerdeck_bot.state import Delivery

from .conftest import FakeClock, MakeHarness, config_data
from .e2e import check_config, table, wait_until
from .fakes import ADMIN, CHANNEL_ID, FRIEND, READER, FakeBackend, FakeDiscordHTTP, components

MAGNET = "magnet:?xt=urn:btih:" + "d" * 40
RLO, ZWSP, ZWJ, LRI, PDI = "\u202e", "\u200b", "\u200d", "\u2066", "\u2069"
HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def question(harness: Any) -> dict[str, Any]:
    """The last message the bot sent."""
    return dict(harness.adapter.messages[next(reversed(harness.adapter.messages))])


def button(message: dict[str, Any], label: str) -> str:
    return next(c["custom_id"] for c in components(message) if c.get("label") == label)


# ---------------------------------------------------------------- a daemon that is down


async def test_a_confirmation_after_a_restart_with_the_daemon_down_says_so(make_harness: MakeHarness) -> None:
    before = FakeBackend(transfers=[Transfer("h1", "Debian", TransferState.ACTIVE)])
    harness, _ = await make_harness({"seedbox": before})
    await harness.command("remove", ADMIN, target="Debian")
    prompt = question(harness)
    down = FakeBackend(transfers=[Transfer("h1", "Debian", TransferState.ACTIVE)])
    down.down = True
    restarted, _ = await make_harness({"seedbox": down})

    done = await restarted.click(prompt, button(prompt, "Remove"), ADMIN)

    assert "seedbox cannot be reached right now" in done[-1].text
    assert "gone" not in done[-1].text
    assert "nothing was changed" in done[-1].text
    assert not [c for c in down.calls if c[0] == "remove"]


async def test_an_autocomplete_value_after_a_restart_with_the_daemon_down_says_so(make_harness: MakeHarness) -> None:
    before = FakeBackend(transfers=[Transfer("h1", "Debian", TransferState.ACTIVE)])
    harness, _ = await make_harness({"seedbox": before})
    await harness.command("status", ADMIN)
    [choice] = [c for c in await harness.autocomplete("pause", "target", FRIEND, target="deb") if c["value"] != "all"]
    down = FakeBackend()
    down.down = True
    restarted, _ = await make_harness({"seedbox": down})

    paused = await restarted.command("pause", FRIEND, target=choice["value"])
    watched = await restarted.command("watch", READER, target=choice["value"])

    for reply in (paused, watched):
        assert "seedbox cannot be reached right now" in reply[-1].text
        assert "gone" not in reply[-1].text


async def test_a_board_says_a_daemon_is_down(make_harness: MakeHarness) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "Debian", TransferState.ACTIVE)])
    clock = FakeClock()
    harness, core = await make_harness({"seedbox": backend}, clock, limits={"board_interval": 10})
    http = FakeDiscordHTTP()
    http.install(harness.bot)
    await core.run_notices()
    await harness.command("board", ADMIN)
    backend.down = True
    clock.now += 10

    await core.run_notices()

    [edit] = http.edits(core.service.store.state.boards[CHANNEL_ID])
    assert "seedbox cannot be reached right now" in json.dumps(edit.body["embeds"])
    assert "Debian" not in json.dumps(edit.body["embeds"])


async def test_a_daemon_going_down_and_back_is_logged_once_each(
    make_harness: MakeHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    backend = FakeBackend(transfers=[Transfer("h1", "Debian", TransferState.ACTIVE)])
    _, core = await make_harness({"seedbox": backend})
    await core.run_notices()

    for _ in range(2):  # two outages, each logged once, and so is each return
        backend.down = True
        for _ in range(3):
            await core.run_notices()
        backend.down = False
        for _ in range(2):
            await core.run_notices()

    lines = [
        r.getMessage() for r in caplog.records if r.name.startswith("peerdeck_bot") and "seedbox" in r.getMessage()
    ]
    assert (
        lines
        == [
            "cannot refresh seedbox: seedbox cannot be reached right now. Is the daemon running?",
            "seedbox answers again",
        ]
        * 2
    )


# ---------------------------------------------------------------- a damaged state file


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``tmp_path`` refuses renames as a read-only directory does (the tests run as root, which chmod cannot stop)."""
    real = os.replace

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        if tmp_path in (Path(src).parent, Path(dst).parent):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        real(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.usefixtures("read_only")
async def test_a_damaged_state_file_in_a_read_only_directory_is_ignored_with_one_warning(
    make_harness: MakeHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "state.json").write_text('{"version": 1, "trackers": {"seedbox": ')
    backend = FakeBackend(transfers=[Transfer("h1", "Debian", TransferState.ACTIVE)])

    harness, _ = await make_harness({"seedbox": backend})
    status = await harness.command("status", READER)

    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "damaged" in r.getMessage()]
    assert len(warnings) == 1
    assert "cannot be set aside" in warnings[0] and "ignoring it" in warnings[0]
    assert "Debian" in status[-1].text
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"version": 1, "trackers": ', "not valid JSON at line 1"),
        (b"\xff\xfe{}", "not text"),
        ('{"version": 7}', "written by an unknown version of the bot"),
        ('{"version": 1, "trackers": {"seedbox": {"~packed": {"open": {}, "done": "%%%"}}}}', "not laid out"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ],
    ids=["cut short", "not utf-8", "unknown version", "bad digests", "deep"],
)
async def test_check_config_reports_a_damaged_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], content: str | bytes, why: str
) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(content if isinstance(content, bytes) else content.encode())
    path = tmp_path / "bot.toml"
    path.write_text(
        '[discord]\nstate_file = "state.json"\n[backends.seedbox]\nkind = "qbittorrent"\nurl = "http://127.0.0.1:1"\n'
    )

    _, out = await check_config(path, capsys)

    [row] = [line for line in out.splitlines() if line.startswith("state file")]
    assert "WARN" in row and f"damaged ({why}" in row
    assert "the state file is damaged" in out


# ---------------------------------------------------------------- hostile names


def looks_empty(text: str) -> bool:
    return not any(not ch.isspace() and unicodedata.category(ch)[0] not in "CM" for ch in text.replace("…", ""))


async def test_hostile_names_are_neutralised_wherever_they_reach_discord(make_harness: MakeHarness) -> None:
    spoof = f"Holiday{RLO}gpj.exe"
    names = [spoof, f"Film{ZWSP}{ZWJ}{LRI}x{PDI}", ZWSP * 200, f"{ZWSP}\u3164{ZWJ}"]
    transfers = [Transfer(f"h{i}", n, TransferState.ACTIVE) for i, n in enumerate(names)]
    hits = [SearchHit(str(i), n, link=MAGNET, source=f"peer{RLO}x") for i, n in enumerate(names)]
    backend = FakeBackend(transfers=transfers, hits=hits)
    harness, core = await make_harness({"seedbox": backend})
    await core.service.poll()
    status = await harness.command("status", READER)
    choices = await harness.autocomplete("pause", "target", FRIEND, target="")
    paused = await harness.command("pause", FRIEND, target=names[2])
    searched = await harness.command("search", FRIEND, query="x")
    sent = status + paused + searched
    select = next(c for c in components(question(harness)) if c["type"] == 3)
    notice = render.dm_notice(Delivery("seedbox", "h0", spoof, "completed", "dm", FRIEND.id))

    texts = [c.text for c in sent] + [c["name"] for c in choices] + [notice]
    texts += [o["label"] for o in select["options"]] + [o.get("description", "") for o in select["options"]]
    assert not [t for t in texts if HIDDEN.search(t)]
    assert not [c["name"] for c in choices if looks_empty(c["name"].split(" · ")[0])]
    assert not [o["label"] for o in select["options"] if looks_empty(o["label"])]
    assert "Holidaygpj.exe" in notice
    assert "Paused **(no visible name)**" in paused[-1].text


# ---------------------------------------------------------------- caps


class SlowSearch(FakeBackend):
    """Searches that run until released, counting how many run at once."""

    def __init__(self) -> None:
        super().__init__(hits=[SearchHit("1", "Result", link=MAGNET)])
        self.release = asyncio.Event()
        self.running = 0
        self.most = 0

    async def search(self, query: str, *, timeout: float = 30.0, limit: int | None = None) -> AsyncIterator[SearchHit]:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.release.wait()
            for hit in self.hits:
                yield hit
        finally:
            self.running -= 1


async def test_searches_beyond_the_daemons_slots_wait_and_say_so(make_harness: MakeHarness) -> None:
    backend = SlowSearch()
    harness, _ = await make_harness({"seedbox": backend}, limits={"searches_per_backend": 2, "search_timeout": 30})
    members = [ADMIN, FRIEND, READER]
    tasks = set().union(*(harness.start_command("search", m, query=f"q{m.id}") for m in members))

    await wait_until(
        lambda: _async(sum("Waiting for a free search slot" in c.text for c in harness.adapter.calls) == 1),
        "the third search never said it waits",
    )
    assert backend.running == 2
    backend.release.set()
    await asyncio.gather(*tasks)

    assert backend.most == 2
    finals = [c for c in harness.adapter.calls if "· 1 hit · done" in c.text and c.data.get("components")]
    assert len(finals) == 3


async def _async(value: bool) -> bool:
    return value


async def test_boards_are_capped(make_harness: MakeHarness) -> None:
    harness, core = await make_harness({"seedbox": FakeBackend()}, limits={"max_boards": 1})
    http = FakeDiscordHTTP()
    http.install(harness.bot)
    core.service.store.state.boards[CHANNEL_ID + 1] = 1  # a board in another channel

    refused = await harness.command("board", ADMIN)

    assert "already keeps 1 live board up to date" in refused[-1].text
    assert not [r for r in http.requests if r.method == "POST"]


def test_the_readme_documents_both_caps_with_their_defaults() -> None:
    readme = (Path(__file__).resolve().parents[2] / "bot" / "README.md").read_text()
    defaults = parse_config(config_data(["seedbox"])).limits

    assert f"searches_per_backend = {defaults.searches_per_backend}" in readme
    assert f"max_boards = {defaults.max_boards}" in readme


# ---------------------------------------------------------------- --check-config and secrets


async def test_check_config_masks_whole_secrets_only_and_speaks_to_the_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PD_SHORT_PASSWORD", "127")
    monkeypatch.setenv("PD_SHORT_TOKEN", "tok")
    path = tmp_path / "bot.toml"
    path.write_text(
        '[discord]\ntoken_env = "PD_SHORT_TOKEN"\nstate_file = "state.json"\n'
        '[backends.seedbox]\nkind = "qbittorrent"\nurl = "http://127.0.0.1:1"\nusername = "admin"\n'
        'password_env = "PD_SHORT_PASSWORD"\n'
    )

    _, out = await check_config(path, capsys)

    rows = table(out)
    assert rows["seedbox"][1] == "http://127.0.0.1:1"
    assert "nothing answers at 127.0.0.1:1" in rows["seedbox"][3]
    assert "discord token" in out and "***" not in out
    assert "ask the bot owner" not in out.casefold()


def test_a_secret_is_masked_as_a_whole_word_wherever_it_stands() -> None:
    assert mask("the key 'abc123' was refused", ["abc123"]) == "the key '***' was refused"
    assert mask("abc1234 and 127.0.0.1", ["abc123", "127"]) == "abc1234 and 127.0.0.1"


# ---------------------------------------------------------------- the state file with 20,000 transfers


class Sink:
    def __init__(self) -> None:
        self.sent: list[Delivery] = []

    async def __call__(self, nonce: str, batch: Sequence[Delivery]) -> bool:
        self.sent.extend(batch)
        return True


def many(count: int) -> list[Transfer]:
    """Finished and seeding, as on a long-running seedbox; the last few still downloading."""
    return [
        Transfer(
            f"{i:040x}",
            f"Some.Long.Release.Name.{i}.1080p.WEB-DL.x264",
            TransferState.ACTIVE if i >= count - 5 else TransferState.COMPLETED,
            progress=0.5 if i >= count - 5 else 1.0,
        )
        for i in range(count)
    ]


async def test_20000_transfers_one_write_per_poll_a_bounded_file_and_notices_right_across_restarts(
    tmp_path: Path,
) -> None:
    backend = FakeBackend(transfers=many(20000))
    config = parse_config(config_data(["seedbox"]), base_dir=tmp_path)
    service = PeerdeckService(config, backends={"seedbox": backend})
    await service.start()
    sink = Sink()
    await service.poll()
    await service.flush(sink)
    whole = len(json.dumps(backend.export_state()))
    writes = service.store.writes

    backend.set_state(f"{19999:040x}", TransferState.COMPLETED)
    await service.poll()
    await service.flush(sink)
    one_round = service.store.writes - writes
    await service.close()
    size = (tmp_path / "state.json").stat().st_size
    text = (tmp_path / "state.json").read_text()

    backend.set_state(f"{19998:040x}", TransferState.COMPLETED)  # finishes while the bot is down
    restarted = PeerdeckService(config, backends={"seedbox": backend})
    await restarted.start()
    await restarted.poll()
    await restarted.flush(sink)
    await restarted.close()

    assert one_round == 1
    assert "Release.Name" not in text  # ids it must follow, no names
    assert size * 5 < whole
    assert [(d.transfer_id[-4:], d.target) for d in sink.sent] == [("4e1f", "channel"), ("4e1e", "channel")]


# ---------------------------------------------------------------- words


class Wordy(FakeBackend):
    """A daemon whose errors carry the library's own wording."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> list[str]:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        PeerdeckInputError("torrents/add: qBittorrent answered 'Fails.' to the urls field"),
        PeerdeckForbiddenError("torrents/add: HTTP 403 from qBittorrent (WebUI CSRF check)"),
    ],
)
async def test_replies_do_not_pass_on_the_librarys_messages(make_harness: MakeHarness, error: Exception) -> None:
    harness, _ = await make_harness({"seedbox": Wordy(error)})

    calls = await harness.command("enqueue", FRIEND, target=MAGNET)

    assert "seedbox" in calls[-1].text
    assert "torrents/add" not in calls[-1].text and "qBittorrent" not in calls[-1].text


def test_counts_of_one_read_in_the_singular() -> None:
    quota = HourlyQuota(1, clock=lambda: 0.0)
    quota.take(FRIEND.id, 1)

    with pytest.raises(UserFacingError, match="You can queue 1 download per hour here and have used 1;"):
        quota.take(FRIEND.id, 1)
    assert render.hit_details(SearchHit("1", "x", size=1, seeders=1)) == "1 B · 1 seeder"


@pytest.mark.parametrize(
    ("text", "secret", "shown"),
    [
        ("key=abc123 refused", "abc123", "key=*** refused"),
        ("the phrase correct horse was refused.", "correct horse", "the phrase *** was refused."),
        ("it ends with abc.", "abc", "it ends with ***."),
        ("abc.def and xabc and abc_d", "abc", "abc.def and xabc and abc_d"),
    ],
)
def test_masking_finds_secrets_as_words_only(text: str, secret: str, shown: str) -> None:
    assert mask(text, [secret]) == shown

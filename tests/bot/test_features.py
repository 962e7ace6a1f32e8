"""What a server admin uses beyond the basics: the live status board, watching someone else's download,
the notice setting, /help, per-user limits, disabled commands and /status filters and jumps."""

from __future__ import annotations

import itertools

import pytest

from peerdeck import Status, Transfer, TransferState
from peerdeck_bot import render
from peerdeck_bot.service import Report, transfer_key

from .conftest import FakeClock, MakeHarness
from .e2e import Notices
from .fakes import ADMIN, CHANNEL_ID, FRIEND, READER, FakeBackend, FakeDiscordHTTP, components

MAGNET = "magnet:?xt=urn:btih:{:040x}&dn=File+{}"


def many(count: int, prefix: str = "file") -> list[Transfer]:
    return [Transfer(f"t{i}", f"{prefix} {i}", TransferState.ACTIVE, progress=0.0) for i in range(count)]


async def test_board_edits_at_most_once_per_interval_under_2000_transfers_and_stops_when_idle(
    make_harness: MakeHarness,
) -> None:
    clock = FakeClock()
    backend = FakeBackend(transfers=many(2000))
    harness, core = await make_harness({"seedbox": backend}, clock, limits={"board_interval": 10})
    http = FakeDiscordHTTP()
    http.install(harness.bot)
    await core.run_notices()

    posted = await harness.command("board", ADMIN)

    assert "Board posted" in posted[-1].text
    [post] = http.requests
    assert post.method == "POST" and post.channel_id == CHANNEL_ID
    board = core.service.store.state.boards[CHANNEL_ID]
    edited_at: list[float] = []
    for second in range(120):  # two minutes of one refresh a second, with the first transfer moving each time
        clock.now += 1
        backend.set_state("t0", TransferState.ACTIVE, progress=(second % 99 + 1) / 100)
        before = len(http.edits(board))
        await core.run_notices()
        edited_at += [clock.now] * (len(http.edits(board)) - before)

    assert 10 <= len(edited_at) <= 120 // 10 + 1
    assert all(later - earlier >= 10 for earlier, later in itertools.pairwise(edited_at))
    assert all(len(r.body["embeds"]) <= render.EMBEDS_MAX for r in http.edits(board))

    busy = len(http.edits(board))
    for _ in range(30):  # nothing moves any more
        clock.now += 1
        await core.run_notices()
    assert len(http.edits(board)) - busy <= 1  # at most the last change, then silence
    settled = len(http.edits(board))
    for _ in range(60):
        clock.now += 1
        await core.run_notices()
    assert len(http.edits(board)) == settled


async def test_board_survives_a_restart_and_is_forgotten_when_deleted(make_harness: MakeHarness) -> None:
    backend = FakeBackend(transfers=many(3))
    harness, core = await make_harness({"seedbox": backend}, limits={"board_interval": 10})
    http = FakeDiscordHTTP()
    http.install(harness.bot)
    await harness.command("board", ADMIN)
    board = core.service.store.state.boards[CHANNEL_ID]
    for name in list(harness.bot.cogs):
        await harness.bot.remove_cog(name)

    restarted, core2 = await make_harness({"seedbox": backend}, limits={"board_interval": 10})
    http2 = FakeDiscordHTTP()
    http2.install(restarted.bot)
    await core2.run_notices()

    assert len(http2.edits(board)) == 1
    assert "seedbox (qbittorrent)" in str(http2.edits(board)[0].body["embeds"])

    http2.missing.add(board)
    backend.set_state("t1", TransferState.PAUSED)
    core2.pacer.forget(CHANNEL_ID)  # due at once
    await core2.run_notices()
    assert core2.service.store.state.boards == {}


async def test_board_shows_a_daemon_that_stopped_answering(make_harness: MakeHarness) -> None:
    clock = FakeClock()
    backend = FakeBackend(transfers=many(3))
    harness, core = await make_harness(
        {"seedbox": backend}, clock, limits={"board_interval": 10, "backend_timeout": 0.01}
    )
    http = FakeDiscordHTTP()
    http.install(harness.bot)
    await core.run_notices()
    await harness.command("board", ADMIN)
    board = core.service.store.state.boards[CHANNEL_ID]

    backend.stall = True
    clock.now += 10
    await core.run_notices()

    [edit] = http.edits(board)
    assert "seedbox did not answer in time" in str(edit.body["embeds"])
    assert "Connected" not in str(edit.body["embeds"])


async def test_board_is_for_admins_and_can_be_stopped(make_harness: MakeHarness) -> None:
    harness, core = await make_harness({"seedbox": FakeBackend(transfers=many(1))})
    http = FakeDiscordHTTP()
    http.install(harness.bot)

    refused = await harness.command("board", FRIEND)
    await harness.command("board", ADMIN)
    stopped = await harness.command("board", ADMIN, stop=True)
    await core.run_notices()

    assert "not allowed" in refused[0].text
    assert "no longer updated" in stopped[-1].text
    assert [r.method for r in http.requests] == ["POST"]


def test_board_stays_within_one_message_with_five_busy_daemons() -> None:
    nasty = "_*`~|" * 60
    reports = [
        Report(
            f"daemon{i}",
            "qbittorrent",
            Status(True, 10, 20, {TransferState.ACTIVE: 2000}),
            tuple(Transfer(str(n), nasty, TransferState.ACTIVE, progress=0.5) for n in range(2000)),
        )
        for i in range(5)
    ]

    embeds = render.board_embeds(reports)

    assert len(embeds) == 5
    assert sum(len(e) for e in embeds) <= render.MESSAGE_EMBEDS_MAX
    assert all("more" in (e.description or "") for e in embeds)


async def test_watching_someone_elses_download_and_the_notice_setting(
    make_harness: MakeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = FakeBackend()
    harness, core = await make_harness({"seedbox": backend}, discord={"notify_channel_id": None})
    notices = Notices()
    notices.install(core, monkeypatch)
    await core.run_notices()
    await harness.command("enqueue", FRIEND, target=MAGNET.format(1, 1))
    await harness.command("enqueue", FRIEND, target=MAGNET.format(2, 2))
    await core.run_notices()
    first, second = transfer_key("seedbox", "t1"), transfer_key("seedbox", "t2")

    choices = await harness.autocomplete("watch", "target", READER, target="")
    watched = await harness.command("watch", READER, target=first)
    again = await harness.command("watch", READER, target=first)
    shown = await harness.command("notices", READER)
    backend.set_state("t1", TransferState.COMPLETED)
    await core.run_notices()
    await harness.command("notices", READER, mode="off")
    off = await harness.command("watch", READER, target=second)
    backend.set_state("t2", TransferState.COMPLETED)
    await core.run_notices()

    assert {first, second} <= {c["value"] for c in choices}
    assert "You are watching" in watched[-1].text and "DM" in watched[-1].text
    assert "already watching" in again[-1].text
    assert "Now: You will get a DM" in shown[-1].text
    assert "your notices are off; turn them on with /notices" in off[-1].text
    assert sorted(notices.dms) == sorted(
        [
            (FRIEND.id, f"Your download **{MAGNET.format(1, 1)}** on seedbox has finished downloading."),
            (FRIEND.id, f"Your download **{MAGNET.format(2, 2)}** on seedbox has finished downloading."),
            (
                READER.id,
                f"The download you are watching, **{MAGNET.format(1, 1)}** on seedbox has finished downloading.",
            ),
        ]
    )
    assert core.service.store.state.prefs[READER.id] == "off"


async def test_watchers_in_channel_mode_are_pinged_in_the_summary(
    make_harness: MakeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "Film", TransferState.ACTIVE)])
    harness, core = await make_harness({"seedbox": backend})
    notices = Notices()
    notices.install(core, monkeypatch)
    await core.run_notices()
    await harness.command("notices", READER, mode="channel")
    await harness.command("watch", READER, target="Film")
    backend.set_state("h1", TransferState.COMPLETED)
    await core.run_notices()

    [post] = notices.channel
    assert post["content"] == f"<@{READER.id}>"
    assert post["allowed_mentions"].to_dict() == {"parse": [], "users": [READER.id]}
    assert notices.dms == []


async def test_help_lists_what_the_caller_may_do(make_harness: MakeHarness) -> None:
    harness, _ = await make_harness({"seedbox": FakeBackend()}, commands={"status": "pd-status"})

    reader = (await harness.command("help", READER))[-1].text
    friend = (await harness.command("help", FRIEND))[-1].text
    admin = (await harness.command("help", ADMIN))[-1].text

    assert "/search" in reader and "/pd-status" in reader and "/watch" in reader and "/notices" in reader
    assert "/enqueue" not in reader and "/remove" not in reader and "/board" not in reader
    assert "/enqueue" in friend and "/pause" in friend and "/remove" not in friend
    assert "/remove" in admin and "/board" in admin
    assert "/status " not in admin


async def test_disabled_commands_are_not_registered(make_harness: MakeHarness) -> None:
    harness, _ = await make_harness({"seedbox": FakeBackend()}, commands={"disabled": ["remove", "board"]})

    names = {c.name for c in harness.bot.tree.get_commands()}
    admin = (await harness.command("help", ADMIN))[-1].text

    assert "remove" not in names and "board" not in names and "enqueue" in names
    assert "/remove" not in admin and "/enqueue" in admin


async def test_enqueues_per_hour_limit_users_but_not_admins(make_harness: MakeHarness) -> None:
    clock = FakeClock()
    backend = FakeBackend()
    harness, _ = await make_harness({"seedbox": backend}, clock, limits={"enqueues_per_hour": 2})

    replies = [(await harness.command("enqueue", FRIEND, target=MAGNET.format(i, i)))[-1].text for i in range(3)]
    admin = [(await harness.command("enqueue", ADMIN, target=MAGNET.format(10 + i, i)))[-1].text for i in range(3)]
    clock.now += 3600
    later = await harness.command("enqueue", FRIEND, target=MAGNET.format(20, 20))

    assert "Queued" in replies[0] and "Queued" in replies[1]
    assert "You can queue 2 downloads per hour here and have used 2; try again in about 60 min." in replies[2]
    assert all("Queued" in text for text in admin)
    assert "Queued" in later[-1].text
    assert len([c for c in backend.calls if c[0] == "enqueue"]) == 6


async def test_status_filters_by_state_and_text(make_harness: MakeHarness) -> None:
    backend = FakeBackend(
        transfers=[
            Transfer("a", "Debian", TransferState.ACTIVE),
            Transfer("b", "Ubuntu", TransferState.PAUSED),
            Transfer("c", "Fedora", TransferState.PAUSED),
        ]
    )
    harness, _ = await make_harness({"seedbox": backend})

    paused = (await harness.command("status", READER, state="paused"))[-1].text
    ubuntu = (await harness.command("status", READER, state="paused", text="ubu"))[-1].text

    assert "Ubuntu" in paused and "Fedora" in paused and "Debian" not in paused
    assert "Ubuntu" in ubuntu and "Fedora" not in ubuntu
    assert "Showing 1 matching state paused and text" in ubuntu


async def test_status_has_one_page_per_daemon_and_a_menu_to_jump(make_harness: MakeHarness) -> None:
    backends = {f"box{i}": FakeBackend(transfers=many(2000, f"box{i} file")) for i in range(5)}
    harness, _ = await make_harness(backends)

    calls = await harness.command("status", READER)
    message = harness.adapter.messages[next(reversed(harness.adapter.messages))]
    menu = next(c for c in components(message) if c["type"] == 3)
    jumped = await harness.click(message, menu["custom_id"], READER, values=["3"])

    assert "box0 · daemon 1 of 5" in calls[-1].text
    assert [o["label"] for o in menu["options"]] == [f"box{i}" for i in range(5)]
    assert jumped[0].body["type"] == 7
    assert "box3 (qbittorrent)" in jumped[0].text and "box3 · daemon 4 of 5" in jumped[0].text
    assert "**…**" not in calls[-1].text

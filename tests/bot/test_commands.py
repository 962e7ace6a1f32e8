"""Slash commands and components driven through the real CommandTree with recorded responses."""

from __future__ import annotations

import asyncio

import pytest

from peerdeck import BackendKind, Capabilities, SearchHit, SearchKind, Transfer, TransferState
from peerdeck_bot.service import transfer_key

from .conftest import MakeHarness
from .fakes import ADMIN, FRIEND, READER, STRANGER, FakeBackend, components, custom_id


async def test_status_defers_first_and_shows_transfers(make_harness: MakeHarness) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "Ubuntu ISO", TransferState.ACTIVE, progress=0.5, eta=90)])
    harness, _ = await make_harness({"seedbox": backend})

    calls = await harness.command("status", READER)

    assert calls[0].is_defer
    assert calls[0].body["data"]["flags"] == 64
    assert "Ubuntu ISO" in calls[-1].text
    assert "█████░░░░░" in calls[-1].text
    assert "1m 30s" in calls[-1].text


def hits(n: int) -> list[SearchHit]:
    return [
        SearchHit(f"id{i}", f"Result {i}", size=1000 * i, seeders=i, link=f"magnet:?xt=urn:btih:{i:040x}")
        for i in range(n)
    ]


async def test_search_streams_then_picking_and_enqueue_button_queue_hits(make_harness: MakeHarness) -> None:
    backend = FakeBackend(hits=hits(12))
    harness, core = await make_harness({"seedbox": backend})

    calls = await harness.command("search", FRIEND, query="result")

    assert calls[0].is_defer
    final = harness.adapter.messages[next(iter(harness.adapter.messages))]
    assert "12 hits" in calls[-1].text
    assert "page 1 of 2" in calls[-1].text
    select = next(c for c in components(final) if c["type"] == 3)
    assert len(select["options"]) == 10
    assert all(len(o["label"]) <= 100 for o in select["options"])
    enqueue_id = custom_id(final, "pd:enq:")
    assert next(c for c in components(final) if c.get("custom_id") == enqueue_id)["disabled"] is True

    picked = await harness.click(final, select["custom_id"], FRIEND, values=["1", "3"])
    assert picked[0].body["type"] == 7  # the menu is redrawn as the acknowledgement itself
    redrawn = {**final, "components": picked[0].body["data"]["components"]}
    button = custom_id(redrawn, "pd:enq:")
    assert "Enqueue 2 selected" in str(redrawn["components"])

    queued = await harness.click(redrawn, button, FRIEND)

    assert queued[0].is_defer
    assert [arg.title for op, arg in backend.calls if op == "enqueue"] == ["Result 1", "Result 3"]
    assert "Queued Result 1" in queued[-1].text
    assert "DM" in queued[-1].text
    requests = core.service.store.state.requests["seedbox"]
    assert {tid: r.user_id for tid, r in requests.items()} == {"t1": FRIEND.id, "t2": FRIEND.id}


async def test_next_page_button_turns_the_page(make_harness: MakeHarness) -> None:
    harness, _ = await make_harness({"seedbox": FakeBackend(hits=hits(12))})
    await harness.command("search", FRIEND, query="result")
    final = next(iter(harness.adapter.messages.values()))

    next_page = next(
        c["custom_id"]
        for c in components(final)
        if c.get("custom_id", "").startswith("pd:pg:") and c["custom_id"].endswith(":n")
    )

    calls = await harness.click(final, next_page, FRIEND)

    assert "page 2 of 2" in calls[0].text
    assert "Result 11" in calls[0].text


async def test_result_buttons_refuse_other_users_and_read_only_users(make_harness: MakeHarness) -> None:
    backend = FakeBackend(hits=hits(3))
    harness, _ = await make_harness({"seedbox": backend})
    await harness.command("search", READER, query="result")
    final = next(iter(harness.adapter.messages.values()))
    select = next(c for c in components(final) if c["type"] == 3)
    picked = await harness.click(final, select["custom_id"], READER, values=["0"])
    redrawn = {**final, "components": picked[0].body["data"]["components"]}
    button = custom_id(redrawn, "pd:enq:")

    other = await harness.click(redrawn, button, FRIEND)
    read_only = await harness.click(redrawn, button, READER)

    assert "belong to someone else" in other[0].text and other[0].ephemeral
    assert "not allowed" in read_only[0].text and read_only[0].ephemeral
    assert not [c for c in backend.calls if c[0] == "enqueue"]


async def test_result_menu_survives_a_restart(make_harness: MakeHarness) -> None:
    harness, _ = await make_harness({"seedbox": FakeBackend(hits=hits(3))})
    await harness.command("search", FRIEND, query="result")
    final = next(iter(harness.adapter.messages.values()))
    select = next(c for c in components(final) if c["type"] == 3)
    picked = await harness.click(final, select["custom_id"], FRIEND, values=["2"])
    redrawn = {**final, "components": picked[0].body["data"]["components"]}
    for name in list(harness.bot.cogs):
        await harness.bot.remove_cog(name)

    backend = FakeBackend()
    restarted, _ = await make_harness({"seedbox": backend})
    calls = await restarted.click(redrawn, custom_id(redrawn, "pd:enq:"), FRIEND)

    assert [arg.title for op, arg in backend.calls if op == "enqueue"] == ["Result 2"]
    assert "Queued Result 2" in calls[-1].text


async def test_permissions_hold_in_commands_and_autocomplete(make_harness: MakeHarness) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "Debian", TransferState.ACTIVE)])
    harness, core = await make_harness({"seedbox": backend})
    await core.service.poll()

    stranger = await harness.command("status", STRANGER)
    reader_pause = await harness.command("pause", READER, target="Debian")
    reader_choices = await harness.autocomplete("pause", "target", READER, target="deb")
    friend_choices = await harness.autocomplete("pause", "target", FRIEND, target="deb")
    friend_pause = await harness.command("pause", FRIEND, target=transfer_key("seedbox", "h1"))

    assert "not allowed" in stranger[0].text and stranger[0].ephemeral
    assert "not allowed" in reader_pause[0].text
    assert reader_choices == []
    assert [c["value"] for c in friend_choices] == [transfer_key("seedbox", "h1")]
    assert friend_pause[0].is_defer
    assert "Paused **Debian** on seedbox" in friend_pause[-1].text
    assert [c for c in backend.calls if c[0] == "pause"] == [("pause", ["h1"])]


async def test_remove_is_admin_only_and_asks_first(make_harness: MakeHarness) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "Debian", TransferState.ACTIVE)])
    harness, _ = await make_harness({"seedbox": backend})

    refused = await harness.command("remove", FRIEND, target="Debian")
    asked = await harness.command("remove", ADMIN, target="Debian", delete_data=True)
    message = harness.adapter.messages[next(reversed(harness.adapter.messages))]
    confirm = next(c["custom_id"] for c in components(message) if c["label"].startswith("Remove"))
    not_owner = await harness.click(message, confirm, FRIEND)
    done = await harness.click(message, confirm, ADMIN)

    assert "not allowed" in refused[0].text
    assert "delete its files" in asked[-1].text
    assert "someone else" in not_owner[0].text
    assert "Removed **Debian**" in done[-1].text
    assert ("remove", (["h1"], True)) in backend.calls


async def test_not_supported_pause_explains_the_alternative(make_harness: MakeHarness) -> None:
    slskd = FakeBackend(kind=BackendKind.SLSKD, capabilities=Capabilities(search=SearchKind.P2P, pause=False))
    harness, _ = await make_harness({"music": slskd})

    calls = await harness.command("pause", ADMIN, target="all")

    assert calls[0].is_defer
    assert "music (slskd) cannot pause transfers. Use /remove" in calls[-1].text
    assert calls[-1].ephemeral
    assert not [c for c in slskd.calls if c[0] == "pause"]


async def test_stalled_backend_times_out_into_a_plain_message(make_harness: MakeHarness) -> None:
    backend = FakeBackend()
    backend.stall = True
    harness, _ = await make_harness({"seedbox": backend}, limits={"backend_timeout": 0.05})

    calls = await harness.command("pause", ADMIN, target="all")

    assert calls[0].is_defer
    assert "seedbox did not answer in time" in calls[-1].text
    assert "Traceback" not in calls[-1].text


async def test_names_with_markdown_and_mentions_are_escaped(make_harness: MakeHarness) -> None:
    nasty = "@everyone **free** <@123456789012345678> `x`"
    backend = FakeBackend(transfers=[Transfer("h1", nasty, TransferState.ACTIVE)])
    harness, _ = await make_harness({"seedbox": backend})

    calls = await harness.command("status", ADMIN)

    text = calls[-1].text
    assert "@everyone" not in text and "@\u200beveryone" in text
    assert "\\*\\*free\\*\\*" in text
    assert "<@123456789012345678>" not in text
    assert calls[-1].body["allowed_mentions"]["parse"] == []


async def test_search_has_a_per_user_cooldown(make_harness: MakeHarness) -> None:
    harness, _ = await make_harness({"seedbox": FakeBackend(hits=hits(1))})

    await harness.command("search", FRIEND, query="one")
    second = await harness.command("search", FRIEND, query="two")
    other_user = await harness.command("search", ADMIN, query="three")

    assert "search again in" in second[-1].text
    assert "· 1 hit ·" in other_user[-1].text


async def test_enqueue_magnet_and_recent_hit_autocomplete(make_harness: MakeHarness) -> None:
    backend = FakeBackend(hits=hits(2))
    harness, core = await make_harness({"seedbox": backend})
    magnet = "magnet:?xt=urn:btih:" + "b" * 40 + "&dn=My+File"

    calls = await harness.command("enqueue", FRIEND, target=magnet, notify="channel")
    await harness.command("search", FRIEND, query="result")
    choices = await harness.autocomplete("enqueue", "target", FRIEND, target="result 1")
    picked = await harness.command("enqueue", FRIEND, target=choices[0]["value"])

    assert calls[0].is_defer
    assert "Queued **My File** on seedbox" in calls[-1].text
    assert "mentioned in the notification channel" in calls[-1].text
    assert [c["name"] for c in choices] == ["Result 1 (seedbox)"]
    assert "Queued **Result 1**" in picked[-1].text
    assert core.service.store.state.prefs[FRIEND.id] == "channel"


async def test_search_on_a_backend_without_search_says_what_to_do(make_harness: MakeHarness) -> None:
    harness, _ = await make_harness({"sync": FakeBackend(kind=BackendKind.SYNCTHING, capabilities=Capabilities())})

    calls = await harness.command("search", ADMIN, query="x")

    assert "sync (syncthing) has no search. Use /enqueue" in calls[-1].text


STALLED_COMMANDS = [
    ("search", {"query": "x"}),
    ("enqueue", {"target": "magnet:?xt=urn:btih:" + "a" * 40}),
    ("pause", {"target": "all"}),
    ("resume", {"target": "all"}),
    ("status", {}),
    ("remove", {"target": "Debian"}),
    ("watch", {"target": "Debian"}),
]


@pytest.mark.parametrize(("name", "options"), STALLED_COMMANDS, ids=[n for n, _ in STALLED_COMMANDS])
async def test_every_command_is_acknowledged_before_a_stalled_backend_answers(
    make_harness: MakeHarness, name: str, options: dict[str, str]
) -> None:
    backend = FakeBackend(transfers=[Transfer("h1", "Debian", TransferState.ACTIVE)])
    backend.stall = True
    harness, _ = await make_harness({"seedbox": backend}, limits={"backend_timeout": 30})

    tasks = harness.start_command(name, ADMIN, **options)
    await backend.entered.wait()

    assert harness.adapter.calls and harness.adapter.calls[0].is_defer
    assert not any(t.done() for t in tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_enqueue_button_and_autocomplete_answer_while_the_backend_stalls(make_harness: MakeHarness) -> None:
    backend = FakeBackend(hits=hits(2), transfers=[Transfer("h1", "Debian", TransferState.ACTIVE)])
    harness, core = await make_harness({"seedbox": backend}, limits={"backend_timeout": 30})
    await core.service.poll()
    await harness.command("search", FRIEND, query="result")
    final = next(iter(harness.adapter.messages.values()))
    select = next(c for c in components(final) if c["type"] == 3)
    picked = await harness.click(final, select["custom_id"], FRIEND, values=["0"])
    redrawn = {**final, "components": picked[0].body["data"]["components"]}
    backend.stall = True
    backend.entered.clear()

    choices = await harness.autocomplete("pause", "target", FRIEND, target="deb")
    start = len(harness.adapter.calls)
    tasks = harness.start_click(redrawn, custom_id(redrawn, "pd:enq:"), FRIEND)
    await backend.entered.wait()

    assert [c["value"] for c in choices] == [transfer_key("seedbox", "h1")]
    assert harness.adapter.calls[start].is_defer
    assert not any(t.done() for t in tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

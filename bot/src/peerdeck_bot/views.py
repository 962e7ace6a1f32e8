"""Components: the search result menu and the /remove confirmation (both survive restarts and
reloads, as they carry their state in their custom ids), and the /status pager."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any, Literal, Protocol, Self, TypeAlias, runtime_checkable

import discord
from discord import ui
from discord.ext import commands

from . import render, text
from .service import TRANSFER_PREFIX
from .state import SearchRecord

Tier: TypeAlias = Literal["anyone", "read", "write", "admin"]
HOST_COG = "Peerdeck"
_ID = r"(?P<sid>[0-9a-f]{10}):(?P<uid>[0-9]{1,20}):(?P<page>[0-9]{1,4})"


@runtime_checkable
class ComponentHost(Protocol):
    """What the result menu needs from the loaded extension."""

    async def component_allowed(self, interaction: discord.Interaction[Any], owner_id: int, tier: Tier) -> bool:
        """Whether this user may use this component; answers the user when not."""
        ...

    async def show_page(
        self, interaction: discord.Interaction[Any], search_id: str, page: int, chosen: set[int]
    ) -> None:
        """Redraw the result menu at ``page`` with ``chosen`` hits ticked."""
        ...

    async def enqueue_hits(self, interaction: discord.Interaction[Any], search_id: str, indices: list[int]) -> None:
        """Enqueue the chosen hits."""
        ...

    async def remove_confirmed(self, interaction: discord.Interaction[Any], key: str, delete_data: bool) -> None:
        """Remove the transfer behind ``key`` (the user confirmed), reporting the outcome in the prompt."""
        ...


def _host(interaction: discord.Interaction[Any]) -> ComponentHost | None:
    client = interaction.client
    cog = client.get_cog(HOST_COG) if isinstance(client, commands.Bot) else None
    return cog if isinstance(cog, ComponentHost) else None


class HitSelect(ui.DynamicItem[ui.Select[ui.View]], template=rf"pd:sel:{_ID}"):
    """Pick hits on the current page."""

    def __init__(self, search_id: str, user_id: int, page: int, options: list[discord.SelectOption]) -> None:
        super().__init__(
            ui.Select(
                custom_id=f"pd:sel:{search_id}:{user_id}:{page}",
                placeholder="Pick results to download",
                options=options,
                max_values=max(1, len(options)),
            ),
            row=0,
        )
        self.search_id, self.user_id, self.page = search_id, user_id, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        """Rebuild from a clicked message."""
        options = list(item.options) if isinstance(item, ui.Select) else []
        return cls(match["sid"], int(match["uid"]), int(match["page"]), options)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Only the requester."""
        host = _host(interaction)
        return host is not None and await host.component_allowed(interaction, self.user_id, "read")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Tick the chosen hits."""
        host = _host(interaction)
        if host is not None:
            chosen = {int(v) for v in self.item.values if v.isdigit()}
            await host.show_page(interaction, self.search_id, self.page, chosen)


class EnqueueButton(ui.DynamicItem[ui.Button[ui.View]], template=rf"pd:enq:{_ID}:(?P<mask>[0-9a-f]{{1,8}})"):
    """Enqueue the hits ticked on this page (they are encoded in the custom id)."""

    def __init__(self, search_id: str, user_id: int, page: int, mask: int) -> None:
        count = mask.bit_count()
        super().__init__(
            ui.Button(
                label=f"Enqueue {count} selected" if count else "Enqueue",
                style=discord.ButtonStyle.success,
                custom_id=f"pd:enq:{search_id}:{user_id}:{page}:{mask:x}",
                disabled=count == 0,
            ),
            row=1,
        )
        self.search_id, self.user_id, self.page, self.mask = search_id, user_id, page, mask

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        """Rebuild from a clicked message."""
        return cls(match["sid"], int(match["uid"]), int(match["page"]), int(match["mask"], 16))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Only the requester, and only with the write tier."""
        host = _host(interaction)
        return host is not None and await host.component_allowed(interaction, self.user_id, "write")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Enqueue."""
        host = _host(interaction)
        if host is not None:
            base = self.page * render.PAGE_SIZE
            indices = [base + bit for bit in range(render.PAGE_SIZE) if self.mask >> bit & 1]
            await host.enqueue_hits(interaction, self.search_id, indices)


class PageButton(ui.DynamicItem[ui.Button[ui.View]], template=rf"pd:pg:{_ID}:(?P<dir>[pn])"):
    """Previous or next page of results."""

    def __init__(self, search_id: str, user_id: int, page: int, direction: str, *, disabled: bool = False) -> None:
        super().__init__(
            ui.Button(
                label="Previous" if direction == "p" else "Next",
                style=discord.ButtonStyle.secondary,
                custom_id=f"pd:pg:{search_id}:{user_id}:{page}:{direction}",
                disabled=disabled,
            ),
            row=1,
        )
        self.search_id, self.user_id, self.page = search_id, user_id, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        """Rebuild from a clicked message."""
        return cls(match["sid"], int(match["uid"]), int(match["page"]), match["dir"])

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Only the requester."""
        host = _host(interaction)
        return host is not None and await host.component_allowed(interaction, self.user_id, "read")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Turn the page."""
        host = _host(interaction)
        if host is not None:
            await host.show_page(interaction, self.search_id, self.page, set())


class RemoveButton(
    ui.DynamicItem[ui.Button[ui.View]],
    template=r"pd:rm:(?P<uid>[0-9]{1,20}):(?P<until>[0-9]{1,12}):(?P<files>[01]):(?P<key>[0-9a-f]{12})",
):
    """Confirm a removal; carries who may press it, until when, and which transfer (by its short key)."""

    def __init__(self, user_id: int, until: int, delete_data: bool, key: str) -> None:
        super().__init__(
            ui.Button(
                label="Remove with files" if delete_data else "Remove",
                style=discord.ButtonStyle.danger,
                custom_id=f"pd:rm:{user_id}:{until}:{int(delete_data)}:{key}",
            )
        )
        self.user_id, self.until, self.delete_data, self.key = user_id, until, delete_data, key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        """Rebuild from a clicked message."""
        return cls(int(match["uid"]), int(match["until"]), match["files"] == "1", match["key"])

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Only whoever asked, still holding the admin tier."""
        host = _host(interaction)
        return host is not None and await host.component_allowed(interaction, self.user_id, "admin")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Remove, unless the prompt is too old to trust."""
        if time.time() > self.until:
            await interaction.response.edit_message(
                content="This question has expired; nothing was removed. Run the command again.", view=None
            )
            return
        host = _host(interaction)
        if host is not None:
            await host.remove_confirmed(interaction, TRANSFER_PREFIX + self.key, self.delete_data)


class CancelButton(ui.DynamicItem[ui.Button[ui.View]], template=r"pd:rmc:(?P<uid>[0-9]{1,20})"):
    """Decline a removal."""

    def __init__(self, user_id: int) -> None:
        super().__init__(ui.Button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=f"pd:rmc:{user_id}"))
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        """Rebuild from a clicked message."""
        return cls(int(match["uid"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Only whoever asked."""
        host = _host(interaction)
        return host is not None and await host.component_allowed(interaction, self.user_id, "anyone")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Do nothing."""
        await interaction.response.edit_message(content="Cancelled; nothing was removed.", view=None)


def remove_view(user_id: int, key: str, *, delete_data: bool, lifetime: float = 300.0) -> ui.View:
    """The confirmation prompt of /remove."""
    view = ui.View(timeout=None)
    view.add_item(RemoveButton(user_id, int(time.time() + lifetime), delete_data, key.removeprefix(TRANSFER_PREFIX)))
    view.add_item(CancelButton(user_id))
    return view


DYNAMIC_ITEMS = (HitSelect, EnqueueButton, PageButton, RemoveButton, CancelButton)


def search_view(record: SearchRecord, page: int, chosen: set[int]) -> ui.View | None:
    """The result menu for one page, or None when there is nothing to pick."""
    start = page * render.PAGE_SIZE
    hits = record.hits[start : start + render.PAGE_SIZE]
    if not hits:
        return None
    options = [
        discord.SelectOption(
            label=text.label(hit.title, 100),
            value=str(index),
            description=text.clip(render.hit_details(hit), 100),
            default=index in chosen,
        )
        for index, hit in enumerate(hits, start)
    ]
    mask = sum(1 << (i - start) for i in chosen if start <= i < start + len(hits))
    view = ui.View(timeout=None)
    view.add_item(HitSelect(record.id, record.user_id, page, options))
    pages = render.page_count(record)
    if pages > 1:
        view.add_item(PageButton(record.id, record.user_id, max(page - 1, 0), "p", disabled=page == 0))
    view.add_item(EnqueueButton(record.id, record.user_id, page, mask))
    if pages > 1:
        view.add_item(PageButton(record.id, record.user_id, min(page + 1, pages - 1), "n", disabled=page >= pages - 1))
    return view


class OwnedView(ui.View):
    """A short-lived view only its owner may use; on timeout its controls are disabled."""

    def __init__(self, owner_id: int, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.origin: discord.Interaction[Any] | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Only the owner."""
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            "These buttons belong to someone else; run the command yourself.", ephemeral=True
        )
        return False

    async def on_timeout(self) -> None:
        """Disable every control."""
        for item in self.children:
            if isinstance(item, ui.Button | ui.Select):
                item.disabled = True
        if self.origin is not None:
            try:
                await self.origin.edit_original_response(view=self)
            except discord.HTTPException:
                return


class Pager(OwnedView):
    """/status: one page per daemon, Previous/Next, and a menu that jumps to a daemon."""

    def __init__(
        self, owner_id: int, pages: Sequence[discord.Embed], names: Sequence[str], *, timeout: float = 600.0
    ) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.pages = list(pages)
        self.index = 0
        options = [discord.SelectOption(label=text.clip(n, 100), value=str(i)) for i, n in enumerate(names[:25])]
        self.jump: ui.Select[Pager] = ui.Select(placeholder="Jump to a daemon", options=options, row=0)
        self.jump.callback = self._jump  # type: ignore[method-assign]
        self.add_item(self.jump)
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1
        for option in self.jump.options:
            option.default = option.value == str(self.index)

    async def _show(self, interaction: discord.Interaction[Any], index: int) -> None:
        self.index = index
        self._sync()
        await interaction.response.edit_message(embed=self.pages[index], view=self)

    async def _jump(self, interaction: discord.Interaction[Any]) -> None:
        """Show the chosen daemon."""
        await self._show(interaction, int(self.jump.values[0]))

    @ui.button(label="Previous", style=discord.ButtonStyle.secondary, row=1)
    async def previous(self, interaction: discord.Interaction[Any], _: ui.Button[Self]) -> None:
        """Show the previous daemon."""
        await self._show(interaction, max(0, self.index - 1))

    @ui.button(label="Next", style=discord.ButtonStyle.secondary, row=1)
    async def next(self, interaction: discord.Interaction[Any], _: ui.Button[Self]) -> None:
        """Show the next daemon."""
        await self._show(interaction, min(len(self.pages) - 1, self.index + 1))

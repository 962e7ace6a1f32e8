"""The core cog: owns the service, runs the background refresh, delivers notices and keeps the live boards."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from peerdeck import (
    Enqueued,
    PeerdeckError,
)

from . import render, text
from .boards import BoardPacer
from .config import BotConfig, NotifyMode, PermissionConfig
from .errors import BackendError, UserFacingError, describe
from .service import PeerdeckService
from .state import Delivery
from .text import plural
from .views import DYNAMIC_ITEMS, HOST_COG, Tier, search_view

if TYPE_CHECKING:
    from .cogs import VerbCog

_LOGGER = logging.getLogger(__name__)
_TIER_WORDS = {
    "anyone": "use Peerdeck",
    "read": "use Peerdeck",
    "write": "start or change downloads",
    "admin": "manage downloads",
}


class NotAllowed(app_commands.CheckFailure):
    """The user lacks the role tier a command needs."""


def member_allowed(interaction: discord.Interaction[Any], tier: Tier, perms: PermissionConfig) -> bool:
    """Whether the user holds ``tier``: administrators always; otherwise by configured roles."""
    if interaction.guild is None:
        return False
    if tier == "anyone" or interaction.permissions.administrator:
        return True
    user = interaction.user
    roles = user.roles if isinstance(user, discord.Member) else []
    ids, names = {r.id for r in roles}, {r.name for r in roles}

    def has(wanted: Sequence[int | str]) -> bool:
        return any((r in ids) if isinstance(r, int) else (r in names) for r in wanted)

    admin = has(perms.admin_roles)
    write = admin or has(perms.write_roles)
    if tier == "admin":
        return admin
    if tier == "write":
        return write
    return write or not perms.read_roles or has(perms.read_roles)


def choices(pairs: Sequence[tuple[str, str]]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=text.clip(name, 100), value=value) for name, value in pairs[:25]]


class PeerdeckCore(commands.Cog, name=HOST_COG):
    """Owns the service, runs the background refresh and delivers completion notices."""

    def __init__(self, bot: commands.Bot, service: PeerdeckService) -> None:
        self.bot = bot
        self.service = service
        self.config: BotConfig = service.config
        self.skipped: list[str] = []
        self.verbs: list[VerbCog] = []
        self.pacer = BoardPacer(service.config.limits.board_interval, service.clock)
        self._task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        """Start the service and the background loop (which waits until the bot is connected)."""
        await self.service.start()
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self._task = asyncio.create_task(self._background(), name="peerdeck-notices")

    async def cog_unload(self) -> None:
        """Stop the loop and close every backend session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        await self.service.close()

    async def _background(self) -> None:
        await self.bot.wait_until_ready()
        while True:
            try:
                await self.run_notices()
            except Exception:
                _LOGGER.exception("a Peerdeck notice round failed")
            await asyncio.sleep(self.config.limits.poll_interval)

    async def run_notices(self) -> None:
        """One round: refresh every backend, send what finished, bring the status boards up to date."""
        await self.service.poll()
        await self.service.flush(self.deliver)
        await self.update_boards()

    # ------------------------------------------------------------------ live status boards

    async def update_boards(self) -> None:
        """Edit each board whose content changed, at most once per ``board_interval``."""
        boards = self.service.store.state.boards
        if not boards:
            return
        embeds = render.board_embeds(self.service.cached_reports())
        fingerprint = json.dumps([e.to_dict() for e in embeds], sort_keys=True)
        for channel_id, message_id in list(boards.items())[: self.config.limits.max_boards]:
            if not self.pacer.due(channel_id, fingerprint):
                continue
            message = self.bot.get_partial_messageable(channel_id).get_partial_message(message_id)
            try:
                await message.edit(embeds=render.stamped(embeds), allowed_mentions=render.NO_MENTIONS)
            except (discord.NotFound, discord.Forbidden) as err:
                _LOGGER.warning(
                    "the status board in channel %s is gone or not editable (HTTP %s)", channel_id, err.status
                )
                self.pacer.forget(channel_id)
                boards.pop(channel_id, None)  # saved with the next poll
                continue
            except discord.HTTPException as err:
                _LOGGER.warning("cannot edit the status board in channel %s (HTTP %s)", channel_id, err.status)
                continue
            self.pacer.shown(channel_id, fingerprint)

    async def post_board(self, channel_id: int) -> discord.Message:
        """Post a new board in the channel, replacing an older one there; at most ``max_boards`` in all."""
        boards = self.service.store.state.boards
        most = self.config.limits.max_boards
        if channel_id not in boards and len(boards) >= most:
            where = self.config.command_names["board"]
            raise UserFacingError(
                f"The bot already keeps {plural(most, 'live board')} up to date, as many as the bot owner allows. "
                f"Stop one first with /{where} stop:True in its channel."
            )
        embeds = render.board_embeds(self.service.cached_reports())
        message = await self.bot.get_partial_messageable(channel_id).send(
            embeds=render.stamped(embeds), allowed_mentions=render.NO_MENTIONS
        )
        old = self.service.store.state.boards.get(channel_id)
        if old is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.bot.get_partial_messageable(channel_id).get_partial_message(old).delete()
        self.service.store.state.boards[channel_id] = message.id
        self.pacer.shown(channel_id, json.dumps([e.to_dict() for e in embeds], sort_keys=True))
        await self.service.store.save()
        return message

    async def forget_board(self, channel_id: int) -> int | None:
        """Stop editing the board of ``channel_id``; its message id, if there was one."""
        self.pacer.forget(channel_id)
        message_id = self.service.store.state.boards.pop(channel_id, None)
        await self.service.store.save()
        return message_id

    # ------------------------------------------------------------------ notices

    async def deliver(self, nonce: str, batch: Sequence[Delivery]) -> bool:
        """Send one planned message (a DM, or a channel summary); True when done or never possible."""
        first = batch[0]
        if first.target == "dm" and first.user_id is not None:
            try:
                user = await self.resolve_user(first.user_id)
                await user.send(render.dm_notice(first), allowed_mentions=render.NO_MENTIONS, nonce=nonce)
            except discord.Forbidden:
                _LOGGER.info("user %s does not accept DMs from the bot; notice dropped", first.user_id)
            except discord.HTTPException as err:
                _LOGGER.warning("cannot DM a notice (HTTP %s); will retry", err.status)
                return False
            return True
        content, embed, pinged = render.channel_summary(batch)
        mentions = discord.AllowedMentions(
            everyone=False, roles=False, replied_user=False, users=[discord.Object(u) for u in pinged]
        )
        try:
            channel = await self.resolve_channel()
            await channel.send(content=content, embed=embed, allowed_mentions=mentions, nonce=nonce)
        except discord.HTTPException as err:
            _LOGGER.warning("cannot post notices to the channel (HTTP %s); will retry", err.status)
            return False
        except UserFacingError as err:
            _LOGGER.warning("cannot post notices: %s", err)
            return False
        return True

    async def resolve_user(self, user_id: int) -> discord.abc.Messageable:
        """The user to DM."""
        return self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)

    async def resolve_channel(self) -> discord.abc.Messageable:
        """The configured notification channel."""
        channel_id = self.config.notify_channel_id
        if channel_id is None:
            raise UserFacingError("no notification channel is configured")
        channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise UserFacingError("the notification channel cannot take messages")
        return channel

    # ------------------------------------------------------------------ permissions and errors

    def allowed(self, interaction: discord.Interaction[Any], tier: Tier) -> bool:
        """Whether the user holds ``tier``."""
        return member_allowed(interaction, tier, self.config.permissions)

    def saved_note(self) -> str:
        """A warning for the user when the bot could not save what it must remember."""
        if self.service.store.problem is None:
            return ""
        return (
            "\n⚠️ The bot could not save its records, so if it restarts before this finishes the notice may be lost. "
            "The bot owner can see why in the log."
        )

    def require(self, interaction: discord.Interaction[Any], tier: Tier) -> None:
        """Raise :class:`NotAllowed` unless the user holds ``tier``."""
        if interaction.guild is None:
            raise NotAllowed("Peerdeck commands work in servers only.")
        if not self.allowed(interaction, tier):
            raise NotAllowed(f"You are not allowed to {_TIER_WORDS[tier]} here. Ask a server admin for the role.")

    async def reply_error(self, interaction: discord.Interaction[Any], error: BaseException) -> None:
        """Tell the user what went wrong, privately and in plain words."""
        if isinstance(error, NotAllowed):
            message = str(error)
        elif isinstance(error, app_commands.TransformerError):  # discord.py's own words name its types
            message = "That value does not fit this option. Pick one of the suggestions, or check what you typed."
        else:
            known = (UserFacingError, BackendError, PeerdeckError, app_commands.CheckFailure)
            if not isinstance(error, known):
                _LOGGER.error("Peerdeck command failed", exc_info=error)
            message = describe(error)
        await reply(interaction, render.safe(message, render.MESSAGE_MAX, room=render.MESSAGE_MAX))

    # ------------------------------------------------------------------ result menu (ComponentHost)

    async def component_allowed(self, interaction: discord.Interaction[Any], owner_id: int, tier: Tier) -> bool:
        """Only the requester, holding ``tier``; anyone else is told why."""
        if interaction.user.id != owner_id:
            await reply(interaction, "These results belong to someone else; run your own search.")
            return False
        try:
            self.require(interaction, tier)
        except NotAllowed as err:
            await reply(interaction, str(err))
            return False
        return True

    async def show_page(
        self, interaction: discord.Interaction[Any], search_id: str, page: int, chosen: set[int]
    ) -> None:
        """Redraw the menu; answering with the edit itself, so there is no wait."""
        try:
            record = self.service.search_record(search_id)
        except UserFacingError as err:
            await reply(interaction, str(err))
            return
        page = min(max(page, 0), render.page_count(record) - 1)
        await interaction.response.edit_message(
            embed=render.search_embed(record, page, chosen),
            view=search_view(record, page, chosen),
            allowed_mentions=render.NO_MENTIONS,
        )

    async def enqueue_hits(self, interaction: discord.Interaction[Any], search_id: str, indices: list[int]) -> None:
        """Acknowledge, then enqueue each chosen hit and report."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            record = self.service.search_record(search_id)
            hits = [record.hits[i] for i in indices if i < len(record.hits)]
            self.take_quota(interaction, len(hits))
            mode = self.service.notify_mode(interaction.user.id, None)
            lines = []
            followed = False
            for hit in hits:
                try:
                    ids = await self.service.enqueue(record.backend, hit, interaction.user.id, mode)
                except (BackendError, UserFacingError) as err:
                    self.service.quota.give_back(interaction.user.id, 1)
                    lines.append(f"❌ {render.safe(hit.title, 150)}: {render.safe(describe(err), 300)}")
                else:
                    lines.append(f"✅ Queued {render.safe(hit.title, 150)}")
                    why_not = unfollowed(ids)
                    lines += [why_not] if why_not else []
                    followed = followed or not why_not
            if followed:
                lines.append(notice_hint(mode, self.config) + self.saved_note())
            await reply(interaction, render.fit_lines(lines, render.MESSAGE_MAX, more="… and {n} more."))
        except Exception as err:
            await self.reply_error(interaction, err)

    def take_quota(self, interaction: discord.Interaction[Any], count: int) -> None:
        """Count ``count`` downloads against the user's hourly limit (admins have none)."""
        if not self.allowed(interaction, "admin"):
            self.service.quota.take(interaction.user.id, count)

    async def remove_confirmed(self, interaction: discord.Interaction[Any], key: str, delete_data: bool) -> None:
        """Remove the confirmed transfer; whatever happens, the prompt ends with the outcome."""
        await interaction.response.edit_message(content="Working on it…", view=None)
        try:
            name, transfer = await self.service.find_key(key, "remove")
            await self.service.remove(name, [transfer.id], delete_data=delete_data)
            shown = f"**{render.safe(transfer.name, 300)}** from {render.safe(name, 40)}"
            outcome = f"Removed {shown}" + (" and its files." if delete_data else ".")
        except Exception as err:
            if not isinstance(err, UserFacingError | BackendError):
                _LOGGER.exception("Peerdeck remove failed")
            outcome = render.safe(describe(err), render.MESSAGE_MAX, room=render.MESSAGE_MAX)
        await interaction.edit_original_response(content=outcome, allowed_mentions=render.NO_MENTIONS)


def unfollowed(ids: list[str]) -> str | None:
    """Why no completion notice can come for what was just queued, or None when one can.

    SoulSync hands a request straight to the Soulseek daemon, where it can never be seen
    finishing, and a wishlist entry it did not start now has no id to follow.
    """
    if isinstance(ids, Enqueued) and ids.notice and not ids:
        return f"{ids.notice} No completion notice can be sent for it."
    return None


def notice_hint(mode: NotifyMode, config: BotConfig) -> str:
    if mode == "dm" or (mode == "channel" and config.notify_channel_id is None):
        return "You will get a DM when it finishes."
    if mode == "channel":
        return "You will be mentioned in the notification channel when it finishes."
    return "No notice will be sent to you."


async def reply(interaction: discord.Interaction[Any], message: str) -> None:
    """An ephemeral answer, whether or not the interaction was acknowledged yet."""
    if interaction.response.is_done():
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=render.NO_MENTIONS)
    else:
        await interaction.response.send_message(message, ephemeral=True, allowed_mentions=render.NO_MENTIONS)

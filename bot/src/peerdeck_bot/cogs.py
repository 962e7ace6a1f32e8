"""The Discord side: one cog per slash command, plus a core cog owning the service and the notices."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import discord
from discord import app_commands
from discord.ext import commands

from peerdeck import (
    Enqueued,
    EnqueueTarget,
    Magnet,
    PeerdeckError,
    SearchHit,
    TextRequest,
    TorrentFile,
    TorrentUrl,
)

from . import render
from .config import BotConfig, NotifyMode, PermissionConfig
from .errors import BackendError, UserFacingError, describe
from .service import PeerdeckService
from .state import Delivery
from .views import DYNAMIC_ITEMS, HOST_COG, Confirm, Pager, Tier, search_view

_LOGGER = logging.getLogger(__name__)
MAX_TORRENT_BYTES = 10 * 1024 * 1024
_TIER_WORDS = {"read": "use Peerdeck", "write": "start or change downloads", "admin": "remove downloads"}


class NotAllowed(app_commands.CheckFailure):
    """The user lacks the role tier a command needs."""


def member_allowed(interaction: discord.Interaction[Any], tier: Tier, perms: PermissionConfig) -> bool:
    """Whether the user holds ``tier``: administrators always; otherwise by configured roles."""
    if interaction.guild is None:
        return False
    if interaction.permissions.administrator:
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


def _choices(pairs: Sequence[tuple[str, str]]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=render.clip(name, 100), value=value) for name, value in pairs[:25]]


def _describe_target(target: EnqueueTarget) -> str:
    if isinstance(target, SearchHit):
        return target.title
    if isinstance(target, Magnet):
        for part in target.uri.split("?", 1)[-1].split("&"):
            key, _, value = part.partition("=")
            if key == "dn" and value:
                return value.replace("+", " ")
        return "the magnet link"
    if isinstance(target, TorrentUrl):
        return target.url
    if isinstance(target, TorrentFile):
        return target.filename
    if isinstance(target, TextRequest):
        return target.query
    return target.source


class PeerdeckCore(commands.Cog, name=HOST_COG):
    """Owns the service, runs the background refresh and delivers completion notices."""

    def __init__(self, bot: commands.Bot, service: PeerdeckService) -> None:
        self.bot = bot
        self.service = service
        self.config: BotConfig = service.config
        self.skipped: list[str] = []
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
        """One round: refresh every backend, then send what finished."""
        await self.service.poll()
        await self.service.flush(self.deliver)

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
        else:
            known = (UserFacingError, BackendError, PeerdeckError, app_commands.CheckFailure)
            if not isinstance(error, known):
                _LOGGER.error("Peerdeck command failed", exc_info=error)
            message = describe(error)
        await reply(interaction, render.safe(message, render.MESSAGE_MAX))

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
            mode = self.service.notify_mode(interaction.user.id, None)
            lines = []
            followed = False
            for index in indices:
                if index >= len(record.hits):
                    continue
                hit = record.hits[index]
                try:
                    ids = await self.service.enqueue(record.backend, hit, interaction.user.id, mode)
                except (BackendError, UserFacingError) as err:
                    lines.append(f"❌ {render.safe(hit.title, 150)}: {render.safe(describe(err), 300)}")
                else:
                    lines.append(f"✅ Queued {render.safe(hit.title, 150)}")
                    unfollowed = _unfollowed(ids)
                    lines += [unfollowed] if unfollowed else []
                    followed = followed or not unfollowed
            if followed:
                lines.append(_notice_hint(mode, self.config))
            await reply(interaction, render.clip("\n".join(lines), render.MESSAGE_MAX))
        except Exception as err:
            await self.reply_error(interaction, err)


def _unfollowed(ids: list[str]) -> str | None:
    """Why no completion notice can come for what was just queued, or None when one can.

    SoulSync hands a request straight to the Soulseek daemon, where it can never be seen
    finishing, and a wishlist entry it did not start now has no id to follow.
    """
    if isinstance(ids, Enqueued) and ids.notice and not ids:
        return f"{ids.notice} No completion notice can be sent for it."
    return None


def _notice_hint(mode: NotifyMode, config: BotConfig) -> str:
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


class VerbCog(commands.Cog):
    """Base of the command cogs: renames the command per config and enforces the role tier."""

    verb: ClassVar[str]
    tier: ClassVar[Tier]

    def __init__(self, core: PeerdeckCore) -> None:
        self.core = core
        self.service = core.service
        perms = core.config.permissions
        configured = {"read": True, "write": bool(perms.write_roles), "admin": bool(perms.admin_roles)}[self.tier]
        for command in self.get_app_commands():
            command.name = core.config.command_names[self.verb]
            if isinstance(command, app_commands.Command) and not configured:
                command.default_permissions = discord.Permissions(administrator=True)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """The role tier, checked for real on every invocation."""
        self.core.require(interaction, self.tier)
        return True

    async def cog_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Friendly, private error messages."""
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await self.core.reply_error(interaction, original)

    def backend_choices(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        """Backend names for autocomplete (empty for users without the tier)."""
        if not self.core.allowed(interaction, self.tier):
            return []
        text = current.casefold()
        return _choices([(name, name) for name in self.service.names if text in name.casefold()])

    def transfer_choices(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        """Transfers for autocomplete, from the cache (empty for users without the tier)."""
        if not self.core.allowed(interaction, self.tier):
            return []
        backend = getattr(interaction.namespace, "backend", None)
        chosen = backend if isinstance(backend, str) else None
        return _choices(self.service.transfer_choices(current, chosen, offer_all=self.verb != "remove"))


class SearchCog(VerbCog, name="Peerdeck search"):
    """/search."""

    verb, tier = "search", "read"

    @app_commands.command(name="search", description="Search a daemon and pick results to download")
    @app_commands.describe(query="What to look for", backend="Which daemon (default: the first one that can search)")
    @app_commands.guild_only()
    async def search(
        self, interaction: discord.Interaction[Any], query: app_commands.Range[str, 1, 200], backend: str | None = None
    ) -> None:
        """Stream hits into the reply, then offer a menu to pick from."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        wait = self.service.cooldown.retry_after(interaction.user.id)
        if wait is not None:
            raise UserFacingError(f"Easy there: you can search again in {wait:.0f} s.")
        name = self.service.pick(backend, "search")
        record = self.service.new_search(interaction.user.id, name, query)
        async for _ in self.service.stream_search(record):
            await interaction.edit_original_response(
                embed=render.search_embed(record, 0, set()), allowed_mentions=render.NO_MENTIONS
            )
        await interaction.edit_original_response(
            embed=render.search_embed(record, 0, set()),
            view=search_view(record, 0, set()),
            allowed_mentions=render.NO_MENTIONS,
        )

    @search.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class EnqueueCog(VerbCog, name="Peerdeck enqueue"):
    """/enqueue."""

    verb, tier = "enqueue", "write"

    @app_commands.command(name="enqueue", description="Download a magnet link, URL, .torrent file or search result")
    @app_commands.describe(
        target="A magnet link, an http(s) URL, or one of your recent search results",
        torrent="A .torrent file",
        backend="Which daemon (default: the first one that can enqueue)",
        notify="How to tell you when it finishes",
    )
    @app_commands.guild_only()
    async def enqueue(
        self,
        interaction: discord.Interaction[Any],
        target: str | None = None,
        torrent: discord.Attachment | None = None,
        backend: str | None = None,
        notify: Literal["dm", "channel", "off"] | None = None,
    ) -> None:
        """Enqueue and remember the requester for the completion notice."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if torrent is not None:
            if not torrent.filename.lower().endswith(".torrent") or torrent.size > MAX_TORRENT_BYTES:
                raise UserFacingError("Attach a .torrent file (at most 10 MiB).")
            name = self.service.pick(backend, "enqueue")
            parsed: EnqueueTarget = TorrentFile(await torrent.read(), torrent.filename)
        elif target:
            name, parsed = self.service.parse_target(target, backend)
        else:
            raise UserFacingError("Give a magnet link, a URL, a search result or a .torrent file.")
        mode = self.service.notify_mode(interaction.user.id, notify)
        ids = await self.service.enqueue(name, parsed, interaction.user.id, mode)
        text = f"Queued **{render.safe(_describe_target(parsed), 300)}** on {render.safe(name, 40)}. "
        await reply(interaction, text + (_unfollowed(ids) or _notice_hint(mode, self.core.config)))

    @enqueue.autocomplete("target")
    async def _target(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        if not self.core.allowed(interaction, self.tier):
            return []
        return _choices(self.service.hit_choices(interaction.user.id, current))

    @enqueue.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class _ActCog(VerbCog):
    async def act(
        self, interaction: discord.Interaction[Any], verb: Literal["pause", "resume"], target: str, backend: str | None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        name, selector, label = await self.service.resolve(backend, target, verb)
        await self.service.act(verb, name, selector)
        done = "Paused" if verb == "pause" else "Resumed"
        await reply(interaction, f"{done} **{render.safe(label, 300)}** on {render.safe(name, 40)}.")


class PauseCog(_ActCog, name="Peerdeck pause"):
    """/pause."""

    verb, tier = "pause", "write"

    @app_commands.command(name="pause", description="Pause a transfer, or all of them")
    @app_commands.describe(target="A transfer name, or all", backend="Which daemon")
    @app_commands.guild_only()
    async def pause(self, interaction: discord.Interaction[Any], target: str, backend: str | None = None) -> None:
        """Pause."""
        await self.act(interaction, "pause", target, backend)

    @pause.autocomplete("target")
    async def _target(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.transfer_choices(interaction, current)

    @pause.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class ResumeCog(_ActCog, name="Peerdeck resume"):
    """/resume."""

    verb, tier = "resume", "write"

    @app_commands.command(name="resume", description="Resume a transfer, or all of them")
    @app_commands.describe(target="A transfer name, or all", backend="Which daemon")
    @app_commands.guild_only()
    async def resume(self, interaction: discord.Interaction[Any], target: str, backend: str | None = None) -> None:
        """Resume."""
        await self.act(interaction, "resume", target, backend)

    @resume.autocomplete("target")
    async def _target(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.transfer_choices(interaction, current)

    @resume.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class StatusCog(VerbCog, name="Peerdeck status"):
    """/status."""

    verb, tier = "status", "read"

    @app_commands.command(name="status", description="Speeds, counts and active transfers of each daemon")
    @app_commands.describe(backend="Only this daemon")
    @app_commands.guild_only()
    async def status(self, interaction: discord.Interaction[Any], backend: str | None = None) -> None:
        """One page per daemon."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        pages = render.with_page_footer(render.status_pages(await self.service.reports(backend)))
        if len(pages) == 1:
            await interaction.followup.send(embed=pages[0], ephemeral=True, allowed_mentions=render.NO_MENTIONS)
            return
        pager = Pager(interaction.user.id, pages)
        pager.origin = interaction
        await interaction.followup.send(embed=pages[0], view=pager, ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    @status.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class RemoveCog(VerbCog, name="Peerdeck remove"):
    """/remove, after a confirmation."""

    verb, tier = "remove", "admin"

    @app_commands.command(name="remove", description="Remove a transfer (asks first)")
    @app_commands.describe(target="A transfer name", backend="Which daemon", delete_data="Also delete downloaded files")
    @app_commands.guild_only()
    async def remove(
        self, interaction: discord.Interaction[Any], target: str, backend: str | None = None, delete_data: bool = False
    ) -> None:
        """Resolve the transfer, then ask before removing it."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        name, selector, label = await self.service.resolve(backend, target, "remove")
        shown = f"**{render.safe(label, 300)}** from {render.safe(name, 40)}"

        async def action() -> str:
            try:
                await self.service.remove(name, selector, delete_data=delete_data)
            except (BackendError, UserFacingError) as err:
                return render.safe(describe(err), render.MESSAGE_MAX)
            return f"Removed {shown}" + (" and its files." if delete_data else ".")

        confirm = Confirm(interaction.user.id, action, label="Remove" + (" with files" if delete_data else ""))
        confirm.origin = interaction
        question = f"Remove {shown}" + (" **and delete its files**?" if delete_data else "?")
        await interaction.followup.send(question, view=confirm, ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    @remove.autocomplete("target")
    async def _target(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.transfer_choices(interaction, current)

    @remove.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


VERB_COGS: tuple[type[VerbCog], ...] = (SearchCog, EnqueueCog, PauseCog, ResumeCog, StatusCog, RemoveCog)

"""The slash commands: one cog per command, each a thin layer over the core cog and the service."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, ClassVar, Concatenate, Literal, ParamSpec, TypeVar

import discord
from discord import app_commands
from discord.ext import commands
from discord.ext.commands.bot import BotBase

from peerdeck import (
    EnqueueTarget,
    TorrentFile,
    TransferState,
)

from . import render
from .core import PeerdeckCore, choices, notice_hint, reply, unfollowed
from .errors import BackendError, UserFacingError
from .filters import HitFilter
from .service import TransferFilter, transfer_key
from .views import Pager, Tier, remove_view, search_view

MAX_TORRENT_BYTES = 10 * 1024 * 1024
P = ParamSpec("P")
C = TypeVar("C", bound="VerbCog")


def guarded(
    func: Callable[Concatenate[C, discord.Interaction[Any], P], Coroutine[Any, Any, None]],
) -> Callable[Concatenate[C, discord.Interaction[Any], P], Coroutine[Any, Any, None]]:
    """Run a command after the cog's role check, answering every failure privately here.

    Nothing reaches the host's ``tree.on_error``: a refusal Peerdeck has explained must not be
    followed by the host's own "that command failed"."""

    @functools.wraps(func)
    async def run(self: C, interaction: discord.Interaction[Any], /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            self.core.require(interaction, self.tier)
            await func(self, interaction, *args, **kwargs)
        except Exception as err:
            await self.core.reply_error(interaction, err)

    return run


class VerbCog(commands.Cog):
    """Base of the command cogs: renames the command per config and enforces the role tier."""

    verb: ClassVar[str]
    tier: ClassVar[Tier]
    summary: ClassVar[str]
    """What the command does, for /help."""

    def __init__(self, core: PeerdeckCore) -> None:
        self.core = core
        self.service = core.service
        perms = core.config.permissions
        configured = {
            "anyone": True,
            "read": True,
            "write": bool(perms.write_roles),
            "admin": bool(perms.admin_roles),
        }[self.tier]
        for command in self.get_app_commands():
            command.name = core.config.command_names[self.verb]
            if isinstance(command, app_commands.Command) and not configured:
                command.default_permissions = discord.Permissions(administrator=True)

    @property
    def command_name(self) -> str:
        """The name this command has in this server."""
        return self.core.config.command_names[self.verb]

    async def _eject(self, bot: BotBase, guild_ids: Iterable[int] | None) -> None:
        """Leave alone a same-named command the host registered over ours (``add_cog(..., override=True)``)."""
        scopes = list(guild_ids) if guild_ids is not None else None
        if isinstance(bot, commands.Bot):
            self.__cog_app_commands__ = [c for c in self.__cog_app_commands__ if _still_ours(bot.tree, c, scopes)]
        await super()._eject(bot, scopes)

    async def cog_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Friendly, private error messages for what fails before the command runs (an option's conversion)."""
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await self.core.reply_error(interaction, original)

    def backend_choices(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        """Backend names for autocomplete (empty for users without the tier)."""
        if not self.core.allowed(interaction, self.tier):
            return []
        text = current.casefold()
        return choices([(name, name) for name in self.service.names if text in name.casefold()])

    def transfer_choices(
        self, interaction: discord.Interaction[Any], current: str, *, offer_all: bool = False
    ) -> list[app_commands.Choice[str]]:
        """Transfers for autocomplete, from the cache (empty for users without the tier)."""
        if not self.core.allowed(interaction, self.tier):
            return []
        backend = getattr(interaction.namespace, "backend", None)
        chosen = backend if isinstance(backend, str) else None
        return choices(self.service.transfer_choices(current, chosen, offer_all=offer_all))


def _still_ours(tree: app_commands.CommandTree[Any], command: Any, guild_ids: Sequence[int] | None) -> bool:
    guild_ids = guild_ids or command._guild_ids  # the scope discord.py removes the command from
    scopes = [discord.Object(g) for g in guild_ids] if guild_ids else [None]
    return all(tree.get_command(command.name, guild=scope) is command for scope in scopes)


class SearchCog(VerbCog, name="Peerdeck search"):
    """/search."""

    verb, tier = "search", "read"
    summary = "search a daemon and pick results to download"

    @app_commands.command(name="search", description="Search a daemon and pick results to download")
    @app_commands.describe(
        query="What to look for",
        backend="Which daemon (default: the first one that can search)",
        formats="Only these file formats, e.g. flac or flac,mp3 (Soulseek albums count if they hold one)",
        min_bitrate="Only hits of at least this many kbit/s (lossless files always pass)",
    )
    @app_commands.guild_only()
    @guarded
    async def search(
        self,
        interaction: discord.Interaction[Any],
        query: app_commands.Range[str, 1, 200],
        backend: str | None = None,
        formats: app_commands.Range[str, 1, 60] | None = None,
        min_bitrate: app_commands.Range[int, 1, 10_000] | None = None,
    ) -> None:
        """Stream hits into the reply, then offer a menu to pick from (Soulseek folders first)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        wait = self.service.cooldown.retry_after(interaction.user.id)
        if wait is not None:
            raise UserFacingError(f"Easy there: you can search again in {wait:.0f} s.")
        try:
            hit_filter = HitFilter.parse(formats, min_bitrate)
            name = self.service.pick(backend, "search")
            record = self.service.new_search(interaction.user.id, name, query)
            slots = self.service.config.limits.searches_per_backend
            async with contextlib.aclosing(self.service.stream_search(record, hit_filter)) as steps:
                async for step in steps:
                    shown = (
                        render.search_waiting(record, slots)
                        if step == "waiting"
                        else render.search_embed(record, 0, set())
                    )
                    await interaction.edit_original_response(embed=shown, allowed_mentions=render.NO_MENTIONS)
        except (UserFacingError, BackendError):
            self.service.cooldown.refund(interaction.user.id)  # a search that found nothing to do costs no wait
            raise
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
    summary = "download a magnet link, URL, .torrent file or one of your search results"

    @app_commands.command(name="enqueue", description="Download a magnet link, URL, .torrent file or search result")
    @app_commands.describe(
        target="A magnet link, an http(s) URL, or one of your recent search results",
        torrent="A .torrent file",
        backend="Which daemon (default: the first one that can enqueue)",
        notify="How to tell you when it finishes",
    )
    @app_commands.guild_only()
    @guarded
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
        self.service.check_accepts(name, parsed)
        self.core.take_quota(interaction, 1)
        mode = self.service.notify_mode(interaction.user.id, notify)
        try:
            ids = await self.service.enqueue(name, parsed, interaction.user.id, mode)
        except Exception:
            self.service.quota.give_back(interaction.user.id, 1)
            raise
        text = f"Queued **{render.safe(render.target_label(parsed), 300)}** on {render.safe(name, 40)}. "
        await reply(
            interaction, text + (unfollowed(ids) or notice_hint(mode, self.core.config)) + self.core.saved_note()
        )

    @enqueue.autocomplete("target")
    async def _target(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        if not self.core.allowed(interaction, self.tier):
            return []
        return choices(self.service.hit_choices(interaction.user.id, current))

    @enqueue.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class _ActCog(VerbCog):
    async def act(
        self, interaction: discord.Interaction[Any], verb: Literal["pause", "resume"], target: str, backend: str | None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        done = "Paused" if verb == "pause" else "Resumed"
        if target.strip().casefold() == "all":
            names, unable = self.service.capable(backend, verb)
            results = await self.service.act_on_all(verb, names)
            await reply(interaction, render.act_on_all_text(done, results, unable))
            return
        name, transfer = await self.service.find(backend, target, verb)
        await self.service.act(verb, name, [transfer.id])
        await reply(interaction, f"{done} **{render.safe(transfer.name, 300)}** on {render.safe(name, 40)}.")


class PauseCog(_ActCog, name="Peerdeck pause"):
    """/pause."""

    verb, tier = "pause", "write"
    summary = "pause a transfer, or all of them"

    @app_commands.command(name="pause", description="Pause a transfer, or all of them")
    @app_commands.describe(target="A transfer name, or all", backend="Which daemon")
    @app_commands.guild_only()
    @guarded
    async def pause(self, interaction: discord.Interaction[Any], target: str, backend: str | None = None) -> None:
        """Pause."""
        await self.act(interaction, "pause", target, backend)

    @pause.autocomplete("target")
    async def _target(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.transfer_choices(interaction, current, offer_all=True)

    @pause.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class ResumeCog(_ActCog, name="Peerdeck resume"):
    """/resume."""

    verb, tier = "resume", "write"
    summary = "resume a transfer, or all of them"

    @app_commands.command(name="resume", description="Resume a transfer, or all of them")
    @app_commands.describe(target="A transfer name, or all", backend="Which daemon")
    @app_commands.guild_only()
    @guarded
    async def resume(self, interaction: discord.Interaction[Any], target: str, backend: str | None = None) -> None:
        """Resume."""
        await self.act(interaction, "resume", target, backend)

    @resume.autocomplete("target")
    async def _target(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.transfer_choices(interaction, current, offer_all=True)

    @resume.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class StatusCog(VerbCog, name="Peerdeck status"):
    """/status."""

    verb, tier = "status", "read"
    summary = "speeds, counts and transfers of each daemon, one page each (filters: backend, state, text)"

    @app_commands.command(name="status", description="Speeds, counts and transfers of each daemon, one page each")
    @app_commands.describe(
        backend="Only this daemon", state="Only transfers in this state", text="Only transfers whose name contains this"
    )
    @app_commands.choices(state=[app_commands.Choice(name=s.value, value=s.value) for s in TransferState])
    @app_commands.guild_only()
    @guarded
    async def status(
        self,
        interaction: discord.Interaction[Any],
        backend: str | None = None,
        state: str | None = None,
        text: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """One page per daemon, with a menu to jump between them."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        only = TransferFilter(TransferState(state) if state else None, text or "")
        reports = await self.service.reports(backend, only)
        pages = render.status_pages(reports, only)
        if len(pages) == 1:
            await interaction.followup.send(embed=pages[0], ephemeral=True, allowed_mentions=render.NO_MENTIONS)
            return
        pager = Pager(interaction.user.id, pages, [r.name for r in reports])
        pager.origin = interaction
        await interaction.followup.send(embed=pages[0], view=pager, ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    @status.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class RemoveCog(VerbCog, name="Peerdeck remove"):
    """/remove, after a confirmation."""

    verb, tier = "remove", "admin"
    summary = "remove a transfer, optionally with its files (asks first)"

    @app_commands.command(name="remove", description="Remove a transfer (asks first)")
    @app_commands.describe(target="A transfer name", backend="Which daemon", delete_data="Also delete downloaded files")
    @app_commands.guild_only()
    @guarded
    async def remove(
        self, interaction: discord.Interaction[Any], target: str, backend: str | None = None, delete_data: bool = False
    ) -> None:
        """Resolve the transfer, then ask before removing it."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if target.strip().casefold() == "all":
            raise UserFacingError("Remove transfers one at a time.")
        name, transfer = await self.service.find(backend, target, "remove")
        view = remove_view(interaction.user.id, transfer_key(name, transfer.id), delete_data=delete_data)
        shown = f"**{render.safe(transfer.name, 300)}** from {render.safe(name, 40)}"
        question = f"Remove {shown}" + (" **and delete its files**?" if delete_data else "?")
        await interaction.followup.send(question, view=view, ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    @remove.autocomplete("target")
    async def _target(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.transfer_choices(interaction, current)

    @remove.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class WatchCog(VerbCog, name="Peerdeck watch"):
    """/watch: be told when someone else's download finishes."""

    verb, tier = "watch", "read"
    summary = "be told when a transfer finishes, also one someone else started"

    @app_commands.command(name="watch", description="Tell me when this transfer finishes")
    @app_commands.describe(target="A transfer name", backend="Which daemon")
    @app_commands.guild_only()
    @guarded
    async def watch(self, interaction: discord.Interaction[Any], target: str, backend: str | None = None) -> None:
        """Add the user to the transfer's watchers."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        name, transfer = await self.service.find(backend, target, "status")
        shown = f"**{render.safe(transfer.name, 300)}** on {render.safe(name, 40)}"
        if transfer.state is TransferState.COMPLETED:
            await reply(interaction, f"{shown} has already finished.")
            return
        added = await self.service.watch(interaction.user.id, name, transfer)
        mode = self.service.notify_mode(interaction.user.id, None)
        notices = self.core.config.command_names["notices"]
        if mode == "off":
            how = f"but your notices are off; turn them on with /{notices}."
        else:
            how = notice_hint(mode, self.core.config)
        first = "You are watching" if added else "You were already watching"
        await reply(interaction, f"{first} {shown}; {how}{self.core.saved_note()}")

    @watch.autocomplete("target")
    async def _target(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.transfer_choices(interaction, current)

    @watch.autocomplete("backend")
    async def _backend(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return self.backend_choices(interaction, current)


class NoticesCog(VerbCog, name="Peerdeck notices"):
    """/notices: how a user hears about finished downloads."""

    verb, tier = "notices", "read"
    summary = "choose how you hear about finished downloads: DM, channel mention, or not at all"

    @app_commands.command(name="notices", description="How you hear about finished downloads")
    @app_commands.describe(mode="dm, channel (a mention in the notification channel) or off; empty: show it")
    @app_commands.guild_only()
    @guarded
    async def notices(
        self, interaction: discord.Interaction[Any], mode: Literal["dm", "channel", "off"] | None = None
    ) -> None:
        """Show or set the user's notice setting."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if mode is not None:
            await self.service.set_notify_mode(interaction.user.id, mode)
        current = self.service.notify_mode(interaction.user.id, None)
        hint = notice_hint(current, self.core.config).replace("it finishes", "a download of yours finishes")
        prefix = "Saved. " if mode is not None else "Now: "
        await reply(interaction, prefix + hint + self.core.saved_note())


class BoardCog(VerbCog, name="Peerdeck board"):
    """/board: a message in this channel that keeps itself up to date."""

    verb, tier = "board", "admin"
    summary = "post a live status board in this channel, or stop it"

    @app_commands.command(name="board", description="Post a live status board in this channel, or stop it")
    @app_commands.describe(stop="Stop updating this channel's board instead")
    @app_commands.guild_only()
    @guarded
    async def board(self, interaction: discord.Interaction[Any], stop: bool = False) -> None:
        """Post (or replace) the board of this channel, or stop editing it."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if interaction.channel_id is None:
            raise UserFacingError("Run this in the text channel that should show the board.")
        if stop:
            gone = await self.core.forget_board(interaction.channel_id)
            await reply(interaction, "The board here is no longer updated." if gone else "There is no board here.")
            return
        try:
            await self.core.post_board(interaction.channel_id)
        except discord.Forbidden:
            raise UserFacingError(
                "I cannot post here: give the bot Send Messages and Embed Links in this channel."
            ) from None
        every = self.core.config.limits.board_interval
        await reply(
            interaction,
            f"Board posted. It updates at most every {every:g} s, and only when something changed."
            + self.core.saved_note(),
        )


class HelpCog(VerbCog, name="Peerdeck help"):
    """/help: what the caller may do."""

    verb, tier = "help", "anyone"
    summary = "this list"

    @app_commands.command(name="help", description="What you can do with Peerdeck here")
    @app_commands.guild_only()
    @guarded
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        """List the commands this user may run, under their names in this server."""
        entries = [
            (cog.command_name, cog.summary)
            for cog in self.core.verbs
            if cog.tier != "anyone" and self.core.allowed(interaction, cog.tier)
        ]
        await reply(interaction, render.help_text(entries))


VERB_COGS: tuple[type[VerbCog], ...] = (
    SearchCog,
    EnqueueCog,
    PauseCog,
    ResumeCog,
    StatusCog,
    RemoveCog,
    WatchCog,
    NoticesCog,
    BoardCog,
    HelpCog,
)

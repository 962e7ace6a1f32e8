"""The bot's settings, read from a TOML file; secrets come from environment variables or files only."""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias
from urllib.parse import urlsplit

from peerdeck import BackendKind, Credentials

NotifyMode: TypeAlias = Literal["dm", "channel", "off"]
NOTIFY_MODES: tuple[NotifyMode, ...] = ("dm", "channel", "off")
VERBS = ("search", "enqueue", "pause", "resume", "status", "remove", "watch", "notices", "board", "help")
"""Every command, by the key used in ``[commands]``."""
NAME_RE = re.compile(r"^[a-z0-9_-]{1,32}$")
SECRET_FIELDS = ("password", "api_key")


class ConfigError(Exception):
    """The config file is missing, malformed or refers to a secret that is not there."""


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret lives: an environment variable or a file; never its value."""

    env: str | None = None
    file: Path | None = None

    def describe(self) -> str:
        """Where the secret is read from, safe to print."""
        return f"environment variable {self.env}" if self.env else f"file {self.file}"

    def resolve(self, environ: Mapping[str, str] | None = None) -> str:
        """The secret itself; raises :class:`ConfigError` naming where it was looked for."""
        env = os.environ if environ is None else environ
        if self.env is not None:
            value = env.get(self.env, "").strip()
            if not value:
                raise ConfigError(f"environment variable {self.env} is not set")
            return value
        if self.file is None:
            raise ConfigError("no secret reference given")
        try:
            value = self.file.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(f"cannot read secret file {self.file}: {err.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"secret file {self.file} is not UTF-8 text") from None
        if not value:
            raise ConfigError(f"secret file {self.file} is empty")
        return value


@dataclass(frozen=True, slots=True)
class BackendConfig:
    """One daemon the bot talks to."""

    name: str
    kind: BackendKind
    url: str
    username: str | None = None
    password: SecretRef | None = None
    api_key: SecretRef | None = None
    verify_ssl: bool = True

    def credentials(self, environ: Mapping[str, str] | None = None) -> Credentials:
        """Credentials with the secrets read now."""
        return Credentials(
            username=self.username,
            password=self.password.resolve(environ) if self.password else None,
            api_key=self.api_key.resolve(environ) if self.api_key else None,
        )


@dataclass(frozen=True, slots=True)
class PermissionConfig:
    """Role tiers: each entry is a role id (int) or a role name (str)."""

    read_roles: tuple[int | str, ...] = ()
    """Empty: everyone in the server may use /status and /search."""
    write_roles: tuple[int | str, ...] = ()
    """Empty: administrators only."""
    admin_roles: tuple[int | str, ...] = ()
    """For /remove; empty: administrators only."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Timeouts (seconds) and sizes."""

    backend_timeout: float = 15.0
    search_timeout: float = 20.0
    search_limit: int = 100
    search_cooldown: float = 10.0
    poll_interval: float = 30.0
    edit_interval: float = 1.5
    board_interval: float = 60.0
    """Least time between two edits of a live status board."""
    enqueues_per_hour: int = 0
    """Per user, for users below the admin tier; 0: no limit."""
    searches_per_backend: int = 2
    """Searches one daemon runs for the bot at a time; the rest wait for a free slot."""
    max_boards: int = 5
    """Live status boards, across every server; each one costs an edit per change."""


MIN_BOARD_INTERVAL = 10.0
"""Discord allows about 5 edits per 5 s per channel; a board needs far less and must leave room for the rest."""
INT_LIMITS = ("search_limit", "enqueues_per_hour", "searches_per_backend", "max_boards")


@dataclass(frozen=True, slots=True)
class BotConfig:
    """Everything the plugin pack and the runner need."""

    backends: tuple[BackendConfig, ...]
    token: SecretRef = field(default_factory=lambda: SecretRef(env="DISCORD_TOKEN"))
    guild_ids: tuple[int, ...] = ()
    notify_channel_id: int | None = None
    state_file: Path = Path("peerdeck-bot-state.json")
    permissions: PermissionConfig = field(default_factory=PermissionConfig)
    command_names: Mapping[str, str] = field(default_factory=lambda: {v: v for v in VERBS})
    disabled: frozenset[str] = frozenset()
    """Commands left out entirely (keys of :data:`VERBS`)."""
    limits: Limits = field(default_factory=Limits)
    default_notify: NotifyMode = "dm"
    announce_all: bool = True

    def backend(self, name: str) -> BackendConfig | None:
        """The backend called ``name``."""
        return next((b for b in self.backends if b.name == name), None)


TOKEN_RE = re.compile(r"[A-Za-z0-9_.\-]+")
"""What a Discord bot token is made of (base64url parts joined by dots)."""


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be a Discord bot token, or None.

    "Bot <token>", a line break or an invisible character from a copy would otherwise fail only once
    the bot is connected (Discord refuses it, or an HTTP header cannot carry it), as a failure the
    service manager restarts.
    """
    if TOKEN_RE.fullmatch(token):
        return None
    return (
        "has characters a Discord token never has (a space, a line break or an invisible character); "
        "copy it again from Bot → Reset Token"
    )


def load_config(path: Path | str) -> BotConfig:
    """Read and validate a TOML config file."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read {file}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file} is not UTF-8 text; a config file is TOML, written as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{file} is not valid TOML: {err}") from None
    return parse_config(data, base_dir=file.parent)


def parse_config(data: Mapping[str, Any], *, base_dir: Path = Path()) -> BotConfig:
    """Validate already-parsed TOML data; relative paths are taken from ``base_dir``."""
    _only(data, "", {"discord", "permissions", "commands", "limits", "notices", "backends"})
    discord = _table(data, "discord")
    if "token" in discord:
        raise ConfigError(
            "discord.token: the bot token does not belong in the config file; use token_env or token_file"
        )
    _only(discord, "discord", {"token_env", "token_file", "guild_ids", "notify_channel_id", "state_file"})
    token = _secret(discord, "discord", "token", base_dir) or SecretRef(env="DISCORD_TOKEN")
    guild_ids = tuple(_int(g, "discord.guild_ids") for g in _list(discord, "discord.guild_ids", "guild_ids"))
    channel = discord.get("notify_channel_id")
    state_file = _path(discord.get("state_file", "peerdeck-bot-state.json"), "discord.state_file")

    perms = _table(data, "permissions")
    _only(perms, "permissions", {"read_roles", "write_roles", "admin_roles"})
    permissions = PermissionConfig(
        **{key: _roles(perms, key) for key in ("read_roles", "write_roles", "admin_roles") if key in perms}
    )

    commands = _table(data, "commands")
    _only(commands, "commands", {*VERBS, "disabled"})
    disabled = frozenset(_str(v, "commands.disabled") for v in _list(commands, "commands.disabled", "disabled"))
    for unknown in sorted(disabled - set(VERBS)):
        raise ConfigError(f"commands.disabled: {unknown!r} is not a command; expected some of {', '.join(VERBS)}")
    names = {verb: _str(commands.get(verb, verb), f"commands.{verb}") for verb in VERBS}
    for verb, name in names.items():
        if not NAME_RE.match(name):
            raise ConfigError(f"commands.{verb}: {name!r} is not a valid command name (a-z, 0-9, - and _, 1-32)")
    if len(set(names.values())) != len(names):
        raise ConfigError("commands: two commands have the same name")

    limits_table = _table(data, "limits")
    _only(limits_table, "limits", set(Limits.__slots__))
    floats = {key: _positive(limits_table[key], f"limits.{key}") for key in limits_table if key not in INT_LIMITS}
    search_limit = _whole(limits_table.get("search_limit", Limits().search_limit), "limits.search_limit", least=1)
    per_hour = _whole(limits_table.get("enqueues_per_hour", 0), "limits.enqueues_per_hour", least=0)
    slots = _whole(
        limits_table.get("searches_per_backend", Limits().searches_per_backend), "limits.searches_per_backend", least=1
    )
    boards = _whole(limits_table.get("max_boards", Limits().max_boards), "limits.max_boards", least=1)
    limits = Limits(
        search_limit=search_limit,
        enqueues_per_hour=per_hour,
        searches_per_backend=slots,
        max_boards=boards,
        **floats,
    )
    if limits.board_interval < MIN_BOARD_INTERVAL:
        raise ConfigError(
            f"limits.board_interval: at least {MIN_BOARD_INTERVAL:g} s, to stay clear of Discord's rate limits"
        )

    notices = _table(data, "notices")
    _only(notices, "notices", {"default_mode", "announce_all"})
    mode = notices.get("default_mode", "dm")
    if mode not in NOTIFY_MODES:
        raise ConfigError(f"notices.default_mode: expected one of {', '.join(NOTIFY_MODES)}")
    announce_all = notices.get("announce_all", True)
    if not isinstance(announce_all, bool):
        raise ConfigError("notices.announce_all: expected true or false")

    backends = tuple(_backend(name, table, base_dir) for name, table in _table(data, "backends", required=True).items())
    if not backends:
        raise ConfigError("backends: configure at least one backend, e.g. [backends.seedbox]")
    return BotConfig(
        backends=backends,
        token=token,
        guild_ids=guild_ids,
        notify_channel_id=None if channel is None else _int(channel, "discord.notify_channel_id"),
        state_file=state_file if state_file.is_absolute() else base_dir / state_file,
        permissions=permissions,
        command_names=names,
        disabled=disabled,
        limits=limits,
        default_notify=mode,
        announce_all=announce_all,
    )


def _backend(name: str, table: Any, base_dir: Path) -> BackendConfig:
    where = f"backends.{name}"
    if not NAME_RE.match(name):
        raise ConfigError(f"{where}: backend names use a-z, 0-9, - and _ (1-32 characters)")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    for secret in SECRET_FIELDS:
        if secret in table:
            raise ConfigError(
                f"{where}.{secret}: secrets do not belong in the config file; "
                f'use {secret}_env = "VARIABLE" or {secret}_file = "/path/to/file"'
            )
    allowed = {"kind", "url", "username", "verify_ssl"} | {f"{s}_{r}" for s in SECRET_FIELDS for r in ("env", "file")}
    _only(table, where, allowed)
    try:
        kind = BackendKind(_str(table.get("kind"), f"{where}.kind"))
    except ValueError:
        raise ConfigError(f"{where}.kind: expected one of {', '.join(k.value for k in BackendKind)}") from None
    url = _url(table.get("url"), f"{where}.url")
    username = table.get("username")
    verify = table.get("verify_ssl", True)
    if not isinstance(verify, bool):
        raise ConfigError(f"{where}.verify_ssl: expected true or false")
    return BackendConfig(
        name=name,
        kind=kind,
        url=url,
        username=None if username is None else _str(username, f"{where}.username"),
        password=_secret(table, where, "password", base_dir),
        api_key=_secret(table, where, "api_key", base_dir),
        verify_ssl=verify,
    )


def _url(value: Any, where: str) -> str:
    """A daemon URL: http(s), a host, a port in range, and no credentials (those go in ``username`` and ``*_env``)."""
    url = _str(value, where)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: expected an http:// or https:// URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        reason = "a port from 1 to 65535" if "port" in str(err).lower() else "a well-formed host (IPv6 in [brackets])"
        raise ConfigError(f"{where}: not a valid URL; it needs {reason}") from None
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"{where}: take the user name and password out of the URL; "
            'set username = "..." and password_env = "VARIABLE" (or api_key_env) instead'
        )
    if not parts.hostname:
        raise ConfigError(f"{where}: the URL has no host name")
    if port == 0:
        raise ConfigError(f"{where}: not a valid URL; it needs a port from 1 to 65535")
    return url


def _secret(table: Mapping[str, Any], where: str, key: str, base_dir: Path) -> SecretRef | None:
    env, file = table.get(f"{key}_env"), table.get(f"{key}_file")
    if env is not None and file is not None:
        raise ConfigError(f"{where}: give {key}_env or {key}_file, not both")
    if env is not None:
        return SecretRef(env=_str(env, f"{where}.{key}_env"))
    if file is not None:
        path = _path(file, f"{where}.{key}_file")
        return SecretRef(file=path if path.is_absolute() else base_dir / path)
    return None


def _only(table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(f"unknown setting {prefix}{unknown[0]}; expected one of {', '.join(sorted(allowed))}")


def _table(data: Mapping[str, Any], key: str, *, required: bool = False) -> dict[str, Any]:
    if key not in data:
        if required:
            raise ConfigError(f"[{key}] is missing")
        return {}
    value = data[key]
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table")
    return value


def _list(table: Mapping[str, Any], where: str, key: str) -> list[Any]:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list")
    return value


def _roles(table: Mapping[str, Any], key: str) -> tuple[int | str, ...]:
    roles = _list(table, f"permissions.{key}", key)
    for role in roles:
        if isinstance(role, bool) or not isinstance(role, int | str) or role == "":
            raise ConfigError(f"permissions.{key}: each role is an id (number) or a name (text)")
    return tuple(roles)


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected non-empty text")
    return value


def _path(value: Any, where: str) -> Path:
    text = _str(value, where)
    if "\0" in text:  # TOML can write one ("\u0000"); no file system takes it
        raise ConfigError(f"{where}: a path cannot contain a NUL character")
    return Path(text)


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where}: expected a Discord id (a positive number)")
    return value


def _whole(value: Any, where: str, *, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"{where}: expected a whole number of at least {least}")
    return value


def _positive(value: Any, where: str) -> float:
    # TOML has nan and inf: nan passes every comparison, and an infinite timeout or interval never ends
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{where}: expected a positive number")
    return float(value)

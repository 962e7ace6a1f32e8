"""Config parsing: clear errors, and secrets only by reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerdeck_bot.__main__ import main, secret_problems
from peerdeck_bot.config import ConfigError, SecretRef, load_config

from .test_owner import run_main

GOOD = """
[discord]
token_env = "PD_TEST_TOKEN"
guild_ids = [123456789012345678]
notify_channel_id = 123456789012345679

[permissions]
read_roles = ["Friends"]
write_roles = [123456789012345670, "Seedbox"]

[commands]
status = "pd-status"

[limits]
search_limit = 50
backend_timeout = 5

[backends.seedbox]
kind = "qbittorrent"
url = "http://127.0.0.1:8080"
username = "admin"
password_env = "PD_TEST_PASSWORD"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text)
    return path


def test_a_good_file_parses_and_secrets_stay_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PD_TEST_PASSWORD", "hunter2-secret")
    config = load_config(write(tmp_path, GOOD))

    backend = config.backends[0]
    assert (backend.name, backend.kind.value, backend.username) == ("seedbox", "qbittorrent", "admin")
    assert config.permissions.write_roles == (123456789012345670, "Seedbox")
    assert config.command_names["status"] == "pd-status"
    assert config.limits.search_limit == 50
    assert config.state_file == tmp_path / "peerdeck-bot-state.json"
    assert backend.credentials().password == "hunter2-secret"
    assert "hunter2" not in repr(config) and "hunter2" not in repr(backend.credentials())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('password_env = "PD_TEST_PASSWORD"', 'password = "hunter2"'), "secrets do not belong"),
        (GOOD.replace('token_env = "PD_TEST_TOKEN"', 'token = "abc"'), "token does not belong"),
        (GOOD.replace('kind = "qbittorrent"', 'kind = "emule"'), "backends.seedbox.kind: expected one of"),
        (GOOD.replace('status = "pd-status"', 'status = "Pd Status!"'), "not a valid command name"),
        (GOOD.replace("search_limit = 50", "search_limt = 50"), "unknown setting limits.search_limt"),
        (GOOD.replace('url = "http://127.0.0.1:8080"', 'url = "127.0.0.1:8080"'), "http:// or https://"),
        (GOOD.replace("backend_timeout = 5", "backend_timeout = -1"), "limits.backend_timeout: expected a positive"),
        (GOOD.split("[backends.seedbox]", maxsplit=1)[0], "[backends] is missing"),
        (GOOD.replace('status = "pd-status"', 'disabled = ["remove", "nuke"]'), "commands.disabled: 'nuke' is not a"),
        (GOOD.replace("search_limit = 50", "board_interval = 5"), "limits.board_interval: at least 10 s"),
        (GOOD.replace("search_limit = 50", "enqueues_per_hour = -1"), "limits.enqueues_per_hour: expected a whole"),
        (GOOD.replace("search_limit = 50", "enqueues_per_hour = 1.5"), "limits.enqueues_per_hour: expected a whole"),
        ("[discord\n", "not valid TOML"),
        # TOML has nan and inf: nan passes every "> 0" check, inf never ends a wait
        (GOOD.replace("backend_timeout = 5", "backend_timeout = nan"), "limits.backend_timeout: expected a positive"),
        (GOOD.replace("search_limit = 50", "poll_interval = inf"), "limits.poll_interval: expected a positive"),
        (GOOD.replace("search_limit = 50", "board_interval = nan"), "limits.board_interval: expected a positive"),
        (GOOD.replace("guild_ids", 'state_file = "/var/lib/a\\u0000b"\nguild_ids'), "discord.state_file: a path"),
        (GOOD.replace('token_env = "PD_TEST_TOKEN"', 'token_file = "t\\u0000"'), "discord.token_file: a path"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert message in str(err.value)
    assert "hunter2" not in str(err.value)


def test_missing_secret_names_the_variable_not_a_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PD_TEST_PASSWORD", raising=False)
    config = load_config(write(tmp_path, GOOD))

    with pytest.raises(ConfigError, match="environment variable PD_TEST_PASSWORD is not set"):
        config.backends[0].credentials()


def test_secret_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-file\n")

    assert SecretRef(file=tmp_path / "pw").resolve() == "from-file"
    with pytest.raises(ConfigError, match="cannot read secret file"):
        SecretRef(file=tmp_path / "absent").resolve()


def test_files_that_are_not_text_are_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A binary config or token file (a key file picked by mistake) is a config error, not a traceback."""
    binary = tmp_path / "bot.toml"
    binary.write_bytes(b"\xff\xfe[discord]")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_config(binary)
    (tmp_path / "token").write_bytes(b"tok\xff")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        SecretRef(file=tmp_path / "token").resolve()

    path = write(tmp_path, GOOD.replace('token_env = "PD_TEST_TOKEN"', 'token_file = "token"'))
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2  # the unit's RestartPreventExitStatus: a restart cannot fix it
    assert "discord token: secret file" in err and "Traceback" not in err


def test_runner_reports_config_errors_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace('password_env = "PD_TEST_PASSWORD"', 'password = "hunter2"'))

    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(path), "--check-config"])

    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("config error: backends.seedbox.password")
    assert "hunter2" not in err and "Traceback" not in err


@pytest.mark.parametrize("token", ["Bot abc.def", "abc\ndef", "abc\u200bdef.ghi"])
def test_a_token_with_characters_no_token_has_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    """A token pasted with "Bot ", a line break or a zero-width character stops the bot before it connects
    (exit 2), instead of failing later in a way the service manager restarts for ever."""
    monkeypatch.setenv("PD_TEST_TOKEN", token)
    monkeypatch.setenv("PD_TEST_PASSWORD", "pw")
    config = load_config(write(tmp_path, GOOD))

    [problem] = secret_problems(config)

    assert problem.startswith("discord token: the token in environment variable PD_TEST_TOKEN has characters")
    assert token not in problem
    monkeypatch.setenv("PD_TEST_TOKEN", "MTIz.GhIj-k_L.mnop")
    assert secret_problems(config) == []


async def test_check_config_says_a_malformed_token_is_bad(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PD_TEST_TOKEN", "Bot MTIz.GhIj")
    monkeypatch.setenv("PD_TEST_PASSWORD", "pw")
    # The check runs its own event loop: in a thread, so this thread's stays as the next tests need it.
    _, out, _ = await run_main(["--config", str(write(tmp_path, GOOD.replace("8080", "1"))), "--check-config"], capsys)
    [row] = [line for line in out.splitlines() if line.startswith("discord token")]
    assert "BAD" in row and "has characters a Discord token never has" in row and "MTIz" not in row

"""slskd state strings, read from their text form.

slskd serialises its ``[Flags]`` enums as comma-joined names (``"Completed, Succeeded"``).
The numbers behind the names changed between versions (``Aborted`` was inserted before
``Locally``/``Remotely`` in the Soulseek.NET bundled with 0.24), so only the names are
trusted here.
"""

from __future__ import annotations

from ..models import TransferState


def parse_flags(text: object) -> frozenset[str]:
    """``"Completed, Succeeded"`` → ``{"Completed", "Succeeded"}``; anything else → empty."""
    if not isinstance(text, str):
        return frozenset()
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def transfer_state(text: object) -> TransferState:
    """Map a slskd transfer state string onto the normalised :class:`TransferState`."""
    flags = parse_flags(text)
    if "Completed" in flags:
        if "Succeeded" in flags:
            return TransferState.COMPLETED
        if "Cancelled" in flags:
            return TransferState.CANCELLED
        return TransferState.FAILED
    if "Initializing" in flags or "InProgress" in flags:
        return TransferState.ACTIVE
    return TransferState.QUEUED


def is_retryable(text: object) -> bool:
    """True for finished transfers that did not succeed (the web UI's "retry" re-enqueues these)."""
    flags = parse_flags(text)
    return "Completed" in flags and "Succeeded" not in flags


def search_is_complete(text: object) -> bool:
    """True once a search state carries ``Completed`` (``"Completed, TimedOut"`` and the like)."""
    return "Completed" in parse_flags(text)


def server_is_online(text: object) -> bool:
    """True when the Soulseek server connection is ``Connected`` and ``LoggedIn``."""
    flags = parse_flags(text)
    return "Connected" in flags and "LoggedIn" in flags

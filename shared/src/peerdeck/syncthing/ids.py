"""The ids Syncthing's jobs and files go by: ``folder:<id>``, ``device:<id>``, ``file:<folder>:<path>``.

Shared by the model that builds the jobs, the backend verbs that take them back, and the Home
Assistant entities that tell folders from peers.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..exceptions import PeerdeckInputError
from .client import normalize_device_id

FOLDER_PREFIX = "folder:"
DEVICE_PREFIX = "device:"
FILE_PREFIX = "file:"


class InvalidSyncthingIdError(PeerdeckInputError):
    """A transfer or search-hit id that does not name a Syncthing folder, device or file."""


def parse_transfer_id(value: str) -> tuple[str, str]:
    """Split ``folder:<id>`` / ``device:<id>`` into kind and id (device ids normalised)."""
    if not isinstance(value, str):
        raise InvalidSyncthingIdError(f"{value!r} is not a Syncthing transfer id")
    if value.startswith(FOLDER_PREFIX) and len(value) > len(FOLDER_PREFIX):
        return "folder", value[len(FOLDER_PREFIX) :]
    if value.startswith(DEVICE_PREFIX):
        try:
            return "device", normalize_device_id(value[len(DEVICE_PREFIX) :])
        except PeerdeckInputError as err:
            raise InvalidSyncthingIdError(str(err)) from err
    shown = value if len(value) <= 80 else value[:79] + "…"
    raise InvalidSyncthingIdError(
        f"{shown!r} is not a Syncthing transfer id; expected 'folder:<folder id>' or 'device:<device id>'"
    )


def parse_transfer_ids(ids: Sequence[str]) -> list[tuple[str, str]]:
    """Kind and id of each job a verb was given; refuses a bare string and an empty list."""
    if isinstance(ids, str):
        raise InvalidSyncthingIdError("give a list of ids (or ALL), not a single string")
    parsed = [parse_transfer_id(i) for i in ids]
    if not parsed:
        raise PeerdeckInputError("no folders or devices given")
    return parsed


def file_id(folder: str, path: str) -> str:
    """The id of one file of a folder, as used by search hits and file events."""
    return f"{FILE_PREFIX}{folder}:{path}"


def parse_file_id(value: str) -> tuple[str, str]:
    """Split ``file:<folder>:<path>`` (a folder id holds no ``:`` in this form; paths may)."""
    folder, sep, path = value[len(FILE_PREFIX) :].partition(":")
    if not value.startswith(FILE_PREFIX) or not sep or not folder or not path:
        shown = value if len(value) <= 80 else value[:79] + "…"
        raise InvalidSyncthingIdError(f"{shown!r} is not a Syncthing file id; expected 'file:<folder id>:<path>'")
    return folder, path


__all__ = [
    "DEVICE_PREFIX",
    "FILE_PREFIX",
    "FOLDER_PREFIX",
    "InvalidSyncthingIdError",
    "file_id",
    "parse_file_id",
    "parse_transfer_id",
    "parse_transfer_ids",
]

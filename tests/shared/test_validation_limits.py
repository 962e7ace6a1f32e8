"""Size limits of the library's input checks: refused before parsing or sending, with the field named."""

from __future__ import annotations

import pytest

from peerdeck import EnqueueOptions, InputLimitError, InvalidTextError, Magnet, TextRequest, TorrentFile, TorrentUrl
from peerdeck.validation import (
    MAX_IDS,
    MAX_LABEL_LENGTH,
    MAX_MAGNET_NAME_LENGTH,
    MAX_MAGNET_TRACKERS,
    MAX_TORRENT_FILE_SIZE,
    MAX_URL_LENGTH,
    validate_enqueue_options,
    validate_enqueue_target,
    validate_ids,
    validate_magnet,
    validate_path,
)

MAGNET = "magnet:?xt=urn:btih:" + "a" * 40


@pytest.mark.parametrize(
    ("target", "field"),
    [
        (Magnet(f"{MAGNET}&dn={'n' * (MAX_MAGNET_NAME_LENGTH + 1)}"), "magnet name"),
        (Magnet(MAGNET + "&tr=udp://t:1" * (MAX_MAGNET_TRACKERS + 1)), "magnet trackers"),
        (Magnet(MAGNET + "&dn=" + "n" * 10_000_000), "magnet"),
        (TorrentUrl("http://example.org/" + "a" * MAX_URL_LENGTH), "url"),
        (TextRequest("t" * 2_000), "text"),
        (TorrentFile(b"d" * (MAX_TORRENT_FILE_SIZE + 1)), "torrent_file"),
    ],
    ids=["display name", "trackers", "10 MB magnet", "URL", "text", "torrent file"],
)
def test_targets_over_a_limit_name_the_field(target: object, field: str) -> None:
    with pytest.raises(InputLimitError) as raised:
        validate_enqueue_target(target)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert len(str(raised.value)) < 200  # the blob is never echoed


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (EnqueueOptions(category="c" * (MAX_LABEL_LENGTH + 1)), InputLimitError),
        (EnqueueOptions(tags=("a,b",)), InvalidTextError),
        (EnqueueOptions(save_path="/data/../etc"), InvalidTextError),
        (EnqueueOptions(save_path="/data/\x00"), InvalidTextError),
        (EnqueueOptions(category="a\r\nb"), InvalidTextError),
    ],
    ids=["long category", "comma tag", "traversal", "NUL path", "line break"],
)
def test_bad_options(options: EnqueueOptions, error: type[Exception]) -> None:
    with pytest.raises(error):
        validate_enqueue_options(options)


def test_limits_themselves_are_accepted() -> None:
    magnet = f"{MAGNET}&dn={'n' * MAX_MAGNET_NAME_LENGTH}" + "&tr=udp://t:1" * MAX_MAGNET_TRACKERS
    assert validate_magnet(magnet) == magnet
    validate_enqueue_options(EnqueueOptions(category="c" * MAX_LABEL_LENGTH, save_path="/data/..hidden/x"))
    assert validate_path("D:\\downloads\\new") == "D:\\downloads\\new"
    assert len(validate_ids(["a" * 40] * MAX_IDS)) == MAX_IDS
    with pytest.raises(InputLimitError):
        validate_ids(["a" * 40] * (MAX_IDS + 1))

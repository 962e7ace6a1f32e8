"""Shapes shared by the SoulSync conformance server's route modules (``api/helpers.py``,
``api/downloads.py`` of SoulSync 3.1.9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JsonObject = dict[str, Any]


def envelope(data: Any, pagination: JsonObject | None = None, status: int = 200) -> web.Response:
    """``api_success``: the success envelope."""
    return web.json_response({"success": True, "data": data, "error": None, "pagination": pagination}, status=status)


def error(code: str, message: str, status: int = 400) -> web.Response:
    """``api_error``: the error envelope."""
    body = {"success": False, "data": None, "error": {"code": code, "message": message}, "pagination": None}
    return web.json_response(body, status=status)


def pagination(page: int, limit: int, total: int) -> JsonObject:
    """``build_pagination``."""
    total_pages = max(1, (total + limit - 1) // limit)
    return {
        "page": page,
        "limit": limit,
        "total": total,
        "total_pages": total_pages,
        "has_next": page < total_pages,
        "has_prev": page > 1,
    }


def page_args(request: web.Request, default_limit: int = 50, max_limit: int = 200) -> tuple[int, int]:
    """``parse_pagination``: bad values fall back to the defaults."""
    try:
        page = max(1, int(request.query.get("page", 1)))
    except ValueError:
        page = 1
    try:
        limit = min(max_limit, max(1, int(request.query.get("limit", default_limit))))
    except ValueError:
        limit = default_limit
    return page, limit


def profile_of(request: web.Request) -> int:
    """``parse_profile_id``: header first, then query, default 1."""
    try:
        if header := request.headers.get("X-Profile-Id"):
            return max(1, int(header))
        if param := request.query.get("profile_id"):
            return max(1, int(param))
    except ValueError:
        pass
    return 1


def only_fields(item: JsonObject, request: web.Request) -> JsonObject:
    """``?fields=a,b`` keeps only those keys."""
    raw = request.query.get("fields", "").strip()
    if not raw:
        return item
    wanted = {f.strip() for f in raw.split(",") if f.strip()}
    return {k: v for k, v in item.items() if k in wanted}


async def json_body(request: web.Request) -> JsonObject:
    """``request.get_json(silent=True) or {}``."""
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass
class Task:
    """A SoulSync download task; ``slskd_id`` is the transfer id SoulSync keeps but never lists."""

    id: str
    status: str
    track_name: str | None = None
    artist_name: str | None = None
    album_name: Any = None
    """A name, or the wishlist track's album object (as SoulSync 3.1.9 lists it)."""
    username: str | None = None
    filename: str | None = None
    size: int | None = None
    progress: float = 0
    batch_id: str | None = None
    error: str | None = None
    step: int = 0
    slskd_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status_change_time: float = 0.0

    def public(self) -> JsonObject:
        """``_serialize_download``."""
        return {
            "id": self.id,
            "status": self.status,
            "track_name": self.track_name,
            "artist_name": self.artist_name,
            "album_name": self.album_name,
            "username": self.username,
            "filename": self.filename,
            "progress": self.progress,
            "size": self.size,
            "error": self.error,
            "batch_id": self.batch_id,
            "track_index": None,
            "retry_count": 0,
            "metadata_enhanced": self.status == "completed",
            "status_change_time": self.status_change_time,
        }

"""A Tribler 7.x app for the conformance tests: no ``/api`` prefix, ``apikey`` query, string errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .records import handled, rest

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_KEY = "0123456789abcdef0123456789abcdef"
"""The key the fake cores are started with."""


def legacy_app(api_key: str = API_KEY) -> web.Application:
    """Tribler 7.13/7.14: no ``/api`` prefix, ``apikey`` query, errors as plain strings."""

    @web.middleware
    async def key_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("X-Api-Key") or request.query.get("apikey") or request.cookies.get("api_key")
        if key != api_key:
            return rest({"error": "Unauthorized access"}, 401)
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return handled(f"Could not find {request.path}", 404)

    async def settings(_: web.Request) -> web.Response:
        return rest({"settings": {"api": {"key": api_key}}, "ports": {}})

    async def downloads(_: web.Request) -> web.Response:
        return rest({"downloads": [], "checkpoints": {"total": 0, "loaded": 0, "all_loaded": True}})

    app = web.Application(middlewares=[key_middleware])
    app.add_routes([web.get("/settings", settings), web.get("/downloads", downloads)])
    return app

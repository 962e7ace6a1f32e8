"""Files, logs, options, shares, telemetry and relay (sources in docs/supported.md, "slskd").

* Files routes take a base64 path segment that slskd does not URL-decode (``FilesController.cs``),
  and ASP.NET leaves ``%2F`` encoded: a base64 ``/`` cannot reach it.
* ``PATCH /options`` and ``PUT /options/yaml`` from 0.24.4, ``POST /options/yaml`` before (gated
  in ``server.py``); telemetry ``metrics`` and ``metrics/kpi`` in 0.24.0 to 0.24.1, ``metrics/kpis``
  and the reports from 0.24.2.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from aiohttp import web

from .server_common import (
    Peer,
    ServerBase,
    now_iso,
    relay_credential,
)


class AdminMixin(ServerBase):
    """Files, logs, options, shares, telemetry and relay."""

    # ------------------------------------------------------------------ files

    @staticmethod
    def _root(request: web.Request) -> str:
        return "downloads" if "/files/downloads/" in request.path else "incomplete"

    @staticmethod
    def _decode_name(request: web.Request) -> str:
        # ASP.NET decodes a route value except "%2F", and slskd does not URL-decode it (FilesController.cs):
        # a base64 "/" cannot come through, raw (it splits the route) nor encoded.
        name = request.match_info["name"].replace("/", "%2F")
        try:
            return base64.b64decode(name, validate=True).decode().replace("\\", "/").strip("/")
        except (binascii.Error, UnicodeDecodeError):
            raise web.HTTPInternalServerError(text="The input is not a valid Base-64 string") from None

    def _tree(self, root: str, prefix: str, recursive: bool) -> dict[str, Any]:
        stamp = now_iso()
        files = self.files[root]
        base = f"{prefix}/" if prefix else ""
        direct = [p for p in files if p.startswith(base) and "/" not in p[len(base) :]]
        subdirs = sorted({p[len(base) :].split("/", 1)[0] for p in files if p.startswith(base) and p not in direct})
        return {
            "name": prefix.rsplit("/", 1)[-1] or root,
            "fullName": f"/{root}/{prefix}".rstrip("/"),
            "attributes": "Directory",
            "createdAt": stamp,
            "modifiedAt": stamp,
            "files": [
                {
                    "name": p.rsplit("/", 1)[-1],
                    "fullName": f"/{root}/{p}",
                    "length": files[p],
                    "attributes": "Archive",
                    "createdAt": stamp,
                    "modifiedAt": stamp,
                }
                for p in direct
            ],
            "directories": [
                self._tree(root, base + d, recursive)
                if recursive
                else {"name": d, "fullName": f"/{root}/{base}{d}", "attributes": "Directory"}
                for d in subdirs
            ],
        }

    async def files_list(self, request: web.Request) -> web.Response:
        root = self._root(request)
        prefix = self._decode_name(request) if "name" in request.match_info else ""
        if prefix and not any(p.startswith(prefix + "/") for p in self.files[root]):
            return web.Response(status=404)
        return web.json_response(self._tree(root, prefix, self.flag(request, "recursive", default=False)))

    async def files_delete_directory(self, request: web.Request) -> web.Response:
        if not self.config.remote_file_management:
            return web.Response(status=403)
        root, prefix = self._root(request), self._decode_name(request)
        doomed = [p for p in self.files[root] if p.startswith(prefix + "/")]
        if not doomed:
            return web.Response(status=404)
        for path in doomed:
            del self.files[root][path]
        return web.Response(status=204)

    async def files_delete_file(self, request: web.Request) -> web.Response:
        if not self.config.remote_file_management:
            return web.Response(status=403)
        root, name = self._root(request), self._decode_name(request)
        if name not in self.files[root]:
            return web.Response(status=404)
        del self.files[root][name]
        return web.Response(status=204)

    # ------------------------------------------------------------------ logs, options

    async def logs(self, _request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"timestamp": now_iso(), "context": "Application", "level": "Information", "message": "started"},
                {"timestamp": now_iso(), "context": "SoulseekClient", "level": "Information", "message": "logged in"},
            ]
        )

    async def options_get(self, _request: web.Request) -> web.Response:
        return web.json_response(self.options)

    def _remote_config(self, request: web.Request, *, jwt_only: bool) -> None:
        if jwt_only:
            self._jwt_only(request)
        if not self.config.remote_configuration:
            raise web.HTTPForbidden()

    async def options_patch(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=False)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self.text("The overlay is not a JSON object", 400)
        self.overlay.update(body)
        return web.json_response(self.overlay)

    async def options_debug(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=True)
        if not self.config.debug:
            raise web.HTTPForbidden()
        return self.text("soulseek:username=me (YamlConfigurationProvider)")

    async def options_yaml_location(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=True)
        return self.text("/app/slskd.yml")

    async def options_yaml_get(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=True)
        return self.text(self.yaml)

    @staticmethod
    def _yaml_error(yaml: str) -> str | None:
        return None if ":" in yaml and "\t" not in yaml else "(Line: 1, Col: 1): not a YAML mapping"

    async def options_yaml_put(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=True)
        yaml = await self.json_string(request)
        error = self._yaml_error(yaml or "")
        if yaml is None or error is not None:
            return self.text(error or "A YAML string is required", 400)
        self.yaml = yaml
        return web.Response(status=200)

    async def options_yaml_validate(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=True)
        error = self._yaml_error(await self.json_string(request) or "")
        return self.text(error) if error else web.Response(status=200)

    # ------------------------------------------------------------------ shares

    _SHARE: ClassVar[dict[str, Any]] = {
        "id": "music",
        "alias": "music",
        "isExcluded": False,
        "localPath": "/music",
        "raw": "/music",
        "remotePath": "@@music",
        "directories": 2,
        "files": 3,
    }

    async def shares_list(self, _request: web.Request) -> web.Response:
        return web.json_response({"local": [self._SHARE]})

    async def share_get(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != self._SHARE["id"]:
            return web.Response(status=404)
        return web.json_response(self._SHARE)

    def _share_contents(self) -> list[dict[str, Any]]:
        return self._directories(Peer("me", {"@@music\\Album\\a.flac": 10, "@@music\\Album\\b.flac": 20}))

    async def shares_contents(self, _request: web.Request) -> web.Response:
        return web.json_response(self._share_contents())

    async def share_contents(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != self._SHARE["id"]:
            return web.Response(status=404)
        return web.json_response(self._share_contents())

    async def shares_rescan(self, _request: web.Request) -> web.Response:
        if self.scanning:
            return self.text("A share scan is already in progress.", 409)
        self.scanning = True
        return web.Response(status=200)

    async def shares_cancel(self, _request: web.Request) -> web.Response:
        if not self.scanning:
            return web.Response(status=404)
        self.scanning = False
        return web.Response(status=204)

    # ------------------------------------------------------------------ telemetry

    def _finished(self, request: web.Request) -> list[dict[str, Any]]:
        direction = request.query.get("direction")
        username = request.query.get("username") or request.match_info.get("username")
        records = [*self.downloads.values(), *self.uploads.values()]
        return [
            t
            for t in records
            if "Completed" in t["state"]
            and (direction is None or t["direction"] == direction)
            and (username is None or t["username"] == username)
        ]

    def _check_direction(self, request: web.Request, *, required: bool) -> None:
        direction = request.query.get("direction")
        if direction is None and required:
            raise web.HTTPBadRequest(text="Direction is required")
        if direction is not None and direction not in ("Download", "Upload"):
            raise web.HTTPBadRequest(text="Invalid direction; expected one of: Download, Upload")

    def _page(self, request: web.Request, items: list[Any]) -> list[Any]:
        limit = int(request.query.get("limit", "25"))
        offset = int(request.query.get("offset", "0"))
        if limit <= 0:
            raise web.HTTPBadRequest(text="Limit must be greater than zero")
        return items[offset : offset + limit]

    async def metrics(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {"slskd_transfers_downloads_total": len(self.downloads), "slskd_searches_total": len(self.searches)}
        )

    async def kpis(self, _request: web.Request) -> web.Response:
        return web.json_response({"downloads": len(self.downloads), "uploads": len(self.uploads)})

    async def report_summary(self, request: web.Request) -> web.Response:
        self._check_direction(request, required=False)
        summary: dict[str, dict[str, dict[str, int]]] = {}
        for t in self._finished(request):
            final = t["state"].split(", ", 1)[-1]
            entry = summary.setdefault(t["direction"], {}).setdefault(final, {"count": 0, "totalBytes": 0})
            entry["count"] += 1
            entry["totalBytes"] += int(t["bytesTransferred"])
        return web.json_response(summary)

    async def report_histogram(self, request: web.Request) -> web.Response:
        self._check_direction(request, required=False)
        if "interval" in request.query and "buckets" in request.query:
            return self.text("Specify either interval or buckets, not both", 400)
        start = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return web.json_response({start: {"Download": {"count": len(self._finished(request))}}})

    async def report_leaderboard(self, request: web.Request) -> web.Response:
        self._check_direction(request, required=True)
        if request.query.get("sortBy", "Count") not in ("Count", "TotalBytes", "AverageSpeed"):
            return self.text("Invalid sortBy; expected one of: Count, TotalBytes, AverageSpeed", 400)
        users: dict[str, dict[str, Any]] = {}
        for t in self._finished(request):
            entry = users.setdefault(t["username"], {"username": t["username"], "count": 0, "totalBytes": 0})
            entry["count"] += 1
            entry["totalBytes"] += int(t["bytesTransferred"])
        ranked = sorted(users.values(), key=lambda u: u["count"], reverse=request.query.get("sortOrder") != "ASC")
        return web.json_response(self._page(request, ranked))

    async def report_user(self, request: web.Request) -> web.Response:
        finished = self._finished(request)
        return web.json_response(
            {
                "username": request.match_info["username"],
                "download": {"count": sum(1 for t in finished if t["direction"] == "Download")},
                "upload": {"count": sum(1 for t in finished if t["direction"] == "Upload")},
            }
        )

    async def report_exceptions(self, request: web.Request) -> web.Response:
        self._check_direction(request, required=True)
        failed = [
            {
                "direction": t["direction"],
                "username": t["username"],
                "filename": t["filename"],
                "state": t["state"],
                "exception": t["exception"],
            }
            for t in self._finished(request)
            if "exception" in t
        ]
        return web.json_response(self._page(request, failed))

    async def report_pareto(self, request: web.Request) -> web.Response:
        self._check_direction(request, required=True)
        counts: dict[str, set[str]] = {}
        totals: dict[str, int] = {}
        for t in self._finished(request):
            if "exception" in t:
                counts.setdefault(t["exception"], set()).add(t["username"])
                totals[t["exception"]] = totals.get(t["exception"], 0) + 1
        rows = [{"exception": e, "count": totals[e], "distinctUsers": len(u)} for e, u in counts.items()]
        return web.json_response(self._page(request, sorted(rows, key=lambda r: -r["count"])))

    async def report_directories(self, request: web.Request) -> web.Response:
        paths: dict[str, set[str]] = {}
        totals: dict[str, int] = {}
        for t in self._finished(request):
            directory = t["filename"].replace("/", "\\").rsplit("\\", 1)[0]
            paths.setdefault(directory, set()).add(t["username"])
            totals[directory] = totals.get(directory, 0) + 1
        rows = [{"path": p, "count": totals[p], "distinctUsers": len(u)} for p, u in paths.items()]
        return web.json_response(self._page(request, rows))

    # ------------------------------------------------------------------ relay

    async def relay_connect(self, request: web.Request) -> web.Response:
        self._jwt_only(request)
        return web.Response(status=200)

    async def relay_disconnect(self, request: web.Request) -> web.Response:
        self._jwt_only(request)
        return web.Response(status=204)

    def _relay_agent(self, request: web.Request) -> tuple[str, str]:
        if self._principal(request) != "apikey":
            raise web.HTTPUnauthorized()
        token = request.match_info["token"]
        try:
            uuid.UUID(token)
        except ValueError:
            raise web.HTTPBadRequest(text="Token is not in a valid format") from None
        agent = request.headers.get("X-Relay-Agent", "")
        secret = self.config.relay_agents.get(agent)
        credential = request.headers.get("X-Relay-Credential", "")
        if secret is None or not secrets.compare_digest(credential, relay_credential(secret, token)):
            raise web.HTTPUnauthorized()
        return agent, token

    async def relay_download(self, request: web.Request) -> web.Response:
        _, token = self._relay_agent(request)
        try:
            filename = base64.b64decode(request.headers.get("X-Relay-Filename-Base64", "")).decode()
        except (binascii.Error, UnicodeDecodeError):
            return web.Response(status=400)
        offered = self.relay_files.get(token)
        if not filename or offered is None or offered[0] != filename:
            return web.Response(status=401)
        return web.Response(body=offered[1], content_type="application/octet-stream")

    async def _first_part(self, request: web.Request) -> tuple[str, bytes]:
        if not request.content_type.startswith("multipart/"):
            raise web.HTTPBadRequest()
        reader = await request.multipart()
        part = await reader.next()
        if part is None or not getattr(part, "filename", None):
            raise web.HTTPBadRequest()
        return str(part.filename), bytes(await part.read())  # type: ignore[union-attr]

    async def relay_upload_file(self, request: web.Request) -> web.Response:
        _, token = self._relay_agent(request)
        self.relay_received[token] = await self._first_part(request)
        return web.Response(status=200)

    async def relay_upload_shares(self, request: web.Request) -> web.Response:
        _, token = self._relay_agent(request)
        self.relay_received[token] = await self._first_part(request)
        return web.Response(status=200)

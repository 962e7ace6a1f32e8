"""slskd's administration routes: files, logs, options, shares, telemetry and relay."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import aiohttp

from ..exceptions import PeerdeckInputError
from .core import (
    OPTIONS_PATCH_VERSION,
    REPORTS_VERSION,
    TELEMETRY_VERSION,
    JsonObject,
    Params,
    SlskdCore,
    encode_path,
    encode_segment,
    flag,
    json_object,
    json_objects,
    plain_text,
    query_params,
    relay_headers,
)


class SlskdAdminRoutes(SlskdCore):
    """Files, logs, options, shares, telemetry (0.24+) and relay."""

    # ------------------------------------------------------------------ files

    async def files_downloads(self, subdirectory: str | None = None, *, recursive: bool = False) -> JsonObject:
        """``GET /files/downloads/directories[/{base64}]``: the downloads folder or one subdirectory."""
        return await self._list_files("downloads", subdirectory, recursive)

    async def files_incomplete(self, subdirectory: str | None = None, *, recursive: bool = False) -> JsonObject:
        """``GET /files/incomplete/directories[/{base64}]``: the incomplete folder or one subdirectory."""
        return await self._list_files("incomplete", subdirectory, recursive)

    async def files_delete_download_directory(self, directory: str) -> None:
        """``DELETE /files/downloads/directories/{base64}`` (needs ``remote_file_management``)."""
        await self._api("DELETE", f"files/downloads/directories/{encode_path(directory)}", decode="none")

    async def files_delete_download_file(self, filename: str) -> None:
        """``DELETE /files/downloads/files/{base64}`` (needs ``remote_file_management``)."""
        await self._api("DELETE", f"files/downloads/files/{encode_path(filename)}", decode="none")

    async def files_delete_incomplete_directory(self, directory: str) -> None:
        """``DELETE /files/incomplete/directories/{base64}``."""
        await self._api("DELETE", f"files/incomplete/directories/{encode_path(directory)}", decode="none")

    async def files_delete_incomplete_file(self, filename: str) -> None:
        """``DELETE /files/incomplete/files/{base64}``."""
        await self._api("DELETE", f"files/incomplete/files/{encode_path(filename)}", decode="none")

    async def _list_files(self, root: str, subdirectory: str | None, recursive: bool) -> JsonObject:
        route = f"files/{root}/directories"
        if subdirectory:
            route += "/" + encode_path(subdirectory)
        return json_object(await self._get(route, {"recursive": flag(recursive)}), "directory")

    # ------------------------------------------------------------------ logs, options

    async def logs(self) -> list[JsonObject]:
        """``GET /logs``: the last log entries ``{timestamp, context, level, message}``."""
        return json_objects(await self._get("logs"), "logs")

    async def options(self) -> JsonObject:
        """``GET /options``: the current options, secrets redacted."""
        return json_object(await self._get("options"), "options")

    async def options_startup(self) -> JsonObject:
        """``GET /options/startup``: the options slskd started with."""
        return json_object(await self._get("options/startup"), "options")

    async def options_patch(self, overlay: Mapping[str, Any]) -> JsonObject | None:
        """``PATCH /options`` (0.24.4+): Administrator and ``remote_configuration`` only (403 otherwise)."""
        await self._since(OPTIONS_PATCH_VERSION, "options overlay (PATCH /options)")
        reply = await self._api("PATCH", "options", json_body=dict(overlay), decode="auto")
        return dict(reply.data) if isinstance(reply.data, dict) else None

    async def options_debug(self) -> str:
        """``GET /options/debug`` (JWT, Administrator, ``debug`` and ``remote_configuration``)."""
        return plain_text(await self._api("GET", "options/debug", decode="text"))

    async def options_yaml_location(self) -> str:
        """``GET /options/yaml/location`` (JWT and Administrator only)."""
        return plain_text(await self._api("GET", "options/yaml/location", decode="text"))

    async def options_yaml(self) -> str:
        """``GET /options/yaml``: the YAML configuration file (JWT and Administrator only)."""
        return plain_text(await self._api("GET", "options/yaml", decode="text"))

    async def options_yaml_update(self, yaml: str) -> None:
        """``PUT /options/yaml`` (``POST`` before 0.24.4): replace the YAML file; 400 when it does not validate."""
        version = await self.version()
        method = "POST" if version is not None and version < OPTIONS_PATCH_VERSION else "PUT"
        await self._api(method, "options/yaml", json_body=yaml, decode="none")

    async def options_yaml_validate(self, yaml: str) -> str | None:
        """``POST /options/yaml/validate``: None when valid, else slskd's error message."""
        reply = await self._api("POST", "options/yaml/validate", json_body=yaml, decode="text")
        return plain_text(reply) or None

    # ------------------------------------------------------------------ shares

    async def shares(self) -> JsonObject:
        """``GET /shares``: ``{local: [share], <relay agent>: [share] …}``."""
        return json_object(await self._get("shares"), "shares")

    async def share(self, share_id: str) -> JsonObject:
        """``GET /shares/{id}``."""
        return json_object(await self._get(f"shares/{encode_segment(share_id)}"), "share")

    async def shares_contents(self) -> list[JsonObject]:
        """``GET /shares/contents``: every shared directory with its files."""
        return json_objects(await self._get("shares/contents"), "share contents")

    async def share_contents(self, share_id: str) -> list[JsonObject]:
        """``GET /shares/{id}/contents``."""
        return json_objects(await self._get(f"shares/{encode_segment(share_id)}/contents"), "share contents")

    async def shares_rescan(self) -> None:
        """``PUT /shares``: start a scan; 409 when one is already running."""
        await self._api("PUT", "shares", decode="none")

    async def shares_cancel_scan(self) -> bool:
        """``DELETE /shares``: True when a running scan was cancelled, False when none ran (404)."""
        reply = await self._api("DELETE", "shares", decode="none", ok_statuses=(404,))
        return reply.status == 204

    # ------------------------------------------------------------------ telemetry (0.24+)

    async def telemetry_metrics(self) -> Any:
        """``GET /telemetry/metrics`` (0.24+): the Prometheus metrics, as JSON."""
        await self._since(TELEMETRY_VERSION, "telemetry")
        return await self._get("telemetry/metrics")

    async def telemetry_kpis(self) -> Any:
        """``GET /telemetry/metrics/kpis`` (``…/kpi`` in 0.24.0 to 0.24.1): headline figures."""
        await self._since(TELEMETRY_VERSION, "telemetry")
        version = await self.version()
        old = version is not None and version < REPORTS_VERSION
        return await self._get("telemetry/metrics/kpi" if old else "telemetry/metrics/kpis")

    async def _report(self, route: str, params: Params | None = None) -> Any:
        await self._since(REPORTS_VERSION, "transfer reports")
        return await self._get(f"telemetry/reports/transfers/{route}", params)

    async def telemetry_transfer_summary(
        self,
        *,
        start: str | None = None,
        end: str | None = None,
        direction: str | None = None,
        username: str | None = None,
    ) -> Any:
        """``GET /telemetry/reports/transfers/summary``: counts and bytes per direction and final state."""
        params = query_params(start=start, end=end, direction=direction, username=username)
        return await self._report("summary", params)

    async def telemetry_transfer_histogram(
        self,
        *,
        start: str | None = None,
        end: str | None = None,
        interval: int | None = None,
        buckets: int | None = None,
        direction: str | None = None,
        username: str | None = None,
    ) -> Any:
        """``GET /telemetry/reports/transfers/histogram`` (give ``interval`` minutes or ``buckets``, not both)."""
        if interval is not None and buckets is not None:
            raise PeerdeckInputError("give either an interval or a number of buckets, not both")
        params = query_params(
            start=start, end=end, interval=interval, buckets=buckets, direction=direction, username=username
        )
        return await self._report("histogram", params)

    async def telemetry_transfer_leaderboard(
        self,
        direction: str,
        *,
        start: str | None = None,
        end: str | None = None,
        sort_by: str = "Count",
        sort_order: str = "DESC",
        limit: int = 25,
        offset: int = 0,
    ) -> Any:
        """``GET /telemetry/reports/transfers/leaderboard``: top users by count, bytes or speed."""
        params = query_params(
            direction=direction, start=start, end=end, sortBy=sort_by, sortOrder=sort_order, limit=limit, offset=offset
        )
        return await self._report("leaderboard", params)

    async def telemetry_user_transfers(self, username: str, *, start: str | None = None, end: str | None = None) -> Any:
        """``GET /telemetry/reports/transfers/users/{username}``."""
        return await self._report(f"users/{encode_segment(username)}", query_params(start=start, end=end))

    async def telemetry_transfer_exceptions(
        self,
        direction: str,
        *,
        start: str | None = None,
        end: str | None = None,
        username: str | None = None,
        sort_order: str = "DESC",
        limit: int = 25,
        offset: int = 0,
    ) -> Any:
        """``GET /telemetry/reports/transfers/exceptions``."""
        params = query_params(
            direction=direction,
            start=start,
            end=end,
            username=username,
            sortOrder=sort_order,
            limit=limit,
            offset=offset,
        )
        return await self._report("exceptions", params)

    async def telemetry_transfer_exceptions_pareto(
        self,
        direction: str,
        *,
        start: str | None = None,
        end: str | None = None,
        username: str | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> Any:
        """``GET /telemetry/reports/transfers/exceptions/pareto``: the most frequent failure messages."""
        params = query_params(direction=direction, start=start, end=end, username=username, limit=limit, offset=offset)
        return await self._report("exceptions/pareto", params)

    async def telemetry_transfer_directories(
        self,
        *,
        start: str | None = None,
        end: str | None = None,
        username: str | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> Any:
        """``GET /telemetry/reports/transfers/directories``: the most downloaded directories."""
        params = query_params(start=start, end=end, username=username, limit=limit, offset=offset)
        return await self._report("directories", params)

    # ------------------------------------------------------------------ relay

    async def relay_connect(self) -> None:
        """``PUT /relay/agent``: connect this agent to its controller (JWT and Administrator only)."""
        await self._api("PUT", "relay/agent", decode="none")

    async def relay_disconnect(self) -> None:
        """``DELETE /relay/agent``."""
        await self._api("DELETE", "relay/agent", decode="none")

    async def relay_download_file(self, token: str, filename: str, *, agent: str, credential: str) -> bytes:
        """``GET /relay/controller/downloads/{token}``: a controller file a relay agent was asked to fetch."""
        headers = {
            **relay_headers(agent, credential),
            "X-Relay-Filename-Base64": base64.b64encode(filename.encode()).decode(),
        }
        reply = await self._api(
            "GET", f"relay/controller/downloads/{encode_segment(token)}", headers=headers, decode="bytes"
        )
        return bytes(reply.data)

    async def relay_upload_file(
        self, token: str, filename: str, content: bytes, *, agent: str, credential: str
    ) -> None:
        """``POST /relay/controller/files/{token}``: an agent streams a requested file to its controller."""
        form = aiohttp.FormData()
        form.add_field("file", content, filename=filename, content_type="application/octet-stream")
        await self._api(
            "POST",
            f"relay/controller/files/{encode_segment(token)}",
            data=form,
            headers=relay_headers(agent, credential),
            decode="none",
        )

    async def relay_upload_shares(self, token: str, shares: bytes, *, agent: str, credential: str) -> None:
        """``POST /relay/controller/shares/{token}``: an agent sends its share database to its controller."""
        form = aiohttp.FormData()
        form.add_field("shares", shares, filename="shares", content_type="application/octet-stream")
        await self._api(
            "POST",
            f"relay/controller/shares/{encode_segment(token)}",
            data=form,
            headers=relay_headers(agent, credential),
            decode="none",
        )

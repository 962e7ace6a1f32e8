"""A real Home Assistant for the demo: config folder, process, onboarding and REST/websocket calls.

Peerdeck is installed the way HACS installs it: ``custom_components/peerdeck`` is copied into the
config folder, and the client library (the manifest's requirement) is already in the environment,
so Home Assistant finds the requirement satisfied and installs nothing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "peerdeck"
START_TIMEOUT = 240.0
"""The first start compiles and caches a lot; later ones take a fraction of this."""

CONFIGURATION = """\
# Written by ./scripts/demo. Only what the demo needs: no default_config, so nothing reaches the internet.
homeassistant:
  name: Peerdeck demo
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: NL
  language: en
  internal_url: "{url}"
  allowlist_external_dirs:
    - "{downloads}"

http:
  server_host: 127.0.0.1
  server_port: {port}

frontend:
config:
logger:
  default: warning
  logs:
    custom_components.peerdeck: info
    peerdeck: info
"""


@dataclass
class Login:
    """The demo user."""

    name: str = "Peerdeck Demo"
    username: str = "demo"
    password: str = "peerdeck-demo"  # noqa: S105 - a throwaway local demo account, printed to the user


def write_config(config_dir: Path, port: int, downloads: Path) -> None:
    """A fresh config folder: configuration.yaml, Peerdeck copied as HACS does, onboarding's core step done."""
    config_dir.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    (config_dir / "configuration.yaml").write_text(CONFIGURATION.format(url=url, port=port, downloads=downloads))
    target = config_dir / "custom_components" / "peerdeck"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(INTEGRATION, target, ignore=shutil.ignore_patterns("__pycache__"))
    # configuration.yaml already answers onboarding's core-config step (location, units, time zone);
    # marking it done also keeps HA from setting up the integrations that step adds, which need the internet.
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    onboarding = {"version": 4, "minor_version": 1, "key": "onboarding", "data": {"done": ["core_config"]}}
    (storage / "onboarding").write_text(json.dumps(onboarding))


class HomeAssistantProcess:
    """``hass -c <config>`` in its own process group, with its log in the config folder."""

    def __init__(
        self, config_dir: Path, port: int, hass: Path | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self.config_dir = config_dir
        self.port = port
        self.hass = hass or Path(sys.executable).with_name("hass")
        """The ``hass`` script of the environment to run (by default, the one running this)."""
        self.env = env
        """Its environment variables (by default, this process's)."""
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = config_dir / "hass.out"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start Home Assistant (returns at once; see :meth:`wait_until_up`)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                [str(self.hass), "-c", str(self.config_dir), "--log-no-color"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**(os.environ if self.env is None else self.env), "PYTHONUNBUFFERED": "1"},
            )

    @property
    def pid(self) -> int:
        """The process id of ``hass``."""
        if self.process is None:
            raise RuntimeError("Home Assistant is not started")
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        """The end of Home Assistant's output, for error messages."""
        texts = []
        for path in (self.log_path, self.config_dir / "home-assistant.log"):
            if path.exists():
                texts.append(f"--- {path}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(texts)

    async def wait_until_up(self, session: aiohttp.ClientSession, timeout: float = START_TIMEOUT) -> None:
        """Wait until the onboarding API answers (the HTTP server and frontend are set up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"Home Assistant exited with {self.process.returncode} while starting:\n{self.log_tail()}"
                )
            try:
                async with session.get(f"{self.url}/api/onboarding", timeout=aiohttp.ClientTimeout(total=3)) as reply:
                    if reply.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.5)
        raise RuntimeError(f"Home Assistant did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop Home Assistant and anything it started (SIGTERM to its group, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # stragglers of the group, if any


class HomeAssistantApi:
    """The REST and websocket calls the demo makes, as the demo user."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url
        self.client_id = f"{url}/"
        self.token = ""

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def _json(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Any:
        headers = self._headers() if auth else {}
        async with self.session.request(method, f"{self.url}{path}", headers=headers, **kwargs) as reply:
            text = await reply.text()
            if reply.status >= 400:
                raise RuntimeError(f"{method} {path} answered {reply.status}: {text[:500]}")
            return json.loads(text) if text else None

    async def onboard(self, login: Login) -> None:
        """Create the demo user and finish onboarding over the onboarding REST API."""
        created = await self._json(
            "POST",
            "/api/onboarding/users",
            auth=False,
            json={
                "client_id": self.client_id,
                "name": login.name,
                "username": login.username,
                "password": login.password,
                "language": "en",
            },
        )
        await self._exchange_code(created["auth_code"])
        await self._json("POST", "/api/onboarding/analytics")
        await self._json(
            "POST",
            "/api/onboarding/integration",
            json={"client_id": self.client_id, "redirect_uri": f"{self.client_id}?auth_callback=1"},
        )

    async def _exchange_code(self, code: str) -> None:
        tokens = await self._json(
            "POST",
            "/auth/token",
            auth=False,
            data={"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
        )
        self.token = tokens["access_token"]

    async def login_code(self, login: Login) -> str:
        """An authorization code from the login flow, as the frontend's login page gets one."""
        flow = await self._json(
            "POST",
            "/auth/login_flow",
            auth=False,
            json={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{self.client_id}?auth_callback=1",
            },
        )
        result = await self._json(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            auth=False,
            json={"client_id": self.client_id, "username": login.username, "password": login.password},
        )
        if result.get("type") != "create_entry":
            raise RuntimeError(f"logging in as {login.username} failed: {result}")
        return str(result["result"])

    def frontend_login_url(self, code: str, path: str = "/") -> str:
        """A frontend URL that logs the browser in with ``code`` (the OAuth callback the login page uses)."""
        state = base64.b64encode(json.dumps({"hassUrl": self.url, "clientId": self.client_id}).encode()).decode()
        return f"{self.url}{path}?auth_callback=1&code={code}&state={state}"

    async def config_flow(self, handler: str, *answers: Mapping[str, Any]) -> dict[str, Any]:
        """Run an integration's config flow as the UI does, one answer per step; returns the created entry."""
        flow = await self._json(
            "POST", "/api/config/config_entries/flow", json={"handler": handler, "show_advanced_options": False}
        )
        result = flow
        for answer in answers:
            if result.get("type") != "form":
                raise RuntimeError(f"the {handler} config flow ended before step {dict(answer)}: {result}")
            result = await self._json("POST", f"/api/config/config_entries/flow/{flow['flow_id']}", json=dict(answer))
        if result.get("type") != "create_entry":
            raise RuntimeError(f"the {handler} config flow did not create an entry: {result}")
        entry: dict[str, Any] = result["result"]
        return entry

    async def add_entry(self, kind: str, connection: Mapping[str, Any]) -> dict[str, Any]:
        """Add a Peerdeck config entry through the config flow, as the UI does."""
        return await self.config_flow(
            "peerdeck", {"kind": kind}, {**connection, "advanced": {"verify_ssl": True, "timeout": 10}}
        )

    async def remove_entry(self, entry_id: str) -> None:
        """Delete a config entry (unloading its integration), as the UI does."""
        await self._json("DELETE", f"/api/config/config_entries/entry/{entry_id}")

    async def states(self) -> list[dict[str, Any]]:
        """Every entity state."""
        states: list[dict[str, Any]] = await self._json("GET", "/api/states")
        return states

    async def call_service(self, domain: str, service: str, data: Mapping[str, Any]) -> Any:
        """Call an action over REST."""
        return await self._json("POST", f"/api/services/{domain}/{service}", json=dict(data))

    async def call_service_response(self, domain: str, service: str, data: Mapping[str, Any]) -> Any:
        """Call an action that answers, over REST (``?return_response``)."""
        return await self._json("POST", f"/api/services/{domain}/{service}?return_response", json=dict(data))

    @contextlib.asynccontextmanager
    async def websocket_connection(self) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        """A websocket to Home Assistant, authenticated as the demo user, until the block ends."""
        async with self.session.ws_connect(
            # No size limit, like a browser: a card's first list of 20,000 transfers is a few MB.
            f"{self.url}/api/websocket",
            timeout=aiohttp.ClientWSTimeout(ws_close=5),
            max_msg_size=0,
        ) as ws:
            hello = await ws.receive_json(timeout=10)
            if hello.get("type") != "auth_required":
                raise RuntimeError(f"unexpected websocket greeting: {hello}")
            await ws.send_json({"type": "auth", "access_token": self.token})
            auth = await ws.receive_json(timeout=10)
            if auth.get("type") != "auth_ok":
                raise RuntimeError(f"websocket authentication failed: {auth}")
            yield ws

    async def websocket(self, *commands: Mapping[str, Any]) -> list[Any]:
        """Run websocket commands in order, returning each one's result."""
        results: list[Any] = []
        async with self.websocket_connection() as ws:
            for number, command in enumerate(commands, start=1):
                await ws.send_json({"id": number, **command})
                while True:
                    message = await ws.receive_json(timeout=30)
                    if message.get("id") == number and message.get("type") == "result":
                        break
                if not message.get("success"):
                    raise RuntimeError(f"websocket command {command.get('type')} failed: {message.get('error')}")
                results.append(message.get("result"))
        return results

    async def confirm_http_config(self) -> None:
        """Confirm the HTTP settings Home Assistant 2026.11 took over from configuration.yaml.

        It moves them into its storage as a trial that the user must confirm within 5 minutes (the UI asks with a
        dialog over every page), or it restarts to undo them. The demo's are loopback-only and known to work, so
        it confirms them as that dialog would. Older releases have no such step.
        """
        try:
            (config,) = await self.websocket({"type": "http/config"})
        except RuntimeError as err:
            if "unknown_command" in str(err):
                return
            raise
        if config.get("active_config_type") == "pending":
            await self.websocket({"type": "http/config/promote"})

    async def install_dashboard(self, url_path: str, title: str, config: Mapping[str, Any]) -> None:
        """Create a dashboard (storage mode) with ``config``, in the sidebar and opened by default."""
        await self.websocket(
            {
                "type": "lovelace/dashboards/create",
                "url_path": url_path,
                "title": title,
                "icon": "mdi:swap-vertical-bold",
                "show_in_sidebar": True,
                "require_admin": False,
                "mode": "storage",
            },
            {"type": "lovelace/config/save", "url_path": url_path, "config": dict(config)},
            {"type": "frontend/set_system_data", "key": "core", "value": {"default_panel": url_path}},
        )

    async def long_lived_token(self, name: str) -> str:
        """A long-lived access token of the demo user (for the test and for scripts)."""
        (token,) = await self.websocket({"type": "auth/long_lived_access_token", "client_name": name, "lifespan": 30})
        return str(token)

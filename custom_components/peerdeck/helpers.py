"""Build a Peerdeck backend from a config entry's settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from yarl import URL

from peerdeck import Backend, BackendKind, Credentials, create_backend

from .const import CONF_API_KEY, CONF_KIND, CONF_TIMEOUT, DAEMON_NAMES, DEFAULT_TIMEOUT, DEFAULT_VERIFY_SSL


def build_backend(data: Mapping[str, Any], session: aiohttp.ClientSession) -> Backend:
    """The backend for an entry's data, on the given HTTP session."""
    credentials = Credentials(
        username=data.get(CONF_USERNAME) or None,
        password=data.get(CONF_PASSWORD) or None,
        api_key=data.get(CONF_API_KEY) or None,
    )
    return create_backend(
        data[CONF_KIND],
        data[CONF_URL],
        credentials,
        session=session,
        verify_ssl=data.get(CONF_VERIFY_SSL, DEFAULT_VERIFY_SSL),
        request_timeout=float(data.get(CONF_TIMEOUT, DEFAULT_TIMEOUT)),
    )


def public_url(url: str) -> str:
    """The URL without credentials, query or fragment, and without a trailing slash (scheme and host in
    lower case): how entries store it, one spelling per daemon."""
    parsed = URL(url)
    clean = parsed.with_user(None).with_password(None).with_query(None).with_fragment(None)
    return str(clean).rstrip("/")


def daemon_name(kind: BackendKind | str) -> str:
    """How a daemon kind is shown to users."""
    return DAEMON_NAMES.get(BackendKind(kind), str(kind))

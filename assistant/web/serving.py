"""What ``assistant serve`` checks and says before it loads anything: keys, binding, limits, origins, UI.

An API without keys must not be reachable from other machines by accident, so without keys it only
binds to a loopback address unless the operator opts in explicitly.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from assistant.config import Settings
from assistant.storage.db import database_url
from assistant.web.api_keys import load_keyring


class UnsafeBindError(Exception):
    """A non-loopback host was asked for while no API keys are configured."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1); host names are not resolved."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def with_bound_host(settings: Settings, host: str) -> Settings:
    """The settings with the address ``assistant serve`` binds added to the allowed Host names (a client
    reaching ``--host 10.0.0.5`` names it); wildcard binds (0.0.0.0, ::) name no host and add nothing."""
    name = host.strip().strip("[]").lower()
    if name in ("", "0.0.0.0", "::") or name in settings.allowed_hosts or "*" in settings.allowed_hosts:
        return settings
    return settings.model_copy(update={"allowed_hosts": [*settings.allowed_hosts, name]})


def startup_report(settings: Settings, host: str, allow_unauthenticated: bool) -> list[str]:
    """The lines to print at start; refuses an unauthenticated non-loopback bind.

    Raises :class:`UnsafeBindError`, or :class:`assistant.web.api_keys.ApiKeyConfigError` for bad keys.
    """
    keyring = load_keyring(settings)
    lines = []
    if keyring.enabled:
        lines.append(
            f"API keys: {len(keyring.keys)} configured ({', '.join(keyring.labels)}); every /v1 request "
            "needs 'Authorization: Bearer <key>'."
        )
    elif is_loopback(host):
        lines.append(
            f"API keys: none configured — /v1 is unauthenticated, so it is bound to loopback ({host}) only. "
            "Set ASSISTANT_API_KEYS or ASSISTANT_API_KEYS_FILE (`assistant keys new`) before exposing it."
        )
    elif allow_unauthenticated or settings.allow_unauthenticated:
        lines.append(
            f"WARNING: API keys: none configured — /v1 is unauthenticated and bound to {host} "
            "(allowed by --allow-unauthenticated / ASSISTANT_ALLOW_UNAUTHENTICATED)."
        )
    else:
        raise UnsafeBindError(
            f"refusing to serve the API unauthenticated on {host}: configure API keys "
            "(ASSISTANT_API_KEYS or ASSISTANT_API_KEYS_FILE; `assistant keys new` makes one), bind to "
            "127.0.0.1, or pass --allow-unauthenticated if another layer authenticates callers"
        )
    if settings.rate_limit_per_minute:
        per = "key" if keyring.enabled else "client IP"
        where = _redis_where(settings) or "in this process"
        lines.append(
            f"Rate limit: {settings.rate_limit_per_minute}/min per {per}, bursts of "
            f"{settings.rate_limit_burst} ({where})."
        )
    else:
        lines.append("Rate limit: off (ASSISTANT_RATE_LIMIT_PER_MINUTE=0).")
    if settings.cors_origins:
        lines.append(f"CORS: browser calls allowed from {', '.join(settings.cors_origins)}.")
    if not settings.ui_enabled:
        lines.append("Chat UI: off (ASSISTANT_UI_ENABLED=false).")
    elif keyring.enabled and settings.ui_public:
        lines.append(
            "WARNING: Chat UI at / is public (ASSISTANT_UI_PUBLIC=true): any browser gets an anonymous "
            "session that can ask questions and read /v1, rate-limited per client IP."
        )
    elif keyring.enabled:
        lines.append(
            "Chat UI at / is behind the API keys: the browser exchanges a key at /auth/login for a "
            "session cookie."
        )
    lines.append(
        f"Host names answered: {', '.join(settings.allowed_hosts)} (ASSISTANT_ALLOWED_HOSTS; any other Host "
        "header gets 400)."
    )
    lines.append(
        f"Connections: {settings.max_connections} in all, {settings.max_connections_per_client} per client "
        f"address; a reader stalled {settings.http_write_timeout_seconds:g} s is cut. For public exposure put "
        "the shipped nginx edge in front (deploy/nginx/edge.conf, docs/security.md)."
    )
    if settings.widget_origins:
        pages = ", ".join(settings.widget_origins)
        if keyring.enabled and not settings.ui_public:
            lines.append(
                f"WARNING: Widget: /widget.js is allowed on {pages} but will refuse to open: it holds no key, so "
                "it needs the public chat UI (ASSISTANT_UI_PUBLIC=true)."
            )
        else:
            lines.append(
                f"Widget: /widget.js answers pages of {pages} (anonymous, rate-limited per client IP)."
            )
    lines.append(f"Feedback and chat-UI sessions: {_database_where(settings)}.")
    if settings.trusted_proxies:
        lines.append(f"X-Forwarded-For/-Proto believed from: {', '.join(settings.trusted_proxies)}.")
    return lines


def _database_where(settings: Settings) -> str:
    """Where the runtime database is, without its password (raises StorageConfigError for a bad URL)."""
    url = database_url(settings)
    if url.get_backend_name() == "sqlite":
        return "the SQLite file in the data directory (one machine; set ASSISTANT_DATABASE_URL for replicas)"
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def _redis_where(settings: Settings) -> str | None:
    """'in Redis at host:port' when the limits are shared, without the password."""
    raw = settings.redis_url.get_secret_value()
    if not raw:
        return None
    parts = urlsplit(raw)
    return f"shared in Redis at {parts.hostname or 'localhost'}:{parts.port or 6379}"

"""Absolute links for e-mails, QR codes and invitations, always under TRAINER_BASE_URL.

Never built from the request: its Host header is whatever the client sent.
"""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import current_app


def base_url_problem(base_url: str) -> str | None:
    """Why `base_url` cannot be the app's public address, or None."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return f"{base_url!r} is not a base URL; give one like https://trainer.example.org."
    return None


def external_url(endpoint: str, base_url: str | None = None, **values) -> str:
    """The absolute URL of `endpoint` under `base_url` (default: the configured TRAINER_BASE_URL)."""
    parts = urlsplit(base_url or current_app.config["TRAINER_BASE_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path.rstrip("/") or "/",
                                       url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


#: Builds the absolute URL of an endpoint: `urls("public.verify", code=...)`. Services that write links
#: (notifications) take one, so they need neither a request nor the app's configuration.
UrlBuilder = Callable[..., str]


def url_builder(base_url: str | None = None) -> UrlBuilder:
    """Absolute links under `base_url` (default: TRAINER_BASE_URL); ValueError when it is not a base URL."""
    problem = base_url_problem(base_url) if base_url else None
    if problem:
        raise ValueError(problem)

    def build(endpoint: str, **values) -> str:
        return external_url(endpoint, base_url, **values)

    return build

"""Security headers on every response: CSP, framing, sniffing, referrer, HSTS, and no caching of personal pages."""
from __future__ import annotations

from flask import Flask, request

#: Scripts and styles come only from our own files: no inline script can run, whatever slips into a page.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    @app.after_request
    def _security_headers(response):
        headers = response.headers
        # A view may set a stricter policy of its own (course media do).
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if app.config["TRAINER_ENV"] == "production":
            headers["Strict-Transport-Security"] = HSTS
        # Every page but our own static files may show someone's records: the back button after
        # sign-out, a shared computer or a proxy must not keep a copy. Views may ask for more.
        if request.endpoint != "static" and "no-store" not in headers.get("Cache-Control", "") \
                and request.endpoint != "learn.course_media":
            headers["Cache-Control"] = "no-store"
        return response

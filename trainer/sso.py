"""The OpenID Connect client for single sign-on (Authlib), registered only when OIDC_ISSUER is set.

Authlib reads the provider's discovery document, sends the authorization code request with PKCE
(S256), a state and a nonce kept in the signed session cookie, and validates the ID token: its
signature against the provider's JWKS, the issuer, the audience, the expiry and the nonce.
"""
from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, url_for

#: Seconds to wait for the identity provider (discovery, keys, token) before giving up.
PROVIDER_TIMEOUT_SECONDS = 10


def init_app(app: Flask) -> None:
    issuer = app.config.get("OIDC_ISSUER")
    if not issuer:
        return
    oauth = OAuth(app)
    oauth.register(
        "sso",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "default_timeout": PROVIDER_TIMEOUT_SECONDS},
    )


def sso_client():
    """The registered OpenID Connect client, or None when single sign-on is not configured."""
    oauth = current_app.extensions.get("authlib.integrations.flask_client")
    return oauth.create_client("sso") if oauth is not None else None


def callback_url() -> str:
    """The redirect URI to register at the provider: the public address, never the request's Host header."""
    return current_app.config["TRAINER_BASE_URL"] + url_for("auth.sso_callback")

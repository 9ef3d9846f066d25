"""Settings from the environment (see README, "Configuration")."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

#: Shortest SECRET_KEY and AUDIT_KEY production accepts (a 32-character key is 128+ bits when random).
MIN_PRODUCTION_KEY_CHARS = 32


class ConfigError(RuntimeError):
    """The environment cannot start the app; the message says what to set."""


def _instance_secret_key(instance_path: str, name: str = "secret_key") -> str:
    """Return a key generated once into the instance folder, so local sessions survive restarts."""
    path = Path(instance_path) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _normalise_database_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), not {raw!r}.")
    return int(raw)


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {raw!r}.")
    return int(raw)


def _on_off(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in ("on", "off"):
        raise ConfigError(f"{name} must be 'on' or 'off', not {raw!r}.")
    return raw == "on"


def _role_map(raw: str | None) -> dict[str, list[str]]:
    """OIDC_ROLE_MAP: a JSON object from a claim value (an IdP group) to a role or a list of roles."""
    from trainer.models.accounts import ROLES

    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise ConfigError('OIDC_ROLE_MAP must be a JSON object such as {"trainer-managers": "manager"}.') from None
    if not isinstance(parsed, dict):
        raise ConfigError('OIDC_ROLE_MAP must be a JSON object such as {"trainer-managers": "manager"}.')
    mapping = {}
    for value, roles in parsed.items():
        roles = [roles] if isinstance(roles, str) else roles
        if not isinstance(roles, list) or not roles or any(role not in ROLES for role in roles):
            raise ConfigError(f"OIDC_ROLE_MAP maps {value!r} to {roles!r}; roles are {', '.join(ROLES)}.")
        mapping[str(value)] = sorted(set(roles))
    return mapping


def sso_settings() -> dict:
    """Single sign-on with an OpenID Connect provider; off unless OIDC_ISSUER is set."""
    issuer = (os.environ.get("OIDC_ISSUER") or "").strip().rstrip("/")
    password_signin = _on_off("PASSWORD_SIGNIN", True)
    if issuer:
        missing = [name for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if not os.environ.get(name)]
        if missing:
            raise ConfigError(f"OIDC_ISSUER is set, so {' and '.join(missing)} must be set too.")
    elif not password_signin:
        raise ConfigError("PASSWORD_SIGNIN=off needs single sign-on: set OIDC_ISSUER, OIDC_CLIENT_ID and "
                          "OIDC_CLIENT_SECRET.")
    return {
        "OIDC_ISSUER": issuer or None,
        "OIDC_CLIENT_ID": os.environ.get("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": os.environ.get("OIDC_CLIENT_SECRET") or None,
        "OIDC_SCOPES": os.environ.get("OIDC_SCOPES") or "openid email profile",
        # The words on the sign-in page's button ("Sign in with Contoso").
        "OIDC_PROVIDER_NAME": os.environ.get("OIDC_PROVIDER_NAME") or "your organisation's account",
        # Unknown people with a verified email get an account on first sign-in (else they are refused).
        "OIDC_CREATE_ACCOUNTS": _on_off("OIDC_CREATE_ACCOUNTS", False),
        "OIDC_ROLE_CLAIM": os.environ.get("OIDC_ROLE_CLAIM") or "groups",
        "OIDC_ROLE_MAP": _role_map(os.environ.get("OIDC_ROLE_MAP")),
        "OIDC_CLINIC_CLAIM": os.environ.get("OIDC_CLINIC_CLAIM") or "clinic",
        # The claim saying the provider verified the email (Entra ID: xms_edov); only a verified email links or creates.
        "OIDC_EMAIL_VERIFIED_CLAIM": os.environ.get("OIDC_EMAIL_VERIFIED_CLAIM") or "email_verified",
        # Off: the sign-in page offers single sign-on only, and POST /login is refused.
        "PASSWORD_SIGNIN": password_signin,
    }


def settings_from_environment(instance_path: str) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = os.environ.get("TRAINER_ENV", "development")
    if env not in ("development", "production"):
        raise ConfigError(f"TRAINER_ENV must be 'development' or 'production', not {env!r}.")
    secret_key = os.environ.get("SECRET_KEY")
    if not secret_key:
        if env == "production":
            raise ConfigError("SECRET_KEY must be set when TRAINER_ENV=production.")
        secret_key = _instance_secret_key(instance_path)
    if env == "production" and len(secret_key) < MIN_PRODUCTION_KEY_CHARS:
        raise ConfigError(f"SECRET_KEY must be at least {MIN_PRODUCTION_KEY_CHARS} characters "
                          "when TRAINER_ENV=production; "
                          "make one with: python3 -c 'import secrets; print(secrets.token_hex(32))'")
    audit_key = os.environ.get("AUDIT_KEY")
    if not audit_key:
        if env == "production":
            raise ConfigError("AUDIT_KEY must be set when TRAINER_ENV=production (keep it outside the database).")
        audit_key = _instance_secret_key(instance_path, "audit_key")
    if env == "production" and len(audit_key) < MIN_PRODUCTION_KEY_CHARS:
        raise ConfigError(
            f"AUDIT_KEY must be at least {MIN_PRODUCTION_KEY_CHARS} characters when TRAINER_ENV=production.")
    base_url = os.environ.get("TRAINER_BASE_URL")
    if not base_url:
        if env == "production":
            raise ConfigError("TRAINER_BASE_URL must be set when TRAINER_ENV=production (links in e-mails use it).")
        base_url = "http://127.0.0.1:5000"
    from trainer.links import base_url_problem
    if base_url_problem(base_url):
        raise ConfigError(f"TRAINER_BASE_URL: {base_url_problem(base_url)}")
    database_url = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "trainer.db")
    )
    return {
        "TRAINER_ENV": env,
        "SECRET_KEY": secret_key,
        "AUDIT_KEY": audit_key,
        # The public address in every link the app sends; never taken from a request's Host header.
        "TRAINER_BASE_URL": base_url.rstrip("/"),
        # Every audit entry's id and hash, appended outside the database (make it append-only).
        "AUDIT_HEAD_FILE": os.environ.get("AUDIT_HEAD_FILE") or str(Path(instance_path) / "audit-head.log"),
        "SQLALCHEMY_DATABASE_URI": _normalise_database_url(database_url),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "SMTP_URL": os.environ.get("SMTP_URL") or None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "WTF_CSRF_TIME_LIMIT": None,  # a token lives as long as the session: long quizzes must not lose a save
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        # Seconds after the stored deadline during which an in-flight answer save still counts.
        "ANSWER_GRACE_SECONDS": 30,
        # A session unused this long signs no one in (shared clinic computers); admins' sooner.
        "IDLE_TIMEOUT_MINUTES": _positive_int("IDLE_TIMEOUT_MINUTES", 8 * 60),
        "ADMIN_IDLE_TIMEOUT_MINUTES": _positive_int("ADMIN_IDLE_TIMEOUT_MINUTES", 60),
        # Public certificate lookups (/verify, /api/v1/certificates) per client address per minute.
        # Reverse proxies in front whose X-Forwarded-For/-Proto are believed; 0 believes none.
        "TRUSTED_PROXIES": _whole_number("TRUSTED_PROXIES", 0),
        "VERIFY_LOOKUPS_PER_MINUTE": int(os.environ.get("VERIFY_LOOKUPS_PER_MINUTE") or 60),
        # Background jobs: finished files (not under static/), the queue's SQLite file when REDIS_URL is unset,
        # the queue's name (several installations may share one Redis), when a silent running job counts as
        # lost (its worker died) and how long finished files are kept.
        "JOBS_DIR": os.environ.get("JOBS_DIR") or str(Path(instance_path) / "jobs"),
        "JOBS_QUEUE_FILE": os.environ.get("JOBS_QUEUE_FILE") or str(Path(instance_path) / "jobs-queue.db"),
        "JOBS_QUEUE_NAME": os.environ.get("JOBS_QUEUE_NAME") or "trainer-jobs",
        "JOBS_STALE_SECONDS": _positive_int("JOBS_STALE_SECONDS", 120),
        "JOBS_KEEP_DAYS": _positive_int("JOBS_KEEP_DAYS", 7),
        **sso_settings(),
    }

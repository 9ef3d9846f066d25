"""Settings from the environment (see README, "Configuration")."""
from __future__ import annotations

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
    }

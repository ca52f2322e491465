"""Typed settings, read once from the environment (and an optional ``.env`` file).

Why a module of its own: every entry point (Streamlit app, CLI, REST API, tests) must see the same
configuration and the same start-up checks. Secrets are never defaulted: the cookie signing key comes
from ``APP_COOKIE_KEY`` or from a git-ignored local file that :func:`ensure_local_secret` creates
with a random value on first start, and weak or example keys are refused (a known key lets anyone
forge a login cookie — see shared/SECURITY_FINDINGS.md G).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = ROOT / ".local"
COOKIE_KEY_FILE = LOCAL_DIR / "cookie_key"

#: keys that appear in the library's docs/examples; a cookie signed with them can be forged by anyone
WEAK_COOKIE_KEYS = frozenset({"some_key", "some_signature_key", "changeme", "change-me", "secret", "random_key",
                              "abcdef", "cookie_key", "replace-me"})
MIN_COOKIE_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """The configuration is unusable; the message says which variable and why."""


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _env_float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    if raw.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def check_cookie_key(key: str | None) -> str:
    """Return ``key`` if it is strong enough to sign login cookies, else raise :class:`ConfigError`."""
    if not key:
        raise ConfigError("APP_COOKIE_KEY is missing. Run `make run` once (it generates .local/cookie_key) "
                          "or set APP_COOKIE_KEY to a random value of at least 32 characters.")
    if key.strip().lower() in WEAK_COOKIE_KEYS:
        raise ConfigError("APP_COOKIE_KEY is a well-known example value; anyone could forge a login cookie. "
                          "Generate one: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    if len(key) < MIN_COOKIE_KEY_LENGTH:
        raise ConfigError(f"APP_COOKIE_KEY is too short ({len(key)} characters); use at least "
                          f"{MIN_COOKIE_KEY_LENGTH} random characters.")
    if len(set(key)) < 8:
        raise ConfigError("APP_COOKIE_KEY is not random enough (fewer than 8 distinct characters).")
    return key


def ensure_local_secret(path: Path = COOKIE_KEY_FILE) -> str:
    """Create the git-ignored cookie key file with a random key if it does not exist; return the key."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


def default_database_url() -> str:
    return f"sqlite:///{ROOT / 'data' / 'workforce.db'}"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with safe defaults. Build with :func:`load_settings`."""

    database_url: str
    cookie_key: str = field(repr=False)
    cookie_name: str = "wfp_auth"
    cookie_expiry_days: float = 0.5
    login_max_failures: int = 5
    login_window_seconds: int = 900
    login_lockout_seconds: int = 900
    upload_max_mb: int = 50
    upload_max_rows: int = 500_000
    upload_max_columns: int = 60
    models_dir: Path = ROOT / "models"
    outputs_dir: Path = ROOT / "outputs"
    load_demo_data: bool = True
    timezone: str = "Europe/Berlin"
    #: Dask scheduler of an existing cluster (``tcp://host:8786``) that runs background jobs; None = an embedded local
    #: cluster started on first use, with ``dask_local_workers`` single-threaded worker processes (0 = one per core)
    dask_scheduler_address: str | None = None
    dask_local_workers: int = 0

    def __post_init__(self) -> None:
        check_cookie_key(self.cookie_key)
        if not 0 < self.cookie_expiry_days <= 7:
            raise ConfigError("APP_COOKIE_EXPIRY_DAYS must be > 0 and <= 7 (short sessions limit stolen cookies).")


def upload_limits_env() -> dict[str, int]:
    """``upload_max_mb``, ``upload_max_rows``, ``upload_max_columns`` from UPLOAD_MAX_MB / _ROWS / _COLUMNS.

    One reading for the app's settings and for the forecast CLI, which applies the same limits to its input files
    without needing the rest of the app's configuration. ``ConfigError`` when a value is not a whole number in range.
    """
    return {"upload_max_mb": _env_int("UPLOAD_MAX_MB", 50, 1),
            "upload_max_rows": _env_int("UPLOAD_MAX_ROWS", 500_000, 1),
            "upload_max_columns": _env_int("UPLOAD_MAX_COLUMNS", 60, 2)}


def app_timezone_env() -> str:
    """APP_TIMEZONE (default Europe/Berlin): the one reading for the app and for CLI commands such as ``validate``,
    which check local times (a clock-change gap) without needing the rest of the app's configuration."""
    return os.environ.get("APP_TIMEZONE", "Europe/Berlin")


def load_settings(*, env_file: Path | None = None) -> Settings:
    """Read the settings from the environment (after loading ``.env`` if present)."""
    load_dotenv(env_file or ROOT / ".env", override=False)
    cookie_key = os.environ.get("APP_COOKIE_KEY") or (
        COOKIE_KEY_FILE.read_text(encoding="utf-8").strip() if COOKIE_KEY_FILE.exists() else None)
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or default_database_url(),
        cookie_key=check_cookie_key(cookie_key),
        cookie_name=os.environ.get("APP_COOKIE_NAME", "wfp_auth"),
        cookie_expiry_days=_env_float("APP_COOKIE_EXPIRY_DAYS", 0.5),
        login_max_failures=_env_int("LOGIN_MAX_FAILURES", 5, 1),
        login_window_seconds=_env_int("LOGIN_WINDOW_SECONDS", 900, 1),
        login_lockout_seconds=_env_int("LOGIN_LOCKOUT_SECONDS", 900, 1),
        **upload_limits_env(),
        models_dir=Path(os.environ.get("MODELS_DIR") or ROOT / "models"),
        outputs_dir=Path(os.environ.get("OUTPUTS_DIR") or ROOT / "outputs"),
        load_demo_data=_env_bool("LOAD_DEMO_DATA", True),
        timezone=app_timezone_env(),
        dask_scheduler_address=os.environ.get("DASK_SCHEDULER_ADDRESS", "").strip() or None,
        dask_local_workers=_env_int("DASK_LOCAL_WORKERS", 0, 0),
    )

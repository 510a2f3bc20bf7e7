"""Configuration from the environment (and a `.env` file), read once per process.

Every setting of SPEC §9 is here and nowhere else. Production mode (`CIVICLINE_ENV=production`)
refuses to start without its secrets; development mode fills in safe local defaults.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"

SECRET_NAMES = (
    "TWILIO_AUTH_TOKEN",
    "TELEGRAM_SECRET_TOKEN",
    "CIVICLINE_API_TOKEN",
    "CIVICLINE_SESSION_SECRET",
)
# Required in production and written to .env by `make run`, but never made up per process in
# development: a key that changed between processes would forget opt-out suppressions
# (bot/domain/suppression.py reads it).
STABLE_SECRET_NAMES = ("CIVICLINE_SUPPRESSION_KEY",)
# The key of the dates-of-birth hashes: required in production; a fixed public key stands in
# for it in development (bot/domain/cases.py), as for the suppression key.
DOB_KEY_NAME = "CIVICLINE_DOB_KEY"
# The secret the Rasa server sends to the action server (endpoints.yml, server/action_server.py).
# Two processes must agree on it, so it is never made up per process either: `make run` writes it
# to .env and scripts/serve hands it to both.
ACTION_SECRET_NAME = "CIVICLINE_ACTION_SECRET"
# Every setting production mode uses and has no safe default for; a missing one is a start-up
# error naming it (README, "Settings"). Development fills in local values instead.
PRODUCTION_REQUIRED = (
    "PUBLIC_BASE_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TELEGRAM_SECRET_TOKEN",
    "CIVICLINE_CALL_CENTRE_NUMBER",
    "CIVICLINE_API_TOKEN",
    "CIVICLINE_SESSION_SECRET",
    "CIVICLINE_SUPPRESSION_KEY",
    "CIVICLINE_DOB_KEY",
    ACTION_SECRET_NAME,
    "CIVICLINE_USSD_ALLOWED_IPS",
)
# Who may post to the USSD callback (channels/ussd.py): the gateway's addresses as CIDRs,
# comma-separated. Empty allows every address outside production; production requires it.
USSD_ALLOWED_IPS = "CIVICLINE_USSD_ALLOWED_IPS"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a simple KEY=VALUE `.env` file (comments and blank lines allowed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def env_file_path() -> Path:
    """The `.env` file read with the environment: ``CIVICLINE_ENV_FILE``, or the project's.

    The tests point it at an empty file, so a developer's own `.env` never decides a test.
    """
    return Path(os.environ.get("CIVICLINE_ENV_FILE") or PROJECT_ROOT / ".env")


def _env(name: str, file_values: dict[str, str], default: str = "") -> str:
    return os.environ.get(name) or file_values.get(name) or default


@dataclass(frozen=True)
class Settings:
    """All runtime settings. Build with :func:`load_settings` (or :func:`get_settings`)."""

    environment: str
    database_url: str
    public_base_url: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_from_number: str
    twilio_api_base_url: str
    telegram_bot_token: str
    telegram_secret_token: str
    telegram_api_base_url: str
    api_token: str
    session_secret: str
    call_centre_number: str
    redis_url: str
    default_region: str
    dispatcher: bool = True  # CIVICLINE_DISPATCHER=off: `python -m bot dispatch` sends instead
    # CIVICLINE_SUPPRESSION_KEY (bot/domain/suppression.py); "" in development
    suppression_key: str = ""
    # CIVICLINE_REST_TOKEN: in production the REST channel answers 404 without it and then
    # wants it as a bearer token (channels/rest.py); unused in development and tests.
    rest_token: str = ""
    dob_key: str = ""  # CIVICLINE_DOB_KEY: dates of birth are HMACs under it (bot/domain/cases.py)
    lock_minutes: int = 15
    max_verification_attempts: int = 3
    action_secret: str = ""  # CIVICLINE_ACTION_SECRET: what the action server requires
    rabbitmq_url: str = ""  # RABBITMQ_URL: Rasa's events to RabbitMQ (server/event_broker.py)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def default_database_url() -> str:
    return f"sqlite:///{VAR_DIR / 'civicline.db'}"


def environment_name(env_file: Path | None = None) -> str:
    """``CIVICLINE_ENV`` (default ``development``), read without checking anything else."""
    return _env("CIVICLINE_ENV", read_env_file(env_file or env_file_path()),
                "development").lower()


def missing_for_production(file_values: dict[str, str]) -> list[str]:
    """The names in :data:`PRODUCTION_REQUIRED` that are unset or blank."""
    return [name for name in PRODUCTION_REQUIRED if not _env(name, file_values).strip()]


def load_settings(env_file: Path | None = None) -> Settings:
    """Read settings; raise :class:`ConfigError` naming every missing setting in production."""
    file_values = read_env_file(env_file or env_file_path())
    environment = _env("CIVICLINE_ENV", file_values, "development").lower()
    values = {name: _env(name, file_values) for name in SECRET_NAMES}
    if environment == "production":
        missing = missing_for_production(file_values)
        if missing:
            raise ConfigError(
                "Missing settings for production: "
                + ", ".join(missing)
                + ". Set them in the environment or in .env (see README, 'Settings')."
            )
    networks(_env(USSD_ALLOWED_IPS, file_values), USSD_ALLOWED_IPS)  # a typo: refused now
    if environment != "production":
        # Development: an unset secret gets a random value for this process only, so nothing
        # runs open by accident; `make run` writes stable ones to .env (see bot.cli.main).
        for name, value in values.items():
            if not value:
                values[name] = secrets.token_urlsafe(24)
    return Settings(
        environment=environment,
        database_url=_env("DATABASE_URL", file_values, default_database_url()),
        public_base_url=_env("PUBLIC_BASE_URL", file_values, "http://localhost:5005").rstrip("/"),
        twilio_account_sid=_env("TWILIO_ACCOUNT_SID", file_values, "AC" + "0" * 32),
        twilio_auth_token=values["TWILIO_AUTH_TOKEN"],
        twilio_from_number=_env("TWILIO_FROM_NUMBER", file_values, "+15005550006"),
        twilio_api_base_url=_env("TWILIO_API_BASE_URL", file_values),
        telegram_bot_token=_env("TELEGRAM_BOT_TOKEN", file_values),
        telegram_secret_token=values["TELEGRAM_SECRET_TOKEN"],
        telegram_api_base_url=_env("TELEGRAM_API_BASE_URL", file_values),
        api_token=values["CIVICLINE_API_TOKEN"],
        session_secret=values["CIVICLINE_SESSION_SECRET"],
        call_centre_number=_env("CIVICLINE_CALL_CENTRE_NUMBER", file_values, "+15005550001"),
        redis_url=_env("REDIS_URL", file_values),
        default_region=_env("CIVICLINE_DEFAULT_REGION", file_values, "US"),
        dispatcher=_env("CIVICLINE_DISPATCHER", file_values, "on").lower()
        not in ("off", "0", "false", "no"),
        suppression_key=_env(STABLE_SECRET_NAMES[0], file_values),
        rest_token=_env("CIVICLINE_REST_TOKEN", file_values),
        dob_key=_env(DOB_KEY_NAME, file_values),
        action_secret=_env(ACTION_SECRET_NAME, file_values),
        rabbitmq_url=_env("RABBITMQ_URL", file_values),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return load_settings()


def _env_file_values(path: Path) -> dict[str, str]:
    """The `.env` file's values, parsed again only when the file changes (knobs are read on
    hot paths: every form answer, every dispatcher tick)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    return _parsed_env_file(path, stamp)


@lru_cache(maxsize=4)
def _parsed_env_file(path: Path, _stamp: int | None) -> dict[str, str]:
    return read_env_file(path)


def tunable(name: str, default: float) -> float:
    """A numeric knob (draft lifetime, desks per slot, retry backoff...) from the environment or
    `.env`, read on each call so tests and operators can change it without a restart."""
    raw = _env(name, _env_file_values(env_file_path()))
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from exc


def text_setting(name: str, default: str = "") -> str:
    """A text knob (an allow-list, trusted proxies...) from the environment or `.env`, read on
    each call like :func:`tunable`."""
    return _env(name, _env_file_values(env_file_path()), default).strip()


def networks(raw: str, name: str = "") -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network,
                                               ...]:
    """A comma-separated list of CIDRs ("196.201.214.0/24, 2001:db8::/32"; an address alone is
    one host); a :class:`ConfigError` naming the setting for anything else."""
    found = []
    for part in (p.strip() for p in (raw or "").split(",")):
        if not part:
            continue
        try:
            found.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ConfigError(f"{name or 'a network list'}: {part!r} is not an address or "
                              "CIDR range (like 196.201.214.0/24)") from exc
    return tuple(found)

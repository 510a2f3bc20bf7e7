"""The environment every CivicLine process of a test run gets: settings, secrets, free ports."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
API_TOKEN = "test-api-token-0123456789"
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"
TELEGRAM_SECRET = "test-telegram-secret"
ACTION_SECRET = "test-action-secret"
CALL_CENTRE = "+15550109999"
STAFF_PASSWORD = "correct horse battery staple"  # every staff account tests make
# A value for every setting production mode requires (bot.config.PRODUCTION_REQUIRED): a test of
# one missing setting sets these and removes that one.
PRODUCTION_SETTINGS = {
    "CIVICLINE_ENV": "production",
    "PUBLIC_BASE_URL": "https://civicline.example.org",
    "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
    "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
    "TWILIO_FROM_NUMBER": "+15550109000",
    "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
    "CIVICLINE_CALL_CENTRE_NUMBER": CALL_CENTRE,
    "CIVICLINE_API_TOKEN": API_TOKEN,
    "CIVICLINE_SESSION_SECRET": "test-session-secret",
    "CIVICLINE_SUPPRESSION_KEY": "test-suppression-key",
    "CIVICLINE_DOB_KEY": "test-dob-key",
    "CIVICLINE_ACTION_SECRET": ACTION_SECRET,
    "CIVICLINE_USSD_ALLOWED_IPS": "196.201.214.0/24",  # Africa's Talking's own range, say
}
OWN_PREFIXES = ("CIVICLINE_", "TWILIO_", "TELEGRAM_")  # a developer's own are never inherited


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(database_url: str) -> dict[str, str]:
    """The environment every CivicLine process of a test run gets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(
        DATABASE_URL=database_url,
        CIVICLINE_ENV="test",
        CIVICLINE_ENV_FILE=os.devnull,  # a developer's own .env never decides a test
        CIVICLINE_API_TOKEN=API_TOKEN,
        CIVICLINE_SESSION_SECRET="test-session-secret",
        CIVICLINE_CALL_CENTRE_NUMBER=CALL_CENTRE,
        TWILIO_AUTH_TOKEN=TWILIO_AUTH_TOKEN,
        TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
        CIVICLINE_ACTION_SECRET=ACTION_SECRET,
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONDONTWRITEBYTECODE="1",
        # The shared stack serves the whole suite from 127.0.0.1, many turns a minute per
        # sender: its abuse limits are set out of reach here; tests/test_abuse*.py set their own.
        CIVICLINE_RATE_PER_SENDER="10000",
        CIVICLINE_RATE_PER_ADDRESS="100000",
        CIVICLINE_SMS_BUDGET_PER_HOUR="100000",
        CIVICLINE_SMS_COUNTRIES="*",  # the demo data has Spanish, French and Moroccan numbers
        CIVICLINE_LOGIN_FAILURES_PER_ADDRESS="100000",
    )
    return env

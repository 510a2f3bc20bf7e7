"""Where the server's webhooks are, and requests to them as the providers send them.

Twilio's form posts are signed with the local ``TWILIO_AUTH_TOKEN`` (``RequestValidator.
compute_signature`` over ``PUBLIC_BASE_URL`` + path, as Twilio signs them); Telegram's updates
carry the secret token header (:mod:`bot.devtools.clients`). Only HTTP: nothing here imports
the channels.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from bot.config import get_settings

FORM = "application/x-www-form-urlencoded"
TWILIO_NUMBER = "+15005550006"
ACCOUNT_SID = "AC" + "0" * 32


@dataclass(frozen=True)
class Webhooks:
    """Where the server is, and the secrets the providers would use."""

    url: str  # where requests go, e.g. http://localhost:5005
    public_base_url: str  # what Twilio signs (PUBLIC_BASE_URL of the server)
    twilio_auth_token: str
    telegram_secret: str

    @classmethod
    def from_settings(cls, url: str | None = None) -> Webhooks:
        settings = get_settings()
        return cls(url=(url or settings.public_base_url).rstrip("/"),
                   public_base_url=settings.public_base_url,
                   twilio_auth_token=settings.twilio_auth_token,
                   telegram_secret=settings.telegram_secret_token)

    def local(self, public: str) -> str:
        """A public URL (a <Gather> action) as the URL to request here."""
        parts = urlsplit(public)
        return self.url + parts.path + (f"?{parts.query}" if parts.query else "")


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 30
         ) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    return RequestValidator(token).compute_signature(url, params)


def twilio_post(hooks: Webhooks, public_url: str, params: dict[str, str],
                signature: str | None = None) -> tuple[int, str]:
    """POST ``params`` as Twilio would, to ``public_url`` (signed unless given one)."""
    if signature is None:
        signature = twilio_signature(hooks.twilio_auth_token, public_url, params)
    headers = {"Content-Type": FORM}
    if signature:
        headers["X-Twilio-Signature"] = signature
    return post(hooks.local(public_url), urlencode(params).encode(), headers)

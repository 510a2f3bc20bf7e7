"""People writing to the running stack through the real webhooks (the simulator's clients,
signed as Twilio signs and with Telegram's secret token; USSD as Africa's Talking posts it),
counting their own turns."""

from __future__ import annotations

from typing import Any

from bot.devtools.clients import SmsClient, TelegramClient, UssdClient, UssdScreen
from bot.devtools.webhooks import Webhooks, twilio_post
from bot.messaging.sms.encoding import MAX_SEGMENTS, segments
from tests.support.environment import TELEGRAM_SECRET, TWILIO_AUTH_TOKEN
from tests.support.stack import Stack
from tests.support.unique import phone, telegram_user


def channel_hooks(stack: Stack) -> Webhooks:
    """The simulator's view of the stack: where to post and which secrets to use."""
    return Webhooks(url=stack.url, public_base_url=stack.url,
                    twilio_auth_token=TWILIO_AUTH_TOKEN, telegram_secret=TELEGRAM_SECRET)


def texting(stack: Stack, number: str | None = None) -> SmsClient:
    """A phone (a new number unless given) texting the stack's SMS webhook."""
    return SmsClient(channel_hooks(stack), number or phone())


def on_whatsapp(stack: Stack, number: str | None = None) -> SmsClient:
    """A phone (a new number unless given) writing on WhatsApp: Twilio posts it to the SMS
    webhook with ``From=whatsapp:+…``."""
    return SmsClient(channel_hooks(stack), number or phone(), whatsapp=True)


STATUS_PATH = "/webhooks/sms/status"


def status_callback(stack: Stack, sid: str, status: str, error_code: str | None = None,
                    signature: str | None = None) -> tuple[int, str]:
    """Twilio's delivery status callback for ``sid``, signed as Twilio signs it (unless
    ``signature`` is given)."""
    params = {"MessageSid": sid, "MessageStatus": status, "SmsSid": sid, "SmsStatus": status,
              "AccountSid": "AC" + "1" * 32, "From": "+15005550006", "To": "+15550300000",
              "ApiVersion": "2010-04-01", **({"ErrorCode": error_code} if error_code else {})}
    return twilio_post(channel_hooks(stack), stack.url + STATUS_PATH, params, signature)


class Sms:
    """A phone texting the SMS webhook; counts the person's messages. A call returns what
    the person reads (every reply within the SMS budget)."""

    def __init__(self, stack: Stack, number: str) -> None:
        self.client = SmsClient(channel_hooks(stack), number)
        self.number = number
        self.turns = 0

    def __call__(self, body: str, **extra: str) -> str:
        self.turns += 1
        reply = self.client.send(body, **extra)
        assert reply.status == 200, reply.raw
        assert all(segments(b) <= MAX_SEGMENTS for b in reply.bodies), reply.bodies
        return "\n".join(reply.bodies)


class Telegram:
    """A Telegram user: text, or a press of the button whose title contains ``title``."""

    def __init__(self, stack: Stack, user_id: int | None = None) -> None:
        self.client = TelegramClient(channel_hooks(stack), user_id or telegram_user())
        self.turns = 0
        self.buttons: list[list[str]] = []

    def _reply(self, reply: tuple[int, Any]) -> str:
        status, body = reply
        assert status == 200, body
        self.buttons = [b for r in body["replies"] for b in r["buttons"]]
        return "\n".join(r["text"] for r in body["replies"])

    def __call__(self, text: str) -> str:
        self.turns += 1
        return self._reply(self.client.send(text))

    def press(self, title: str) -> str:
        self.turns += 1
        data = next(d for t, d in self.buttons if title.lower() in t.lower())
        return self._reply(self.client.press(data))

    def photo(self, caption: str | None = None) -> str:
        self.turns += 1
        return self._reply(self.client.send_photo(caption))


MAX_USSD_SCREEN = 182  # Africa's Talking's limit, "CON "/"END " included


class Ussd:
    """A phone dialling the USSD code through the real callback; counts the person's key
    entries (a dial is not one). A call returns the screen's text; every screen is checked:
    200, at most 182 characters, starting "CON " or "END ". ``screens`` keeps them all."""

    def __init__(self, stack: Stack, number: str | None = None) -> None:
        self.client = UssdClient(channel_hooks(stack), number or phone())
        self.number = self.client.phone
        self.turns = 0
        self.screens: list[str] = []
        self.last: UssdScreen | None = None

    def _checked(self, screen: UssdScreen) -> str:
        assert screen.status == 200, (screen.status, screen.raw)
        assert screen.raw.startswith(("CON ", "END ")), screen.raw
        assert len(screen.raw) <= MAX_USSD_SCREEN, (len(screen.raw), screen.raw)
        self.screens.append(screen.raw)
        self.last = screen
        return screen.text

    def dial(self) -> str:
        return self._checked(self.client.dial())

    def __call__(self, keys: str) -> str:
        self.turns += 1
        return self._checked(self.client.answer(keys))

    @property
    def open(self) -> bool:
        return self.last is not None and self.last.waits

    def option(self, words: str) -> str:
        """The number the current screen gives the option whose title contains ``words``."""
        assert self.last is not None
        for line in self.last.text.split("\n"):
            number, _, title = line.partition(". ")
            if number.isdigit() and words.lower() in title.lower():
                return number
        raise AssertionError(f"no option {words!r} on the screen:\n{self.last.text}")

    def pick(self, words: str) -> str:
        """Press the option whose title contains ``words``, turning pages ("9 More") until
        the screen shows it."""
        for _ in range(5):
            try:
                number = self.option(words)
            except AssertionError:
                assert self.last is not None and "\n9 " in "\n" + self.last.text, \
                    f"no option {words!r} and no more pages:\n{self.last.text}"
                self("9")
                continue
            return self(number)
        raise AssertionError(f"no option {words!r} within 5 pages")

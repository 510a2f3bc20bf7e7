"""Talk to CivicLine's SMS, WhatsApp, Telegram, voice and USSD webhooks without Twilio,
Telegram or Africa's Talking.

``python -m bot simulate sms|whatsapp|telegram|voice|ussd [--from +PHONE] [--url …]``
sends what the providers would send, over HTTP, to the running server (the clients of
:mod:`bot.devtools.clients`, signed as in :mod:`bot.devtools.webhooks`). It shows each SMS with
its encoding and segment count, a WhatsApp message with its media, Telegram's buttons, what
a caller hears and may press, and each USSD screen with its length; with ``--inbox-port``
(SMS, WhatsApp, USSD), messages sent later reach the simulated phone too
(:mod:`bot.devtools.inbox`), which reports them delivered and read as Twilio's status callbacks
would.

Only HTTP: nothing here imports the channels.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

from bot.devtools.clients import (
    CallClient,
    CallTurn,
    SmsClient,
    SmsReply,
    TelegramClient,
    UssdClient,
    UssdScreen,
)
from bot.devtools.inbox import TwilioInbox
from bot.devtools.webhooks import ACCOUNT_SID, Webhooks
from bot.messaging.sms.encoding import encoding, segments


def _show_sms(reply: SmsReply, out: Callable[[str], None], whatsapp: bool = False) -> None:
    if reply.status != 200:
        out(f"  [HTTP {reply.status}] {reply.raw}")
    if reply.status == 200 and not reply.bodies:
        out("  (no reply)")
    for body in reply.bodies:
        out(f"  [WhatsApp, {len(body)} chars]" if whatsapp else
            f"  [{encoding(body)}, {segments(body)} segment(s), {len(body)} chars]")
        out("  " + body.replace("\n", "\n  "))
    for url in reply.media:
        out(f"  [media] {url}")


def _show_call(turn: CallTurn, out: Callable[[str], None]) -> None:
    if turn.status != 200:
        out(f"  [HTTP {turn.status}] {turn.raw}")
        return
    for said in turn.says:
        out(f"  🔊 ({said.language}, {said.voice}) {said.text}")
    if turn.dial:
        out(f"  📞 transferring the call to {turn.dial}")
    if turn.hangup:
        out("  (the call ends)")
    elif turn.gather:
        keys = ("keys ending with #" if turn.gather.get("finishOnKey") == "#"
                else "one key" if turn.gather.get("numDigits") == "1" else "keys")
        out(f"  … listening ({turn.gather.get('language')}): press {keys}, or speak")


def _show_telegram(status: int, body: Any, out: Callable[[str], None]) -> list[list[str]]:
    if status != 200 or not isinstance(body, dict):
        out(f"  [HTTP {status}] {body}")
        return []
    buttons: list[list[str]] = []
    for reply in body.get("replies") or []:
        out("  " + reply["text"].replace("\n", "\n  "))
        for title, data in reply.get("buttons") or []:
            buttons.append([title, data])
            out(f"   [{len(buttons)}] {title}")
        if reply.get("contact_button"):
            out(f"   [📱 {reply['contact_button']}]  (type /contact to share your phone)")
    if body.get("ignored") or body.get("duplicate"):
        out(f"  ({body.get('ignored') or 'duplicate'})")
    return buttons


SAMPLE_PHOTO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM0/Media/ME0"
HELP = {
    "sms": "Type a text message ('/photo' sends an MMS photo). 'quit' to stop.",
    "whatsapp": "Type a WhatsApp message ('/photo' sends a photo). 'quit' to stop.",
    "telegram": ("Type a message or a command (/start, /help, /language). '/press N' presses "
                 "button N, '/contact' shares your phone, '/photo' sends a photo. 'quit' ends."),
    "ussd": ("Type the keys of each answer (digits). An empty line after the session closed "
             "dials again. 'quit' to stop."),
    "voice": ("Type keys to press (digits, end references with #) or words to say them. "
              "An empty line is silence. 'quit' hangs up."),
}


def _open_inbox(port: int, phone: str, out: Callable[[str], None],
                hooks: Webhooks) -> TwilioInbox | None:
    try:
        inbox = TwilioInbox(port, phone, out, hooks)
    except OSError as exc:
        out(f"(later messages not shown: port {port} is taken: {exc.strerror})")
        return None
    out(f"Later messages (notifications) show here when the server runs with "
        f"TWILIO_API_BASE_URL={inbox.url}")
    return inbox


def run(channel: str, phone: str, url: str | None = None,
        read: Callable[[str], str] = input, out: Callable[[str], None] = print,
        inbox_port: int | None = None) -> int:
    """The interactive session; returns an exit status. With ``inbox_port`` (SMS), later
    messages to ``phone`` are shown too (:class:`TwilioInbox`)."""
    hooks = Webhooks.from_settings(url)
    out(f"CivicLine {channel} simulator -> {hooks.url} (as {phone}). {HELP[channel]}")
    texting = channel in ("sms", "whatsapp", "ussd")
    inbox = _open_inbox(inbox_port, phone, out, hooks) if texting and inbox_port else None
    try:
        if channel == "ussd":  # before SMS's loop: USSD also texts, but dials and keys
            with inbox or contextlib.nullcontext():
                _ussd_loop(UssdClient(hooks, phone), read, out)
        elif texting:
            with inbox or contextlib.nullcontext():
                _sms_loop(SmsClient(hooks, phone, whatsapp=channel == "whatsapp"), read, out)
        elif channel == "voice":
            _voice_loop(CallClient(hooks, phone), read, out)
        else:
            user_id = int("".join(ch for ch in phone if ch.isdigit())[-9:] or "1")
            _telegram_loop(TelegramClient(hooks, user_id), phone, read, out)
    except (EOFError, KeyboardInterrupt):
        out("")
    except OSError as exc:
        out(f"error: cannot reach {hooks.url} ({exc}). Is `make run` going?")
        return 1
    return 0


def _sms_loop(client: SmsClient, read: Callable[[str], str], out: Callable[[str], None]
              ) -> None:
    while (line := read("you> ")).strip().lower() != "quit":
        if line.strip().lower().startswith("/photo"):  # a photo, with any words after /photo
            words = line.strip()[len("/photo"):].strip()
            _show_sms(client.send(words, NumMedia="1", MediaUrl0=SAMPLE_PHOTO_URL,
                                  MediaContentType0="image/jpeg"), out, client.whatsapp)
            continue
        _show_sms(client.send(line), out, client.whatsapp)


def _voice_loop(call: CallClient, read: Callable[[str], str], out: Callable[[str], None]
                ) -> None:
    turn = call.start()
    while True:
        _show_call(turn, out)
        if turn.redirect:
            turn = call.request(turn.redirect, call.params())
            continue
        if turn.hangup or not turn.gather:
            return
        line = read("caller> ").strip()
        if line.lower() == "quit":
            return
        keys = line.replace(" ", "")
        if keys and all(ch.isdigit() or ch in "#*" for ch in keys):
            turn = call.press(keys.rstrip("#"))
        else:
            turn = call.say(line) if line else call.silence()


def _show_ussd(screen: UssdScreen, out: Callable[[str], None]) -> None:
    if screen.status != 200:
        out(f"  [HTTP {screen.status}] {screen.raw}")
        return
    out(f"  [{'waiting for keys' if screen.waits else 'session closed'}, "
        f"{len(screen.raw)} chars]")
    out("  " + screen.text.replace("\n", "\n  "))


def _ussd_loop(client: UssdClient, read: Callable[[str], str], out: Callable[[str], None]
               ) -> None:
    out(f"  (dialling {client.params()['serviceCode']})")
    screen = client.dial()
    while True:
        _show_ussd(screen, out)
        line = read("keys> " if screen.waits else "(Enter dials again) ").strip()
        if line.lower() == "quit":
            return
        screen = client.answer(line) if screen.waits else client.dial()


def _telegram_loop(client: TelegramClient, phone: str, read: Callable[[str], str],
                   out: Callable[[str], None]) -> None:
    buttons: list[list[str]] = []
    while (line := read("you> ").strip()).lower() != "quit":
        if line.startswith("/press"):
            number = line.removeprefix("/press").strip()
            if not number.isdigit() or not 1 <= int(number) <= len(buttons):
                out("  (no such button)")
                continue
            status, body = client.press(buttons[int(number) - 1][1])
        elif line == "/contact":
            status, body = client.share_contact(phone)
        elif line == "/photo":
            status, body = client.send_photo()
        else:
            status, body = client.send(line)
        buttons = _show_telegram(status, body, out) or buttons


def main(channel: str, phone: str, url: str | None, inbox_port: int | None = None) -> int:
    if not sys.stdin.isatty():
        print("(reading lines from standard input)")
    return run(channel, phone, url, inbox_port=inbox_port)

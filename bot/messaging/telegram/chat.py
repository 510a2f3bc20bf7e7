"""A Telegram update, before and after Rasa (SPEC §6.2). The channel (channels/telegram.py)
checks the secret token, parses the update with python-telegram-bot, dedupes and calls Rasa;
the decisions are here.

Handled: text (commands ``/start``, ``/help``, ``/language``, ``/menu``; a bare number picks
that button of the last message, as on SMS), button presses
(callback queries, always answered), a shared contact (the person's *own* contact verifies
their phone, :func:`bot.domain.people.link_telegram_contact`), photos and files (kept as a
reference,
politely declined: no form takes them yet). Edits and every other kind of update are ignored.
Only private chats are served: CivicLine talks to one person at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from telegram import Message, Update

from bot.domain import people
from bot.domain.phones import to_e164
from bot.language import texts
from bot.messaging import inbound
from bot.messaging.media import NOT_WAITING, Waiting
from bot.messaging.messages import BotMessage, capped, last_options, pick_option
from bot.messaging.telegram import callbacks
from bot.messaging.telegram.render import CALLBACK_KEY_PREFIX, TelegramMessage, render_telegram
from bot.store.models import Person

# Telegram commands, as Rasa payloads: /start greets with the menu (SPEC §6.2).
COMMANDS = {
    "/start": "/greet",
    "/help": "/help",
    "/language": "/change_language",
    "/menu": inbound.MENU_PAYLOAD,
    "/cancel": inbound.MENU_PAYLOAD,
}
RESET = inbound.MENU_PAYLOAD  # after a contact share: leave any half-done form


HANDLED = ("message", "callback_query")  # every other kind of update is ignored unparsed
EDITS = ("edited_message", "edited_channel_post")

# The fields CivicLine reads, and their JSON types: an update that has one of them with
# another type is refused (422) before python-telegram-bot, which does not check types.
_FIELDS: dict[tuple[str, ...], type] = {
    ("update_id",): int,
    ("callback_query",): dict, ("callback_query", "id"): str,
    ("callback_query", "from"): dict, ("callback_query", "from", "id"): int,
    ("callback_query", "data"): str,
    **{("message", *path): expected for path, expected in {
        (): dict, ("message_id",): int, ("date",): int, ("chat",): dict, ("chat", "id"): int,
        ("chat", "type"): str, ("from",): dict, ("from", "id"): int, ("from", "is_bot"): bool,
        ("text",): str, ("caption",): str, ("contact",): dict, ("contact", "phone_number"): str,
        ("contact", "user_id"): int, ("photo",): list, ("document",): dict,
        ("document", "file_id"): str, ("video",): dict, ("video", "file_id"): str,
        ("animation",): dict, ("animation", "file_id"): str,
    }.items()},
}


def relevant(data: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The part of an update CivicLine handles (update_id and a message or a button press),
    or (None, why it is ignored): edits and other kinds are never parsed."""
    if any(data.get(kind) is not None for kind in EDITS):
        return None, "edited message"
    kind = next((kind for kind in HANDLED if data.get(kind) is not None), None)
    if kind is None:
        return None, "not a message"
    return {"update_id": data.get("update_id"), kind: data[kind]}, None


def shape_error(data: dict[str, Any]) -> str | None:
    """Why ``data`` is not an update CivicLine can read (a field of the wrong type), or None."""
    for path, expected in _FIELDS.items():
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None and path != ("update_id",):
            continue
        if (isinstance(value, bool) and expected is int) or not isinstance(value, expected):
            name = expected.__name__
            return f"'{'.'.join(path)}' must be {'an' if name == 'int' else 'a'} {name}"
    photos = (data.get("message") or {}).get("photo") or []
    if not all(isinstance(p, dict) and isinstance(p.get("file_id"), str) for p in photos):
        return "'message.photo' must be a list of photo sizes"
    return None


@dataclass(frozen=True)
class TelegramStep:
    """What to do with one update: ``replies`` now, ``ask`` Rasa (with ``media`` as message
    metadata; after ``quiet``, whose answer is dropped), answer the button press
    ``callback_id``; or ``ignore`` it (why)."""

    replies: list[TelegramMessage] = field(default_factory=list)
    ask: str | None = None
    media: list[dict[str, Any]] = field(default_factory=list)
    repeat: list[BotMessage] = field(default_factory=list)  # the pending question, again
    quiet: str | None = None
    callback_id: str | None = None
    ignore: str | None = None


def user_of(update: Update) -> tuple[int | None, str | None]:
    """(Telegram user id, None) for an update we serve, else (None, why it is ignored)."""
    if update.callback_query is not None:
        user = update.callback_query.from_user
        return (user.id, None) if user is not None else (None, "no sender")
    message = update.message
    if message is None:
        return None, "not a message"
    if message.chat.type != "private":
        return None, "not a private chat"
    if message.from_user is None or message.from_user.is_bot:
        return None, "no human sender"
    return message.from_user.id, None


def media_of(update: Update) -> list[dict[str, Any]]:
    """File references of a photo or file (kept for a later form; never logged)."""
    message = update.message
    if message is None:
        return []
    if message.photo:
        largest = message.photo[-1]
        return [{"file_id": largest.file_id, "content_type": "image/jpeg"}]
    for item in (message.document, message.video, message.animation):
        if item is not None:
            kind = getattr(item, "mime_type", None) or "application/octet-stream"
            return [{"file_id": item.file_id, "content_type": kind}]
    return []


def begin(session: Session, person: Person, update: Update,
          waiting: Waiting = NOT_WAITING) -> TelegramStep:
    """What to do with one update before Rasa sees anything; ``waiting``: what a form waits
    for (read from Rasa's tracker when the message carries media)."""
    if update.effective_user is not None:
        people.first_language_hint(session, person, update.effective_user.language_code)
    language = person.language
    query = update.callback_query
    if query is not None:
        data = query.data or ""
        if data.startswith(CALLBACK_KEY_PREFIX):
            payload = callbacks.callback_payload(session, data[len(CALLBACK_KEY_PREFIX):])
        else:
            payload = data if data.startswith("/") else None
        return TelegramStep(ask=payload, callback_id=query.id,
                            ignore=None if payload else "unknown button")
    message = update.message
    assert message is not None  # user_of() let only messages and button presses through
    if message.contact is not None:
        return _contact(session, person, message)
    if message.text is not None and not message.text.strip():  # only spaces: no text
        return TelegramStep([TelegramMessage(texts.text("utter_text_only", language))])
    if message.text:
        command = message.text.strip().split(maxsplit=1)[0].split("@", 1)[0].lower()
        if command in COMMANDS:
            return TelegramStep(ask=COMMANDS[command])
        if inbound.is_menu(message.text):
            return TelegramStep(ask=inbound.MENU_PAYLOAD)
        payload = pick_option(message.text, inbound.options(session, person, inbound.TELEGRAM))
        if payload:  # "2": the second button of the last message, as on SMS
            return TelegramStep(ask=payload)
        text = inbound.user_text(message.text)
        return TelegramStep(ask=text) if text else TelegramStep(
            [TelegramMessage(texts.text("utter_text_only", language))])
    media = media_of(update)
    if media:
        step = waiting.on_media(media, inbound.user_text(message.caption))
        declined = ([TelegramMessage(texts.text("utter_media_declined", language))]
                    if step.declined else [])
        return TelegramStep(declined, ask=step.ask, media=step.media, repeat=step.repeat)
    if any((message.sticker, message.voice, message.audio, message.video_note,
            message.location, message.venue, message.poll, message.dice)):
        return TelegramStep([TelegramMessage(texts.text("utter_text_only", language))])
    return TelegramStep(ignore="service message")


def _contact(session: Session, person: Person, message: Message) -> TelegramStep:
    contact = message.contact
    language = person.language
    raw = (contact.phone_number or "").replace(" ", "")
    phone = to_e164(raw if raw.startswith("+") else f"+{raw}")
    own = message.from_user is not None and contact.user_id == message.from_user.id
    if not own or phone is None:
        return TelegramStep([TelegramMessage(
            texts.text("utter_tg_contact_not_own", language),
            contact_button=texts.text("utter_tg_share_phone", language))])
    owner = people.link_telegram_contact(session, person, phone)
    reply = TelegramMessage(texts.text("utter_tg_phone_verified", owner.language),
                            remove_keyboard=True)
    return TelegramStep([reply], quiet=RESET)


def answer(session: Session, person: Person, messages: Sequence[BotMessage]
           ) -> list[TelegramMessage]:
    """Rasa's answer as Telegram messages (long payloads get short keys in the database);
    the last message's buttons are remembered, so a typed "2" picks the second."""
    inbound.remember(session, person, inbound.TELEGRAM, last_options(capped(messages)))
    label = None if person.phone_verified else texts.text("utter_tg_share_phone",
                                                          person.language)
    return render_telegram(messages, lambda payload: callbacks.callback_key(session, payload),
                           contact_label=label)

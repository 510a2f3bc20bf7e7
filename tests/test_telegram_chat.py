"""What a Telegram update decides before Rasa sees it (bot/messaging/telegram/chat.py), table by
table: real Bot API Update JSON, parsed as the webhook parses it (channels/telegram.py, with
python-telegram-bot), a real SQLite database, no model. Commands, button presses, a shared
contact, photos and files, what is text-only, and the updates that are not served at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session
from telegram import Update

from bot.domain import people
from bot.domain.forms import PHOTO_PAYLOAD, PHOTO_SLOT, REPORT_FORM
from bot.messaging import inbound
from bot.messaging.media import NOT_WAITING, Waiting
from bot.messaging.messages import BotMessage
from bot.messaging.telegram import callbacks, chat
from channels.telegram import parse
from tests.support.unique import phone, telegram_user
from tests.support.wire import (
    sanic_request,
    telegram_body,
    telegram_message,
    telegram_photo,
    telegram_update,
)
from tests.support.wire import telegram_user as user_json

WEBHOOK = "/webhooks/telegram/webhook"
BOT = {"id": 123456, "is_bot": True, "first_name": "CivicLine", "username": "civicline_test_bot"}
MENU = (("My application", "/check_application_status"), ("Talk to a person", "/request_human"))
LONG_PAYLOAD = '/digital_help{"digital_topic": "guide:reset_password_for_the_online_portal"}'
PHOTO_QUESTION = Waiting(REPORT_FORM, PHOTO_SLOT, BotMessage(
    "Do you have a photo? Send it now, or reply NO.", response="utter_ask_problem_photo"))
PLACE_QUESTION = Waiting(REPORT_FORM, "problem_place", BotMessage(
    "Where is it? A street and number, or a place near it.",
    response="utter_ask_problem_place"))

TEXT_ONLY = {"en": "Sorry, I can only read text. Please write your message.",
             "es": "Lo siento, solo puedo leer texto. Por favor, escriba su mensaje.",
             "fr": "Désolé, je ne peux lire que du texte. Merci d'écrire votre message."}
NO_PHOTO_HERE = ("Thank you. I can only use a photo when I ask for one, in a problem report. "
                 "Please tell me in words.")
VERIFIED = {"en": "Thank you. Your phone number is confirmed. Send your case number to check it.",
            "es": "Gracias. Su número de teléfono está confirmado. Envíe su número de caso para "
                  "consultarlo."}
NOT_OWN = "Please share your own phone number with the button below."

Kinds = Callable[[dict[str, Any], Session], dict[str, Any]]  # (the user, the database) -> update


def says(text: str) -> Kinds:
    return lambda user, _session: {"message": telegram_message(user, text=text)}


def sends(**content: Any) -> Kinds:
    return lambda user, _session: {"message": telegram_message(user, **content)}


def presses(data: str | Callable[[Session], str]) -> Kinds:
    """A press of an inline button of the bot's last message (``data``: its callback_data)."""
    def kinds(user: dict[str, Any], session: Session) -> dict[str, Any]:
        shown = {"message_id": 7, "from": BOT, "date": 1764583200, "text": "How can I help?",
                 "chat": {"id": user["id"], "first_name": user["first_name"], "type": "private"}}
        return {"callback_query": {"id": "4382bfdwdsb323b2d9", "from": user, "message": shown,
                                   "chat_instance": "-6255137283938211872",
                                   "data": data(session) if callable(data) else data}}
    return kinds


def stored_key(session: Session) -> str:
    """The short key a long payload got when its button was sent."""
    return f"#{callbacks.callback_key(session, LONG_PAYLOAD)}"


def shares(number: str | None = None, own: bool = True) -> Kinds:
    """A contact shared with the keyboard button (``own``) or picked from the address book."""
    def kinds(user: dict[str, Any], _session: Session) -> dict[str, Any]:
        contact = {"phone_number": number or phone().lstrip("+"), "first_name": "Amina",
                   **({"user_id": user["id"]} if own else {"user_id": user["id"] + 1})}
        return {"message": telegram_message(user, contact=contact)}
    return kinds


@dataclass(frozen=True)
class Given:
    update: Kinds
    language: str | None = "en"  # the person's language before the update
    language_code: str | None = "en"  # the Telegram app's language
    offered: tuple[tuple[str, str], ...] = ()  # the buttons of the bot's last message
    waiting: Waiting = NOT_WAITING


@dataclass(frozen=True)
class Then:
    replies: tuple[str, ...] = ()
    ask: str | None = None
    answers_press: bool = False  # the button press is answered (the spinner stops)
    ignore: str | None = None
    quiet: str | None = None  # asked first, its answer dropped
    media: tuple[tuple[str, str], ...] = ()  # (file_id, content type) handed to Rasa
    repeats_question: bool = False
    language: str | None = "en"  # the person's language afterwards


CASES = {
    # commands and text
    "/start greets": (Given(says("/start")), Then(ask="/greet")),
    "/start@bot in a deep link": (Given(says("/start@civicline_test_bot")), Then(ask="/greet")),
    "/help": (Given(says("/help")), Then(ask="/help")),
    "/language": (Given(says("/language")), Then(ask="/change_language")),
    "/menu": (Given(says("/menu")), Then(ask=inbound.MENU_PAYLOAD)),
    "/cancel": (Given(says("/cancel")), Then(ask=inbound.MENU_PAYLOAD)),
    "MENU typed": (Given(says("MENU")), Then(ask=inbound.MENU_PAYLOAD)),
    "2 picks the second button": (Given(says("2"), offered=MENU), Then(ask="/request_human")),
    "2 without buttons is text": (Given(says("2")), Then(ask="2")),
    "text": (Given(says("where is city hall?")), Then(ask="where is city hall?")),
    "an unknown command is text": (Given(says("/weather today")), Then(ask="weather today")),
    # button presses, always answered
    "a payload button": (Given(presses("/check_application_status")),
                         Then(ask="/check_application_status", answers_press=True)),
    "a long payload by its key": (Given(presses(stored_key)),
                                  Then(ask=LONG_PAYLOAD, answers_press=True)),
    "a key nobody handed out": (Given(presses("#999999")),
                                Then(answers_press=True, ignore="unknown button")),
    "data that is no payload": (Given(presses("approve_all")),
                                Then(answers_press=True, ignore="unknown button")),
    # a shared contact: their own verifies the phone, then any half-done form is left
    "their own contact": (Given(shares()), Then((VERIFIED["en"],), quiet=inbound.MENU_PAYLOAD)),
    "someone else's contact": (Given(shares(own=False)), Then((NOT_OWN,))),
    "their own, not a phone number": (Given(shares("12")), Then((NOT_OWN,))),
    # photos and files: taken only at the report's photo question
    "a photo outside a form": (Given(sends(photo=telegram_photo())), Then((NO_PHOTO_HERE,))),
    "a photo with a caption": (Given(sends(photo=telegram_photo(), caption="Elm St light")),
                               Then((NO_PHOTO_HERE,), ask="Elm St light")),
    "a photo at the photo question": (
        Given(sends(photo=telegram_photo("AgAC")), waiting=PHOTO_QUESTION),
        Then(ask=PHOTO_PAYLOAD, media=(("AgAC1280", "image/jpeg"),))),
    "a PDF there": (
        Given(sends(document={"file_name": "letter.pdf", "mime_type": "application/pdf",
                              "file_id": "BQACAgQ", "file_unique_id": "AgADBQ",
                              "file_size": 48213}), waiting=PHOTO_QUESTION),
        Then(ask=PHOTO_PAYLOAD, media=(("BQACAgQ", "application/pdf"),))),
    "a photo at another question": (Given(sends(photo=telegram_photo()),
                                          waiting=PLACE_QUESTION),
                                    Then((NO_PHOTO_HERE,), repeats_question=True)),
    # what cannot be read
    "a sticker": (Given(sends(sticker={"width": 512, "height": 512, "emoji": "👍",
                                       "is_animated": False, "is_video": False,
                                       "type": "regular", "file_id": "CAACAgI",
                                       "file_unique_id": "AgADCw"})),
                  Then((TEXT_ONLY["en"],))),
    "a voice note": (Given(sends(voice={"duration": 3, "mime_type": "audio/ogg",
                                        "file_id": "AwACAgQ", "file_unique_id": "AgADAw",
                                        "file_size": 7020})),
                     Then((TEXT_ONLY["en"],))),
    "a location, French": (Given(sends(location={"latitude": 48.8566, "longitude": 2.3522}),
                                 language="fr"),
                           Then((TEXT_ONLY["fr"],), language="fr")),
    "a pinned message (a service message)": (
        Given(sends(pinned_message={"message_id": 3, "date": 1764583200, "text": "hi",
                                    "chat": {"id": 1, "type": "private", "first_name": "A"}})),
        Then(ignore="service message")),
    # someone new: the app's language is the first guess
    "new, a Spanish app": (Given(sends(location={"latitude": 40.4, "longitude": -3.7}),
                                 language=None, language_code="es-MX"),
                           Then((TEXT_ONLY["es"],), language="es")),
    "new, a German app": (Given(says("hallo"), language=None, language_code="de"),
                          Then(ask="hallo", language=None)),
    "known: the app's language is no choice": (Given(says("hola"), language_code="fr"),
                                               Then(ask="hola")),
}


def received(update: dict[str, Any]) -> Update:
    """The update as the webhook parses it (a real Sanic request, python-telegram-bot)."""
    parsed = parse(sanic_request(WEBHOOK, telegram_body(update)))
    assert isinstance(parsed, Update), parsed
    return parsed


@pytest.mark.parametrize(("given", "then"), CASES.values(), ids=CASES.keys())
def test_what_an_update_decides_before_rasa(session: Session, given: Given, then: Then) -> None:
    user = user_json(telegram_user(), given.language_code)
    update = received(telegram_update(telegram_user(), **given.update(user, session)))
    user_id, ignored = chat.user_of(update)
    assert (user_id, ignored) == (user["id"], None)
    person = people.get_or_create(session, people.telegram_sender_id(user_id))
    person.language = given.language
    inbound.remember(session, person, inbound.TELEGRAM, given.offered)
    step = chat.begin(session, person, update, given.waiting)
    assert tuple(r.text for r in step.replies) == then.replies
    assert (step.ask, step.ignore, step.quiet) == (then.ask, then.ignore, then.quiet)
    assert step.callback_id == ("4382bfdwdsb323b2d9" if then.answers_press else None)
    assert [(m["file_id"], m["content_type"]) for m in step.media] == list(then.media)
    assert step.repeat == ([given.waiting.question] if then.repeats_question else [])
    owner = people.find(session, people.telegram_sender_id(user_id))
    assert owner is not None and owner.language == then.language


def test_a_verified_contact_removes_the_keyboard_and_links_the_phone(session: Session) -> None:
    user = user_json(telegram_user())
    number = phone()
    update = received(telegram_update(telegram_user(), **shares(number.lstrip("+"))(user,
                                                                                    session)))
    person = people.get_or_create(session, people.telegram_sender_id(user["id"]))
    [reply] = chat.begin(session, person, update).replies
    assert reply.remove_keyboard and reply.contact_button is None
    assert (person.phone, person.phone_verified) == (number, True)


def test_the_phone_of_someone_who_texted_joins_them_in_their_language(session: Session
                                                                     ) -> None:
    number = phone("+3461200")
    texter = people.get_or_create(session, number)
    texter.language = "es"  # they texted in Spanish before
    user = user_json(telegram_user(), language_code=None)
    update = received(telegram_update(telegram_user(), **shares(number.lstrip("+"))(user,
                                                                                    session)))
    person = people.get_or_create(session, people.telegram_sender_id(user["id"]))
    step = chat.begin(session, person, update)
    assert [r.text for r in step.replies] == [VERIFIED["es"]]
    assert people.find(session, people.telegram_sender_id(user["id"])).id == texter.id


def test_someone_elses_contact_asks_again_with_the_share_button(session: Session) -> None:
    user = user_json(telegram_user())
    update = received(telegram_update(telegram_user(), **shares(own=False)(user, session)))
    person = people.get_or_create(session, people.telegram_sender_id(user["id"]))
    [reply] = chat.begin(session, person, update).replies
    assert reply.contact_button == "Share my phone number" and not reply.remove_keyboard
    assert not person.phone_verified


def test_a_text_of_only_spaces_is_no_text(session: Session) -> None:
    user = user_json(telegram_user())
    update = received(telegram_update(telegram_user(), **says("   ")(user, session)))
    person = people.get_or_create(session, people.telegram_sender_id(user["id"]))
    assert [r.text for r in chat.begin(session, person, update).replies] == [TEXT_ONLY["en"]]


# --- updates that are never served -------------------------------------------------------------

NOT_SERVED = {
    "an edit": ({"edited_message": "MESSAGE"}, "edited message"),
    "a channel post": ({"channel_post": "MESSAGE"}, "not a message"),
    "the user blocked the bot": ({"my_chat_member": {
        "chat": {"id": 1, "type": "private", "first_name": "A"}, "from": "USER",
        "date": 1764583200, "old_chat_member": {"status": "member", "user": BOT},
        "new_chat_member": {"status": "kicked", "user": BOT, "until_date": 0}}},
        "not a message"),
    "a group chat": ({"message": "GROUP"}, "not a private chat"),
    "a bot writing": ({"message": "FROM_A_BOT"}, "no human sender"),
}


def _fill(value: Any, user: dict[str, Any]) -> Any:
    if value == "MESSAGE":
        return telegram_message(user, text="hello")
    if value == "GROUP":
        return telegram_message(user, chat_type="group", text="hello")
    if value == "FROM_A_BOT":
        return telegram_message(BOT, text="hello")
    if value == "USER":
        return user
    if isinstance(value, dict):
        return {k: _fill(v, user) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("kinds", "why"), NOT_SERVED.values(), ids=NOT_SERVED.keys())
def test_updates_that_are_not_served(kinds: dict[str, Any], why: str) -> None:
    user = user_json(telegram_user())
    parsed = parse(sanic_request(WEBHOOK, telegram_body(telegram_update(
        telegram_user(), **_fill(kinds, user)))))
    if isinstance(parsed, Update):
        parsed = chat.user_of(parsed)[1]
    assert parsed == why


REFUSED = {
    "not JSON": (b"update_id=1", (400, "the body must be JSON")),
    "a JSON list": (b"[1, 2]", (400, "the body must be a JSON object (a Telegram Update)")),
    "update_id as text": (b'{"update_id": "12", "message": {}}',
                          (422, "'update_id' must be an int")),
    "text as a number": (
        b'{"update_id": 1, "message": {"message_id": 1, "date": 1, "text": 42, '
        b'"chat": {"id": 1, "type": "private"}}}', (422, "'message.text' must be a str")),
    "photo sizes as text": (
        b'{"update_id": 1, "message": {"message_id": 1, "date": 1, "photo": ["big"], '
        b'"chat": {"id": 1, "type": "private"}}}',
        (422, "'message.photo' must be a list of photo sizes")),
    "a press without a sender id": (
        b'{"update_id": 1, "callback_query": {"id": "1", "from": {"id": "7"}, "data": "/x"}}',
        (422, "'callback_query.from.id' must be an int")),
}


@pytest.mark.parametrize(("body", "refused"), REFUSED.values(), ids=REFUSED.keys())
def test_bodies_that_are_no_update_are_refused_with_a_reason(body: bytes,
                                                             refused: tuple[int, str]) -> None:
    assert parse(sanic_request(WEBHOOK, body)) == refused

"""The Telegram webhook with real Bot API update JSON, the trained model and the actions; what
the project sends back is recorded by the Telegram stand-in (``stack.providers``)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.devtools.clients import TelegramClient
from tests.support.clients import channel_hooks
from tests.support.providers import Providers
from tests.support.stack import Stack
from tests.support.stack_data import new_case, query, spaced
from tests.support.unique import phone, telegram_user

pytestmark = pytest.mark.stack
def user(stack: Stack, language_code: str | None = None) -> TelegramClient:
    return TelegramClient(channel_hooks(stack), telegram_user(), language_code=language_code)


def stand_ins(stack: Stack) -> Providers:
    assert stack.providers is not None
    return stack.providers


def sent(stack: Stack, client: TelegramClient) -> list[dict[str, Any]]:
    """Every message the project sent to this user's chat, oldest first."""
    return stand_ins(stack).messages("sendMessage", chat_id=client.user_id)


def texts_of(reply: tuple[int, Any]) -> str:
    status, body = reply
    assert status == 200, body
    return "\n".join(r["text"] for r in body["replies"])


def test_a_wrong_or_missing_secret_token_is_refused(stack: Stack) -> None:
    client = user(stack)
    update = client.update(message=client.message(text="hello"))
    assert client.post(update, secret="not-the-secret")[0] == 403
    assert client.post(update, secret="")[0] == 403
    assert not sent(stack, client)
    assert not query(stack, "SELECT id FROM inbound_messages WHERE channel = 'telegram' AND "
                            "external_id = :u", u=str(update["update_id"]))


def test_start_greets_with_the_menu_as_an_inline_keyboard(stack: Stack) -> None:
    client = user(stack)
    assert "CivicLine" in texts_of(client.send("/start"))
    (message,) = sent(stack, client)
    assert "parse_mode" not in message
    buttons = [row[0] for row in message["reply_markup"]["inline_keyboard"]]
    assert buttons[0] == {"text": "My application", "callback_data": "/check_application_status"}


def test_a_new_user_is_greeted_in_their_telegram_apps_language(stack: Stack) -> None:
    spanish = user(stack, language_code="es-MX")
    assert "¡Hola! Soy CivicLine" in texts_of(spanish.send("/start"))
    assert "Hello! I am CivicLine" in texts_of(user(stack, language_code="de").send("/start"))
    # A hint, not a choice: words in another language still switch it.
    arabic_app = user(stack, language_code="ar")
    assert "أنا CivicLine" in texts_of(arabic_app.send("/start"))
    assert "case number" in texts_of(arabic_app.send(
        "hello, I want to check the status of my application"))


def test_text_is_answered_in_the_language_it_is_written_in(stack: Stack) -> None:
    client = user(stack)
    assert "número de caso" in texts_of(client.send("hola, quiero saber el estado de mi solicitud"))
    assert sent(stack, client)[-1]["text"].startswith("¿Cuál es su número de caso?")


def test_help_command_explains_what_the_assistant_does(stack: Stack) -> None:
    assert "I can check your application" in texts_of(user(stack).send("/help"))


def test_language_command_then_a_button_press_answered_and_obeyed(stack: Stack) -> None:
    client = user(stack)
    texts_of(client.send("/language"))
    keyboard = sent(stack, client)[-1]["reply_markup"]["inline_keyboard"]
    spanish = next(row[0]["callback_data"] for row in keyboard if '"es"' in
                   row[0]["callback_data"])
    status, body = client.press(spanish)
    assert status == 200
    assert len(stand_ins(stack).messages("answerCallbackQuery",
                                         callback_query_id=client.last_callback_id)) == 1
    assert "español" in "\n".join(r["text"] for r in body["replies"])


def test_own_contact_verifies_the_phone_then_status_without_date_of_birth(stack: Stack) -> None:
    number = phone()
    reference = new_case(stack, number, status="approved")
    client = user(stack)
    confirmation = texts_of(client.share_contact(number.lstrip("+")))  # Telegram drops the +
    assert "phone number is confirmed" in confirmation
    assert sent(stack, client)[-1]["reply_markup"] == {"remove_keyboard": True}
    assert query(stack, "SELECT phone, phone_verified FROM people WHERE telegram_user_id = :t",
                 t=str(client.user_id)) == [(number, 1)]
    texts_of(client.send("I want to check my application"))
    status = texts_of(client.send(spaced(reference)))
    assert spaced(reference) in status and "good news" in status.lower()


def test_someone_elses_contact_proves_nothing(stack: Stack) -> None:
    client = user(stack)
    reply = texts_of(client.share_contact(phone(), own=False))
    assert "your own phone number" in reply
    markup = sent(stack, client)[-1]["reply_markup"]
    assert markup["keyboard"][0][0]["request_contact"] is True
    assert query(stack, "SELECT phone FROM people WHERE telegram_user_id = :t",
                 t=str(client.user_id)) == [(None,)]


def test_a_contact_already_known_by_sms_joins_that_person(stack: Stack) -> None:
    from bot.devtools.clients import SmsClient

    number = phone("+3361300")
    SmsClient(channel_hooks(stack), number).send("bonjour, je voudrais de l'aide")
    client = user(stack)
    confirmation = texts_of(client.share_contact(number))
    assert "confirmé" in confirmation  # the person's language, from their texts
    rows = query(stack, "SELECT telegram_user_id, phone_verified, language FROM people "
                        "WHERE phone = :p", p=number)
    assert rows == [(str(client.user_id), 1, "fr")]


def test_french_status_by_date_of_birth_with_the_contact_button_offered(stack: Stack) -> None:
    reference = new_case(stack, phone(), status="needs_information", language="fr",
                         date_of_birth="1978-11-30")
    client = user(stack)
    texts_of(client.send("bonjour, où en est mon dossier ?"))
    texts_of(client.send(spaced(reference)))
    question = sent(stack, client)[-1]
    assert "date de naissance" in question["text"]
    assert question["reply_markup"]["keyboard"][0][0] == {
        "text": "Partager mon numéro de téléphone", "request_contact": True}
    status = texts_of(client.send("30/11/1978"))
    assert spaced(reference) in status and "papiers" in status


def test_a_photo_is_kept_and_politely_declined(stack: Stack) -> None:
    client = user(stack)
    reply = texts_of(client.send_photo())
    assert reply == (
        "Thank you. I can only use a photo when I ask for one, in a problem report. "
        "Please tell me in words.")
    stored = query(stack, "SELECT media FROM inbound_messages WHERE channel = 'telegram' AND "
                          "person_id = (SELECT id FROM people WHERE telegram_user_id = :t)",
                   t=str(client.user_id))
    assert "photo-800" in stored[0][0]  # the largest size
    with_words = texts_of(client.send_photo(caption="hello"))  # declined, and the words answered
    assert "only use a photo" in with_words and "What do you need?" in with_words


def test_stickers_get_a_please_write_and_edits_are_ignored(stack: Stack) -> None:
    client = user(stack)
    sticker = {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 1,
               "height": 1, "is_animated": False, "is_video": False}
    assert "only read text" in texts_of(client.post(client.update(
        message=client.message(sticker=sticker))))
    before = len(sent(stack, client))
    status, body = client.post(client.update(edited_message=client.message(text="edited")))
    assert status == 200 and body == {"ok": True, "ignored": "edited message"}
    assert len(sent(stack, client)) == before


def test_the_same_update_id_is_processed_once(stack: Stack) -> None:
    client = user(stack)
    update = client.update(message=client.message(text="hello"))
    first, again = client.post(update), client.post(update)
    # The retry is told what was answered (the same replies), and nothing is sent again.
    assert first[1]["replies"] and again == (200, {"ok": True, "duplicate": True,
                                                   "replies": first[1]["replies"]})
    assert len(sent(stack, client)) == 1


@pytest.mark.parametrize(("body", "status"), [
    (b"not json", 400), (b"[1, 2]", 400), (b"{}", 422), (b'{"update_id": "1"}', 422),
    (b'{"update_id": 5, "message": {"text": 12}}', 422),
    (b'{"update_id": 6, "message": {"message_id": 1}}', 422),
])
def test_malformed_updates_are_refused_with_a_reason(stack: Stack, body: bytes,
                                                     status: int) -> None:
    code, answer = user(stack).post(body)
    assert code == status and answer["error"]


def test_other_update_kinds_and_group_chats_are_ignored_cleanly(stack: Stack) -> None:
    client = user(stack)
    poll = {"id": "p", "question": "?", "options": [], "total_voter_count": 0,
            "is_closed": False, "is_anonymous": True, "type": "regular",
            "allows_multiple_answers": False}
    assert client.post(client.update(poll=poll)) == (200, {"ok": True,
                                                           "ignored": "not a message"})
    group = client.message(text="hello")
    group["chat"] = {"id": -100, "type": "group", "title": "Neighbours"}
    assert client.post(client.update(message=group))[1]["ignored"] == "not a private chat"
    assert not sent(stack, client)

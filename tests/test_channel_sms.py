"""The SMS webhook through real signed Twilio requests, the trained model and the action server.

Each test is one or more phones texting ``/webhooks/sms/webhook`` exactly as Twilio would
(``bot.devtools.clients.SmsClient``, signatures from ``RequestValidator``), and asserts what the
citizen would read, in the TwiML the webhook answers.
"""

from __future__ import annotations

import pytest

from bot.devtools.clients import SmsReply
from bot.devtools.webhooks import twilio_signature
from bot.language import detect as lang
from bot.messaging.sms.encoding import UCS2, encoding, segments
from tests.support.clients import channel_hooks, texting
from tests.support.environment import CALL_CENTRE
from tests.support.stack import Stack
from tests.support.stack_data import new_case, query, spaced, user_turns
from tests.support.unique import phone

pytestmark = pytest.mark.stack
def said(reply: SmsReply) -> str:
    assert reply.status == 200, reply.raw
    assert all(segments(body) <= 3 for body in reply.bodies), reply.bodies
    return "\n".join(reply.bodies)


def test_arabic_status_lookup_over_sms(stack: Stack) -> None:
    number = phone("+21261200")
    reference = new_case(stack, number, status="approved", language="ar")
    sms = texting(stack, number)
    question = said(sms.send("أريد معرفة حالة طلبي"))
    assert lang.detect(question).language == "ar"  # type: ignore[union-attr]
    answer = sms.send(spaced(reference))
    text = said(answer)
    assert spaced(reference) in text and "الموافقة" in text
    assert all(encoding(body) == UCS2 for body in answer.bodies)


def test_english_status_lookup_by_a_stranger_with_the_date_of_birth(stack: Stack) -> None:
    reference = new_case(stack, phone(), status="in_review", date_of_birth="1975-06-15")
    sms = texting(stack)
    said(sms.send("I want to check my application"))
    assert "31/12/1980" in said(sms.send(reference))  # the date of birth question
    text = said(sms.send("15/06/1975"))
    assert spaced(reference) in text and "checking" in text


def test_numbered_replies_pick_the_options_of_the_last_message(stack: Stack) -> None:
    sms = texting(stack)
    menu = said(sms.send("hello"))
    assert "3. Offices and hours" in menu
    offices = said(sms.send("3"))
    first_office = next(line for line in offices.splitlines() if line.startswith("1. "))[3:]
    details = said(sms.send("1"))
    assert details.startswith(first_office)


def test_numbered_replies_keep_a_spanish_speaker_in_spanish(stack: Stack) -> None:
    sms = texting(stack, phone("+3461200"))
    assert "1. Mi solicitud" in said(sms.send("hola, buenos días"))
    question = said(sms.send("1"))
    assert "número de caso" in question


def test_unsigned_wrongly_signed_and_tampered_requests_are_refused_unprocessed(
        stack: Stack) -> None:
    sms = texting(stack)
    token = channel_hooks(stack).twilio_auth_token
    url = stack.url + sms.path
    unsigned, wrong, tampered, elsewhere = (sms.params("hello") for _ in range(4))
    signatures = [
        "",
        twilio_signature("not-the-token", url, wrong),
        twilio_signature(token, url, tampered),
        twilio_signature(token, "https://elsewhere.example/webhooks/sms/webhook", elsewhere),
    ]
    tampered["Body"] = "STOP"  # changed after signing
    replies = [sms.post(params, signature=signature)
               for params, signature in zip((unsigned, wrong, tampered, elsewhere), signatures,
                                                 strict=True)]
    assert [r.status for r in replies] == [403, 403, 403, 403]
    assert not query(stack, "SELECT id FROM people WHERE phone = :p", p=sms.phone)
    sids = [p["MessageSid"] for p in (unsigned, wrong, tampered, elsewhere)]
    assert not query(stack, "SELECT id FROM inbound_messages WHERE external_id IN "
                            "(:a, :b, :c, :d)", a=sids[0], b=sids[1], c=sids[2], d=sids[3])
    assert user_turns(stack, sms.phone) == 0


def test_the_same_message_sid_is_processed_once(stack: Stack) -> None:
    sms = texting(stack)
    params = sms.params("hello")
    first, again = sms.post(params), sms.post(params)
    # Twilio's retry gets the answer again (the same TwiML), not a second turn.
    assert first.bodies and again.status == 200 and again.raw == first.raw
    assert user_turns(stack, sms.phone) == 1


def test_stop_confirms_once_then_silence_until_start(stack: Stack) -> None:
    sms = texting(stack)
    said(sms.send("hello"))
    assert said(sms.send("STOP")) == ("You will get no more texts from CivicLine. "
                                      "Reply START to get them again.")
    assert query(stack, "SELECT sms_opted_out FROM people WHERE phone = :p",
                 p=sms.phone) == [(1,)]
    assert sms.send("hello").bodies == []
    assert sms.send("stop").bodies == []  # one confirmation, not two
    help_text = said(sms.send("HELP"))  # answered while opted out, as carriers require
    assert "CivicLine" in help_text and "STOP" in help_text
    assert sms.send("hello").bodies == []  # and still nothing else
    assert said(sms.send("start")).startswith("Welcome back")
    assert query(stack, "SELECT sms_opted_out FROM people WHERE phone = :p",
                 p=sms.phone) == [(0,)]
    assert "1. My application" in said(sms.send("hello"))


def test_localised_opt_out_words_confirm_in_the_persons_language(stack: Stack) -> None:
    spanish = texting(stack, phone("+3461200"))
    said(spanish.send("hola, quiero saber el estado de mi solicitud"))
    assert said(spanish.send("BAJA")).startswith("Ya no le enviaremos mensajes")
    french = texting(stack, phone("+3361200"))
    said(french.send("bonjour, où en est mon dossier ?"))
    assert said(french.send("Arrêt")).startswith("Vous ne recevrez plus de SMS")
    assert said(french.send("START")).startswith("Bon retour")


def test_help_names_the_programme_a_number_to_call_and_how_to_stop(stack: Stack) -> None:
    text = said(texting(stack).send("help"))
    assert "CivicLine" in text and CALL_CENTRE in text and "STOP" in text


def test_twilio_opt_out_type_is_honoured_and_twilio_confirms_alone(stack: Stack) -> None:
    sms = texting(stack)
    said(sms.send("hello"))
    assert sms.send("Stop texting me", OptOutType="STOP").bodies == []
    assert query(stack, "SELECT sms_opted_out FROM people WHERE phone = :p",
                 p=sms.phone) == [(1,)]
    assert sms.send("hello").bodies == []
    assert sms.send("start", OptOutType="START").bodies == []
    assert sms.send("help", OptOutType="HELP").bodies == []
    assert "1. My application" in said(sms.send("hello"))


def test_menu_leaves_a_form_and_yes_is_not_an_opt_in(stack: Stack) -> None:
    sms = texting(stack)
    assert "case number" in said(sms.send("I want to check my application"))
    text = said(sms.send("MENU"))
    assert "OK, I stopped that." in text and "1. My application" in text
    assert query(stack, "SELECT sms_opted_out FROM people WHERE phone = :p",
                 p=sms.phone) == [(0,)]
    assert "welcome back" not in said(sms.send("yes")).lower()


def test_photos_are_kept_and_politely_declined(stack: Stack) -> None:
    sms = texting(stack)
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    reply = sms.send("", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    assert said(reply) == (
        "Thank you. I can only use a photo when I ask for one, in a problem report. "
        "Please tell me in words.")
    stored = query(stack, "SELECT media FROM inbound_messages WHERE channel = 'sms' AND "
                          "person_id = (SELECT id FROM people WHERE phone = :p)", p=sms.phone)
    assert url in stored[0][0]
    with_words = said(sms.send("hello", NumMedia="1", MediaUrl0=url + "2",
                               MediaContentType0="image/png"))
    assert "only use a photo" in with_words and "1. My application" in with_words
    assert url not in stack.full_logs()


@pytest.mark.parametrize(("params", "status"), [
    ({"Body": "hi", "MessageSid": "SMx"}, 422),  # no From
    ({"From": "+15550310000", "Body": "hi"}, 422),  # no MessageSid
    ({"From": "not a phone", "Body": "hi", "MessageSid": "SMy"}, 422),
])
def test_incomplete_signed_requests_get_422(stack: Stack, params: dict[str, str],
                                            status: int) -> None:
    assert texting(stack).post(params).status == status


def test_a_body_that_is_not_a_form_gets_400(stack: Stack) -> None:
    from bot.devtools.webhooks import post

    status, text = post(stack.url + "/webhooks/sms/webhook", b'{"From": "+1"}',
                        {"Content-Type": "application/json", "X-Twilio-Signature": "x"})
    assert status == 400 and "form" in text


def test_typed_commands_are_text_not_rasa_payloads(stack: Stack) -> None:
    sms = texting(stack)
    reply = said(sms.send('/check_application_status{"status_outcome": "owner"}'))
    assert "good news" not in reply.lower() and "approved" not in reply.lower()

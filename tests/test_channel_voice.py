"""Phone calls through real signed Twilio Voice requests, the trained model and the actions.

``bot.simulate.CallClient`` plays the caller: it posts what Twilio posts (the call starting,
then each ``<Gather>`` result to the action URL the previous TwiML gave), and every answer is
parsed as XML (``xml.etree``) and asserted: what is said, in which language and voice, and how
the call listens next.
"""

from __future__ import annotations

import itertools

import pytest

from bot.render import spoken_digits
from bot.simulate import CallClient, CallTurn, SmsClient, twilio_signature
from tests.support import (
    Stack,
    channel_hooks,
    new_case,
    query,
    staffed,
    user_turns,
)

pytestmark = pytest.mark.stack
CALL_CENTRE = "+15550109999"
GOODBYE_EN = "Thank you for calling CivicLine. Goodbye."
_numbers = itertools.count(1)


def phone(prefix: str = "+1555032") -> str:
    return f"{prefix}{next(_numbers):04d}"


def calling(stack: Stack, number: str | None = None) -> CallClient:
    return CallClient(channel_hooks(stack), number or phone())


def listening(turn: CallTurn, stage: str) -> dict[str, str]:
    """The turn's <Gather>, checked: keypad and speech, silence reported, next stage."""
    assert turn.status == 200, turn.raw
    assert turn.gather is not None, turn.raw
    assert turn.gather["input"] == "dtmf speech"
    assert turn.gather["speechTimeout"] == "auto"
    assert turn.gather["actionOnEmptyResult"] == "true"
    assert f"stage={stage}" in turn.gather["action"]
    return turn.gather


def in_voice(turn: CallTurn, language: str, voice: str) -> None:
    assert turn.says and {(s.language, s.voice) for s in turn.says} == {(language, voice)}, \
        turn.says


def known_caller(stack: Stack, language_key: str = "1") -> CallClient:
    """A caller who has chosen a language once (so later calls skip the menu)."""
    call = calling(stack)
    call.start()
    call.press(language_key)
    return calling(stack, call.phone)


def test_spanish_status_lookup_with_the_reference_typed_and_read_back(stack: Stack) -> None:
    number = phone("+3461300")
    reference = new_case(stack, number, status="approved", language="es")
    call = calling(stack, number)

    menu = call.start()
    gather = listening(menu, "lang")
    assert gather["numDigits"] == "1" and gather["language"] == "en-US"
    assert gather["action"].startswith(f"{stack.url}/webhooks/voice/webhook?step=1")
    assert [s.language for s in menu.says][-4:] == ["en-US", "es-US", "fr-FR", "arb"]

    greeting = call.press("2")
    gather = listening(greeting, "main")
    assert gather["language"] == "es-US" and gather["numDigits"] == "1"
    in_voice(greeting, "es-US", "Polly.Lupe")
    assert "Pulse 1 o diga: Mi solicitud." in greeting.text
    assert "Mi solicitud" in gather["hints"]

    question = call.press("1")
    gather = listening(question, "reference")
    assert gather["finishOnKey"] == "#" and "numDigits" not in gather
    assert "4 0 2 1 7 3 8 2" in question.text  # the example, digit by digit
    assert "almohadilla" in question.text

    read_back = call.press(reference)
    gather = listening(read_back, "confirm")
    assert gather["numDigits"] == "1"
    assert spoken_digits(reference) in read_back.text and "pulse 1" in read_back.text

    status = call.press("1")
    listening(status, "main")
    in_voice(status, "es-US", "Polly.Lupe")
    assert spoken_digits(reference) in status.text and "aprobad" in status.text


def test_english_stranger_retypes_the_reference_then_keys_the_date_of_birth(
        stack: Stack) -> None:
    reference = new_case(stack, phone(), status="in_review", date_of_birth="1975-06-15")
    call = calling(stack)
    call.start()
    in_voice(call.press("1"), "en-US", "Polly.Joanna")
    listening(call.say("I want to check my application"), "reference")
    listening(call.press(reference[:7] + "0"), "confirm")
    again = call.press("2")  # wrong: type it again
    assert "hash key" in again.text
    listening(again, "reference")
    listening(call.press(reference), "confirm")
    date_question = call.press("1")
    gather = listening(date_question, "date")
    assert gather["finishOnKey"] == "#"
    assert "date of birth" in date_question.text and "8 digits" in date_question.text
    status = call.press("15061975")
    assert spoken_digits(reference) in status.text and "checking" in status.text


def test_silence_reprompts_twice_then_puts_the_caller_through(stack: Stack) -> None:
    call = known_caller(stack)
    prompt = call.start()
    with staffed(stack, on_duty=True):
        first = call.silence()
        assert first.says[0].text == "Sorry, I did not hear you."
        assert [s.text for s in first.says[1:]] == [s.text for s in prompt.says]
        assert "silence=1" in listening(first, "main")["action"]
        second = call.silence()
        assert second.says[0].text == "Sorry, I did not hear you."
        assert "silence=2" in listening(second, "main")["action"]
        transfer = call.silence()
    assert transfer.dial == CALL_CENTRE and transfer.gather is None
    assert transfer.says[0].text == "Sorry, I did not hear you."
    assert transfer.says[-1].text == GOODBYE_EN and transfer.hangup
    reasons = query(stack, "SELECT reason FROM handoffs WHERE sender_id = :s", s=call.phone)
    assert ("voice_no_input",) in reasons


def test_silence_after_hours_ends_the_call_with_a_goodbye(stack: Stack) -> None:
    call = known_caller(stack)
    call.start()
    with staffed(stack, on_duty=False):
        call.silence()
        call.silence()
        later = call.silence()  # no one on duty: told when they will be called
        assert later.dial is None and "staff are away" in later.text
        last = call.silence()
    assert last.hangup and last.says[-1].text == GOODBYE_EN


def test_asking_for_a_person_dials_the_call_centre(stack: Stack) -> None:
    call = known_caller(stack, "3")  # in French
    call.start()
    with staffed(stack, on_duty=True):
        transfer = call.say("je veux parler à une personne")
    assert transfer.dial == CALL_CENTRE
    in_voice(transfer, "fr-FR", "Polly.Lea")
    assert transfer.hangup
    assert transfer.says[-1].text == "Merci d'avoir appelé CivicLine. Au revoir."


def test_goodbye_is_said_before_the_call_ends(stack: Stack) -> None:
    call = known_caller(stack)
    call.start()
    ending = call.say("goodbye")
    assert ending.hangup and ending.gather is None and ending.says[-1].text == GOODBYE_EN


def test_a_caller_is_the_same_person_as_their_sms(stack: Stack) -> None:
    number = phone("+3361300")
    SmsClient(channel_hooks(stack), number).send("bonjour, je voudrais de l'aide")
    greeting = calling(stack, number).start()  # no language menu: French is known
    listening(greeting, "main")
    in_voice(greeting, "fr-FR", "Polly.Lea")
    assert "Appuyez sur 1 ou dites : Ma demande." in greeting.text


def test_a_replayed_request_gets_the_same_answer_and_is_processed_once(stack: Stack) -> None:
    call = known_caller(stack)
    call.start()
    url, params = call.next_url(), call.params(Digits="1")
    before = user_turns(stack, call.phone)
    first, again = call.request(url, params), call.request(url, params)
    assert first.raw == again.raw and first.gather is not None
    assert user_turns(stack, call.phone) == before + 1


def test_unsigned_and_tampered_requests_are_refused(stack: Stack) -> None:
    call = calling(stack)
    url = stack.url + call.path
    token = channel_hooks(stack).twilio_auth_token
    assert call.request(url, call.params(CallStatus="ringing"), signature="").status == 403
    signed_for_step_1 = twilio_signature(token, url + "?step=1&stage=main&silence=0",
                                         call.params(Digits="1"))
    tampered = call.request(url + "?step=2&stage=main&silence=0", call.params(Digits="1"),
                            signature=signed_for_step_1)
    assert tampered.status == 403
    assert not query(stack, "SELECT id FROM people WHERE phone = :p", p=call.phone)


def test_malformed_signed_requests_get_422_and_a_finished_call_an_empty_answer(
        stack: Stack) -> None:
    call = calling(stack)
    url = stack.url + call.path
    assert call.request(url, {"From": call.phone}).status == 422  # no CallSid
    assert call.request(url + "?stage=nowhere", call.params()).status == 422
    ended = call.request(url, call.params(CallStatus="completed"))
    assert ended.status == 200 and not ended.says and not ended.gather

"""Phone calls through real signed Twilio Voice requests, the trained model and the actions.

``bot.devtools.clients.CallClient`` plays the caller: it posts what Twilio posts (the call
starting,
then each ``<Gather>`` result to the action URL the previous TwiML gave), and every answer is
parsed as XML (``xml.etree``) and asserted: what is said, in which language and voice, and how
the call listens next.
"""

from __future__ import annotations

import pytest

from bot.devtools.clients import CallClient, CallTurn, SmsClient
from bot.devtools.webhooks import twilio_signature
from bot.language import texts
from bot.messaging.voice.speech import spoken_digits
from tests.support.clients import channel_hooks
from tests.support.environment import CALL_CENTRE
from tests.support.oracles import heard
from tests.support.stack import Stack
from tests.support.stack_data import new_case, query, staffed, user_turns
from tests.support.unique import phone

pytestmark = pytest.mark.stack
GOODBYE_EN = "Thank you for calling CivicLine. Goodbye."
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
    assert [s.language for s in menu.says][-5:-1] == ["en-US", "es-US", "fr-FR", "arb"]

    greeting = call.press("2")
    gather = listening(greeting, "main")
    assert gather["language"] == "es-US" and gather["numDigits"] == "1"
    in_voice(greeting, "es-US", "Polly.Lupe")
    assert "Pulse 1: su solicitud." in greeting.text
    assert "Mi solicitud" in gather["hints"] and "su solicitud" in gather["hints"]

    question = call.press("1")
    gather = listening(question, "reference")
    assert gather["finishOnKey"] == "#" and "numDigits" not in gather
    assert "8 cifras" in question.text and "almohadilla" in question.text

    read_back = call.press(reference)
    gather = listening(read_back, "confirm")
    assert gather["numDigits"] == "1"
    assert spoken_digits(reference) in read_back.text and "Pulse 1" in read_back.text

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
    assert "then press hash" in again.text
    listening(again, "reference")
    listening(call.press(reference), "confirm")
    date_question = call.press("1")
    gather = listening(date_question, "date")
    assert gather["finishOnKey"] == "#"
    assert "date of birth" in date_question.text and "8 digits" in date_question.text
    read_back = call.press("15061975")
    listening(read_back, "dateok")
    assert "the 15th of June 1975" in read_back.text
    status = call.press("1")
    assert spoken_digits(reference) in status.text and "checking" in status.text


def test_silence_reprompts_twice_then_puts_the_caller_through(stack: Stack) -> None:
    call = known_caller(stack)
    prompt = call.start()
    with staffed(stack, on_duty=True):
        first = call.silence()
        assert first.says[0].text == "Are you there?"
        # the menu again without its greeting (just heard; star says it all): 25 words at most
        assert [s.text for s in first.says[1:]] == [s.text for s in prompt.says[1:]]
        assert "silence=1" in listening(first, "main")["action"]
        second = call.silence()
        assert second.says[0].text == "Are you there?"
        assert "silence=2" in listening(second, "main")["action"]
        transfer = call.silence()
    assert transfer.dial == CALL_CENTRE and transfer.gather is None
    assert transfer.says[0].text == "Are you there?"
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


def test_a_call_while_a_person_has_the_conversation_is_put_through(stack: Stack) -> None:
    """Asked for a person by SMS (the conversation paused for them), then a call: the caller
    is put through to the call centre, never "Sorry, try again" in a loop."""
    call = known_caller(stack)
    with staffed(stack, on_duty=True):
        SmsClient(channel_hooks(stack), call.phone).send("I want to talk to a person")
        assert query(stack, "SELECT status FROM handoffs WHERE sender_id = :s",
                     s=call.phone) == [("waiting",)]
        through = call.start()
    assert through.dial == CALL_CENTRE, through.raw
    assert texts.text("utter_voice_not_understood", "en") not in through.text
    in_voice(through, "en-US", "Polly.Joanna")


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
    assert "Tapez 1 : votre demande." in greeting.text


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


# --- for the ear (SPEC §6.3, issue 9 point 8) ----------------------------------------------------

LANGUAGE_KEYS = {"en": "1", "es": "2", "fr": "3", "ar": "4"}


def ear(turn: CallTurn) -> CallTurn:
    """One TwiML answer that says something and never a text-message word ("MENU", "send",
    "write", "أرسل", "Mon-Thu", 17/05)."""
    assert turn.status == 200 and turn.raw.count("<Response") == 1, turn.raw
    assert turn.says, turn.raw
    assert not heard(turn.text), (heard(turn.text), turn.text)
    return turn


def read_options(turn: CallTurn, language: str) -> list[int]:
    """The keys the prompt reads out as options ("Press 1: your application.", "2: …")."""
    first = texts.text("utter_voice_option_first", language, digit=1, option="")
    first = first[:first.index("1") + 1]
    return [digit for digit in range(1, 9)
            if any(s.text.startswith(first if digit == 1 else f"{digit}") and
                   s.text[len(first if digit == 1 else f"{digit}"):].lstrip().startswith(":")
                   for s in turn.says)]


def offers_keys(turn: CallTurn, language: str) -> None:
    assert turn.says[-1].text == texts.text("utter_voice_keys", language), turn.text


@pytest.mark.parametrize("language", ["en", "es", "fr", "ar"])
def test_the_menu_reads_four_options_a_page_nine_pages_star_repeats_zero_is_a_person(
        stack: Stack, language: str) -> None:
    call = known_caller(stack, LANGUAGE_KEYS[language])
    menu = ear(call.start())
    listening(menu, "main")
    assert read_options(menu, language) == [1, 2, 3, 4]
    assert texts.text("utter_voice_more", language, digit=9) in menu.text
    offers_keys(menu, language)

    more = ear(call.press("9"))
    assert "page=1" in listening(more, "main")["action"]
    assert read_options(more, language) == [1, 2, 3]  # the last 3 of 7
    assert texts.text("utter_voice_back_to_start", language, digit=9) in more.text
    again = ear(call.press("*"))
    assert [s.text for s in again.says] == [s.text for s in more.says]
    first = ear(call.press("9"))  # from the last page, back to the first: never nowhere
    assert read_options(first, language) == [1, 2, 3, 4] and "page=" not in first.gather["action"]

    offices = ear(call.press("3"))  # offices and hours: days and times in full
    with staffed(stack, on_duty=True):
        person = call.press("0")
    assert person.dial == CALL_CENTRE and person.hangup, person.raw
    ear(person)
    assert offices.gather is not None


@pytest.mark.parametrize("language", ["en", "es", "fr", "ar"])
def test_a_call_in_the_middle_of_a_form_says_where_and_offers_to_go_on_or_start_over(
        stack: Stack, language: str) -> None:
    first_call = known_caller(stack, LANGUAGE_KEYS[language])
    first_call.start()
    question = ear(first_call.press("4"))  # report a problem: what is it?
    assert texts.text("utter_ask_problem_kind__voice", language) in question.text

    offer = ear(calling(stack, first_call.phone).start())  # hung up, called back
    listening(offer, "resume")
    assert offer.says[0].text == texts.text("utter_voice_resume_report_problem_form", language)
    assert texts.text("utter_voice_resume", language) in offer.text
    offers_keys(offer, language)
    assert texts.text("utter_ask_problem_kind__voice", language) not in offer.text

    back = calling(stack, first_call.phone)
    back.start()
    went_on = ear(back.press("1"))
    assert texts.text("utter_ask_problem_kind__voice", language) in went_on.text
    assert read_options(went_on, language) == [1, 2, 3, 4]  # the kinds, four a page

    over = calling(stack, first_call.phone)
    over.start()
    menu = ear(over.press("2"))
    listening(menu, "main")
    assert read_options(menu, language) == [1, 2, 3, 4]
    assert texts.text("utter_ask_problem_kind__voice", language) not in menu.text
    assert listening(calling(stack, first_call.phone).start(), "main")  # nothing to resume


@pytest.mark.parametrize(("language", "swapped", "right"), [
    ("en", "the 3rd of December 1985", "the 12th of March 1985"),
    ("es", "el 3 de diciembre de 1985", "el 12 de marzo de 1985"),
])
def test_keypad_references_and_dates_are_checked_and_read_back_before_use(
        stack: Stack, language: str, swapped: str, right: str) -> None:
    reference = new_case(stack, phone(), status="approved", language=language,
                         date_of_birth="1985-03-12")
    call = known_caller(stack, LANGUAGE_KEYS[language])  # not the case's phone: DOB asked
    call.start()
    listening(ear(call.press("1")), "reference")
    short = ear(call.press("123"))  # "123#": refused, asked again, never read back
    listening(short, "reference")
    assert short.says[0].text == texts.text("utter_voice_reference_wrong", language)
    assert "1 2 3" not in short.text
    listening(ear(call.press(reference)), "confirm")
    listening(ear(call.press("1")), "date")

    impossible = ear(call.press("13251985"))  # month 25
    listening(impossible, "date")
    assert impossible.says[0].text == texts.text("utter_voice_date_wrong", language)
    read_back = ear(call.press("03121985"))  # day and month swapped
    listening(read_back, "dateok")
    assert swapped in read_back.text
    not_accepted = ear(call.press("1"))  # the caller confirms it: it is not their date
    assert spoken_digits(reference) not in not_accepted.text
    listening(not_accepted, "date")

    read_back = ear(call.press("12031985"))
    assert right in read_back.text
    retyped = ear(call.press("2"))  # "2": type it again
    listening(retyped, "date")
    call.press("12031985")
    status = ear(call.press("1"))
    assert spoken_digits(reference) in status.text


def test_silence_and_wrong_keys_at_the_language_menu_are_answered_in_all_four_languages(
        stack: Stack) -> None:
    call = calling(stack)
    call.start()
    quiet = call.silence()
    listening(quiet, "lang")
    profiles = [("en", "en-US"), ("es", "es-US"), ("fr", "fr-FR"), ("ar", "arb")]
    for said, (code, tag) in zip(quiet.says[:4], profiles, strict=True):
        assert said.language == tag and said.text.startswith(
            texts.text("utter_voice_hello", code)), said
    wrong = call.press("7")
    for said, (code, tag) in zip(wrong.says[:4], profiles, strict=True):
        assert said.language == tag and said.text.startswith(
            texts.text("utter_voice_sorry", code)), said
    assert call.press("*").says[0].text == texts.text("utter_voice_language_option", "en",
                                                      digit=1)


def _reach(stack: Stack, stage: str) -> tuple[CallClient, CallTurn]:
    """A call listening in ``stage`` (an English caller, a stranger to the case)."""
    if stage == "lang":
        call = calling(stack)
        return call, call.start()
    reference = new_case(stack, phone(), status="in_review", date_of_birth="1975-06-15")
    call = known_caller(stack)
    turn = call.start()
    steps = {"main": [], "main page 2": ["9"], "reference": ["1"],
             "confirm": ["1", reference], "date": ["1", reference, "1"],
             "dateok": ["1", reference, "1", "15061975"], "resume": ["4"]}[stage]
    for keys in steps:
        turn = call.press(keys)
    if stage == "resume":
        call = calling(stack, call.phone)
        turn = call.start()
    return call, turn


WALKED = ("lang", "main", "main page 2", "reference", "confirm", "date", "dateok", "resume")


@pytest.mark.parametrize("stage", WALKED)
def test_every_voice_stage_answers_silence_nine_star_zero_and_a_wrong_key(
        stack: Stack, stage: str) -> None:
    call, turn = _reach(stack, stage)
    listening(turn, stage.split()[0])
    pairs = 0
    with staffed(stack, on_duty=True):
        for answer in ("", "9", "*", "7", "0"):
            turn = call.silence() if answer == "" else call.press(answer)
            ear(turn)
            assert turn.gather is not None or turn.dial == CALL_CENTRE, (answer, turn.raw)
            pairs += 1
    assert turn.dial == CALL_CENTRE  # zero: a person, whatever the stage
    assert pairs == 5


@pytest.mark.parametrize(("language", "question", "spoken"), [
    ("en", "when is city hall open", "8:30 in the morning to 4:30 in the afternoon"),
    ("fr", "quels sont les horaires de la mairie", "de 8 heures 30 à 16 heures 30"),
])
def test_opening_hours_are_said_in_full(stack: Stack, language: str, question: str,
                                        spoken: str) -> None:
    call = known_caller(stack, LANGUAGE_KEYS[language])
    call.start()
    hours = ear(call.say(question))  # no "Mon-Fri 08:30-16:30"
    assert spoken in hours.text, hours.text

"""USSD through Africa's Talking's callback (SPEC §6.5, issue 13): the real webhook, the trained
model and the actions, in every language.

``tests.support.clients.Ussd`` dials as the gateway posts (``sessionId``, ``serviceCode``,
``phoneNumber``, ``networkCode``, ``text`` holding every answer so far joined by ``*``) and
checks every screen: 200, at most 182 characters, ``CON `` or ``END ``. Each task is done from
the first dial to its answer, in English, Spanish, French and Arabic, counting the key entries
a person makes (run with ``-s`` for the table); then a session that timed out in the middle of
a booking is resumed on the next dial, a problem description goes on by SMS (the outbox sends
the question, the SMS reply answers the form), a gateway's re-send gets the same screen and no
second turn, and bad or unknown sessions get 400/422 with a reason.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from bot.devtools.clients import USSD_SERVICE_CODE, UssdClient
from bot.devtools.webhooks import FORM, post
from bot.language import texts
from bot.language.vocabulary import USSD_TEXTS
from bot.messaging.limits import MAX_BODY_BYTES
from tests.support.clients import MAX_USSD_SCREEN, Sms, Ussd, channel_hooks
from tests.support.providers import sms_to
from tests.support.stack import Stack
from tests.support.stack_data import draft_of, new_case, query, spaced, staffed, user_turns
from tests.support.unique import phone
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack

LANGUAGES = ("en", "es", "fr", "ar")
KENYA = "+25471200"  # with 4 more digits, a Kenyan mobile number (Africa's Talking's home)
LANGUAGE_KEY = {"en": "1", "es": "2", "fr": "3", "ar": "4"}
# Where the main menu puts each task (utter_greet's buttons; 9 turns to the second page).
MENU = {"status": "1", "service": "2", "office": "3", "problem": "4", "booking": "5"}
DOB, DOB_KEYS = "1975-06-15", "15061975"
APPROVED = {"en": "it is approved", "es": "está aprobado", "fr": "votre demande est acceptée",
            "ar": "تمت الموافقة"}
DONE = {"en": "Done!", "es": "¡Listo!", "fr": "C'est fait !", "ar": "تم!"}
TURNS: dict[tuple[str, str], int] = {}  # (task, language) -> key entries, for the report


def record(task: str, language: str, ussd: Ussd, mistakes: int = 0) -> None:
    """The key entries the task took, without the mistakes a test made on purpose."""
    TURNS[(task, language)] = ussd.turns - mistakes


def first_session(stack: Stack, language: str) -> Ussd:
    """A new number dials: the language menu in the four languages, then the greeting in the
    language picked, its menu numbered as on SMS."""
    ussd = Ussd(stack)
    menu = ussd.dial()
    assert ussd.open and menu.split("\n") == ["CivicLine", "1. English", "2. Español",
                                              "3. Français", "4. العربية"]
    greeting = ussd(LANGUAGE_KEY[language])
    assert ussd.open and greeting.startswith(texts.text("utter_greet", language).split("\n")[0])
    assert "1. " + texts.button_titles("utter_greet", language)[0] in greeting
    assert USSD_TEXTS["more"][language] in greeting  # the menu does not fit one screen
    return ussd


def options(screen: str) -> list[str]:
    return [line for line in screen.split("\n") if re.match(r"\d+\. ", line)]


def to_booking(ussd: Ussd) -> str:
    ussd("9")  # the second page of the menu
    return ussd(MENU["booking"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_status_check_in_each_language(stack: Stack, language: str) -> None:
    """English and French: the owner's phone, proven by the operator, is enough. Spanish and
    Arabic: someone else's case, so the date of birth, typed DDMMYYYY and read back."""
    owner = language in ("en", "fr")
    ussd = first_session(stack, language)
    reference = new_case(stack, ussd.number if owner else None, status="approved",
                         language=language, date_of_birth=DOB)
    question = ussd(MENU["status"])
    assert texts.text("utter_ask_case_reference__voice", language) in question
    assert question.endswith(f"00 {USSD_TEXTS['menu'][language]}")  # the way out
    assert ussd(reference[:5]).startswith(texts.text("utter_voice_reference_wrong", language))
    mistakes = 1
    read_back = ussd(reference)
    assert spaced(reference) in read_back and "1. " + USSD_TEXTS["yes"][language] in read_back
    answer = ussd("1")
    if not owner:
        assert texts.text("utter_ask_date_of_birth__voice", language) in answer
        assert "12031985" in answer  # how to type it
        assert ussd("31021975").startswith(texts.text("utter_voice_date_wrong", language))
        mistakes += 1
        read_back = ussd(DOB_KEYS)
        assert "15" in read_back and "1975" in read_back
        answer = ussd("1")
    assert spaced(reference) in answer and APPROVED[language] in answer
    assert ussd.open and answer.endswith(f"00 {USSD_TEXTS['menu'][language]}")  # the way on
    record("status", language, ussd, mistakes)


def service_expected(stack: Stack, slug: str, language: str, name: str) -> str:
    status, services = stack.api("GET", "/api/services")
    assert status == 200, services
    service = next(s for s in services["items"] if s["slug"] == slug)
    message = (service.get("message") or {}).get(language) or ""
    return texts.text(f"utter_service_{service['status']}", language, name=name,
                      message=message).strip()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_service_check_in_each_language(stack: Stack, language: str) -> None:
    ussd = first_session(stack, language)
    question = ussd(MENU["service"])
    title = re.search(r"^4\. (.+)$", question, re.M)
    assert title, question  # the fourth service of the catalogue: the buses
    answer = ussd("4")
    expected = service_expected(stack, "buses", language, title.group(1))
    assert answer.lower().startswith(expected.lower()[:30]), (answer, expected)
    assert answer.endswith(f"00 {USSD_TEXTS['menu'][language]}")
    record("service", language, ussd)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_office_search_in_each_language(stack: Stack, language: str) -> None:
    ussd = first_session(stack, language)
    offices = ussd(MENU["office"])
    name = re.search(r"^1\. (.+)$", offices, re.M)
    assert name, offices
    answer = ussd("1")
    assert answer.startswith(name.group(1)), answer
    assert re.search(r"\d\d:\d\d", answer), answer  # its opening hours
    record("office", language, ussd)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_booking_end_to_end_in_each_language(stack: Stack, language: str) -> None:
    ussd = first_session(stack, language)
    to_booking(ussd)
    ussd("1")  # the first service
    days = ussd.last.text if ussd.last else ""
    assert re.search(r"^1\. ", days, re.M), days
    times = ussd("1")  # the first day with free times
    assert re.search(r"^1\. \d\d:\d\d", times, re.M), times
    confirm = ussd("1")  # the first free time
    assert "1. " in confirm and "2. " in confirm
    done = ussd("1")  # yes
    assert done.startswith(DONE[language]), done
    reference = re.search(r"\d{4} \d{4}", done)
    assert reference, done
    rows = query(stack, "SELECT count(*) FROM bookings b JOIN people p ON p.id = b.person_id "
                        "WHERE p.phone = :p AND b.desk IS NOT NULL", p=ussd.number)
    assert rows[0][0] == 1
    record("booking", language, ussd)


def test_a_session_that_timed_out_mid_booking_resumes_on_the_next_dial(stack: Stack) -> None:
    ussd = first_session(stack, "es")
    to_booking(ussd)
    days = ussd("1")  # the service; then the operator's timeout: no more requests
    assert draft_of(stack, ussd.number), "the answer was kept"
    offer = ussd.dial()
    assert offer.startswith(texts.text("utter_voice_resume_book_appointment_form", "es"))
    assert offer.endswith("1. Seguir\n2. Empezar de nuevo"), offer  # the voice titles
    again = ussd("1")
    assert options(again) == options(days) and options(days)  # the question it stopped at
    ussd("1")
    ussd("1")
    assert ussd("1").startswith(DONE["es"])


def test_a_problem_description_goes_on_by_sms(stack: Stack) -> None:
    ussd = first_session(stack, "en")
    kinds = ussd(MENU["problem"])
    assert "1. Pothole" in kinds
    place = ussd("1")
    assert place.startswith("Where is it?")
    assert USSD_TEXTS["long_answer"]["en"] in place and "1. Go on by SMS" in place
    sent = ussd("1")
    assert not ussd.open and sent == USSD_TEXTS["sms_sent"]["en"]
    assert ussd.client.resend().raw == "END " + sent  # the gateway again: the same, one SMS
    bodies = eventually(lambda: sms_to(stack, ussd.number), "the SMS with the question")
    assert bodies == [USSD_TEXTS["sms_intro"]["en"] + "\n"
                      + texts.text("utter_ask_problem_place", "en")], bodies
    sms = Sms(stack, ussd.number)
    sms("12 Elm Street")
    assert (draft_of(stack, ussd.number) or {}).get("problem_place") == "12 Elm Street"
    rows = query(stack, "SELECT status, kind FROM outbox o JOIN people p ON p.id = o.person_id "
                        "WHERE p.phone = :p", p=ussd.number)
    assert rows == [("sent", "text")]


def test_a_gateway_resend_gets_the_same_screen_and_no_second_turn(stack: Stack) -> None:
    ussd = first_session(stack, "fr")
    screen = ussd.client.answer(MENU["service"])
    turns = user_turns(stack, ussd.number)
    again = ussd.client.resend()
    assert again.raw == screen.raw and screen.waits
    assert user_turns(stack, ussd.number) == turns


def test_long_lists_page_with_9_more_and_0_back(stack: Stack) -> None:
    ussd = first_session(stack, "ar")
    first = ussd.last.text if ussd.last else ""
    second = ussd("9")
    assert USSD_TEXTS["back"]["ar"] in second and "7. " in second and "1. " not in second
    assert ussd("0") == first
    assert ussd("8").startswith(texts.text("utter_voice_not_understood", "ar"))
    # A phone that types letters is answered, not refused: they pick nothing on a menu.
    assert ussd("abc").startswith(texts.text("utter_voice_not_understood", "ar"))


def raw(stack: Stack, **params: str) -> tuple[int, str]:
    hooks = channel_hooks(stack)
    return post(hooks.url + UssdClient.path, urlencode(params).encode(),
                {"Content-Type": FORM})


def test_bad_and_unknown_sessions_are_refused_with_a_reason(stack: Stack) -> None:
    number = phone(KENYA)
    good = {"sessionId": "ATUid_x1", "serviceCode": USSD_SERVICE_CODE, "phoneNumber": number,
            "networkCode": "63902", "text": "1"}
    status, body = raw(stack, **good)
    assert status == 422 and "unknown session" in body
    for wrong, expected in (({"sessionId": ""}, 400), ({"sessionId": "a b"}, 400),
                            ({"serviceCode": ""}, 400), ({"phoneNumber": "hello"}, 422),
                            ({"text": "1*\x07"}, 422), ({"text": "1" * 600}, 422)):
        status, body = raw(stack, **{**good, **wrong})
        assert status == expected and "error" in body, (wrong, status, body)
    hooks = channel_hooks(stack)
    status, body = post(hooks.url + UssdClient.path, b'{"sessionId": "x"}',
                        {"Content-Type": "application/json"})
    assert status == 400 and "error" in body
    # A session that began here from one number cannot be answered from another.
    ussd = Ussd(stack)
    ussd.dial()
    status, body = raw(stack, **{**good, "sessionId": ussd.client.session_id, "text": "1"})
    assert status == 422 and "unknown session" in body
    assert ussd("1").startswith(texts.text("utter_greet", "en").split("\n")[0])
    assert not query(stack, "SELECT id FROM people WHERE phone = :p", p=number)


def test_a_body_over_the_limit_is_refused_before_parsing(stack: Stack) -> None:
    status, body = raw(stack, sessionId="ATUid_big", serviceCode=USSD_SERVICE_CODE,
                       phoneNumber=phone(KENYA), text="1" * (MAX_BODY_BYTES + 10))
    assert status == 413 and "limit" in body


def test_outside_production_an_empty_allow_list_lets_any_address_in(stack: Stack) -> None:
    ussd = UssdClient(channel_hooks(stack), phone(KENYA))
    ussd.dial()
    screen = ussd.post(ussd.params(), headers={"X-Forwarded-For": "203.0.113.9"})
    assert screen.waits and len(screen.raw) <= MAX_USSD_SCREEN


@pytest.mark.parametrize("language", LANGUAGES)
def test_while_a_person_has_the_conversation_a_session_says_so_and_ends(stack: Stack,
                                                                        language: str) -> None:
    """Asking for a person on USSD closes the session: the place in line, and the reply comes
    by SMS (never "write here"); a dial while the person has the conversation (Rasa paused)
    is told so in the person's language and closes, never "Sorry, try again"."""
    with staffed(stack, on_duty=True):
        ussd = first_session(stack, language)
        queued = ussd.pick(texts.button_titles("utter_greet", language)[-1])
        assert not ussd.open, queued
        said = texts.text("utter_handoff_queued", language, position=1, minutes=5)
        assert queued.startswith(said.split(".")[0].split("،")[0]), queued
        assert said.split(". ")[-1] not in queued  # "Write here and they will read it."
        assert queued.endswith(USSD_TEXTS["queued_by_sms"][language]), queued
        assert query(stack, "SELECT status FROM handoffs WHERE sender_id = :s",
                     s=ussd.number) == [("waiting",)]
        again = ussd.dial()
        assert not ussd.open and again == USSD_TEXTS["with_person"][language], again
        assert ussd.client.resend().raw == "END " + again  # the gateway again: the same
        assert query(stack, "SELECT count(*) FROM handoffs WHERE sender_id = :s",
                     s=ussd.number) == [(1,)]


def test_zz_turns_per_task_and_language(capsys: pytest.CaptureFixture[str]) -> None:
    """The key entries each task took from the first dial (the language pick included), as
    measured by the tests above (run in file order)."""
    if len(TURNS) < 16:
        pytest.skip("run with the task tests")
    with capsys.disabled():
        print("\nUSSD key entries per task (first session, language menu included; status: "
              "en, fr with the owner's phone, es, ar with the date of birth):")
        print("task      " + "  ".join(f"{lang:>3}" for lang in LANGUAGES))
        for task in ("status", "service", "office", "booking"):
            print(f"{task:<9} " + "  ".join(f"{TURNS[(task, lang)]:>3}" for lang in LANGUAGES))
    assert all(turns <= 9 for turns in TURNS.values()), TURNS

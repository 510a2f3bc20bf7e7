"""A call, one request at a time, before Rasa sees it (bot/messaging/voice/turn.py ``begin``):
each stage and what a key, a word or silence does there, against a real SQLite database and no
model. The first table drives it with Twilio's own form fields and the action URL the last
``<Gather>`` gave, read by the webhook's parser (channels/voice.py ``call_input``); the tables
after it build the call's step directly.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session

from bot.domain import people
from bot.language import texts
from bot.messaging import inbound
from bot.messaging.media import NOT_WAITING, Waiting
from bot.messaging.messages import BotMessage
from bot.messaging.voice import turn as voice
from bot.messaging.voice.render import PAGE_SIZE
from channels.voice import call_input
from tests.support.unique import phone
from tests.support.wire import form_params, sanic_request, twilio_call_form

LANGUAGES = ("en", "es", "fr", "ar")
# One word each: four a page fit in 25 words with any intro (longer ones: fewer a page).
SEVEN = [(name, f"/pick_{n}") for n, name in enumerate(
    ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf"), 1)]
WEBHOOK = "https://civicline.example/webhooks/voice/webhook"
KIND_QUESTION = BotMessage("What is the problem? Pick one.", tuple(SEVEN),
                           response="utter_ask_problem_kind")
DATE_QUESTION = BotMessage("Please send your date of birth.", expects="date",
                           response="utter_ask_date_of_birth")
REFERENCE_QUESTION = BotMessage("What is your case number?", expects="reference",
                                response="utter_ask_case_reference")


def _caller(session, language: str | None = "en", prompt: BotMessage | None = None):
    person = people.get_or_create(session, phone())
    person.language = language
    if prompt is not None:
        inbound.remember(session, person, inbound.VOICE, list(prompt.buttons),
                         prompt=[prompt.to_json()])
    return person


def _step(stage: str, digits: str = "", speech: str = "", silence: int = 0, page: int = 0,
          step: int = 3) -> voice.CallInput:
    return voice.CallInput("CA" + "0" * 32, WEBHOOK, step=step, stage=stage, silence=silence,
                           digits=digits, speech=speech, page=page)


def _listening(twiml: str | None) -> tuple[str, list[str]]:
    """The stage the answer listens in next and what it says."""
    assert twiml is not None
    gather = ET.fromstring(twiml).find("Gather")
    assert gather is not None, twiml
    stage = re.search(r"stage=(\w+)", gather.get("action", "")).group(1)  # type: ignore[union-attr]
    return stage, [s.text or "" for s in gather.findall("Say")]


@pytest.mark.parametrize(("prompt", "stage", "digits", "page", "asks", "listens", "first_said"), [
    # the menu: four a page, 9 for more, from the last page back to the first
    (KIND_QUESTION, "main", "2", 0, "/pick_2", None, None),
    (KIND_QUESTION, "main", "2", 1, "/pick_6", None, None),
    (KIND_QUESTION, "main", "9", 0, None, "main", "Press 1: Echo."),
    (KIND_QUESTION, "main", "9", 1, None, "main", "What is the problem?"),  # its voice twin
    (KIND_QUESTION, "main", "5", 0, None, "main", "Sorry, try again."),
    (KIND_QUESTION, "main", "4", 1, None, "main", "Sorry, try again."),
    (KIND_QUESTION, "main", "*", 1, None, "main", "Press 1: Echo."),
    (KIND_QUESTION, "main", "0", 0, voice.HUMAN, None, None),
    # keypad case numbers: 8 digits or a retry
    (REFERENCE_QUESTION, "reference", "123", 0, None, "reference",
     "8 digits, please."),
    (REFERENCE_QUESTION, "reference", "402173821", 0, None, "reference",
     "8 digits, please."),
    (REFERENCE_QUESTION, "reference", "40217382", 0, None, "confirm",
     "You typed 4 0 2 1 7 3 8 2. Press 1: correct. 2: again."),
    (REFERENCE_QUESTION, "reference", "*", 0, None, "reference",
     "Your case number has 8 digits. It is on your letter."),
    (REFERENCE_QUESTION, "reference", "0", 0, voice.HUMAN, None, None),
    # keypad dates: DDMMYYYY, a real date, read back in words
    (DATE_QUESTION, "date", "12031985", 0, None, "dateok",
     "You typed the 12th of March 1985. Press 1: correct. 2: again."),
    (DATE_QUESTION, "date", "03121985", 0, None, "dateok",
     "You typed the 3rd of December 1985. Press 1: correct. 2: again."),
    (DATE_QUESTION, "date", "06151975", 0, None, "date", "That is not a date I can use."),
    (DATE_QUESTION, "date", "123", 0, None, "date", "That is not a date I can use."),
])
def test_what_a_key_does_at_each_stage(session, prompt: BotMessage, stage: str, digits: str,
                                       page: int, asks: str | None, listens: str | None,
                                       first_said: str | None) -> None:
    person = _caller(session, prompt=prompt)
    step = voice.begin(session, person, _step(stage, digits, page=page))
    assert step.ask == asks
    if listens is not None:
        said_stage, said = _listening(step.twiml)
        assert (said_stage, said[0]) == (listens, first_said)
        assert said[-1] == texts.text("utter_voice_keys", "en")
        assert sum(bool(re.match(r"(Press )?[1-4]: ", line)) for line in said) <= PAGE_SIZE


@pytest.mark.parametrize(("stage", "pending", "digits", "asks", "listens"), [
    ("dateok", "12031985", "1", "1985-03-12", None),  # one reading only: ISO
    ("dateok", "03121985", "1", "1985-12-03", None),
    ("dateok", "12031985", "2", None, "date"),  # the date question again
    ("dateok", "12031985", "7", None, "dateok"),
    ("dateok", "12031985", "*", None, "dateok"),
    ("confirm", "40217382", "1", "40217382", None),
    ("confirm", "40217382", "2", None, "date"),  # the last prompt (here the date question)
])
def test_a_read_back_is_confirmed_before_rasa_sees_it(session, stage: str, pending: str,
                                                      digits: str, asks: str | None,
                                                      listens: str | None) -> None:
    person = _caller(session, prompt=DATE_QUESTION)
    inbound.state(session, person, inbound.VOICE).pending = pending
    step = voice.begin(session, person, _step(stage, digits))
    assert step.ask == asks
    if listens is not None:
        assert _listening(step.twiml)[0] == listens


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_call_opening_mid_form_says_where_and_offers_to_go_on_or_start_over(
        session, language: str) -> None:
    person = _caller(session, language)
    waiting = Waiting("report_problem_form", "problem_kind", KIND_QUESTION)
    offer = voice.begin(session, person, _step("main", step=0), waiting)
    stage, said = _listening(offer.twiml)
    assert stage == "resume" and offer.ask is None
    assert said == [texts.text("utter_voice_resume_report_problem_form", language),
                    texts.text("utter_voice_resume", language),
                    texts.text("utter_voice_keys", language)]
    stage, said = _listening(voice.begin(session, person, _step("resume", "1")).twiml)
    assert (stage, said[0]) == ("main", texts.text("utter_ask_problem_kind__voice", language))
    assert voice.begin(session, person, _step("resume", "2")).ask == "/cancel"
    assert _listening(voice.begin(session, person, _step("resume", "")).twiml)[0] == "resume"


def test_without_a_form_a_known_caller_is_greeted(session) -> None:
    person = _caller(session)
    assert voice.begin(session, person, _step("main", step=0)).ask == voice.GREET
    assert voice.begin(session, _caller(session, None), _step("main", step=0)).ask is None


@pytest.mark.parametrize(("speech", "asks"), [
    ("Stop.", "/cancel"), ("menu", "/cancel"), ("terminar", "/cancel"), ("arrêter", "/cancel"),
    ("توقف", "/cancel"), ("the street light is broken", "the street light is broken"),
])
def test_saying_stop_leaves_the_form_as_menu_does_by_text(session, speech: str,
                                                          asks: str) -> None:
    assert voice.begin(session, _caller(session), _step("main", speech=speech)).ask == asks




# --- Twilio's requests, through the webhook's parser --------------------------------------------

WELCOME = "Hello, this is CivicLine."
NOT_HEARD = "Are you there?"
NOT_GOT = "Sorry, try again."
GOODBYE = {"en": "Thank you for calling CivicLine. Goodbye.",
           "es": "Gracias por llamar a CivicLine. Adiós."}
KIND_TWIN = "What is the problem?"
DATE_TWIN = "For your safety, I need your date of birth."
PLACE_QUESTION = BotMessage("Where is it? A street and number, or a place near it.",
                            response="utter_ask_problem_place")
MID_REPORT = Waiting("report_problem_form", "problem_kind", KIND_QUESTION)


@dataclass(frozen=True)
class Heard:
    """One request of a call: where it posts (the last ``<Gather>``'s stage, silences so far,
    page, step) and what the caller did (keys, ``#`` included; words; nothing)."""

    stage: str = "main"
    digits: str | None = None
    speech: str | None = None
    silence: int = 0
    step: int = 3  # 0: the call starts
    page: int = 0
    language: str | None = "en"  # the caller's, before
    prompt: BotMessage | None = KIND_QUESTION  # what the call said last
    pending: str | None = None  # digits typed and read back, not confirmed yet
    waiting: Waiting = NOT_WAITING  # a form the conversation is in the middle of


@dataclass(frozen=True)
class Does:
    """Rasa is asked ``ask`` (with ``metadata``); or the call listens next in ``listens``,
    having said ``first`` first, with ``silence`` silences counted; or it ``ends`` saying
    these lines."""

    ask: str | None = None
    metadata: dict[str, str] | None = None
    listens: str | None = None
    first: str | None = None
    silence: int = 0
    ends: tuple[str, ...] = ()
    language: str | None = "en"  # the caller's, after


CALLS = {
    # the call starts: the language menu for someone new, else the greeting (or the form)
    "a new caller": (Heard(step=0, language=None, prompt=None),
                     Does(listens="lang", first=WELCOME, language=None)),
    "a known caller": (Heard(step=0, language="es", prompt=None),
                       Does(ask=voice.GREET, language="es")),
    "a known caller mid-form": (Heard(step=0, waiting=MID_REPORT), Does(
        listens="resume", first="Last time, you were reporting a problem.")),
    # the language menu: a key or the language's name
    "2 for Spanish": (Heard("lang", digits="2", language=None, prompt=None),
                      Does(ask=voice.GREET, language="es")),
    "saying français": (Heard("lang", speech="Français.", language=None, prompt=None),
                        Does(ask=voice.GREET, language="fr")),
    "3, mid-form": (Heard("lang", digits="3", language=None, waiting=MID_REPORT),
                    Does(listens="resume", first="La dernière fois, vous signaliez un problème.",
                         language="fr")),
    "7 is no language": (Heard("lang", digits="7", language=None, prompt=None),
                         Does(listens="lang", first="Try again. English, press 1.",
                              language=None)),
    "saying Deutsch": (Heard("lang", speech="Deutsch", language=None, prompt=None),
                       Does(listens="lang", first="Try again. English, press 1.",
                            language=None)),
    "silence at the menu": (Heard("lang", language=None, prompt=None), Does(
        listens="lang", first="Are you there? English, press 1.", silence=1, language=None)),
    # silence: twice the prompt again, then a person, then goodbye
    "silence": (Heard(), Does(listens="main", first=NOT_HEARD, silence=1)),
    "silence again": (Heard(silence=1), Does(listens="main", first=NOT_HEARD, silence=2)),
    "a third silence: a person": (Heard(silence=2), Does(
        ask=voice.HUMAN, metadata={"handoff_reason": "voice_no_input"})),
    "still nothing: goodbye": (Heard(silence=3), Does(ends=(NOT_HEARD, GOODBYE["en"]))),
    "still nothing, Spanish": (Heard(silence=3, language="es"), Does(
        ends=("¿Sigue ahí?", GOODBYE["es"]), language="es")),
    # keys and words anywhere
    "star repeats": (Heard(digits="*"), Does(listens="main", first=KIND_TWIN)),
    "zero for a person": (Heard(digits="0"), Does(ask=voice.HUMAN)),
    "a key picks an option": (Heard(digits="3"), Does(ask="/pick_3")),
    "digits at a question without options": (Heard(digits="12#", prompt=PLACE_QUESTION),
                                             Does(ask="12")),
    "words": (Heard(speech="The bins were not collected."),
              Does(ask="The bins were not collected.")),
    "saying menu": (Heard(speech="Main menu"), Does(ask=inbound.MENU_PAYLOAD)),
    # keypad numbers, ended with #, read back and confirmed
    "a case number and #": (Heard("reference", digits="40217382#", prompt=REFERENCE_QUESTION),
                            Does(listens="confirm", first="You typed 4 0 2 1 7 3 8 2. "
                                 "Press 1: correct. 2: again.")),
    "a date and #": (Heard("date", digits="12031985#", prompt=DATE_QUESTION),
                     Does(listens="dateok", first="You typed the 12th of March 1985. "
                          "Press 1: correct. 2: again.")),
    "a date in the future": (Heard("date", digits="01012999#", prompt=DATE_QUESTION), Does(
        listens="date", first="That is not a date I can use.")),
    "yes to the case number": (Heard("confirm", speech="Yes.", prompt=REFERENCE_QUESTION,
                                     pending="40217382"), Does(ask="40217382")),
    "sí to the date": (Heard("dateok", speech="sí", language="es", prompt=DATE_QUESTION,
                             pending="12031985"), Does(ask="1985-03-12", language="es")),
    "no to the date: asked again": (Heard("dateok", speech="no", prompt=DATE_QUESTION,
                                          pending="12031985"),
                                    Does(listens="date", first=DATE_TWIN)),
    "maybe: the read-back again": (Heard("confirm", speech="maybe", prompt=REFERENCE_QUESTION,
                                         pending="40217382"),
                                   Does(listens="confirm", first=NOT_GOT)),
    # going on with a form, or not
    "yes, go on": (Heard("resume", speech="yes please", waiting=MID_REPORT,
                         pending="report_problem_form"), Does(listens="main", first=KIND_TWIN)),
    "no, start over": (Heard("resume", speech="no", pending="report_problem_form"),
                       Does(ask=inbound.MENU_PAYLOAD)),
}


def _request(call_sid: str, number: str, heard: Heard) -> voice.CallInput:
    """The request as the webhook reads it: Twilio's form, posted to the last action URL."""
    path = "/webhooks/voice/webhook"
    if heard.step:
        query = {"step": heard.step, "stage": heard.stage, "silence": heard.silence,
                 **({"page": heard.page} if heard.page else {})}
        path += f"?{urlencode(query)}"
    form = twilio_call_form(number, call_sid, digits=heard.digits, speech=heard.speech,
                            status="ringing" if heard.step == 0 else "in-progress")
    parsed = call_input(sanic_request(path), form_params(form))
    assert isinstance(parsed, voice.CallInput), parsed
    return parsed


def _ended(twiml: str | None) -> tuple[str, ...]:
    """What a call says before it hangs up (nothing if it does not)."""
    root = ET.fromstring(twiml or "<Response/>")
    return tuple(s.text or "" for s in root.findall("Say")) if root.find("Hangup") is not None \
        else ()


@pytest.mark.parametrize(("heard", "does"), CALLS.values(), ids=CALLS.keys())
def test_what_a_call_does_with_each_request(session: Session, heard: Heard, does: Does) -> None:
    person = _caller(session, heard.language, heard.prompt)
    inbound.state(session, person, inbound.VOICE).pending = heard.pending
    call = _request("CA" + "7" * 32, person.phone, heard)
    step = voice.begin(session, person, call, heard.waiting)
    assert (step.ask, step.metadata) == (does.ask, does.metadata)
    assert _ended(step.twiml) == does.ends
    if does.listens is not None:
        stage, said = _listening(step.twiml)
        assert (stage, said[0]) == (does.listens, does.first)
        assert f"silence={does.silence}" in ET.fromstring(step.twiml).find("Gather").get(
            "action")
        assert f"step={heard.step + 1}" in ET.fromstring(step.twiml).find("Gather").get("action")
    assert person.language == does.language


def test_a_third_silence_says_so_before_the_person_and_counts_on(session: Session) -> None:
    person = _caller(session)
    step = voice.begin(session, person, _request("CA" + "8" * 32, person.phone, Heard(silence=2)))
    assert (step.ask, step.intro, step.silence) == (voice.HUMAN, (NOT_HEARD,), 3)

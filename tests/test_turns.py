"""A turn never runs away or goes silent; follow-ups, the nearest office and typed option
numbers on Telegram (issue 9), through the real stack and webhooks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.devtools.clients import SmsClient, TelegramClient
from bot.language import texts
from bot.messaging.messages import MAX_TURN_MESSAGES
from tests.support import unique
from tests.support.clients import channel_hooks
from tests.support.oracles import in_language
from tests.support.stack import Stack, running_stack
from tests.support.unique import phone, telegram_user

pytestmark = pytest.mark.stack


def sender() -> str:
    return unique.sender("turns")


def test_the_issue_s_conversation_no_longer_runs_away(stack: Stack) -> None:
    """"hola" -> nearest office -> "y el sabado?" -> "hola" -> "MENU": each answered, in
    Spanish, in at most three messages, and Rasa's circuit breaker never trips."""
    who = sender()
    marks = stack.log_marks()
    turns = [stack.texts(who, text) for text in (
        "hola", "donde esta la oficina mas cercana", "y el sabado?", "hola", "MENU")]
    assert all(1 <= len(turn) <= MAX_TURN_MESSAGES for turn in turns), turns
    greeting, where, saturday, again, menu = ("\n".join(t) for t in turns)
    assert where.startswith("¿En qué calle o barrio")
    assert "sábado" in saturday and "09:00-12:00" in saturday  # City Hall's Saturday hours
    assert "no le entiendo" not in saturday
    assert again == greeting and all(in_language(t, "es") for t in (where, saturday, menu))
    assert "Circuit breaker" not in stack.logs_since(marks)


@pytest.mark.parametrize(("opening", "replies", "yes", "language"), [
    ("hola", ("si", "si", "si"), "sí", "es"),  # "si" out of the blue: the menu, then misses
    ("where is city hall", ("yes", "yes"), "yes", "en"),
    ("bonjour", ("oui", "42", "non"), "oui", "fr"),
])
def test_two_misses_in_a_row_offer_a_person_whatever_fell_back(
        stack: Stack, opening: str, replies: tuple[str, ...], yes: str, language: str) -> None:
    """Words NLU knows but nothing expects ("yes" after an answer) are misses too, not only
    nlu_fallback: the first asks to say it in other words, the second offers a person."""
    who = sender()
    stack.texts(who, opening)
    answers = [stack.texts(who, reply) for reply in replies]
    assert answers[-2] == [texts.text("utter_rephrase", language)]
    assert answers[-1] == [texts.text("utter_offer_human", language)]
    person = stack.texts(who, yes)
    assert len(person) == 1 and person[0] not in (
        texts.text("utter_rephrase", language), texts.text("utter_offer_human", language))


def test_an_sms_miss_never_numbers_past_the_menu(stack: Stack) -> None:
    sms = SmsClient(channel_hooks(stack), phone())
    sms.send("hola")
    reply = sms.send("y el sabado?")
    assert reply.status == 200 and 1 <= len(reply.bodies) <= MAX_TURN_MESSAGES
    assert "8." not in "\n".join(reply.bodies)
    assert sms.send("MENU").bodies[0].startswith("¿Qué necesita?")


def test_follow_ups_answer_the_same_question_for_another_day(stack: Stack) -> None:
    sms = SmsClient(channel_hooks(stack), phone())
    assert "1 Main Square" in sms.send("where is city hall").bodies[0]
    saturday = "\n".join(sms.send("and on saturday?").bodies)
    assert saturday.startswith("Riverton City Hall") and "09:00-12:00" in saturday
    tomorrow = "\n".join(sms.send("and tomorrow?").bodies)
    assert tomorrow.startswith("Riverton City Hall")  # open, closed or a holiday: that office
    french = SmsClient(channel_hooks(stack), phone())
    french.send("où est la mairie ?")
    samedi = "\n".join(french.send("et samedi ?").bodies)
    assert samedi.startswith("Hôtel de ville de Riverton") and "samedi" in samedi


def test_the_nearest_office_asks_where_the_person_is(stack: Stack) -> None:
    sms = SmsClient(channel_hooks(stack), phone())
    asked = "\n".join(sms.send("where is the nearest office").bodies)
    assert asked.startswith("Which street or area are you in?")
    assert "2. North Community Service Centre (45 Oak Road)" in asked
    answer = "\n".join(sms.send("I'm on Oak Road").bodies)
    assert answer.startswith("North Community Service Centre, 45 Oak Road")
    picked = SmsClient(channel_hooks(stack), phone())
    picked.send("la oficina más cercana")
    assert "12 River Street" in "\n".join(picked.send("3").bodies)


def test_telegram_takes_a_typed_option_number(stack: Stack) -> None:
    tg = TelegramClient(channel_hooks(stack), telegram_user())
    _, menu = tg.send("hola")
    assert len(menu["replies"][-1]["buttons"]) == 7
    _, office = tg.send("3")  # the third button: offices and hours
    assert office["replies"][0]["text"] == texts.text("utter_ask_which_office", "es")
    _, details = tg.send("1")
    assert details["replies"][0]["text"].startswith("Ayuntamiento de Riverton, 1 Main Square")
    _, out_of_range = tg.send("9")  # no ninth button: an ordinary message
    assert 1 <= len(out_of_range["replies"]) <= MAX_TURN_MESSAGES


# --- Rasa's circuit breaker, if a turn still runs away ------------------------------------------

@pytest.fixture(scope="module")
def tripping_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack whose circuit breaker trips after one action: every turn runs away."""
    with running_stack(tmp_path_factory.mktemp("breaker"),
                       extra_env={"MAX_NUMBER_OF_PREDICTIONS": "1"}) as running:
        yield running


def test_after_the_circuit_breaker_the_next_message_is_answered(
        tripping_stack: Stack) -> None:
    who = sender()
    first = tripping_stack.texts(who, "hello")
    assert first == [texts.text("utter_greet", "en")]
    assert "Circuit breaker tripped" in tripping_stack.full_logs()
    assert tripping_stack.texts(who, "hello") == first  # not silence until the session ends
    assert tripping_stack.texts(who, "hola") == [texts.text("utter_greet", "es")]

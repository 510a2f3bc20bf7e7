"""Distress found however it is said (issue 9, SPEC §5.6): the detector (word lists and the
learnt model) measured on the held-out set, the decisions on figurative near misses, speed and
determinism; then the issue's four messages through the real webhooks (REST and a signed SMS)
opening an urgent hand-off with the emergency numbers in the person's language."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.devtools.simulate import SmsClient
from bot.domain import distress, distress_model
from bot.domain.distress_model import KINDS, LANGUAGES, NONE, DistressModel, normalise
from bot.language.detect import detect
from scripts import distress_report
from tests.support.clients import channel_hooks
from tests.support.stack import Stack
from tests.support.stack_data import waiting_handoff
from tests.support.unique import phone as new_phone

# The messages of issue 9 that reached the menu, a problem report or "I can't help with that".
ISSUE_MESSAGES = [
    ("ما عندي شي ناكله وتعبت من الحياة", "ar"),
    ("i cant go on anymore", "en"),
    ("we are sleeping in the car with my kids", "en"),
    ("me van a desalojar mañana y no tengo donde ir", "es"),
]


@pytest.fixture(scope="module")
def measured() -> dict[str, distress_report.Row]:
    return distress_report.evaluate()


# --- the held-out measurement ----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_recall_on_the_held_out_set(measured: dict[str, distress_report.Row],
                                    language: str) -> None:
    row = measured[language]
    assert row.positives >= 40
    assert row.recall >= distress_report.RECALL_TARGET, row.missed


@pytest.mark.parametrize("language", LANGUAGES)
def test_false_alarms_on_ordinary_messages(measured: dict[str, distress_report.Row],
                                           language: str) -> None:
    row = measured[language]
    assert row.negatives >= 1000  # the language's NLU examples and held-out ordinary answers
    assert row.false_alarm_rate <= distress_report.FALSE_ALARM_TARGET, row.alarms


def test_the_held_out_set_covers_every_kind_and_was_never_trained_on() -> None:
    held_out = distress_report.held_out()
    for language in LANGUAGES:
        kinds = {e.label for e in held_out if e.language == language and e.label != NONE}
        assert kinds == set(KINDS), language
    written_for_training = distress_model.load_examples(distress_model.DATA_DIR / "train.yml")
    trained = {normalise(e.text) for e in written_for_training}
    assert [e.text for e in held_out if normalise(e.text) in trained] == []
    # Ordinary short answers ("ok") are in the NLU data too; no held-out positive is.
    ordinary = {normalise(e.text) for e in distress_model.nlu_examples()}
    assert [e.text for e in held_out if e.label != NONE and normalise(e.text) in ordinary] == []


@pytest.mark.parametrize("name", ["fresh.yml", "fresh2.yml", "fresh3.yml"])
def test_the_later_held_out_sets_are_complete_and_were_never_trained_on(name: str) -> None:
    later = distress_model.load_examples(distress_model.DATA_DIR / name)
    for language in LANGUAGES:
        positives = [e for e in later if e.language == language and e.label != NONE]
        assert {e.label for e in positives} == set(KINDS), language
        assert len(positives) >= 24, language
        assert any(e.language == language and e.label == NONE for e in later), language
    written_for_training = distress_model.load_examples(distress_model.DATA_DIR / "train.yml")
    trained = {normalise(e.text) for e in written_for_training}
    # Positives only: a few ordinary messages ("the neighbour's dog barks all night") were
    # written for both independently; the report says which.
    assert [e.text for e in later if e.label != NONE and normalise(e.text) in trained] == []


def test_the_fourth_set_is_larger_with_every_kind_in_every_language() -> None:
    """fresh3.yml (issue 9, third round): 8 positives per kind and 40 ordinary messages per
    language, so that one message moves recall by about 2 points, not 4."""
    later = distress_model.load_examples(distress_model.DATA_DIR / "fresh3.yml")
    for language in LANGUAGES:
        for kind in KINDS:
            assert len([e for e in later if e.language == language and e.label == kind]) >= 8
        assert len([e for e in later if e.language == language and e.label == NONE]) >= 40


def test_arabic_letter_and_digit_variants_are_folded() -> None:
    assert normalise("عندها ١٠ سنين") == normalise("عندها 10 سنين")
    assert normalise("إلى آخر مرة") == normalise("الي اخر مره")
    assert normalise("گاع ی") == normalise("كاع ي")
    assert normalise("Je veux que TOUT s'arrête") == normalise("je veux que tout sarrete")


def test_the_report_is_written(tmp_path: pytest.TempPathFactory,
                               measured: dict[str, distress_report.Row]) -> None:
    text = distress_report.render(measured, trained=0.5, per_message=100.0, messages=10)
    for language in LANGUAGES:
        row = measured[language]
        assert f"| {language} | {row.positives} | {distress_report.percent(row.recall)} |" in text
    assert "## A third held-out set: fresh2.yml (seen in round 3)" in text
    assert "## A fourth, larger untouched held-out set: fresh3.yml" in text
    assert "| fresh3.yml | untouched: measured once | ar |" in text


# --- what the detector decides ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind"), [
    ("ما عندي شي ناكله وتعبت من الحياة", "hunger"),  # both hunger and despair: either is right
    ("i cant go on anymore", "self_harm"),
    ("we are sleeping in the car with my kids", "housing"),
    ("me van a desalojar mañana y no tengo donde ir", "housing"),
    ("ma3ndi ma nakol", "hunger"),  # Darija in Latin letters, digits for letters
    ("bghit nmout", "self_harm"),
    ("راجلي كيضربني", "violence"),
    ("my stepdad touches my little sister", "child_abuse"),
    ("mi bebé no respira", "emergency"),
    ("on nous met dehors demain, on n'a nulle part où aller", "housing"),
])
def test_everyday_and_dialect_wordings_are_distress(text: str, kind: str) -> None:
    found = distress.category(text)
    assert found is not None
    if "تعبت من الحياة" not in text:
        assert found == kind


# Decisions on figurative wordings (documented in results/distress-report.md): words about
# waiting, machines or requests are not distress; hunger said with "dying" is taken literally,
# as "j'ai faim" always was: the cost of asking a hungry person is small.
@pytest.mark.parametrize("text", [
    "I'm tired of waiting", "the bus is dead", "kill the request", "me muero de ganas de verte",
    "my car broke down", "ok", "I don't know", "no", "12 Main Street", "4021 7382",
    "my phone died", "this form is killing me", "je suis mort de rire", "me muero de risa",
    "how do I appeal an eviction notice?", "where is the food bank?", "عييت ما نتسنى",
    "wakha", "", "   ", "?!", "😀",
])
def test_figurative_and_ordinary_messages_are_not_distress(text: str) -> None:
    assert distress.category(text) is None


@pytest.mark.parametrize("text", ["je meurs de faim", "me muero de hambre", "I'm starving"])
def test_dying_of_hunger_is_taken_literally(text: str) -> None:
    assert distress.category(text) == "hunger"


def test_training_is_fast_and_deterministic() -> None:
    examples = distress_model.training_examples()
    start = time.process_time()
    first = DistressModel(examples)
    assert time.process_time() - start < 2.0  # CPU seconds, whatever the neighbours do
    second = DistressModel(examples)
    texts = [text for text, _ in ISSUE_MESSAGES] + ["hola", "I need a new passport"]
    assert [first.score(t) for t in texts] == [second.score(t) for t in texts]


@pytest.mark.slow
def test_the_same_scores_whatever_the_hash_seed() -> None:
    """Two processes with different string hashing train the same model."""
    program = ("from bot.domain import distress_model as m; "
               "print([m.model().score(t) for t in ('i cant go on anymore', 'ma3ndi ma nakol')])")
    root = Path(__file__).resolve().parent.parent
    outputs = {subprocess.run([sys.executable, "-c", program], cwd=root, check=True,
                              capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(outputs) == 1 and outputs != {""}


def test_detection_is_fast() -> None:
    texts = [e.text for e in distress_report.ordinary()[:2000]]
    distress.is_distress("warm up")
    start = time.process_time()
    for text in texts:
        distress.is_distress(text)
    per_message = (time.process_time() - start) / len(texts)
    assert per_message < 0.002  # CPU seconds; typically a few hundred microseconds


# --- through the real webhooks ---------------------------------------------------------------


@pytest.mark.stack
@pytest.mark.usefixtures("on_duty")
@pytest.mark.parametrize("channel", ["rest", "sms"])
@pytest.mark.parametrize(("text", "language"), ISSUE_MESSAGES)
def test_the_issue_messages_open_an_urgent_hand_off(stack: Stack, channel: str, text: str,
                                                    language: str) -> None:
    phone = new_phone()
    if channel == "rest":
        replies = stack.texts(phone, text)
    else:
        reply = SmsClient(channel_hooks(stack), phone).send(text)
        assert reply.status == 200
        replies = reply.bodies
    assert replies, "no answer"
    urgent = replies[0]
    assert "911" in urgent and "988" in urgent, replies  # the region's emergency and crisis lines
    assert detect(urgent).language == language, urgent
    handoff = waiting_handoff(stack, phone)
    assert (handoff["urgent"], handoff["reason"], handoff["language"]) == (
        True, "distress", language)
    if channel == "sms":
        assert handoff["channel"] == "sms"

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

from bot.devtools.clients import SmsClient
from bot.domain import distress, distress_concepts, distress_model
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


@pytest.fixture(scope="module")
def cross_validated() -> dict[str, tuple[int, int]]:
    """5-fold false alarms on the NLU examples (5 trainings, about 10 s of CPU)."""
    return distress_report.nlu_cross_validated()


SEEN_SETS = ["heldout.yml", "fresh.yml", "fresh2.yml", "fresh3.yml"]
LATER_SETS = ["fresh.yml", "fresh2.yml", "fresh3.yml", "fresh4.yml"]


def written_for_training() -> set[str]:
    return {normalise(e.text) for e in distress_model.written_examples()}


# --- the targets (issue 9): recall >= 95 % per language, NLU false alarms <= 1 % -------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_recall_on_the_held_out_set(measured: dict[str, distress_report.Row],
                                    language: str) -> None:
    row = measured[language]
    assert row.positives >= 40
    assert row.recall >= distress_report.RECALL_TARGET, row.missed


@pytest.mark.parametrize("language", LANGUAGES)
def test_false_alarms_on_nlu_examples_the_model_did_not_train_on(
        cross_validated: dict[str, tuple[int, int]], language: str) -> None:
    alarms, total = cross_validated[language]
    assert total >= 1000  # every NLU example of the language, each scored once
    assert alarms <= distress_report.FALSE_ALARM_TARGET * total, (alarms, total)


@pytest.mark.parametrize("name", SEEN_SETS)
def test_recall_on_every_seen_set(name: str) -> None:
    """The later sets whose misses were studied keep the target too (fresh4.yml, the untouched
    estimate of round 4, is measured by the report, not held to it)."""
    rows = distress_report.evaluate_set(distress_model.DATA_DIR / name)
    for language in LANGUAGES:
        assert rows[language].recall >= distress_report.RECALL_TARGET, (language,
                                                                        rows[language].missed)


def test_the_held_out_set_covers_every_kind_and_was_never_trained_on() -> None:
    held_out = distress_report.held_out()
    for language in LANGUAGES:
        kinds = {e.label for e in held_out if e.language == language and e.label != NONE}
        assert kinds == set(KINDS), language
    trained = written_for_training()
    assert [e.text for e in held_out if normalise(e.text) in trained] == []
    # Ordinary short answers ("ok") are in the NLU data too; no held-out positive is.
    ordinary = {normalise(e.text) for e in distress_model.nlu_examples()}
    assert [e.text for e in held_out if e.label != NONE and normalise(e.text) in ordinary] == []


@pytest.mark.parametrize("name", LATER_SETS)
def test_the_later_held_out_sets_are_complete_and_were_never_trained_on(name: str) -> None:
    later = distress_model.load_examples(distress_model.DATA_DIR / name)
    for language in LANGUAGES:
        positives = [e for e in later if e.language == language and e.label != NONE]
        assert {e.label for e in positives} == set(KINDS), language
        assert len(positives) >= 24, language
        assert any(e.language == language and e.label == NONE for e in later), language
    # Positives only: a few ordinary messages ("the neighbour's dog barks all night") were
    # written for both independently; the report says which.
    trained = written_for_training()
    assert [e.text for e in later if e.label != NONE and normalise(e.text) in trained] == []


@pytest.mark.parametrize(("name", "per_kind", "ordinary"), [("fresh3.yml", 8, 40),
                                                           ("fresh4.yml", 10, 60)])
def test_the_larger_sets_have_every_kind_in_every_language(name: str, per_kind: int,
                                                          ordinary: int) -> None:
    """fresh3.yml (round 3) and fresh4.yml (round 4, the untouched one): one message moves
    recall by about 2 points, not 4."""
    later = distress_model.load_examples(distress_model.DATA_DIR / name)
    for language in LANGUAGES:
        for kind in KINDS:
            assert len([e for e in later if e.language == language and e.label == kind]) >= (
                per_kind)
        assert len([e for e in later if e.language == language and e.label == NONE]) >= (
            ordinary)


def test_the_untouched_set_shares_no_line_with_training_or_nlu_data() -> None:
    untouched = distress_model.load_examples(distress_model.DATA_DIR / "fresh4.yml")
    elsewhere = written_for_training() | {normalise(e.text)
                                          for e in distress_model.nlu_examples()}
    assert [e.text for e in untouched if normalise(e.text) in elsewhere] == []


def test_arabic_letter_and_digit_variants_are_folded() -> None:
    assert normalise("عندها ١٠ سنين") == normalise("عندها 10 سنين")
    assert normalise("إلى آخر مرة") == normalise("الي اخر مره")
    assert normalise("گاع ی") == normalise("كاع ي")
    assert normalise("Je veux que TOUT s'arrête") == normalise("je veux que tout sarrete")


def test_the_report_is_written(measured: dict[str, distress_report.Row]) -> None:
    sets = {"heldout.yml": measured}
    text = distress_report.render(measured, trained=0.5, per_message=100.0, messages=10,
                                  sets=sets, cross_validated={"en": (3, 1200)})
    for language in LANGUAGES:
        row = measured[language]
        assert f"| {language} | {distress_report.ratio(row.found, row.positives)} |" in text
    assert "| en | " + distress_report.ratio(measured["en"].found, measured["en"].positives) + (
        " | 3/1200 = 0.2 % | yes |") in text
    assert "## The untouched estimate: fresh4.yml" in text
    assert "| fresh3.yml | seen: untouched in round 3, misses studied in round 4 | ar |" in text


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


def test_a_weak_phrase_needs_the_model_and_a_strong_one_does_not() -> None:
    assert distress.lexicon_match("is the emergency dentist open on sunday?") == (
        "emergency", False)
    assert distress.category("is the emergency dentist open on sunday?") is None
    assert distress.lexicon_match("it is an EMERGENCY") == ("emergency", True)
    assert distress.category("it is an EMERGENCY") == "emergency"


def test_no_phrase_of_the_word_lists_matches_an_ordinary_nlu_example() -> None:
    """Phrases, not topics: every NLU example is ordinary talk (strong or weak phrases)."""
    hits = [(e.text, distress.lexicon_match(e.text)) for e in distress_model.nlu_examples()
            if distress.lexicon_match(e.text)]
    assert hits == []


def test_a_star_inside_a_phrase_matches_a_word_beginning() -> None:
    assert distress.lexicon_match("estoy cansada de vivir") == ("self_harm", True)
    assert distress.lexicon_match("il m'a jetée contre le mur") == ("violence", True)


@pytest.mark.parametrize(("text", "concepts"), [
    ("my boyfriend kneed me in the ribs", {"blow", "close_person", "body"}),
    ("وكيضربني راجلي", {"blow", "close_person"}),  # Darija: prefixes و + كي removed
    ("ما عندنا ما ناكلو", {"food", "lack"}),
    ("the lift is dead lol", {"death", "joke", "thing"}),
])
def test_concepts_are_found_in_every_language(text: str, concepts: set[str]) -> None:
    found = distress_concepts.load().find(normalise(text, apostrophe=" ").split())
    assert concepts <= found, found


def test_word_lists_that_yaml_would_misread_are_refused(tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.yml"
    lexicon.write_text("hunger:\n  en:\n    - no\n", encoding="utf-8")  # YAML: False
    with pytest.raises(ValueError, match="not text"):
        distress._load_lexicon(lexicon)
    lexicon.write_text("hunger:\n  en:\n    - no food\nweak:\n  - hungry\n", encoding="utf-8")
    with pytest.raises(ValueError, match="weak phrases not in any list"):
        distress._load_lexicon(lexicon)
    concepts = tmp_path / "concepts.yml"
    concepts.write_text("lack:\n  - no\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not text"):
        distress_concepts.load(concepts)


def test_training_is_fast_and_deterministic() -> None:
    examples = distress_model.training_examples()
    start = time.process_time()
    first = DistressModel(examples)
    assert time.process_time() - start < 3.0  # CPU seconds (about 1.5), whatever the neighbours do
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

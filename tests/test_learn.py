"""The learning inbox (issue 14 §2): misunderstood messages masked (phones, references, dates,
numbers, names, e-mails), grouped by similarity and language, labelled by staff, and exported
as reviewed examples into the right language's file of a copy of the project's data, which
`rasa data validate` accepts."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.learn import inbox
from bot.learn.export import export
from bot.learn.masking import mask
from bot.store.db import session_scope
from bot.store.models import AuditEntry, LearnLabel
from tests.support.analytics_data import Talk, write_tracker
from tests.support.environment import ROOT

NOW = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
PERSONAL = ["+1 555 010 0001", "0612345678", "4021 7382", "40217382", "12/03/1985",
            "1 de julio de 1990", "March 4, 1970", "Pierre Dupont", "John Smith", "أحمد",
            "maria.lopez@example.com", "Fatima"]


@pytest.mark.parametrize("text", [
    "My name is John Smith and my number is +1 555 010 0001",
    "mi caso es el 4021 7382, naci el 1 de julio de 1990",
    "je m'appelle Pierre Dupont, né le 12/03/1985",
    "اسمي أحمد رقمي 0612345678",
    "born March 4, 1970, write to maria.lopez@example.com",
    "I spoke with Fatima yesterday about case 40217382",
])
def test_personal_data_is_masked(text: str) -> None:
    masked = mask(text)
    assert not [item for item in PERSONAL if item in masked], masked
    assert "‹" in masked


def test_words_of_the_service_stay() -> None:
    assert mask("what is the status of my application") == "what is the status of my application"
    assert mask("can I come in May?") == "can I come in May?"
    assert mask("5 de julio") == "‹date›"


def misread() -> list[Talk]:
    start = NOW - dt.timedelta(hours=2)
    talks = []
    for n, words in enumerate(["quiero renovar mi pasaporte 4021 7382",
                               "quiero renovar el pasaporte",
                               "necesito renovar mi pasaporte ya"]):
        talk = Talk(f"+3461234{n:04d}", "sms", "es", start + dt.timedelta(minutes=n))
        talks.append(talk.says(words, "nlu_fallback", 0.2).action("action_fallback"))
    talk = Talk("+15550109999", "sms", "en", start)
    talk.says("my name is John Smith, parking permit for 12/03/1985 please", "nlu_fallback", 0.3)
    talk.says("where is city hall", "find_office", 0.95)  # understood: not in the inbox
    talk.says("uh the bins thing", "report_problem", 0.31)  # low confidence
    talks.append(talk)
    talk = Talk("tg:777", "telegram", "fr", start)
    talks.append(talk.says("hein quoi", "greet", 0.9).action("action_fallback"))  # rephrased
    return talks


@pytest.fixture
def misunderstood(database: str) -> None:
    with session_scope() as session:
        write_tracker(session, misread())


def test_the_inbox_groups_masked_messages_by_language(misunderstood: None) -> None:
    with session_scope() as session:
        groups, reviewed = inbox.inbox(session, *inbox.period(7))
    assert reviewed == 0
    shown = {(g.language, tuple(sorted(t for t, _ in g.texts))) for g in groups}
    assert ("es", ("necesito renovar mi pasaporte ya", "quiero renovar el pasaporte",
                   "quiero renovar mi pasaporte ‹reference›")) in shown
    assert ("en", ("my name is ‹name›, parking permit for ‹date› please",)) in shown
    assert ("en", ("uh the bins thing",)) in shown
    assert ("fr", ("hein quoi",)) in shown
    assert len(groups) == 4
    reasons = {g.language: dict(g.reasons) for g in groups}
    assert reasons["fr"] == {"asked to rephrase": 1}
    assert reasons["es"] == {"not understood": 3}
    everything = repr([g.texts for g in groups])
    assert "where is city hall" not in everything
    assert not [item for item in PERSONAL if item in everything]


def label_spanish(actor: str = "learn-agent") -> None:
    with session_scope() as session:
        groups, _ = inbox.inbox(session, *inbox.period(7))
        spanish = next(g for g in groups if g.language == "es")
        assert inbox.label(session, *inbox.period(7), spanish.keys, "digital_help", actor) == 3


def test_a_label_is_kept_audited_and_leaves_the_inbox(misunderstood: None) -> None:
    label_spanish()
    with session_scope() as session:
        groups, reviewed = inbox.inbox(session, *inbox.period(7))
        labels = list(session.scalars(select(LearnLabel)))
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "learn.label")).one()
    assert reviewed == 3 and {g.language for g in groups} == {"en", "fr"}
    assert {label.masked_text for label in labels} >= {"quiero renovar mi pasaporte ‹reference›"}
    assert entry.actor == "learn-agent" and entry.target == "digital_help"
    assert "pasaporte" not in repr(entry.detail)


def test_a_label_needs_a_real_intent_and_a_message(misunderstood: None) -> None:
    with session_scope() as session:
        groups, _ = inbox.inbox(session, *inbox.period(7))
        with pytest.raises(inbox.LabelError, match="no such intent"):
            inbox.label(session, *inbox.period(7), groups[0].keys, "order_pizza", "x")
        with pytest.raises(inbox.LabelError, match="no longer in the inbox"):
            inbox.label(session, *inbox.period(7), ["0" * 64], "greet", "x")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy)
    return copy


def test_export_writes_the_reviewed_file_of_the_language(misunderstood: None,
                                                         data_copy: Path) -> None:
    label_spanish()
    with session_scope() as session:
        groups, _ = inbox.inbox(session, *inbox.period(7))
        french = next(g for g in groups if g.language == "fr")
        inbox.label(session, *inbox.period(7), french.keys, inbox.NOT_FOR_US, "learn-agent")
    with session_scope() as session:
        result = export(session, data_copy)
    assert result.written == {"es": 3, "fr": 1}
    spanish = yaml.safe_load((data_copy / "nlu" / "reviewed" / "es.yml").read_text())
    assert spanish["nlu"] == [{"intent": "digital_help", "examples":
                               "- necesito renovar mi pasaporte ya\n"
                               "- quiero renovar el pasaporte\n"
                               "- quiero renovar mi pasaporte 4021 7382\n"}]
    french = yaml.safe_load((data_copy / "nlu" / "reviewed" / "fr.yml").read_text())
    assert french["nlu"] == [{"intent": "out_of_scope", "examples": "- hein quoi\n"}]
    assert not (data_copy / "nlu" / "reviewed" / "en.yml").exists()
    # The project's own data is untouched, and a second export adds nothing.
    assert not (ROOT / "data" / "nlu" / "reviewed").exists()
    with session_scope() as session:
        assert export(session, data_copy).written == {}


@pytest.mark.slow
def test_rasa_accepts_the_exported_data(misunderstood: None, data_copy: Path) -> None:
    label_spanish()
    with session_scope() as session:
        assert export(session, data_copy).written == {"es": 3}
    checked = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "rasa"), "data", "validate", "--fail-on-warnings",
         "--data", str(data_copy), "--domain", str(ROOT / "domain"),
         "--config", str(ROOT / "config.yml")],
        cwd=data_copy.parent, capture_output=True, text=True, timeout=600)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]

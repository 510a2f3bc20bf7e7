"""`make nlu-report`'s method (scripts/nlu_report.py) without training: the split the default
report measures does not move when reviewed examples exist, and the reviewed examples go to
training only, never where they would be scored (held-out or check phrasings)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts import nlu_report

ROOT = Path(__file__).resolve().parent.parent


def reviewed_file(directory: Path, language: str, intent: str, examples: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"      - {e}\n" for e in examples)
    (directory / f"{language}.yml").write_text(
        f'version: "3.1"\nnlu:\n  - intent: {intent}\n    examples: |\n{lines}',
        encoding="utf-8")


def test_the_default_split_ignores_the_reviewed_files(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    before_training, before = nlu_report.split()
    copy = tmp_path / "nlu"
    shutil.copytree(ROOT / "data" / "nlu", copy)
    reviewed_file(copy / "reviewed", "en", "report_problem", ["big hole by the school"])
    monkeypatch.setattr(nlu_report, "NLU_DIR", copy)
    training, held_out = nlu_report.split()
    assert held_out == before and training == before_training  # seed 7, 20 % per intent
    assert sum(len(p) for p in held_out.values()) > 0 and set(nlu_report.LANGUAGES) <= set(held_out)


def test_reviewed_examples_train_and_are_never_scored(tmp_path: Path) -> None:
    _training, held_out = nlu_report.split()
    checks = nlu_report.never_labelled()
    scored_text, scored_intent = held_out["es"][0]
    check_lang, check_text, check_intent = next(c for c in checks if c[0] == "fr")
    reviewed = tmp_path / "reviewed"
    reviewed_file(reviewed, "es", scored_intent, [scored_text.upper() + " ",
                                                  "mi vecino me dijo algo nuevo del bache"])
    reviewed_file(reviewed, "fr", check_intent, [check_text, "encore un trou dans ma rue"])
    documents, kept, dropped = nlu_report.reviewed_documents(reviewed, held_out, checks)
    assert (kept, dropped) == (2, 2)
    assert set(documents) == {"reviewed-es.yml", "reviewed-fr.yml"}
    trained = " ".join(b["examples"] for d in documents.values() for b in d["nlu"])
    assert "mi vecino me dijo algo nuevo del bache" in trained
    assert "encore un trou dans ma rue" in trained
    assert check_text not in trained and scored_text.upper() not in trained
    assert check_lang == "fr" and len(checks) == 24


def test_fold_compares_loosely() -> None:
    assert nlu_report.fold("  Où en est  MON dossier ?") == nlu_report.fold("ou en est mon dossier")
    assert nlu_report.fold("شو صار بالاوراق؟") == nlu_report.fold("شو صار بالاوراق")


def test_a_missing_reviewed_directory_is_said_plainly(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    assert nlu_report.main(["--reviewed", str(tmp_path / "none")]) == 2
    assert "nlu export" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert nlu_report.main(["--reviewed", str(tmp_path / "empty")]) == 2
    assert "no reviewed example" in capsys.readouterr().err


def test_another_seed_draws_another_split_of_the_same_size() -> None:
    training, held_out = nlu_report.split()
    assert (training, held_out) == nlu_report.split(nlu_report.SEED)  # seed 7 by default
    _other_training, other = nlu_report.split(11)
    assert {code: len(pairs) for code, pairs in other.items()} == \
        {code: len(pairs) for code, pairs in held_out.items()}  # still 20 % of every intent
    assert other != held_out


def test_the_report_lists_each_misclassified_example() -> None:
    scores = nlu_report._scores([("yes", "affirm"), ("bye", "goodbye"), ("hola", "greet")],
                                [("affirm", 0.9), ("greet", 0.61), ("greet", 1.0)])
    assert scores["errors"] == [{"text": "bye", "true": "goodbye", "predicted": "greet",
                                 "confidence": 0.61}]
    assert scores["accuracy"] == 0.667 and scores["top_confusions"] == ["goodbye -> greet (1)"]
    assert nlu_report.TARGET == 0.92

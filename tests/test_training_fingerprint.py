"""`python -m bot fingerprint` (bot/cli/main.py): the model is retrained exactly when what
training reads changes: the data, the domain, config.yml, and the custom NLU components'
code."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.cli.main import training_fingerprint
from tests.support.environment import ROOT


def project_copy(tmp_path: Path) -> Path:
    for name in ("data", "domain"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "server").mkdir()
    for name in ["config.yml", *(f"server/{p.name}" for p in (ROOT / "server").glob("nlu_*.py"))]:
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_same_inputs_give_the_same_fingerprint(tmp_path: Path) -> None:
    assert training_fingerprint(project_copy(tmp_path)) == training_fingerprint(ROOT)


def test_a_custom_nlu_component_changed_is_a_new_model(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    before = training_fingerprint(root)
    component = root / "server" / "nlu_unknown_words.py"
    component.write_text(component.read_text() + "\nSTEM = 5\n")
    assert training_fingerprint(root) != before


def test_training_data_changed_is_a_new_model_and_other_files_are_not(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    before = training_fingerprint(root)
    (root / "data" / "notes.txt").write_text("not read by rasa train")
    (root / "server" / "actions_helper.py").write_text("X = 1\n")
    assert training_fingerprint(root) == before
    nlu = root / "data" / "nlu" / "en.yml"
    nlu.write_text(nlu.read_text() + "\n")
    assert training_fingerprint(root) != before

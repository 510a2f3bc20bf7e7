"""`CIVICLINE_ENV_FILE` chooses the settings file the servers and the command line read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, load_settings, read_env_file


def test_the_settings_file_named_by_civicline_env_file_is_the_one_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = tmp_path / "city.env"
    chosen.write_text("CIVICLINE_API_TOKEN=from-the-chosen-file\n")
    monkeypatch.delenv("CIVICLINE_API_TOKEN", raising=False)
    monkeypatch.setenv("CIVICLINE_ENV_FILE", str(chosen))
    assert load_settings().api_token == "from-the-chosen-file"
    monkeypatch.setenv("CIVICLINE_ENV_FILE", str(tmp_path / "absent.env"))
    assert load_settings().api_token != "from-the-chosen-file"


def test_dev_env_writes_the_file_that_is_then_read(tmp_path: Path) -> None:
    """`python -m bot dev-env` writes its secrets to the file CIVICLINE_ENV_FILE names (not the
    project's `.env`), and `bot setup` in another process reads them from there."""
    chosen = tmp_path / "city.env"
    env = {**os.environ, "CIVICLINE_ENV_FILE": str(chosen), "CIVICLINE_ENV": "development"}
    env.pop("CIVICLINE_API_TOKEN", None)
    project_env = PROJECT_ROOT / ".env"
    before = project_env.read_text() if project_env.exists() else None
    written = subprocess.run([sys.executable, "-m", "bot", "dev-env"], env=env, cwd=PROJECT_ROOT,
                             capture_output=True, text=True, check=True)
    assert str(chosen) in written.stdout
    token = read_env_file(chosen)["CIVICLINE_API_TOKEN"]
    assert (project_env.read_text() if project_env.exists() else None) == before
    show_token = "from bot.config import load_settings; print(load_settings().api_token)"
    read = subprocess.run([sys.executable, "-c", show_token],
                          env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert read.stdout.strip() == token

"""`CIVICLINE_ENV_FILE` chooses the settings file the servers and the command line read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings


def test_the_settings_file_named_by_civicline_env_file_is_the_one_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = tmp_path / "city.env"
    chosen.write_text("CIVICLINE_API_TOKEN=from-the-chosen-file\n")
    monkeypatch.delenv("CIVICLINE_API_TOKEN", raising=False)
    monkeypatch.setenv("CIVICLINE_ENV_FILE", str(chosen))
    assert load_settings().api_token == "from-the-chosen-file"
    monkeypatch.setenv("CIVICLINE_ENV_FILE", str(tmp_path / "absent.env"))
    assert load_settings().api_token != "from-the-chosen-file"

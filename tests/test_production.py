"""Issue 10, build 9: production mode is honest.

It refuses to start without every setting it uses, naming each one (the Rasa server and the
action server, as started for real); ``python -m bot setup`` seeds no demo data there (and
refuses ``--demo``); and it never writes development secrets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PRODUCTION_REQUIRED, ConfigError, load_settings
from tests.support.environment import ROOT, base_env
from tests.support.stack_data import query

COMPLETE = {name: f"prod-value-{number}" for number, name in enumerate(PRODUCTION_REQUIRED)}
COMPLETE.update(PUBLIC_BASE_URL="https://civicline.example.org",
                TWILIO_FROM_NUMBER="+15550107777", CIVICLINE_CALL_CENTRE_NUMBER="+15550108888",
                CIVICLINE_USSD_ALLOWED_IPS="196.201.214.0/24")


def production_env(database_url: str, **settings: str) -> dict[str, str]:
    env = base_env(database_url)
    for name in PRODUCTION_REQUIRED:
        env.pop(name, None)
    env.update(CIVICLINE_ENV="production", **settings)
    return env


def test_every_missing_setting_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("CIVICLINE_", "TWILIO_", "TELEGRAM_", "PUBLIC_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CIVICLINE_ENV", "production")
    env_file = tmp_path / ".env"
    env_file.write_text("")
    with pytest.raises(ConfigError) as refused:
        load_settings(env_file)
    for name in PRODUCTION_REQUIRED:
        assert name in str(refused.value)
    # each one alone is enough to refuse, and a blank value counts as missing
    for name in PRODUCTION_REQUIRED:
        env_file.write_text("".join(f"{k}={v}\n" for k, v in COMPLETE.items() if k != name)
                            + f"{name}=  \n")
        with pytest.raises(ConfigError, match=name):
            load_settings(env_file)
    env_file.write_text("".join(f"{k}={v}\n" for k, v in COMPLETE.items()))
    settings = load_settings(env_file)
    # what production uses is what was set: no Twilio test-number fallbacks
    assert settings.twilio_from_number == "+15550107777"
    assert settings.call_centre_number == "+15550108888"
    assert settings.twilio_account_sid == COMPLETE["TWILIO_ACCOUNT_SID"]
    assert settings.action_secret == COMPLETE["CIVICLINE_ACTION_SECRET"]


@pytest.mark.slow
def test_the_servers_refuse_to_start_in_production_naming_what_is_missing(tmp_path: Path
                                                                         ) -> None:
    env = production_env(f"sqlite:///{tmp_path / 'civicline.db'}",
                         CIVICLINE_API_TOKEN="set", PUBLIC_BASE_URL="https://x.example.org",
                         ACTION_ENDPOINT_URL="http://127.0.0.1:9/webhook",
                         CIVICLINE_ACTION_SECRET="")  # blank, as scripts/serve passes it on
    missing = [name for name in PRODUCTION_REQUIRED
               if name not in ("CIVICLINE_API_TOKEN", "PUBLIC_BASE_URL")]
    commands = {
        "action server": [sys.executable, "-m", "server.action_server", "--port", "9"],
        "rasa server": [sys.executable, "-m", "server.rasa_server", "run", "--port", "9",
                        "--interface", "127.0.0.1", "--model", "models",
                        "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
    }
    for what, command in commands.items():
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=180)
        output = done.stdout + done.stderr
        assert done.returncode != 0, (what, output[-2000:])
        assert "Missing settings for production" in output, (what, output[-2000:])
        for name in missing:
            assert name in output, (what, name)
        assert "CIVICLINE_API_TOKEN" not in output.split("Missing settings")[-1].split(".")[0]


@pytest.mark.slow
def test_setup_in_production_seeds_no_demo_data_and_dev_env_writes_nothing(tmp_path: Path
                                                                           ) -> None:
    url = f"sqlite:///{tmp_path / 'civicline.db'}"
    env = production_env(url, **COMPLETE)
    subprocess.run([sys.executable, "-m", "bot", "setup"], cwd=ROOT, env=env,
                   capture_output=True, text=True, check=True)
    asked = subprocess.run([sys.executable, "-m", "bot", "setup", "--demo"], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    assert asked.returncode == 2 and "not in production" in asked.stderr
    seeded = subprocess.run([sys.executable, "-m", "bot", "seed"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert seeded.returncode == 2 and "catalogue load" in seeded.stderr

    class Target:  # query() only needs the database URL
        database_url = url

    assert query(Target, "SELECT count(*) FROM cases") == [(0,)]
    assert query(Target, "SELECT count(*) FROM services") == [(0,)]  # no Riverton: the city's
    assert query(Target, "SELECT count(*) FROM offices") == [(0,)]  # own file is loaded

    project_env = ROOT / ".env"
    before = project_env.read_bytes() if project_env.exists() else None
    refused = subprocess.run([sys.executable, "-m", "bot", "dev-env"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "not in production" in refused.stderr
    assert (project_env.read_bytes() if project_env.exists() else None) == before


def test_development_setup_seeds_the_demo_only_when_asked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'civicline.db'}"

    class Target:
        database_url = url

    subprocess.run([sys.executable, "-m", "bot", "setup"], cwd=ROOT, env=base_env(url),
                   capture_output=True, check=True)
    assert query(Target, "SELECT count(*) FROM cases") == [(0,)]
    assert query(Target, "SELECT count(*) FROM services") == [(0,)]
    subprocess.run([sys.executable, "-m", "bot", "setup", "--demo"], cwd=ROOT,
                   env=base_env(url), capture_output=True, check=True)  # what `make run` does
    assert query(Target, "SELECT count(*) FROM cases")[0][0] >= 4
    assert query(Target, "SELECT count(*) FROM services")[0][0] >= 9


def test_development_env_gets_the_action_secret_once(tmp_path: Path) -> None:
    from bot.cli.main import write_dev_env

    env_file = tmp_path / ".env"
    assert "CIVICLINE_ACTION_SECRET" in write_dev_env(env_file)
    first = env_file.read_text()
    assert write_dev_env(env_file) == [] and env_file.read_text() == first  # kept, not renewed
    secret = next(line.split("=", 1)[1] for line in first.splitlines()
                  if line.startswith("CIVICLINE_ACTION_SECRET="))
    assert len(secret) >= 24

"""The layering holds at run time too: the action server (actions/ and what they import from
bot/) loads neither Twilio's nor Telegram's library. The import contracts of pyproject.toml
(`lint-imports`, in `make lint` and `make test`) check the imports themselves; this checks what
a real process ends up loading, lazy imports and all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOADED = """
import importlib, json, pkgutil, sys
import actions
for module in pkgutil.iter_modules(actions.__path__):
    importlib.import_module("actions." + module.name)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_the_action_server_loads_no_provider_library() -> None:
    done = subprocess.run([sys.executable, "-c", LOADED], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert {"actions", "bot", "rasa_sdk"} <= loaded  # it did load the actions
    assert not loaded & {"twilio", "telegram"}

"""The tests' own house rules: what tests share lives in tests/support/ (fixtures in
tests/conftest.py), once; a test module imports no other test module (tests/test_postgres.py
alone runs other suites again, on PostgreSQL, by design)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
RERUNS_OTHER_SUITES = {"test_postgres.py"}
# Helpers that were copied from module to module: each has one home in tests/support/ now.
SHARED = {"phone", "new_phone", "stranger", "us_phone", "telegram_user", "luhn_valid",
          "next_weekday", "open_weekday", "in_language", "reference_in", "heard", "Sms",
          "Telegram", "Browser", "NoRedirect", "csrf", "channel_hooks", "texting", "http",
          "make_tracker", "user_event", "run", "details", "slot_events", "responses",
          "check_messages", "domain", "make_staff", "staffed", "sms_to", "twilio_sends_to",
          "waiting_handoff", "book_directly", "draft_of", "expire_session", "new_case", "query",
          "execute", "spaced", "on_duty", "fast_retries", "twilio", "hung_provider", "providers"}


def _modules() -> list[Path]:
    return sorted(TESTS.glob("test_*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def test_no_test_module_imports_another() -> None:
    found = {}
    for path in _modules():
        if path.name in RERUNS_OTHER_SUITES:
            continue
        for node in ast.walk(_tree(path)):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            names += [f"{node.module}.{a.name}" for a in getattr(node, "names", [])
                      if isinstance(node, ast.ImportFrom) and node.module == "tests"]
            bad = [n for n in names if n.startswith(("tests.test_", "tests.conftest"))]
            if bad:
                found.setdefault(path.name, []).extend(bad)
    assert found == {}


def test_shared_helpers_are_defined_only_in_tests_support() -> None:
    copies = {}
    for path in _modules():
        for node in _tree(path).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in SHARED:
                copies.setdefault(path.name, []).append(node.name)
    assert copies == {}

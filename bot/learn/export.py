"""`python -m bot nlu export`: the examples staff labelled in the learning inbox, written as
reviewed training data, one file per language: ``data/nlu/reviewed/<lang>.yml``.

Only what a staff member labelled is written (the inbox never writes training data by
itself); a message labelled "not for us" becomes an ``out_of_scope`` example. The masks are
filled with fixed, made-up values ("‹phone›" → "+15550100000", "‹name›" → "Alex"), so the
assistant learns the sentence and no one's data. An example that the training data already
has (under any intent, compared without case or accents) is left out, so the result stays
valid for ``rasa data validate``. The next ``make model`` trains on it (the model's
fingerprint covers data/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import audit
from bot.language.detect import SUPPORTED, fold
from bot.learn import masking
from bot.learn.inbox import NOT_FOR_US
from bot.store.models import LearnLabel, utcnow

OUT_OF_SCOPE = "out_of_scope"
REVIEWED = Path("nlu") / "reviewed"
FILLS = {
    masking.EMAIL: {"en": "name@example.com"},
    masking.PHONE: {"en": "+15550100000"},
    masking.REFERENCE: {"en": "4021 7382"},
    masking.NUMBER: {"en": "2"},
    masking.NAME: {"en": "Alex", "es": "Lucía", "fr": "Camille", "ar": "سارة"},
    masking.DATE: {"en": "1 July 1990", "es": "1 de julio de 1990", "fr": "1 juillet 1990",
                   "ar": "1 يوليو 1990"},
}


@dataclass
class Exported:
    written: dict[str, int] = field(default_factory=dict)  # language -> new examples
    known: int = 0  # already in the training data
    files: list[Path] = field(default_factory=list)


def filled(text: str, language: str) -> str:
    """The masked ``text`` with made-up values in place of the masks; one plain line (no
    entity brackets)."""
    for token, values in FILLS.items():
        text = text.replace(token, values.get(language, values["en"]))
    return " ".join(re.sub(r"[\[\]]", " ", text).split())


def _examples(path: Path) -> dict[str, list[str]]:
    """A Rasa NLU file's examples by intent."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.exists() else {}
    found: dict[str, list[str]] = {}
    for block in data.get("nlu") or []:
        if "intent" in block:
            lines = str(block.get("examples") or "").splitlines()
            found.setdefault(block["intent"], []).extend(
                line.strip()[2:].strip() for line in lines if line.strip().startswith("- "))
    return found


def _known(data_dir: Path) -> set[str]:
    known: set[str] = set()
    for path in (data_dir / "nlu").rglob("*.yml"):
        for examples in _examples(path).values():
            known.update(fold(example) for example in examples)
    return known


def _write(path: Path, by_intent: dict[str, list[str]]) -> None:
    lines = ['version: "3.1"',
             "# Reviewed examples from the learning inbox (/console/learn), written by",
             "# `python -m bot nlu export`: each one labelled by a staff member.", "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {example}" for example in by_intent[intent]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def export(session: Session, data_dir: Path, dry_run: bool = False) -> Exported:
    """Write the labels not exported yet into ``data_dir/nlu/reviewed/<lang>.yml``."""
    result = Exported()
    known = _known(data_dir)
    labels = list(session.scalars(select(LearnLabel).where(LearnLabel.exported_at.is_(None))
                                  .order_by(LearnLabel.id)))
    for language in SUPPORTED:
        path = data_dir / REVIEWED / f"{language}.yml"
        by_intent = _examples(path)
        added = 0
        for row in (r for r in labels if r.language == language):
            intent = OUT_OF_SCOPE if row.intent == NOT_FOR_US else row.intent
            example = filled(row.masked_text, language)
            if not dry_run:
                row.exported_at = utcnow()
            if not example or fold(example) in known:
                result.known += 1
                continue
            known.add(fold(example))
            by_intent.setdefault(intent, []).append(example)
            added += 1
        if added:
            result.written[language] = added
            result.files.append(path)
            if not dry_run:
                _write(path, by_intent)
    if not dry_run:
        audit.record(session, "cli", "learn.export", None, written=result.written,
                     known=result.known)
    return result

"""Distress detection measured: `make distress-report` -> results/distress-report.md.

Recall per language on the held-out positives (bot/data/distress/heldout.yml, never trained
on), false alarms per language on ordinary messages: every example of data/nlu/<lang>.yml
(common.yml counted apart) and the held-out ordinary answers and figurative near misses. Also
what the word lists and the learnt model each catch alone, the training time and the time per
message. Targets (issue 9): recall >= 95 % per language, false alarms <= 1 %.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot import distress, distress_model
from bot.distress_model import DATA_DIR, LANGUAGES, NONE, Example

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "results" / "distress-report.md"
HELD_OUT = DATA_DIR / "heldout.yml"
FRESH = DATA_DIR / "fresh.yml"  # written after tuning on HELD_OUT; its misses studied since
FRESH2 = DATA_DIR / "fresh2.yml"  # written before train.yml was broadened; never tuned on
# Recall and false alarms on the later sets before train.yml was broadened (commit c0bf592, the
# detector of 2334bc6), measured with this script: (found, positives, false alarms, ordinary).
BEFORE = {
    "fresh.yml": {"en": (23, 24, 0, 10), "es": (21, 24, 0, 10), "fr": (23, 24, 2, 10),
                  "ar": (19, 24, 1, 10)},
    "fresh2.yml": {"en": (23, 24, 1, 20), "es": (21, 24, 1, 20), "fr": (23, 24, 2, 20),
                   "ar": (21, 24, 2, 20)},
}
FRESH_SETS = (
    (FRESH, "A second held-out set: fresh.yml (its kinds of misses studied since)", [
        "Written after the word lists and the model's settings were tuned on `heldout.yml`,",
        "and first measured with nothing changed. Its misses (farewell letters, \"I want",
        "everything to end\", strangling, living on water, Darija poisoning) were then studied",
        "by kind, and `train.yml` was broadened with other wordings of those kinds (no sentence",
        "copied; a check against exact normalised copies is part of the routine). So the",
        "\"after\" column here is no longer an untouched estimate: 24 positives (4 per kind)",
        "and 10 ordinary messages per language.",
    ]),
    (FRESH2, "A third, untouched held-out set: fresh2.yml", [
        "Written and committed (c0bf592) before `train.yml` was broadened, in wordings of its",
        "own (indirect, SMS spelling, no accents, Darija in both scripts, Egyptian and",
        "Levantine). Measured before and after the broadening; nothing was tuned on it, so the",
        "\"after\" column is the honest estimate for new wordings. Small samples: 24 positives",
        "(4 per kind) and 20 ordinary or near-miss messages per language, so one message is",
        "4.2 points of recall. Its near miss \"I'm starving for some good news\" counts as a",
        "false alarm here although the project's rule takes \"starving\" literally (above).",
        "The first run's misses were seen; training lines that came close to them (a note",
        "with \"perdón por todo\", a drooping face, \"بنام في الشارع\") were removed, not added.",
        "No positive is in `train.yml`; three ordinary messages (the neighbour's dog barking at",
        "night, en/es/fr) happen to be negatives there too, written independently earlier.",
    ]),
)
RECALL_TARGET = 0.95
FALSE_ALARM_TARGET = 0.01


@dataclass
class Row:
    """One language's counts."""

    positives: int = 0
    found: int = 0
    found_by_lexicon: int = 0
    found_by_model: int = 0
    right_kind: int = 0
    negatives: int = 0
    false_alarms: int = 0
    missed: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.positives if self.positives else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.negatives if self.negatives else 0.0


def held_out() -> list[Example]:
    return distress_model.load_examples(HELD_OUT)


def ordinary() -> list[Example]:
    """Non-distress messages: all NLU examples, and the held-out ordinary answers."""
    return distress_model.nlu_examples() + [e for e in held_out() if e.label == NONE]


def evaluate() -> dict[str, Row]:
    """Counts by language (common.yml's examples under "common")."""
    model = distress_model.model()
    rows: dict[str, Row] = defaultdict(Row)
    for example in held_out():
        if example.label == NONE:
            continue
        row = rows[example.language]
        row.positives += 1
        kind = distress.category(example.text)
        row.found += kind is not None
        row.right_kind += kind == example.label
        row.found_by_lexicon += distress.lexicon_category(example.text) is not None
        row.found_by_model += model.predict(example.text) is not None
        if kind is None:
            row.missed.append(example.text)
    for example in ordinary():
        row = rows[example.language]
        row.negatives += 1
        if distress.is_distress(example.text):
            row.false_alarms += 1
            row.alarms.append(f"{example.text} ({distress.category(example.text)})")
    return dict(rows)


def evaluate_fresh(path: Path = FRESH) -> dict[str, Row]:
    """Counts on a later held-out set (its own positives and ordinary messages only)."""
    rows: dict[str, Row] = defaultdict(Row)
    for example in distress_model.load_examples(path):
        row = rows[example.language]
        found = distress.is_distress(example.text)
        if example.label == NONE:
            row.negatives += 1
            row.false_alarms += found
            if found:
                row.alarms.append(f"{example.text} ({distress.category(example.text)})")
        else:
            row.positives += 1
            row.found += found
            if not found:
                row.missed.append(example.text)
    return dict(rows)


def timings(texts: list[str]) -> tuple[float, float]:
    """(CPU seconds to train the model in this process, mean CPU microseconds per message).
    CPU time, not wall time: on a shared machine the wall clock measures the neighbours."""
    distress_model.model.cache_clear()
    start = time.process_time()
    distress_model.model()
    trained = time.process_time() - start
    start = time.process_time()
    for text in texts:
        distress.is_distress(text)
    return trained, (time.process_time() - start) / len(texts) * 1e6


def percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def render(rows: dict[str, Row], trained: float, per_message: float, messages: int,
           fresh: dict[str, dict[str, Row]] | None = None) -> str:
    lines = [
        "# Distress detection: held-out recall and false alarms",
        "",
        "Generated by `python -m scripts.distress_report` (`make distress-report`); the",
        "detector is `bot/distress.py` (word lists) with `bot/distress_model.py` (character",
        "n-gram logistic regression trained at start-up from `bot/data/distress/train.yml` and",
        "`data/nlu/*.yml`). Positives: `bot/data/distress/heldout.yml`, written apart from the",
        "training data. Negatives: every `data/nlu/<lang>.yml` example (ordinary talk; the",
        "model also trains on these as negatives) plus the held-out ordinary answers and",
        "figurative near misses (not in `train.yml`; short answers such as \"ok\" also occur",
        "in the NLU data).",
        "",
        f"Targets: recall >= {percent(RECALL_TARGET)} per language, false alarms <= "
        f"{percent(FALSE_ALARM_TARGET)}.",
        "",
        "For comparison, the word lists alone as they were before the model (commit ea516e3)",
        "found 8/44 (en), 6/43 (es), 10/43 (fr) and 4/44 (ar) of these held-out positives, and",
        "10/96 of the fresh set's below.",
        "",
        "Decisions on figurative wordings (tested in `tests/test_distress.py`): tiredness, death",
        "or killing said of waiting, machines, requests or laughter (\"I'm tired of waiting\",",
        "\"the bus is dead\", \"kill the request\", \"me muero de ganas\", \"mort de rire\")",
        "is not distress; hunger said with dying (\"je meurs de faim\", \"me muero de hambre\",",
        "\"I'm starving\") is taken literally, as \"j'ai faim\" always was: asking a person who",
        "was only joking costs a minute, missing a hungry one costs more. Service questions",
        "about evictions, shelters or food banks are not distress; being evicted is.",
        "",
        "| language | positives | recall | kind right | lexicon alone | model alone "
        "| negatives | false alarms | false-alarm rate |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for language in (*LANGUAGES, "common"):
        row = rows.get(language)
        if row is None:
            continue
        if row.positives:
            positive_cells = (f"{row.positives} | {percent(row.recall)} | "
                              f"{percent(row.right_kind / row.positives)} | "
                              f"{percent(row.found_by_lexicon / row.positives)} | "
                              f"{percent(row.found_by_model / row.positives)}")
        else:
            positive_cells = "0 | - | - | - | -"
        lines.append(f"| {language} | {positive_cells} | {row.negatives} | "
                     f"{row.false_alarms} | {percent(row.false_alarm_rate)} |")
    lines += ["", f"Model training at start-up: {trained:.2f} s CPU (this run). Detection: "
              f"{per_message:.0f} µs CPU per message (mean over {messages} messages, word "
              "lists and model).", ""]
    missed = [(language, text) for language, row in rows.items() for text in row.missed]
    alarms = [(language, text) for language, row in rows.items() for text in row.alarms]
    lines += ["## Missed held-out positives", ""]
    lines += [f"- {language}: {text}" for language, text in missed] or ["(none)"]
    lines += ["", "## False alarms", ""]
    lines += [f"- {language}: {text}" for language, text in alarms] or ["(none)"]
    lines.append("")
    for path, title, description in FRESH_SETS:
        rows_of_set = (fresh or {}).get(path.name) or evaluate_fresh(path)
        lines += render_fresh(rows_of_set, path, title, description)
    return "\n".join(lines)


def render_fresh(rows: dict[str, Row], path: Path = FRESH, title: str = "",
                 description: tuple[str, ...] | list[str] = ()) -> list[str]:
    """A later set's table, before the training data was broadened and now."""
    before = BEFORE.get(path.name, {})
    lines = [f"## {title or path.name}", "", *description, "",
             "| language | positives | recall before | recall now | ordinary "
             "| false alarms before | false alarms now |",
             "|---|---|---|---|---|---|---|"]
    for language in LANGUAGES:
        row = rows[language]
        found, positives, alarms, _ = before.get(language, (0, 0, 0, 0))
        recall_before = percent(found / positives) if positives else "-"
        lines.append(f"| {language} | {row.positives} | {recall_before} | "
                     f"{percent(row.recall)} | {row.negatives} | {alarms} | "
                     f"{row.false_alarms} |")
    lines += ["", "Missed:", ""]
    lines += [f"- {language}: {text}" for language, row in rows.items() for text in row.missed]
    lines += ["", "False alarms:", ""]
    lines += [f"- {language}: {text}" for language, row in rows.items() for text in row.alarms]
    lines.append("")
    return lines


def main() -> int:
    rows = evaluate()
    texts = [e.text for e in held_out()] + [e.text for e in distress_model.nlu_examples()]
    trained, per_message = timings(texts)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    later = {path.name: evaluate_fresh(path) for path, _, _ in FRESH_SETS}
    REPORT.write_text(render(rows, trained, per_message, len(texts), later),
                      encoding="utf-8")
    print(REPORT.read_text(encoding="utf-8"))
    ok = all(rows[lang].recall >= RECALL_TARGET
             and rows[lang].false_alarm_rate <= FALSE_ALARM_TARGET for lang in LANGUAGES)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

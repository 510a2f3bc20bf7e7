"""Distress detection measured: `make distress-report` -> results/distress-report.md.

Recall per language on the held-out positives (bot/domain/data/distress/heldout.yml, never trained
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

from bot.domain import distress, distress_model
from bot.domain.distress_model import DATA_DIR, LANGUAGES, NONE, Example

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "results" / "distress-report.md"
HELD_OUT = DATA_DIR / "heldout.yml"
FRESH = DATA_DIR / "fresh.yml"  # written after tuning on HELD_OUT; its misses studied since
FRESH2 = DATA_DIR / "fresh2.yml"  # written before the second broadening; its misses seen since
FRESH3 = DATA_DIR / "fresh3.yml"  # written before the third broadening; measured once, at the end
# Recall and false alarms on the later sets before train.yml was broadened (commit c0bf592, the
# detector of 2334bc6), measured with this script: (found, positives, false alarms, ordinary).
BEFORE = {
    "fresh.yml": {"en": (23, 24, 0, 10), "es": (21, 24, 0, 10), "fr": (23, 24, 2, 10),
                  "ar": (19, 24, 1, 10)},
    "fresh2.yml": {"en": (23, 24, 1, 20), "es": (21, 24, 1, 20), "fr": (23, 24, 2, 20),
                   "ar": (21, 24, 2, 20)},
}
# The same counts at the start of the third round (main at 09fefe6, before f33ca69 broadened
# train.yml by the kinds of fresh2.yml's misses).
ROUND3_BEFORE = {
    "fresh.yml": {"en": (23, 24, 0, 10), "es": (24, 24, 0, 10), "fr": (24, 24, 1, 10),
                  "ar": (24, 24, 0, 10)},
    "fresh2.yml": {"en": (24, 24, 2, 20), "es": (22, 24, 0, 20), "fr": (24, 24, 2, 20),
                   "ar": (22, 24, 1, 20)},
}
# Whether a set's misses or false alarms have been looked at when writing train.yml.
SEEN = {"heldout.yml": "tuned on", "fresh.yml": "seen (misses studied)",
        "fresh2.yml": "seen (misses studied in round 3)",
        "fresh3.yml": "untouched: measured once"}
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
    (FRESH2, "A third held-out set: fresh2.yml (seen in round 3)", [
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
        "Third round: its four remaining misses (a farewell note with an apology, a stroke's",
        "crooked face, Darija \"كيقيسني\", Egyptian \"بنام في الشارع\") were studied by kind",
        "and `train.yml` broadened with other wordings of those kinds (f33ca69), so the \"now\"",
        "column is no longer an untouched estimate.",
    ]),
    (FRESH3, "A fourth, larger untouched held-out set: fresh3.yml", [
        "Written and committed on its own (143f86f) before the third broadening of `train.yml`",
        "and before the detector was run on it: 48 positives per language (8 per kind; housing",
        "is 4 evictions and 4 people without a roof) and 40 ordinary or near-miss messages per",
        "language (figurative \"kill\"/\"dying\", service questions about food banks and",
        "shelters, a dead phone), in SMS spelling, without accents, colloquial es/fr, Darija in",
        "both scripts, Egyptian, Levantine and standard Arabic. Measured ONCE, after the",
        "broadening, with nothing changed afterwards: this is the honest estimate. One message",
        "is 2.1 points of recall. Before the commit, two positives that matched `train.yml`",
        "word for word were rewritten (a check, not a measurement); two ordinary messages (a",
        "broken park bench, es/fr) are negatives in `train.yml` too, written independently.",
        "No \"before\" column: it was never measured before.",
        "",
        "What that single measurement says (nothing was changed after it): recall meets the",
        "95 % target in en, es and fr but not in ar (89.6 %: Egyptian and Levantine wordings",
        "of a locked door, an empty fridge, bread and water, a sting, \"nobody would notice if",
        "I died\"). And the false alarms on its ordinary messages, 12.5-22.5 %, are far above",
        "the 1 % met on the NLU examples: the model has learnt the NLU data's own wordings",
        "(its training negatives) more than what ordinary talk is, so new everyday wordings (a",
        "broken lift, a parking fine, a dead phone, \"vivement le week-end\") often score",
        "above the threshold. The set's negatives lean to near misses, so its rate is a",
        "pessimistic bound; the cross-validated NLU rate above (about 1-2 %) is the",
        "optimistic one. Issue 9's false-alarm target is therefore NOT shown to hold for",
        "new ordinary messages.",
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


def nlu_cross_validated(folds: int = 5) -> dict[str, tuple[int, int]]:
    """False alarms on NLU examples the model did NOT train on: (alarms, examples) per language.
    The NLU examples are training negatives, so the main table's false-alarm rate is measured
    on seen text; here each fifth is scored by a model trained on train.yml and the other four
    fifths (word lists unchanged)."""
    written = distress_model.load_examples(DATA_DIR / "train.yml")
    nlu = distress_model.nlu_examples()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for fold in range(folds):
        kept = [e for i, e in enumerate(nlu) if i % folds != fold]
        model = distress_model.DistressModel(written + kept)
        for example in nlu[fold::folds]:
            alarm = (distress.lexicon_category(example.text)
                     or model.predict(example.text)) is not None
            counts[example.language][0] += alarm
            counts[example.language][1] += 1
    return {language: (alarms, total) for language, (alarms, total) in counts.items()}


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
           fresh: dict[str, dict[str, Row]] | None = None,
           cross_validated: dict[str, tuple[int, int]] | None = None) -> str:
    lines = [
        "# Distress detection: held-out recall and false alarms",
        "",
        "Generated by `python -m scripts.distress_report` (`make distress-report`); the",
        "detector is `bot/domain/distress.py` (word lists) with `bot/domain/distress_model.py` "
        "(character",
        "n-gram logistic regression trained at start-up from `bot/domain/data/distress/train.yml` "
        "and",
        "`data/nlu/*.yml`). Positives: `bot/domain/data/distress/heldout.yml`, written apart from "
        "the",
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
    lines += render_summary(rows, fresh or {})
    if cross_validated:
        lines += ["## False alarms on NLU examples the model did not train on", "",
                  "The main table's false alarms are counted on the NLU examples, which the",
                  "model also trains on as negatives: seen text. Here each fifth of them is",
                  "scored by a model trained without it (5 folds), the honest rate for ordinary",
                  "messages of the kinds the assistant receives.", "",
                  "| language | examples | false alarms | rate |", "|---|---|---|---|"]
        for language in (*LANGUAGES, "common"):
            if language in cross_validated:
                alarms, total = cross_validated[language]
                lines.append(f"| {language} | {total} | {alarms} | "
                             f"{percent(alarms / total if total else 0.0)} |")
        lines.append("")
    for path, title, description in FRESH_SETS:
        rows_of_set = (fresh or {}).get(path.name) or evaluate_fresh(path)
        lines += render_fresh(rows_of_set, path, title, description)
    return "\n".join(lines)


def render_summary(rows: dict[str, Row], fresh: dict[str, dict[str, Row]]) -> list[str]:
    """Every set and language in one table, saying which sets were seen while tuning."""
    lines = ["## All sets now", "",
             "Recall on each set's positives; false alarms on its ordinary messages (for",
             "`heldout.yml`: all NLU examples plus its ordinary answers).", "",
             "| set | seen? | language | recall | false alarms |", "|---|---|---|---|---|"]
    sets = [(HELD_OUT.name, rows)] + [
        (path.name, fresh.get(path.name) or evaluate_fresh(path)) for path, _, _ in FRESH_SETS]
    for name, by_language in sets:
        for language in LANGUAGES:
            row = by_language[language]
            lines.append(f"| {name} | {SEEN.get(name, '')} | {language} | {row.found}/"
                         f"{row.positives} = {percent(row.recall)} | {row.false_alarms}/"
                         f"{row.negatives} = {percent(row.false_alarm_rate)} |")
    return [*lines, ""]


def render_fresh(rows: dict[str, Row], path: Path = FRESH, title: str = "",
                 description: tuple[str, ...] | list[str] = ()) -> list[str]:
    """A later set's table, before the training data was broadened and now."""
    before = BEFORE.get(path.name, {})
    round3 = ROUND3_BEFORE.get(path.name, {})
    lines = [f"## {title or path.name}", "", *description, "",
             "| language | positives | recall first measured | recall before round 3 "
             "| recall now | ordinary | false alarms first | false alarms before round 3 "
             "| false alarms now |",
             "|---|---|---|---|---|---|---|---|---|"]

    def cells(counts: dict[str, tuple[int, int, int, int]], language: str) -> tuple[str, str]:
        if language not in counts:
            return "-", "-"
        found, positives, alarms, _ = counts[language]
        return percent(found / positives), str(alarms)

    for language in LANGUAGES:
        row = rows[language]
        recall_first, alarms_first = cells(before, language)
        recall_round3, alarms_round3 = cells(round3, language)
        lines.append(f"| {language} | {row.positives} | {recall_first} | {recall_round3} | "
                     f"{percent(row.recall)} | {row.negatives} | {alarms_first} | "
                     f"{alarms_round3} | {row.false_alarms} |")
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
    REPORT.write_text(render(rows, trained, per_message, len(texts), later,
                             nlu_cross_validated()),
                      encoding="utf-8")
    print(REPORT.read_text(encoding="utf-8"))
    ok = all(rows[lang].recall >= RECALL_TARGET
             and rows[lang].false_alarm_rate <= FALSE_ALARM_TARGET for lang in LANGUAGES)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

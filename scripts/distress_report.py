"""Distress detection measured: `make distress-report` -> results/distress-report.md.

Per language: recall on the held-out positives (bot/domain/data/distress/heldout.yml and the
later sets fresh*.yml, never trained on), false alarms on their ordinary messages, and false
alarms on the NLU examples scored by models that did not train on them (5-fold
cross-validation: the NLU examples are otherwise the model's training negatives). Targets
(issue 9): recall >= 95 % per language, NLU false alarms <= 1 %.

``--choose-thresholds`` prints the model's thresholds chosen by cross-validation on other folds
(see ``bot.domain.distress_model.THRESHOLDS``); the report itself never changes them.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain import distress, distress_model
from bot.domain.distress_model import DATA_DIR, LANGUAGES, NONE, Example

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "results" / "distress-report.md"
HELD_OUT = DATA_DIR / "heldout.yml"
RECALL_TARGET = 0.95
FALSE_ALARM_TARGET = 0.01
CHOICE_TARGET = 0.008  # thresholds are chosen for this rate on other folds: a margin under 1 %
FOLDS = 5
# The held-out sets, oldest first, and what has been done with each.
SETS: tuple[tuple[str, str], ...] = (
    ("heldout.yml", "tuned on (rounds 1-4)"),
    ("fresh.yml", "seen: misses studied (round 2)"),
    ("fresh2.yml", "seen: misses studied (rounds 3, 4)"),
    ("fresh3.yml", "seen: untouched in round 3, misses studied in round 4"),
    ("fresh4.yml", "untouched: written before round 4's changes, measured once at its end"),
)
UNTOUCHED = "fresh4.yml"
# Each later set as first measured, before anything was tuned on it: (found, positives, false
# alarms, ordinary) per language, from earlier runs of this script (fresh.yml and fresh2.yml:
# the detector of 2334bc6; fresh3.yml: e37294a).
FIRST_MEASURED = {
    "fresh.yml": {"en": (23, 24, 0, 10), "es": (21, 24, 0, 10), "fr": (23, 24, 2, 10),
                  "ar": (19, 24, 1, 10)},
    "fresh2.yml": {"en": (23, 24, 1, 20), "es": (21, 24, 1, 20), "fr": (23, 24, 2, 20),
                   "ar": (21, 24, 2, 20)},
    "fresh3.yml": {"en": (48, 48, 7, 40), "es": (46, 48, 7, 40), "fr": (47, 48, 5, 40),
                   "ar": (43, 48, 9, 40)},
}
# 5-fold NLU false alarms of the detector before round 4 (e37294a): (alarms, examples).
ROUND3_CROSS_VALIDATED = {"en": (26, 1209), "es": (26, 1195), "fr": (24, 1191),
                          "ar": (17, 1280)}


@dataclass
class Row:
    """One language's counts on one set."""

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


def evaluate_set(path: Path = HELD_OUT) -> dict[str, Row]:
    """Counts on a held-out set: recall on its positives, false alarms on its ordinary
    messages, and what the word lists and the model each find alone."""
    model = distress_model.model()
    rows: dict[str, Row] = defaultdict(Row)
    for example in distress_model.load_examples(path):
        row = rows[example.language]
        kind = distress.category(example.text)
        if example.label == NONE:
            row.negatives += 1
            row.false_alarms += kind is not None
            if kind is not None:
                row.alarms.append(f"{example.text} ({kind})")
            continue
        row.positives += 1
        row.found += kind is not None
        row.right_kind += kind == example.label
        row.found_by_lexicon += distress.lexicon_category(example.text) is not None
        row.found_by_model += model.predict(example.text) is not None
        if kind is None:
            row.missed.append(example.text)
    return dict(rows)


def evaluate() -> dict[str, Row]:
    """Counts on heldout.yml."""
    return evaluate_set(HELD_OUT)


Scored = tuple[Example, tuple[str, bool] | None, float]  # (example, lexicon match, score)


def cross_validated_scores(fold_of: Callable[[int], int] = lambda i: i % FOLDS,
                           folds: int = FOLDS) -> list[Scored]:
    """Every NLU example with its lexicon match and the score of a model trained on the
    written training data and the other folds of the NLU examples (never on itself)."""
    written = distress_model.written_examples()
    nlu = distress_model.nlu_examples()
    scored: list[Scored] = []
    for fold in range(folds):
        kept = [e for i, e in enumerate(nlu) if fold_of(i) != fold]
        model = distress_model.DistressModel(written + kept)
        scored += [(e, distress.lexicon_match(e.text), model.score(e.text))
                   for i, e in enumerate(nlu) if fold_of(i) == fold]
    return scored


def alarm(example: Example, match: tuple[str, bool] | None, score: float,
          thresholds: dict[str, float] | None = None) -> bool:
    """The detector's decision (``distress.category``) from a precomputed match and score."""
    if match and (match[1] or score >= distress.WEAK_THRESHOLD):
        return True
    bars = thresholds or distress_model.THRESHOLDS
    return score >= bars[distress_model.script(example.text)]


def false_alarms(scored: Iterable[Scored],
                 thresholds: dict[str, float] | None = None) -> dict[str, tuple[int, int]]:
    """(false alarms, examples) per language."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for example, match, score in scored:
        counts[example.language][0] += alarm(example, match, score, thresholds)
        counts[example.language][1] += 1
    return {language: (alarms, total) for language, (alarms, total) in counts.items()}


def nlu_cross_validated() -> dict[str, tuple[int, int]]:
    """False alarms on NLU examples the model did NOT train on (5 folds: every fifth example),
    per language: the honest rate for ordinary messages of the kinds the assistant receives."""
    return false_alarms(cross_validated_scores())


def choose_thresholds(target: float = CHOICE_TARGET) -> dict[str, float]:
    """The lowest thresholds (0.01 steps) at which no language's held-out NLU examples raise
    more than ``target`` false alarms, pooled over three 5-fold splits of runs of 2, 3 and 7
    consecutive examples (not the report's every fifth, so that the report measures what the
    choice did not see): Latin script first (en, es, fr), then Arabic script (ar)."""
    scored = [item for run in (2, 3, 7)
              for item in cross_validated_scores(lambda i, run=run: (i // run) % FOLDS)]
    grid = [round(0.99 - 0.01 * step, 2) for step in range(95)]
    chosen = {"latin": 0.99, "arabic": 0.99}
    for script, languages in (("latin", ("en", "es", "fr", "common")), ("arabic", ("ar",))):
        for bar in grid:
            counts = false_alarms(scored, {**chosen, script: bar})
            if any(alarms > target * total for language, (alarms, total) in counts.items()
                   if language in languages):
                break
            chosen[script] = bar
    return chosen


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


def share(part: int, whole: int) -> str:
    return percent(part / whole if whole else 0.0)


def ratio(part: int, whole: int) -> str:
    return f"{part}/{whole} = {percent(part / whole if whole else 0.0)}"


def cell(row: Row) -> tuple[str, str]:
    """(recall, false alarms) of a set's row, as "found/total = rate"."""
    return ratio(row.found, row.positives), ratio(row.false_alarms, row.negatives)


INTRO = """\
Generated by `python -m scripts.distress_report` (`make distress-report`). The detector
(`bot/domain/distress.py`): a strong phrase of the word lists
(`bot/domain/data/distress/lexicon.yml`) is distress; a weak one (a phrase that also names a
topic: "emergency dentist", "a film with violence") counts when the learnt model gives at
least {weak}; otherwise the model decides alone: a logistic regression over character
n-grams, words and concepts (`bot/domain/data/distress/concepts.yml`: a blow, a child, food,
lacking, a machine, a service question... and pairs of them), trained at start-up on
`bot/domain/data/distress/train*.yml` and the NLU examples as negatives, with thresholds
{latin} (Latin script) and {arabic} (Arabic script)
chosen by cross-validation on the NLU examples (folds other than the ones measured below).

Targets (issue 9): recall >= {recall} per language on the held-out sets; false alarms <= {fa}
on the ordinary NLU examples, counted on examples the model did not train on (5 folds: each
fifth of them scored by a model trained on the rest and the written training data).

Decisions on figurative wordings (tested in `tests/test_distress.py`): tiredness, death or
killing said of waiting, machines, requests or laughter ("I'm tired of waiting", "the bus is
dead", "kill the request", "me muero de ganas", "mort de rire") is not distress; hunger said
with dying ("je meurs de faim", "me muero de hambre", "I'm starving") is taken literally, as
"j'ai faim" always was: asking a person who was only joking costs a minute, missing a hungry
one costs more. Service questions about evictions, shelters or food banks are not distress;
being evicted is.
"""
UNTOUCHED_NOTE = """\
Written for round 4 and committed on its own (ada09d8) before any change of that round and
before the detector was run on it: 60 positives per language (10 per kind; housing is 5
evictions and 5 people without a roof) and 64-66 ordinary or near-miss messages per
language, in SMS spelling, without accents, colloquial es/fr, Darija in both scripts,
Egyptian, Levantine and standard Arabic. No line matches a training line, another set or an
NLU example after normalising. Measured ONCE, after every change of round 4 (word lists,
concepts, training data, model, thresholds, this report and the tests) was committed; nothing
was changed after it. One positive is 1.7 points of recall; one ordinary message is 1.6
points of false alarms. Caveat: the same person wrote this set and round 4's training data,
concepts and word lists (in that order), so it is less independent than a set written by
someone else would be.
"""

UNTOUCHED_RESULT = """\
What the single measurement said (the detector of ca3b0fa; nothing tuned after it): the
targets hold on the seen sets and on NLU examples the model did not train on, but NOT on this
untouched set. Recall is 90-92 % in en, es and fr and 95 % in ar, against 95 %; its misses
are mostly wordings the training lines, concepts and phrases did not cover, and repeat across
languages (a child or adult who drank a cleaning product, a cut hand that will not stop
bleeding, living on coffee and biscuits, giving the dog away, a night at a station). Its
ordinary messages raise 3-11 % false alarms, against 0.3-0.9 % on the NLU examples: figurative
"heart attack", "dying" and "driving me crazy", "I don't understand the letter", a broken arm
last month. These ordinary messages lean to near misses, so their rate is a pessimistic bound
and the NLU rate an optimistic one; the rate on real traffic lies between them. Round 3's
untouched set (fresh3.yml, different messages) gave 90-100 % recall and 12-23 % false alarms.
"""


def render(rows: dict[str, Row], trained: float, per_message: float, messages: int,
           sets: dict[str, dict[str, Row]] | None = None,
           cross_validated: dict[str, tuple[int, int]] | None = None) -> str:
    sets = sets or {}
    lines = ["# Distress detection: recall and false alarms per language", "",
             INTRO.format(weak=distress.WEAK_THRESHOLD, recall=percent(RECALL_TARGET),
                          fa=percent(FALSE_ALARM_TARGET), **distress_model.THRESHOLDS)]
    lines += render_targets(rows, cross_validated or {})
    lines += render_sets(sets)
    lines += [f"## The untouched estimate: {UNTOUCHED}", "", UNTOUCHED_NOTE]
    lines += [*render_untouched(sets.get(UNTOUCHED) or {}), UNTOUCHED_RESULT]
    lines += render_details(rows)
    lines += render_history()
    lines += ["## Misses and false alarms on the seen sets", ""]
    for name, _ in SETS:
        for language, row in sorted((sets.get(name) or {}).items()):
            if name != UNTOUCHED:
                lines += [f"- {name}, {language}, missed: {text}" for text in row.missed]
                lines += [f"- {name}, {language}, false alarm: {text}" for text in row.alarms]
    lines += ["", f"Model training at start-up: {trained:.2f} s CPU (this run). Detection: "
              f"{per_message:.0f} µs CPU per message (mean over {messages} messages, word "
              "lists and model).", ""]
    return "\n".join(lines)


def render_targets(rows: dict[str, Row], cross_validated: dict[str, tuple[int, int]]
                   ) -> list[str]:
    lines = ["## The targets", "",
             "| language | held-out recall (heldout.yml) | NLU false alarms, 5-fold | met |",
             "|---|---|---|---|"]
    for language in LANGUAGES:
        row = rows[language]
        alarms, total = cross_validated.get(language, (0, 0))
        met = row.recall >= RECALL_TARGET and total and alarms / total <= FALSE_ALARM_TARGET
        lines.append(f"| {language} | {ratio(row.found, row.positives)} | {ratio(alarms, total)}"
                     f" | {'yes' if met else 'NO'} |")
    before = ", ".join(f"{ratio(alarms, total)} ({language})"
                       for language, (alarms, total) in ROUND3_CROSS_VALIDATED.items())
    return [*lines, "", f"Before round 4 (e37294a) the 5-fold NLU false alarms were {before}.",
            ""]


def render_sets(sets: dict[str, dict[str, Row]]) -> list[str]:
    lines = ["## Every set now", "",
             "Recall on each set's positives; false alarms on its own ordinary messages.", "",
             "| set | status | language | recall | false alarms |", "|---|---|---|---|---|"]
    for name, status in SETS:
        for language in LANGUAGES:
            recall, alarms = cell((sets.get(name) or {}).get(language, Row()))
            lines.append(f"| {name} | {status} | {language} | {recall} | {alarms} |")
    return [*lines, ""]


def render_details(rows: dict[str, Row]) -> list[str]:
    lines = ["## heldout.yml in detail", "",
             "| language | positives | recall | kind right | word lists alone | model alone |",
             "|---|---|---|---|---|---|"]
    for language in LANGUAGES:
        row = rows[language]
        lines.append(f"| {language} | {row.positives} | {percent(row.recall)} | "
                     f"{share(row.right_kind, row.positives)} | "
                     f"{share(row.found_by_lexicon, row.positives)} | "
                     f"{share(row.found_by_model, row.positives)} |")
    return [*lines, ""]


def render_history() -> list[str]:
    lines = ["## Each later set as first measured", "",
             "Before anything was tuned on it (fresh.yml and fresh2.yml: the detector of "
             "2334bc6; fresh3.yml: e37294a).", "",
             "| set | language | recall | false alarms |", "|---|---|---|---|"]
    for name, by_language in FIRST_MEASURED.items():
        for language, (found, positives, alarms, ordinary_count) in by_language.items():
            lines.append(f"| {name} | {language} | {ratio(found, positives)} | "
                         f"{ratio(alarms, ordinary_count)} |")
    return [*lines, ""]


def render_untouched(rows: dict[str, Row]) -> list[str]:
    lines = ["| language | recall | false alarms on its ordinary messages | kind right |",
             "|---|---|---|---|"]
    for language in LANGUAGES:
        row = rows.get(language, Row())
        recall, alarms = cell(row)
        lines.append(f"| {language} | {recall} | {alarms} | "
                     f"{share(row.right_kind, row.positives)} |")
    lines += ["", "Missed:", ""]
    lines += [f"- {language}: {text}" for language, row in sorted(rows.items())
              for text in row.missed] or ["(none)"]
    lines += ["", "False alarms:", ""]
    lines += [f"- {language}: {text}" for language, row in sorted(rows.items())
              for text in row.alarms] or ["(none)"]
    return [*lines, ""]


def main(argv: list[str]) -> int:
    if "--choose-thresholds" in argv:
        print(choose_thresholds())
        return 0
    rows = evaluate()
    texts = [e.text for e in held_out()] + [e.text for e in distress_model.nlu_examples()]
    trained, per_message = timings(texts)
    sets = {name: evaluate_set(DATA_DIR / name) for name, _ in SETS}
    cross_validated = nlu_cross_validated()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(render(rows, trained, per_message, len(texts), sets, cross_validated),
                      encoding="utf-8")
    print(REPORT.read_text(encoding="utf-8"))
    ok = all(rows[language].recall >= RECALL_TARGET
             and cross_validated[language][0] <= FALSE_ALARM_TARGET * cross_validated[language][1]
             for language in LANGUAGES)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

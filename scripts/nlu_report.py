"""Held-out NLU quality per language: `make nlu-report` -> results/nlu-report.md and .json.

For each language file in data/nlu/, 20 % of every intent's examples (seeded, stratified) are
held out; one NLU model is trained on the rest (all languages together, as in production) with
the project's own config.yml, then each held-out example is parsed and scored. The report gives
intent macro-F1 per language (target: >= 0.92), the most frequent confusions and every
misclassified held-out example (text, true, predicted, confidence). ``--seed N`` draws another
split (default 7) to check that a result is not the luck of one split.

The effect of reviewed examples (what `python -m bot nlu export` wrote from the learning inbox
into data/nlu/reviewed/<lang>.yml), `make nlu-report REVIEWED=DIR` (``--reviewed DIR``): the
same split, two models trained with config.yml, *before* on the training part alone and
*after* on the training part plus the reviewed files (never on the held-out part: a reviewed
example that is also a held-out or check phrase is left out, and counted), both scored on the
same held-out examples and on the learning round's fixed check phrasings, never labelled
(scripts/learning_round.py ``BATCH``) -> results/nlu-report-reviewed.md and .json.
``REVIEWED=round`` first makes the reviewed files from the learning round's batch through the
inbox (masked, grouped, labelled, exported into a scratch copy) -> results/learning-round.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

import yaml
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = ROOT / "data" / "nlu"
RESULTS = ROOT / "results"
LANGUAGES = ("en", "es", "fr", "ar")
HELD_OUT = 0.2
SEED = 7
TARGET = 0.92


def _examples(block: dict) -> list[str]:
    return [line[2:].strip() for line in str(block.get("examples", "")).splitlines()
            if line.strip().startswith("- ")]


def _plain(example: str) -> str:
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", example)


def split(seed: int = SEED) -> tuple[dict, dict[str, list[tuple[str, str]]]]:
    """(training documents by file name, held-out (text, intent) pairs by language)."""
    rng = random.Random(seed)
    training: dict[str, dict] = {}
    held_out: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(NLU_DIR.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        kept_blocks = []
        for block in document.get("nlu", []):
            if "intent" not in block:
                kept_blocks.append(block)
                continue
            examples = _examples(block)
            rng.shuffle(examples)
            cut = int(len(examples) * HELD_OUT) if path.stem in LANGUAGES else 0
            held_out.setdefault(path.stem, []).extend(
                (_plain(e), block["intent"]) for e in examples[:cut])
            kept = examples[cut:]
            kept_blocks.append({"intent": block["intent"],
                                "examples": "".join(f"- {e}\n" for e in kept)})
        training[path.name] = {"version": "3.1", "nlu": kept_blocks}
    return training, held_out


async def _parse_all(model: Path, pairs: dict[str, list[tuple[str, str]]]) -> dict:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    predictions: dict[str, list[tuple[str, float]]] = {}
    for code, items in pairs.items():
        predictions[code] = []
        for text, _ in items:
            parsed = await agent.parse_message(text)
            predictions[code].append((parsed["intent"]["name"],
                                      round(float(parsed["intent"].get("confidence") or 0), 3)))
    return predictions


def _train(documents: dict[str, dict], out: Path, name: str) -> Path:
    """An NLU model trained with config.yml on ``documents`` (by file name), in ``out``."""
    data_dir = out / name
    data_dir.mkdir()
    for file_name, document in documents.items():
        (data_dir / file_name).write_text(yaml.safe_dump(document, allow_unicode=True,
                                                         sort_keys=False), encoding="utf-8")
    subprocess.run([str(Path(sys.executable).parent / "rasa"), "train", "nlu",
                    "--config", str(ROOT / "config.yml"), "--nlu", str(data_dir),
                    "--out", str(out), "--fixed-model-name", name, "--quiet"],
                   check=True, cwd=ROOT)
    return out / f"{name}.tar.gz"


def _scores(items: list[tuple[str, str]], guesses: list[tuple[str, float]]) -> dict:
    truth = [intent for _, intent in items]
    predicted = [name for name, _ in guesses]
    labels = sorted(set(truth))
    pairs = list(zip(truth, predicted, strict=True))
    confusions = Counter((t, p) for t, p in pairs if t != p)
    return {
        "examples": len(truth),
        "macro_f1": round(f1_score(truth, predicted, labels=labels, average="macro",
                                   zero_division=0), 3),
        "accuracy": round(sum(t == p for t, p in pairs) / len(truth), 3),
        "top_confusions": [f"{t} -> {p} ({n})" for (t, p), n in confusions.most_common(5)],
        "errors": [{"text": text, "true": intent, "predicted": name, "confidence": confidence}
                   for (text, intent), (name, confidence) in zip(items, guesses, strict=True)
                   if name != intent],
    }


def _held_out_report(model: Path, held_out: dict[str, list[tuple[str, str]]]) -> dict:
    predictions = asyncio.run(_parse_all(model, {k: v for k, v in held_out.items()
                                                 if k in LANGUAGES}))
    return {code: _scores(held_out[code], predictions[code]) for code in LANGUAGES}


def main_default(seed: int = SEED) -> int:
    training, held_out = split(seed)
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        model = _train(training, Path(tmp), "heldout")
        seconds = round(time.perf_counter() - began)
        report = _held_out_report(model, held_out)
    RESULTS.mkdir(exist_ok=True)
    stem = "nlu-report" if seed == SEED else f"nlu-report-seed{seed}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(
        {"seed": seed, "held_out_fraction": HELD_OUT, "target": TARGET,
         "seconds_to_train": seconds, "languages": report}, indent=2, ensure_ascii=False))
    lines = ["# NLU held-out report", "",
             f"{int(HELD_OUT * 100)} % of each intent's examples held out per language "
             f"(seed {seed}); one model trained on the rest with config.yml "
             f"(NLU training {seconds} s). Target: intent macro-F1 >= {TARGET} in every "
             "language.", "",
             "| language | held-out examples | intent macro-F1 | accuracy |",
             "|---|---|---|---|"]
    lines += [f"| {c} | {r['examples']} | {r['macro_f1']:.3f} | {r['accuracy']:.3f} |"
              for c, r in report.items()]
    lines += ["", "Most frequent confusions (true -> predicted):", ""]
    for code, r in report.items():
        lines.append(f"- {code}: " + ("; ".join(r["top_confusions"]) or "none"))
    lines += ["", "## Misclassified held-out examples", "",
              "text | true | predicted (confidence); all of them in the .json.", ""]
    for code, r in report.items():
        lines += [f"### {code} ({len(r['errors'])})", ""]
        lines += [f"- {e['text']} | {e['true']} | {e['predicted']} ({e['confidence']:.2f})"
                  for e in r["errors"]]
        lines.append("")
    (RESULTS / f"{stem}.md").write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print("\n".join(lines))
    below = [c for c, r in report.items() if r["macro_f1"] < TARGET]
    if below:
        print(f"below the {TARGET} target: {', '.join(below)}", file=sys.stderr)
        return 1
    return 0


# --- the effect of reviewed examples ------------------------------------------------------------


def fold(text: str) -> str:
    """A phrase compared loosely: case, accents, spacing and end punctuation aside."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(c))
    return " ".join(bare.split()).strip(" .!?؟")


def never_labelled() -> list[tuple[str, str, str]]:
    """The learning round's check phrasings, never labelled: (language, text, intent)."""
    from scripts.learning_round import BATCH

    return [(lang, text, intent) for lang, intent, _labelled, check in BATCH for text in check]


def reviewed_documents(directory: Path, held_out: dict[str, list[tuple[str, str]]],
                       checks: list[tuple[str, str, str]]) -> tuple[dict[str, dict], int, int]:
    """The reviewed files in ``directory`` (``<lang>.yml``) as training documents, each
    example that is also a held-out or check phrase left out: (documents by file name,
    examples kept, examples left out)."""
    scored = {fold(text) for pairs in held_out.values() for text, _ in pairs} | \
        {fold(text) for _lang, text, _intent in checks}
    documents: dict[str, dict] = {}
    kept = dropped = 0
    for code in LANGUAGES:
        path = directory / f"{code}.yml"
        if not path.exists():
            continue
        blocks = []
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue
            examples = [e for e in _examples(block) if fold(_plain(e)) not in scored]
            dropped += len(_examples(block)) - len(examples)
            kept += len(examples)
            if examples:
                blocks.append({"intent": block["intent"],
                               "examples": "".join(f"- {e}\n" for e in examples)})
        documents[f"reviewed-{code}.yml"] = {"version": "3.1", "nlu": blocks}
    return documents, kept, dropped


def _check_report(model: Path, checks: list[tuple[str, str, str]]) -> dict[str, list[int]]:
    predicted = asyncio.run(_parse_all(model, {"checks": [(t, i) for _l, t, i in checks]}))
    right = {code: [0, 0] for code in LANGUAGES}
    for (lang, _text, intent), guess in zip(checks, predicted["checks"], strict=True):
        right[lang][0] += guess[0] == intent
        right[lang][1] += 1
    return right


def _round_reviewed(tmp: Path) -> tuple[Path, dict[str, int]]:
    """The learning round's batch through the inbox and the export (a scratch database and a
    scratch copy of data/): the reviewed directory and the examples written per language."""
    import os
    import shutil

    from scripts.learning_round import run_round

    shutil.copytree(ROOT / "data", tmp / "data")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'round.db'}"}
    subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    written = run_round(tmp)
    return tmp / "data" / "nlu" / "reviewed", written


def _fraction(pair: list[int]) -> str:
    return f"{pair[0]}/{pair[1]}"


def main_reviewed(source: str) -> int:
    training, held_out = split()
    checks = never_labelled()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        written: dict[str, int] = {}
        if source == "round":
            directory, written = _round_reviewed(tmp)
        else:
            directory = Path(source)
            if not directory.is_dir():
                print(f"nlu report: no directory {directory} (run `python -m bot nlu export` "
                      "first)", file=sys.stderr)
                return 2
        added, kept, dropped = reviewed_documents(directory, held_out, checks)
        if not kept:
            print(f"nlu report: no reviewed example in {directory}", file=sys.stderr)
            return 2
        timings, results = {}, {}
        for label, documents in (("before", training), ("after", {**training, **added})):
            began = time.perf_counter()
            model = _train(documents, tmp, f"reviewed-{label}")
            timings[label] = round(time.perf_counter() - began)
            results[label] = {"held_out": _held_out_report(model, held_out),
                              "checks": _check_report(model, checks)}
    report = {"source": "learning round batch" if source == "round" else str(source),
              "written": written, "reviewed_examples": kept, "left_out": dropped,
              "seconds_to_train": timings, **results}
    stem = "learning-round" if source == "round" else "nlu-report-reviewed"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    lines = _reviewed_lines(report, held_out)
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


def _reviewed_lines(report: dict, held_out: dict[str, list[tuple[str, str]]]) -> list[str]:
    before, after = report["before"], report["after"]
    origin = ("the learning round's batch (scripts/learning_round.py): "
              + ", ".join(f"{n} to {lang}.yml" for lang, n in sorted(report["written"].items()))
              + " written by the inbox's export into a scratch copy of data/"
              if report["written"] else f"the reviewed files in `{report['source']}`")
    lines = ["# One round of the learning inbox, measured with `make nlu-report`"
             if report["written"] else "# NLU report: the effect of the reviewed examples", "",
             f"Reviewed examples: {origin}. {report['reviewed_examples']} added to training "
             f"({report['left_out']} left out: the same as a held-out or check phrase).", "",
             f"The default `make nlu-report` split ({int(HELD_OUT * 100)} % of each intent's "
             f"examples held out per language, seed {SEED}). *Before*: an NLU model trained "
             "with config.yml on the rest; *after*: the same plus the reviewed examples "
             f"(training {report['seconds_to_train']['before']} s and "
             f"{report['seconds_to_train']['after']} s). Both are scored on the same held-out "
             f"examples and on {sum(r[1] for r in before['checks'].values())} check phrasings "
             "of the round's needs that no one labelled.", "",
             "| language | held-out examples | macro-F1 before | macro-F1 after | "
             "accuracy before | accuracy after | check phrasings right before | after |",
             "|---|---|---|---|---|---|---|---|"]
    for code in LANGUAGES:
        b, a = before["held_out"][code], after["held_out"][code]
        lines.append(f"| {code} | {len(held_out[code])} | {b['macro_f1']:.3f} | "
                     f"{a['macro_f1']:.3f} | {b['accuracy']:.3f} | {a['accuracy']:.3f} | "
                     f"{_fraction(before['checks'][code])} | "
                     f"{_fraction(after['checks'][code])} |")
    total = [[sum(r[i] for r in result["checks"].values()) for i in (0, 1)]
             for result in (before, after)]
    lines.append(f"| all | {sum(len(held_out[c]) for c in LANGUAGES)} | | | | | "
                 f"{_fraction(total[0])} | {_fraction(total[1])} |")
    lines += ["", "One run on a small batch: a sign of the effect, not a benchmark."]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.nlu_report",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--reviewed", metavar="DIR",
                        help="also train with the reviewed examples in DIR (data/nlu/reviewed), "
                             "or 'round' for the learning round's batch, and report before and "
                             "after")
    parser.add_argument("--seed", type=int, default=SEED,
                        help=f"the held-out split's seed (default {SEED}; another seed writes "
                             "results/nlu-report-seed<N>.md and .json)")
    args = parser.parse_args(argv)
    return main_reviewed(args.reviewed) if args.reviewed else main_default(args.seed)


if __name__ == "__main__":
    sys.exit(main())

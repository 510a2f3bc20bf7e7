"""Held-out NLU quality per language: `make nlu-report` -> results/nlu-report.md and .json.

For each language file in data/nlu/, 20 % of every intent's examples (seeded, stratified) are
held out; one NLU model is trained on the rest (all languages together, as in production) with
the project's own config.yml, then each held-out example is parsed and scored. The report gives
intent macro-F1 per language (target: >= 0.90) and the most frequent confusions.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import subprocess
import sys
import tempfile
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
TARGET = 0.90


def _examples(block: dict) -> list[str]:
    return [line[2:].strip() for line in str(block.get("examples", "")).splitlines()
            if line.strip().startswith("- ")]


def _plain(example: str) -> str:
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", example)


def split() -> tuple[dict, dict[str, list[tuple[str, str]]]]:
    """(training documents by file name, held-out (text, intent) pairs by language)."""
    rng = random.Random(SEED)
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
    predictions: dict[str, list[str]] = {}
    for code, items in pairs.items():
        predictions[code] = []
        for text, _ in items:
            parsed = await agent.parse_message(text)
            predictions[code].append(parsed["intent"]["name"])
    return predictions


def main() -> int:
    training, held_out = split()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "nlu"
        data_dir.mkdir()
        for name, document in training.items():
            (data_dir / name).write_text(yaml.safe_dump(document, allow_unicode=True,
                                                        sort_keys=False), encoding="utf-8")
        subprocess.run([str(Path(sys.executable).parent / "rasa"), "train", "nlu",
                        "--config", str(ROOT / "config.yml"), "--nlu", str(data_dir),
                        "--out", tmp, "--fixed-model-name", "heldout", "--quiet"],
                       check=True, cwd=ROOT)
        predictions = asyncio.run(_parse_all(Path(tmp) / "heldout.tar.gz",
                                             {k: v for k, v in held_out.items()
                                              if k in LANGUAGES}))
    report: dict[str, dict] = {}
    for code in LANGUAGES:
        truth = [intent for _, intent in held_out[code]]
        predicted = predictions[code]
        labels = sorted(set(truth))
        pairs = list(zip(truth, predicted, strict=True))
        confusions = Counter((t, p) for t, p in pairs if t != p)
        report[code] = {
            "examples": len(truth),
            "macro_f1": round(f1_score(truth, predicted, labels=labels, average="macro",
                                       zero_division=0), 3),
            "accuracy": round(sum(t == p for t, p in pairs) / len(truth), 3),
            "top_confusions": [f"{t} -> {p} ({n})" for (t, p), n in confusions.most_common(5)],
        }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "nlu-report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    lines = ["# NLU held-out report", "",
             f"{int(HELD_OUT * 100)} % of each intent's examples held out per language "
             f"(seed {SEED}); one model trained on the rest with config.yml.", "",
             "| language | held-out examples | intent macro-F1 | accuracy |",
             "|---|---|---|---|"]
    lines += [f"| {c} | {r['examples']} | {r['macro_f1']:.3f} | {r['accuracy']:.3f} |"
              for c, r in report.items()]
    lines += ["", "Most frequent confusions (true -> predicted):", ""]
    for code, r in report.items():
        lines.append(f"- {code}: " + ("; ".join(r["top_confusions"]) or "none"))
    (RESULTS / "nlu-report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    below = [c for c, r in report.items() if r["macro_f1"] < TARGET]
    if below:
        print(f"below the {TARGET} target: {', '.join(below)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make model`: `rasa train` with its progress shown instead of minutes of silence.

Rasa's whole output (warnings, every component, every epoch) goes to the log file; this
prints where that log is, each phase as it starts (reading the data, each component and
policy, saving), and for the components that train in epochs the epoch and the time left,
a line every ``--every`` seconds (on a terminal, one line rewritten in place). The training
time is recorded in var/model-train.json (`make bench` reports it).

    python -m scripts.train MODEL_NAME [--log var/train.log]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv" / "bin" / "rasa"

COMPONENT = re.compile(r"Starting to train component '([^']+)'")
EPOCHS = re.compile(r"Epochs:\s+(\d+)%\|[^|]*\|\s*(\d+)/(\d+) \[([\d:]+)<([\d:?]+)")
SAVED = re.compile(r"Your Rasa model is trained and saved")
# What each component of config.yml does, for a newcomer reading the progress.
PLAIN = {"DIETClassifier": "intent classifier (NLU)", "TEDPolicy": "dialogue policy",
         "RulePolicy": "rules", "MemoizationPolicy": "stories memorised",
         "CountVectorsFeaturizer": "word and character features",
         "RegexFeaturizer": "patterns"}


class Progress:
    def __init__(self, every: float) -> None:
        self.every = every
        self.tty = sys.stdout.isatty()
        self.last_print = 0.0
        self.component = ""
        self.pending = False  # a line rewritten in place is open (terminal only)
        self.shown: tuple[str, int] = ("", -1)

    def say(self, text: str) -> None:
        if self.pending:
            sys.stdout.write("\n")
            self.pending = False
        print(f"model: {text}", flush=True)

    def epoch(self, done: int, total: int, left: str) -> None:
        if (self.component, done) == self.shown:
            return  # tqdm repeats its line as its figures change
        self.shown = (self.component, done)
        now = time.monotonic()
        line = f"model:   {self.component}: epoch {done}/{total}, about {left} left"
        if self.tty:
            sys.stdout.write("\r" + line.ljust(70))
            sys.stdout.flush()
            self.pending = True
        elif now - self.last_print >= self.every or done == total:
            print(line, flush=True)
            self.last_print = now

    def line(self, text: str) -> None:
        if match := COMPONENT.search(text):
            self.component = match.group(1)
            plain = PLAIN.get(self.component, "")
            self.say(f"training {self.component}{f' ({plain})' if plain else ''}")
            self.last_print = 0.0
        elif match := EPOCHS.search(text):
            done, total = int(match.group(2)), int(match.group(3))
            self.epoch(done, total, _readable(match.group(5)))
        elif SAVED.search(text):
            self.say("saving the model")


def _readable(tqdm_left: str) -> str:
    if "?" in tqdm_left:
        return "? s"
    parts = [int(p) for p in tqdm_left.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def train(name: str, log: Path, every: float) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    progress = Progress(every)
    progress.say(f"training {name} (full log: {log}; several minutes on 2 cores)")
    progress.say("reading and checking data/, domain/ and config.yml")
    start = time.monotonic()
    command = [str(RASA), "train", "--domain", "domain", "--fixed-model-name", name,
               "--out", "models"]
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
    with log.open("w") as out, subprocess.Popen(command, cwd=ROOT, env=env,
                                                stdout=subprocess.PIPE,
                                                stderr=subprocess.STDOUT) as process:
        assert process.stdout is not None
        buffer = b""
        while chunk := process.stdout.read1(4096):  # type: ignore[attr-defined]
            out.write(chunk.decode("utf-8", "replace"))
            buffer += chunk
            *pieces, buffer = re.split(rb"[\r\n]", buffer)
            for piece in pieces:
                progress.line(piece.decode("utf-8", "replace"))
        code = process.wait()
    seconds = round(time.monotonic() - start, 1)
    if code != 0:
        progress.say(f"training FAILED after {seconds:.0f} s; the end of {log}:")
        lines = log.read_text(errors="replace").replace("\r", "\n").splitlines()
        print("\n".join(lines[-30:]), file=sys.stderr)
        return code
    progress.say(f"trained models/{name}.tar.gz in {seconds:.0f} s")
    (ROOT / "var" / "model-train.json").write_text(json.dumps({
        "model": f"models/{name}.tar.gz", "seconds": seconds,
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="rasa train, showing its progress")
    parser.add_argument("name", help="the model's name, without .tar.gz")
    parser.add_argument("--log", type=Path, default=ROOT / "var" / "train.log")
    parser.add_argument("--every", type=float, default=10.0,
                        help="seconds between epoch lines when not on a terminal")
    args = parser.parse_args()
    return train(args.name, args.log, args.every)


if __name__ == "__main__":
    sys.exit(main())

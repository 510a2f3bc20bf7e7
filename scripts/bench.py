"""`make bench`: speed and memory of the real stack, written to results/bench.md and .json.

Starts the same stack the tests use (trained model, action server, fresh SQLite), then, with
one client and a bounded number of requests: time to ready, webhook latency per channel
(p50/p95/p99), API latency, language detection throughput, and the servers' resident memory.
Numbers are measurements of this machine, not assertions.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import itertools  # noqa: E402

from bot.devtools.clients import CallClient, SmsClient, TelegramClient  # noqa: E402
from bot.language.detect import detect  # noqa: E402
from tests.support.clients import channel_hooks  # noqa: E402
from tests.support.providers import Providers  # noqa: E402
from tests.support.stack import Stack, running_stack  # noqa: E402

RESULTS = ROOT / "results"
REQUESTS = 60


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "mean_ms": round(statistics.mean(ordered) * 1000, 1), "n": len(ordered)}


def timed(call: Callable[[int], object], count: int = REQUESTS) -> dict[str, float]:
    samples = []
    for index in range(count):
        start = time.perf_counter()
        call(index)
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


# One conversation step per request, cycling through realistic messages.
MESSAGES = ["hello", "is the bin collection running?", "¿dónde hay wifi gratis?",
            "quels sont les horaires de la mairie ?", "أريد معرفة حالة طلبي", "4021 7382"]


def bench_stack(stack: Stack, results: dict) -> None:
    """Each webhook, one request after another, every one a full turn (signed, real JSON)."""
    results["rest_webhook (Rasa's own, baseline)"] = timed(
        lambda i: stack.say(f"+1555020{i:04d}", MESSAGES[i % len(MESSAGES)]))
    hooks = channel_hooks(stack)
    sms = SmsClient(hooks, "+15550109001")
    sms_texts = itertools.cycle(["hello", "2", "is the bin collection running?", "MENU", "1",
                                 "4021 7382", "MENU"])
    results["sms_webhook"] = timed(lambda i: sms.send(next(sms_texts)))
    telegram = TelegramClient(hooks, 9_900_001)
    updates = itertools.cycle([lambda: telegram.send("/start"),
                               lambda: telegram.press("/check_service_status"),
                               lambda: telegram.send("the buses"),
                               lambda: telegram.send("hola")])
    results["telegram_webhook"] = timed(lambda i: next(updates)())
    call = CallClient(hooks, "+15550109002")
    call.start()
    call.press("1")  # English, once

    def call_step(step: int) -> None:
        nonlocal call
        if step % 4 == 0:
            call = CallClient(hooks, call.phone)
            call.start()
        else:
            call.press(("1", "40217382", "2")[step % 4 - 1])

    results["voice_webhook"] = timed(call_step)
    results["api_get_services"] = timed(lambda i: stack.api("GET", "/api/services"))
    results["memory_rss_mb"] = {name: rss_mb(process.pid)
                                for name, process in zip(("actions", "rasa"), stack.processes,
                                                         strict=True)}


def main() -> int:
    results: dict[str, object] = {}
    texts = MESSAGES * 200
    start = time.perf_counter()
    for text in texts:
        detect(text)
    results["language_detection_per_s"] = round(len(texts) / (time.perf_counter() - start))
    providers = Providers().start()  # the Twilio and Telegram stand-ins of the tests
    try:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            with running_stack(Path(tmp), extra_env=providers.env) as stack:
                results["stack_ready_s"] = round(time.perf_counter() - start, 1)
                bench_stack(stack, results)
    finally:
        providers.stop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench.json").write_text(json.dumps(results, indent=2))
    lines = ["# Benchmark", "", f"One client, {REQUESTS} requests per row, this machine.", "",
             "| what | p50 ms | p95 ms | p99 ms | mean ms |", "|---|---|---|---|---|"]
    for key, value in results.items():
        if isinstance(value, dict) and "p50_ms" in value:
            lines.append(f"| {key} | {value['p50_ms']} | {value['p95_ms']} | {value['p99_ms']} "
                         f"| {value['mean_ms']} |")
    lines += ["", f"- stack ready (migrate, seed, load model, start both servers): "
              f"{results['stack_ready_s']} s",
              f"- language detection: {results['language_detection_per_s']} messages/s",
              f"- resident memory: {results['memory_rss_mb']}"]
    (RESULTS / "bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""results/bench.md and results/bench.png from the figures of one `make bench` run.

Every CivicLine figure is also given as a ratio to stock Rasa measured in the same run (the
machine is shared, so absolute times vary between runs; the ratios much less).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STOCK = "stock-rasa"

# (what, configuration, concurrency or None, figure, bound, "max"/"min")
TARGETS = [
    ("SMS throughput at 8, development set-up", "civicline-dev", 8, "msg_per_s", 1.0, "min"),
    ("SMS throughput at 8, PostgreSQL + Redis + 2 workers", "civicline-pg-redis-2w", 8,
     "msg_per_s", 2.0, "min"),
    ("SMS p95 at 8, development set-up", "civicline-dev", 8, "p95_ms", 1.0, "max"),
    ("SMS p95 at 32, development set-up", "civicline-dev", 32, "p95_ms", 1.0, "max"),
    ("SMS p95 at 8, PostgreSQL + Redis + 2 workers", "civicline-pg-redis-2w", 8, "p95_ms", 1.0,
     "max"),
    ("SMS p95 at 32, PostgreSQL + Redis + 2 workers", "civicline-pg-redis-2w", 32, "p95_ms",
     1.0, "max"),
]


def _row(results: dict[str, Any], config: str, concurrency: int) -> dict[str, Any] | None:
    rows = results["configurations"].get(config, {}).get("load", [])
    return next((r for r in rows if r["concurrency"] == concurrency), None)


def ratio(value: float, base: float) -> float | None:
    return round(value / base, 2) if base else None


def add_ratios(results: dict[str, Any]) -> None:
    """Each CivicLine row's msg/s and latencies as a ratio to stock's row of the same load."""
    for config, figures in results["configurations"].items():
        for row in figures.get("load", []):
            stock = _row(results, STOCK, row["concurrency"])
            if stock is None:
                continue
            row["x_stock"] = {key: ratio(row[key], stock[key])
                              for key in ("msg_per_s", "p50_ms", "p95_ms", "p99_ms",
                                          "cpu_ms_per_turn")
                              if row.get(key) is not None and stock.get(key) is not None}
        long = figures.get("long_conversation")
        stock_long = results["configurations"].get(STOCK, {}).get("long_conversation")
        if long and stock_long:
            long["last_x_stock_last"] = ratio(long["last_ms"], stock_long["last_ms"])
        if figures.get("rss_mb") and config != STOCK:
            stock_rss = results["configurations"].get(STOCK, {}).get("rss_mb", {})
            base = max(stock_rss.get("rasa", {0: 0}).values(), default=0)
            figures["rss_x_stock"] = {
                role: ratio(max(pids.values(), default=0), base)
                for role, pids in figures["rss_mb"].items()}


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for what, config, concurrency, key, bound, kind in TARGETS:
        row = _row(results, config, concurrency)
        value = (row or {}).get("x_stock", {}).get(key)
        met = value is not None and (value >= bound if kind == "min" else value <= bound)
        checks.append({"target": what, "bound": f"{'≥' if kind == 'min' else '≤'} {bound}× stock",
                       "measured": value, "met": met})
    for config, figures in results["configurations"].items():
        if config == STOCK:
            continue
        long = figures.get("long_conversation")
        if long:
            checks.append({"target": f"last turns vs first turns of one conversation, {config}",
                           "bound": "≤ 1.5×", "measured": long["last_over_first"],
                           "met": long["last_over_first"] <= 1.5})
        rss = figures.get("rss_mb", {}).get("rasa", {})
        if rss:
            biggest = max(rss.values())
            checks.append({"target": f"RSS per Rasa process, {config}", "bound": "≤ 1,000 MB",
                           "measured": biggest, "met": biggest <= 1000})
    first_run = results.get("first_run")
    if first_run:
        for what, part, bound in (("first `make run` of a fresh clone to an answer", "first", 480),
                                  ("`make run` again, unchanged, to an answer", "unchanged", 45)):
            seconds = (first_run.get(part) or {}).get("ready_s")
            checks.append({"target": what, "bound": f"≤ {bound} s", "measured": seconds,
                           "met": seconds is not None and seconds <= bound})
    results["targets"] = checks
    return checks


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown(results: dict[str, Any]) -> str:
    meta = results["run"]
    lines = ["# Benchmark: CivicLine's SMS webhook against stock Rasa", "",
             f"Run {meta['started']} on {meta['machine']}; Rasa {meta['rasa']}. One load "
             f"generator for all: each client one conversation of a fixed {meta['script_turns']}-"
             f"turn script, then a new one; {meta['seconds']:g} s per row; "
             f"the systems ran side by side and took turns, {meta.get('rounds', 1)} "
             "round(s), each figure the median of its rounds. "
             "Stock Rasa is `rasa init` (moodbot, default config, REST channel, in-memory "
             "tracker store), measured in the same run: every CivicLine figure is also a ratio "
             "to it (× stock). The machine is shared: absolute numbers vary between runs. "
             "CPU ms a turn: the CPU time of the server processes (Rasa with its workers, "
             "and CivicLine's action server) during the row, divided by the turns answered.",
             "", "| configuration | concurrent | msg/s | × stock | p50 ms | p95 ms | "
             "p95 × stock | CPU ms a turn | CPU × stock | errors |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for config, figures in results["configurations"].items():
        for row in figures.get("load", []):
            x = row.get("x_stock", {})
            lines.append(f"| {config} | {row['concurrency']} | {_fmt(row['msg_per_s'])} | "
                         f"{_fmt(x.get('msg_per_s'))} | {_fmt(row['p50_ms'])} | "
                         f"{_fmt(row['p95_ms'])} | {_fmt(x.get('p95_ms'))} | "
                         f"{_fmt(row.get('cpu_ms_per_turn'))} | "
                         f"{_fmt(x.get('cpu_ms_per_turn'))} | {row['errors']} |")
    client = [f"{config} {'/'.join(_fmt(row.get('client_cpu_ms_per_turn')) for row in rows)}"
              for config, figures in results["configurations"].items()
              if (rows := figures.get("load", []))]
    if client:
        lines += ["", "The load generator's own CPU ms a turn (signing, HTTP, parsing the "
                  "reply; same machine), at each load: " + "; ".join(client) + "."]
    lines += ["", "## One long conversation", "",
              "Median latency of the first and the last turns of one conversation (same "
              "script over and over, one session).", "",
              "| configuration | turns | first turns ms | last turns ms | last ÷ first | "
              "last × stock's last |", "|---|---|---|---|---|---|"]
    for config, figures in results["configurations"].items():
        long = figures.get("long_conversation")
        if long:
            lines.append(f"| {config} | {long['turns']} (windows of {long['window']}) | "
                         f"{_fmt(long['first_ms'])} | {_fmt(long['last_ms'])} | "
                         f"{_fmt(long['last_over_first'])} | "
                         f"{_fmt(long.get('last_x_stock_last'))} |")
    lines += ["", "## Memory (resident, after the load)", "",
              "| configuration | process | MB | × stock Rasa |", "|---|---|---|---|"]
    for config, figures in results["configurations"].items():
        for role, pids in figures.get("rss_mb", {}).items():
            x = figures.get("rss_x_stock", {}).get(role)
            mbs = " + ".join(_fmt(v) for v in pids.values())
            lines.append(f"| {config} | {role} ({len(pids)} process"
                         f"{'es' if len(pids) > 1 else ''}) | {mbs} | {_fmt(x)} |")
    lines += ["", "## Training", ""]
    for name, training in results.get("training", {}).items():
        lines.append(f"- {name}: {_fmt(training.get('seconds'))} s ({training['note']})")
    first_run = results.get("first_run")
    if first_run:
        lines += ["", "## First `make run`", "",
                  f"`make bench-first-run`, {first_run['measured']} (commit "
                  f"{first_run['commit']}): a fresh clone's `make run` (a new venv installed "
                  "from this machine's wheels, the model trained from scratch) until the "
                  "assistant answers, stopped with Ctrl-C, then `make run` again unchanged. "
                  "Longest silence: the longest time without a line of output.", "",
                  "| run | to an answer, s | phases began at (s) | longest silence, s | "
                  "load average (1 min) before / after |", "|---|---|---|---|---|"]
        for label, part in (("fresh clone", "first"), ("unchanged", "unchanged")):
            run = first_run.get(part)
            if not run:
                lines.append(f"| {label} | not measured | | | |")
                continue
            answer = (_fmt(run["ready_s"]) if run["ready_s"] is not None
                      else f"none within {_fmt(run.get('gave_up_s'))} (stopped)")
            phases = ", ".join(f"{p['phase']} {_fmt(p['at_s'])}" for p in run["phases"])
            lines.append(f"| {label} | {answer} | {phases} | "
                         f"{_fmt(run['longest_silence_s'])} | "
                         f"{_fmt(run['load_average_before'][0])} / "
                         f"{_fmt(run['load_average_after'][0])} |")
    lines += ["", "## Targets (issue 12)", "", "| target | bound | measured | met |",
              "|---|---|---|---|"]
    for check in results.get("targets", []):
        lines.append(f"| {check['target']} | {check['bound']} | {_fmt(check['measured'])} | "
                     f"{'yes' if check['met'] else '**no**'} |")
    lines += ["", "Chart: `results/bench.png`; every figure: `results/bench.json`."]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    """Throughput and p95 per concurrency, one bar per configuration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs = [c for c, f in results["configurations"].items() if f.get("load")]
    levels = sorted({r["concurrency"] for c in configs
                     for r in results["configurations"][c]["load"]})
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / max(1, len(configs))
    for index, config in enumerate(configs):
        rows = {r["concurrency"]: r for r in results["configurations"][config]["load"]}
        xs = [i + index * width for i in range(len(levels))]
        for axis, key in zip(axes, ("msg_per_s", "p95_ms"), strict=True):
            axis.bar(xs, [rows.get(level, {}).get(key, 0) for level in levels], width,
                     label=config)
    for axis, title in zip(axes, ("throughput (turns/s, higher is better)",
                                  "p95 latency (ms, lower is better)"), strict=True):
        axis.set_title(title)
        axis.set_xticks([i + width * (len(configs) - 1) / 2 for i in range(len(levels))])
        axis.set_xticklabels([f"{level} concurrent" for level in levels])
    axes[0].legend(fontsize=8)
    figure.suptitle(f"make bench, {results['run']['started']} (same run, same load generator)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)

"""`python -m bot nlu export` (the learning inbox's reviewed examples into
data/nlu/reviewed/<lang>.yml: bot/learn/export.py) and `python -m bot analytics rollup` (the
closed days' figures into analytics_daily: bot/analytics/rollup.py)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bot.cli import cli_error
from bot.config import PROJECT_ROOT


def cmd_nlu_export(args: argparse.Namespace) -> int:
    from bot.learn.export import export
    from bot.store.db import session_scope

    data_dir = Path(args.data)
    if not (data_dir / "nlu").is_dir():
        return cli_error(f"{data_dir}/nlu is not a folder of NLU data", 1, "nlu export")
    with session_scope() as session:
        result = export(session, data_dir, dry_run=args.dry_run)
    verb = "would write" if args.dry_run else "wrote"
    for language, count in sorted(result.written.items()):
        print(f"nlu export: {verb} {count} example(s) to "
              f"{data_dir / 'nlu' / 'reviewed' / (language + '.yml')}")
    if not result.written:
        print("nlu export: nothing new to write")
    if result.known:
        print(f"nlu export: {result.known} labelled message(s) already in the training data")
    return 0


def cmd_rollup(_args: argparse.Namespace) -> int:
    from bot.analytics import events, rollup
    from bot.store.db import session_scope

    began = time.perf_counter()
    with session_scope() as session:
        days = rollup.catch_up(session)
    print(f"analytics: {days} day(s) rolled from the {events.source()} in "
          f"{time.perf_counter() - began:.1f} s")
    return 0


def add_commands(sub: Any) -> None:
    nlu = sub.add_parser("nlu", help="the learning inbox's reviewed examples")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    export = nlu_sub.add_parser("export", help="write labelled examples to "
                                "data/nlu/reviewed/<lang>.yml for the next training")
    export.add_argument("--data", default=str(PROJECT_ROOT / "data"),
                        help="the training data folder (default: the project's data/)")
    export.add_argument("--dry-run", action="store_true", help="count only, write nothing")
    export.set_defaults(func=cmd_nlu_export)
    analytics = sub.add_parser("analytics", help="the operators' analytics")
    analytics_sub = analytics.add_subparsers(dest="analytics_command", required=True)
    analytics_sub.add_parser("rollup", help="keep the closed days' figures (run nightly; the "
                             "analytics page does it too)").set_defaults(func=cmd_rollup)

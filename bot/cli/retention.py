"""Retention and erasure commands: `python -m bot purge|erase` (SPEC §8, §11;
bot/domain/retention.py).

* ``purge --older-than DAYS [--dry-run]`` deletes conversations, transcripts and form drafts
  older than DAYS (``90`` or ``90d``); ``--dry-run`` prints the counts and deletes nothing.
* ``erase SENDER [--yes]`` deletes everything held about one person: SENDER is their phone
  (E.164, or as typed), ``tg:<telegram user id>`` or another channel's id. It shows what it
  would delete and asks first, unless ``--yes``.

Every run, dry or not, writes an audit entry (actor ``cli``; bot.domain.retention writes it);
phones appear masked only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from typing import Any

from bot.cli import cli_error

ACTOR = "cli"


def days(text: str) -> int:
    """'90' or '90d' -> 90 (at least one day)."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:d|days?)?\s*", text, re.IGNORECASE)
    if not match or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (1 or more), "
                                         "e.g. 90 or 90d")
    return int(match.group(1))


def _print_counts(counts: dict[str, int], verb: str) -> None:
    width = max(len(name) for name in counts)
    for name, count in counts.items():
        print(f"  {name:<{width}}  {count:>7}  {verb}")


def cmd_purge(args: argparse.Namespace) -> int:
    from bot.domain import retention
    from bot.store.db import session_scope

    older_than = dt.timedelta(days=args.older_than)
    cutoff = retention.cutoff_for(older_than)
    dry = args.dry_run
    if dry:
        counts = retention.dry_run_purge(older_than, actor=ACTOR)
    else:
        with session_scope() as session:
            counts = retention.purge(session, older_than, actor=ACTOR)
    print(f"purge: {'dry run, ' if dry else ''}older than {args.older_than} days "
          f"(before {cutoff:%Y-%m-%d %H:%M} UTC); cases, bookings and the audit log are kept")
    _print_counts(counts, "would be deleted" if dry else "deleted")
    return 0


def _confirm(label: str) -> bool:
    if not sys.stdin.isatty():
        print("erase: not confirmed (add --yes to erase without a prompt)", file=sys.stderr)
        return False
    answer = input(f"Erase everything held about {label}? This cannot be undone. [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def cmd_erase(args: argparse.Namespace) -> int:
    from bot.domain import retention, suppression
    from bot.store.db import session_scope

    try:
        if not args.yes:
            preview = retention.preview_erase(args.sender)
            print(f"erase: {preview.label}")
            _print_counts(preview.counts, "would be deleted")
            if not _confirm(preview.label):
                retention.erase_refused(preview.label, "not confirmed", actor=ACTOR)
                return 1
        with session_scope() as session:
            erasure = retention.erase(session, args.sender, actor=ACTOR)
    except retention.UnknownSender as exc:
        retention.erase_refused(exc.label, "unknown sender", actor=ACTOR)
        return cli_error(f"{exc}; nothing deleted (give an E.164 phone, tg:<id> or the "
                         "channel's sender id)", 1, "erase")
    print(f"erase: {erasure.label}: erased")
    _print_counts(erasure.counts, "deleted")
    if erasure.suppressed:
        print("  they had opted out of SMS: a hashed suppression entry keeps them opted out"
              + ("" if suppression.secret_key() else
                 f" (unkeyed: set {suppression.KEY_NAME}, see README)"))
    return 0


def add_commands(sub: Any) -> None:
    purge = sub.add_parser(
        "purge", help="delete conversations, transcripts and form drafts older than an age")
    purge.add_argument("--older-than", type=days, required=True, metavar="DAYS",
                       help="age in days, e.g. 90 or 90d")
    purge.add_argument("--dry-run", action="store_true", help="print the counts only")
    purge.set_defaults(func=cmd_purge)
    erase = sub.add_parser("erase", help="delete everything held about one person")
    erase.add_argument("sender", help="their phone (E.164), tg:<telegram user id>, or the "
                       "sender id of another channel")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(func=cmd_erase)

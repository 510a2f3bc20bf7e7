"""Commands for notifications and forms: `python -m bot outbox|dispatch|drafts` (SPEC §5.7).

* ``outbox`` lists notifications, newest first, with what Twilio last said of each (delivered,
  read, undelivered with its error code...: the status callbacks, SPEC §6.6) (``--status
  failed`` for the ones that need an operator), and ``--retry ID`` / ``--retry-failed`` puts
  failed ones back in the queue.
* ``outbox`` also counts the SMS held back by the hourly budget or the country allow-list
  (``--held`` lists them; bot/domain/ratelimit.py).
* ``dispatch`` runs the dispatcher alone (``--once``: what is due now, then exit); the Rasa
  server runs one too unless ``CIVICLINE_DISPATCHER=off``.
* ``drafts --purge`` deletes form drafts past their lifetime (``CIVICLINE_DRAFT_HOURS``).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

from bot.config import tunable
from bot.store.models import OUTBOX_STATUSES


def cmd_outbox(args: argparse.Namespace) -> int:
    from bot.domain import notifications
    from bot.store.db import session_scope

    with session_scope() as session:
        if args.retry is not None or args.retry_failed:
            count = notifications.retry(session, args.retry)
            print(f"outbox: {count} failed notification(s) queued again")
            return 0 if count or args.retry_failed else 1
        rows = notifications.listing(session, args.status, args.limit)
        for row in rows:
            line = notifications.to_json(row)
            print(json.dumps(line, ensure_ascii=False) if args.json else
                  f"#{row.id:<5} {row.status:8} tries {row.attempts:<2} "
                  f"case {line['reference'] or '-':8} -> {line['case_status'] or '-':18} "
                  f"{row.channel or '-':8} {line['delivery'] or '-':12} "
                  f"{row.last_error or ''}")
        if not rows and not args.json:
            print("outbox: nothing" + (f" {args.status}" if args.status else ""))
        if not args.json:
            print_held(session, args.held, args.limit)
    return 0


def print_held(session: Any, listing: bool, limit: int) -> None:
    """The SMS held back by the budget or the country allow-list (bot.domain.ratelimit)."""
    import datetime as dt

    from bot.domain import ratelimit
    from bot.domain.phones import mask
    from bot.store.models import utcnow

    counts = ratelimit.held_counts(session, utcnow() - dt.timedelta(days=1))
    print(f"held back (24 h): {counts.get('budget', 0)} over the hourly SMS budget, "
          f"{counts.get('country', 0)} to a country not allowed"
          + ("" if listing else " (--held lists them)"))
    if listing:
        for row in ratelimit.held_messages(session, limit):
            print(f"held #{row.id:<5} {row.at:%Y-%m-%d %H:%M} {row.reason:8} "
                  f"{mask(row.recipient)} {row.country or '?':2} {row.segments} message(s)")


def cmd_dispatch(args: argparse.Namespace) -> int:
    from bot.domain import notifications

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    while True:
        outcomes = notifications.dispatch_due()
        if outcomes:
            print(f"outbox: {outcomes}", flush=True)
        if args.once:
            return 0
        time.sleep(tunable("CIVICLINE_OUTBOX_POLL_SECONDS", 2))


def cmd_drafts(args: argparse.Namespace) -> int:
    from bot.domain import drafts
    from bot.store.db import session_scope

    with session_scope() as session:
        count = drafts.purge(session)
    print(f"drafts: {count} expired draft(s) deleted")
    return 0


def add_commands(sub: Any) -> None:
    outbox = sub.add_parser("outbox", help="status notifications: list, retry failed ones")
    outbox.add_argument("--status", choices=OUTBOX_STATUSES)
    outbox.add_argument("--limit", type=int, default=50)
    outbox.add_argument("--json", action="store_true", help="one JSON object per line")
    outbox.add_argument("--retry", type=int, metavar="ID", help="queue one failed row again")
    outbox.add_argument("--retry-failed", action="store_true", help="queue every failed row")
    outbox.add_argument("--held", action="store_true",
                        help="list the SMS held back (hourly budget, country allow-list)")
    outbox.set_defaults(func=cmd_outbox)
    dispatch = sub.add_parser("dispatch", help="send due notifications (runs until stopped)")
    dispatch.add_argument("--once", action="store_true", help="send what is due, then exit")
    dispatch.set_defaults(func=cmd_dispatch)
    drafts = sub.add_parser("drafts", help="form drafts: --purge the expired ones")
    drafts.add_argument("--purge", action="store_true", required=True)
    drafts.set_defaults(func=cmd_drafts)

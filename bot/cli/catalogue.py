"""`python -m bot catalogue load FILE` and `catalogue export [FILE]`: the city's own services,
offices and digital help (bot/domain/catalogue.py; the schema: docs/catalogue.md).

``load`` validates the whole file first and changes nothing when anything is wrong: each
problem is printed with its line and field (``city.yml:42: offices[1].hours."7": not a
weekday``) and the exit code is 2. ``export`` writes the catalogue in canonical form (to
standard output without FILE), which ``load`` reads back unchanged.

Entries in the catalogue that the file does not name are kept and listed ("not in the file");
``load --prune`` retires them instead (services, offices and digital-help places: kept for the
cases and bookings that refer to them, offered to citizens no more; naming one in a later file
brings it back).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import cli_error

CLI_ACTOR = "cli"


def cmd_load(args: argparse.Namespace) -> int:
    from bot.domain import catalogue
    from bot.domain.catalogue_schema import CatalogueError
    from bot.store.db import session_scope

    path = Path(args.file)
    if not path.is_file():
        return cli_error(f"no file {path}", 2)
    try:
        with session_scope() as session:
            result = catalogue.load(session, path, CLI_ACTOR, prune=args.prune)
    except CatalogueError as exc:
        print(f"catalogue: {path} is not valid; nothing was changed:", file=sys.stderr)
        for line in exc.describe():
            print(f"  {line}", file=sys.stderr)
        return 2
    print(f"catalogue: loaded {path} (+ created, ~ updated"
          f"{', - retired' if args.prune else ''}): {result.summary()}")
    for section, slugs in result.not_in_file.items():
        verb = "retired" if args.prune else "not in the file, kept (--prune retires them)"
        print(f"catalogue: {section} {verb}: {', '.join(slugs)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.domain import catalogue
    from bot.store.db import session_scope

    with session_scope() as session:
        text = catalogue.export(session)
    if args.file in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.file).write_text(text, encoding="utf-8")
        print(f"catalogue: written to {args.file}", file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("catalogue", help="the city's services, offices and digital help: "
                            "load FILE, export [FILE]")
    commands = parser.add_subparsers(dest="catalogue_command", required=True)
    load = commands.add_parser("load", help="validate a catalogue file and apply it")
    load.add_argument("file")
    load.add_argument("--prune", action="store_true",
                      help="retire the services, offices and digital-help places the file does "
                           "not name (without it they are only listed)")
    load.set_defaults(func=cmd_load)
    export = commands.add_parser("export", help="write the catalogue (stdout without FILE)")
    export.add_argument("file", nargs="?")
    export.set_defaults(func=cmd_export)

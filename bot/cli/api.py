"""`python -m bot api token create|revoke|list`: the systems that may use the API (SPEC §7),
each with its own token (bot/domain/api_clients.py), so the audit log says which did what.

``create NAME`` prints the token once (only its hash is kept: lose it, revoke and create
another); ``revoke NAME`` stops it at once on every replica; ``list`` shows every client with
when it was made, last used and revoked. Each change is audited as ``cli``.
"""

from __future__ import annotations

import argparse

from bot.cli import cli_error

CLI_ACTOR = "cli"


def cmd_create(args: argparse.Namespace) -> int:
    from bot.domain import api_clients
    from bot.store.db import session_scope

    try:
        with session_scope() as session:
            client, token = api_clients.create(session, args.name, CLI_ACTOR)
    except api_clients.ClientError as exc:
        return cli_error(exc, 2)
    print(f"api: client {client.name} created; its writes are audited as "
          f"{api_clients.actor(client.name)}.\n"
          f"Its token (shown only now; send it as 'Authorization: Bearer TOKEN'):\n{token}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from bot.domain import api_clients
    from bot.store.db import session_scope

    try:
        with session_scope() as session:
            client = api_clients.revoke(session, args.name, CLI_ACTOR)
    except api_clients.ClientError as exc:
        return cli_error(exc, 1)
    print(f"api: client {client.name} revoked; its token no longer works")
    return 0


def cmd_list(_args: argparse.Namespace) -> int:
    from bot.domain import api_clients
    from bot.store.db import session_scope

    with session_scope() as session:
        rows = [api_clients.to_json(c) for c in api_clients.all_clients(session)]
    print("name\tstate\tcreated\tlast used")
    print("api\tactive (CIVICLINE_API_TOKEN, the bootstrap client)\t-\t-")
    for row in rows:
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        print(f"{row['name']}\t{state}\t{row['created_at']}\t{row['last_used_at'] or 'never'}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    api = sub.add_parser("api", help="the API's clients: api token create|revoke|list NAME")
    api_sub = api.add_subparsers(dest="api_command", required=True)
    token = api_sub.add_parser("token", help="named client tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="a new client; its token is printed once")
    create.add_argument("name")
    create.set_defaults(func=cmd_create)
    revoke = token_sub.add_parser("revoke", help="stop a client's token")
    revoke.add_argument("name")
    revoke.set_defaults(func=cmd_revoke)
    token_sub.add_parser("list", help="every client").set_defaults(func=cmd_list)

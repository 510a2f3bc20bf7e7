"""The channel commands of ``python -m bot``: ``simulate`` and ``telegram-poll`` (README,
"Channels"). Registered by bot.cli.main; what they run is imported only when they run."""

from __future__ import annotations

import argparse


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.devtools.repl import main

    return main(args.channel, args.phone, args.url, args.inbox_port or None)


def cmd_telegram_poll(args: argparse.Namespace) -> int:
    from bot.messaging.telegram.poll import main

    return main(args.url)


def add_commands(sub: argparse._SubParsersAction) -> None:
    simulate = sub.add_parser(
        "simulate",
        help="talk to the SMS, WhatsApp, Telegram, voice or USSD webhook from this terminal")
    simulate.add_argument("channel", choices=("sms", "whatsapp", "telegram", "voice", "ussd"))
    simulate.add_argument("--from", dest="phone", default="+15550100001",
                          help="the phone number you write, call or dial from (E.164)")
    simulate.add_argument("--url", default=None,
                          help="the running server (default: PUBLIC_BASE_URL)")
    simulate.add_argument("--inbox-port", type=int, default=5010,
                          help="SMS, WhatsApp, USSD: show later messages (notifications) sent "
                          "to this phone by a server run with "
                          "TWILIO_API_BASE_URL=http://127.0.0.1:PORT; 0: off")
    simulate.set_defaults(func=cmd_simulate)
    poll = sub.add_parser(
        "telegram-poll", help="development: long-poll Telegram and feed the local webhook")
    poll.add_argument("--url", default=None, help="the running server (default: PUBLIC_BASE_URL)")
    poll.set_defaults(func=cmd_telegram_poll)

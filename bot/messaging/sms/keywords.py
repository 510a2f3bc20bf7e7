"""SMS keywords (SPEC §6.1): opt-out, opt-in and help words, matched on the whole message, and
the person's persistent opt-out. (MENU, on every medium, is :func:`bot.messaging.inbound.is_menu`.)
"""

from __future__ import annotations

from bot.messaging.inbound import bare
from bot.store.models import Person, utcnow

STOP, START, HELP = "stop", "start", "help"
# "Yes" in each language (folded): START only for a person who is opted out; from anyone else
# it answers the question they were asked (bot.messaging.sms.turn.begin).
YES_WORDS = frozenset({"yes", "si", "oui", "نعم"})
KEYWORDS: dict[str, frozenset[str]] = {
    # Carriers' and Twilio's English words, then localised ones (folded: no accents).
    STOP: frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke",
                     "optout", "baja", "parar", "arret", "توقف"}),
    START: frozenset({"start", "unstop", "alta"}) | YES_WORDS,
    HELP: frozenset({"help", "info"}),
}
OPT_OUT_TYPES = {"STOP": STOP, "START": START, "HELP": HELP}  # Twilio's OptOutType values


def sms_keyword(body: str, opt_out_type: str | None = None) -> str | None:
    """STOP, START or HELP when the whole message is such a keyword (or Twilio says so)."""
    if opt_out_type and opt_out_type.strip().upper() in OPT_OUT_TYPES:
        return OPT_OUT_TYPES[opt_out_type.strip().upper()]
    word = bare(body)
    return next((kind for kind, words in KEYWORDS.items() if word in words), None)


def set_sms_opt_out(person: Person, opted_out: bool) -> bool:
    """Set the person's SMS opt-out; True if it changed."""
    if bool(person.sms_opted_out) == opted_out:
        return False
    person.sms_opted_out = opted_out
    person.sms_opted_out_at = utcnow() if opted_out else None
    return True

"""One round of the learning inbox, measured: `python -m scripts.learning_round` (the same as
`make nlu-report REVIEWED=round`) -> results/learning-round.md.

A batch of realistic messages the assistant gets wrong (colloquial, misspelt, in the four
languages) goes through the real path: written as Rasa events of misunderstood messages in a
scratch database, listed by the inbox (masked and grouped), labelled as a staff member would
(the right intent for each group), and exported into a scratch copy of data/ with `python -m
bot nlu export`'s code. scripts/nlu_report.py then trains on `make nlu-report`'s split without
and with the exported examples and scores both on its held-out examples and on *other*
messages of the same kinds (the check phrasings below, never labelled). The project's data/ is
never written.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
# (language, intent, labelled in the inbox, checked afterwards)
BATCH = [
    ("en", "check_application_status", ["wats hapening w my paperwork",
                                         "any news on the form i handed in, I'm John Smith"],
     ["wat hapend to my paperwork", "any news about the form I sent"]),
    ("en", "digital_help", ["my grandson set up the email thing and now i cant get in",
                            "the website keeps kicking me out when i type the code"],
     ["i cant get into the email thing", "the website kicks me out after the code"]),
    ("en", "report_problem", ["theres a big hole outside no 12 my car nearly went in",
                              "rubbish bins not emptied for 3 weeks"],
     ["big hole in the road outside my house", "bins not emptied for weeks"]),
    ("es", "check_application_status", ["q pasa con mis papeles que entregue",
                                         "ya salio lo mio o todavia no, soy Lucía Pérez"],
     ["que pasa con mis papeles", "ya salio lo mio"]),
    ("es", "digital_help", ["no me deja entrar en la pagina con la clave",
                            "mi nieta me hizo el correo y ahora no se entrar"],
     ["no me deja entrar con la clave", "no se entrar en el correo"]),
    ("es", "report_problem", ["hay un bache enorme en mi calle desde el 12/03",
                              "la farola de la esquina lleva apagada un mes"],
     ["hay un bache en la calle", "la farola esta apagada"]),
    ("fr", "check_application_status", ["ou en est mon dossier que j'ai deposé",
                                         "toujours rien pour ma demande, c'est Pierre Dupont"],
     ["ou en est mon dossier", "toujours rien pour ma demande"]),
    ("fr", "digital_help", ["le site me jette dehors quand je met le code",
                            "j'arrive pas a ouvrir mes mails sur la tablette"],
     ["le site me jette quand je met le code", "j'arrive pas a ouvrir mes mails"]),
    ("fr", "report_problem", ["y a un trou enorme devant chez moi au 12",
                              "les poubelles ont pas ete ramassées depuis 3 semaines"],
     ["un trou devant chez moi", "poubelles pas ramassées"]),
    ("ar", "check_application_status", ["شو صار بالاوراق اللي قدمتها",
                                         "لسا ما في رد على طلبي انا أحمد"],
     ["شو صار بالاوراق", "ما في رد على طلبي"]),
    ("ar", "digital_help", ["الموقع بيطلعني برا لما اكتب الرمز",
                            "ما بعرف افتح الايميل على التلفون"],
     ["الموقع بيطلعني لما اكتب الرمز", "ما بعرف افتح الايميل"]),
    ("ar", "report_problem", ["في حفرة كبيرة قدام البيت", "الزبالة ما انشالت من اسبوعين"],
     ["حفرة قدام البيت", "الزبالة ما انشالت"]),
]
LANGUAGES = ("en", "es", "fr", "ar")


def run_round(tmp: Path) -> dict[str, int]:
    """The batch through the inbox and the export; examples written per language."""
    from sqlalchemy import text

    from bot.learn import inbox
    from bot.learn.export import export
    from bot.store.db import session_scope

    with session_scope() as session:
        session.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, "
                             "type_name TEXT, timestamp FLOAT, intent_name TEXT, "
                             "action_name TEXT, data TEXT)"))
        now, rows = time.time() - 600, []
        for n, (lang, _intent, labelled, _check) in enumerate(BATCH):
            for m, words in enumerate(labelled):
                sender = f"round-{n}-{m}"
                user = {"event": "user", "timestamp": now, "text": words, "parse_data": {
                    "intent": {"name": "nlu_fallback", "confidence": 0.3}}}
                slot = {"event": "slot", "timestamp": now + 1, "name": "language",
                        "value": lang}
                rows += [{"s": sender, "t": "user", "ts": now, "d": json.dumps(user)},
                         {"s": sender, "t": "slot", "ts": now + 1, "d": json.dumps(slot)}]
        session.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) "
                             "VALUES (:s, :t, :ts, :d)"), rows)
    with session_scope() as session:
        groups, _ = inbox.inbox(session, *inbox.period(7))
        truth = {}
        from bot.learn.masking import mask
        for lang, intent, labelled, _check in BATCH:
            for words in labelled:
                truth[inbox.text_key(lang, mask(words))] = intent
        for group in groups:  # the staff member's choice, message by message
            for key in group.keys:
                inbox.label(session, *inbox.period(7), [key], truth[key], "learning-round")
    with session_scope() as session:
        return export(session, tmp / "data").written


def main() -> int:
    from scripts.nlu_report import main as report

    return report(["--reviewed", "round"])


if __name__ == "__main__":
    sys.exit(main())

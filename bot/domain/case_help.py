"""A way on for a status check (SPEC §5.1): without the reference, and after the status.

* "I don't have it" / "no sé cuál es" at the reference question (:func:`says_no_reference`).
* The open cases of a phone the channel has proven, to pick from by number (:func:`open_cases`,
  :func:`case_label`). Whether the phone is proven is decided by the caller with
  ``actions.common.trusts_phone`` and ``bot.domain.people.verified_phone``; nothing here trusts a
  phone by itself.
* What a case waits for from its owner: the staff's ``detail`` in the conversation's language
  when the status is ``needs_information`` (:func:`missing_papers`); a case that waits for
  papers staff did not name in that language (:func:`waits_for_papers`) gets the generic text
  (:mod:`bot.domain.case_detail`).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import case_detail
from bot.language.detect import fold, words
from bot.language.i18n import normalise, pick
from bot.language.vocabulary import STATUS_NAMES
from bot.store.models import Case

OPEN_STATUSES = ("received", "in_review", "needs_information")
MAX_LISTED = 3  # with "Talk to a person", four options: one text, one voice menu page
MAX_DETAIL_SHOWN = 80

# "I do not have / know / find it" at the reference question, per language: whole words of the
# folded message (no accents, lower case, apostrophes as spaces: "je ne l'ai pas" is
# "je ne l ai pas"). Phrases first, then patterns for the many ways a negation, an object
# pronoun and a verb combine ("no la tengo", "no me lo sé", "j'ai plus", "ما عنديش").
_NO_REFERENCE_PHRASES = {
    "en": ("i don't have", "i dont have", "i do not have", "don't have it", "dont have it",
           "i haven't got", "i havent got", "i have not got", "haven't got it", "havent got it",
           "i have no number", "i have no reference", "i don't know", "i dont know",
           "i do not know", "dont know", "don't know", "dunno", "idk", "no idea", "no clue",
           "lost it", "i lost", "can't find", "cant find", "cannot find", "not sure",
           "no number", "forgot", "no reference", "don't remember", "dont remember",
           "not with me", "don't have the number", "no case number"),
    "es": ("no se", "ni idea", "lo perdi", "la perdi", "olvide", "se me olvido", "no recuerdo",
           "no me acuerdo", "no tengo numero", "no tengo el numero", "sin numero",
           "no lo tengo", "no la tengo", "no tengo"),
    "fr": ("je ne l'ai pas", "je l'ai pas", "je ne sais pas", "je sais pas", "sais pas",
           "aucune idee", "je l'ai perdu", "je l'ai perdue", "perdu", "perdue",
           "je ne m'en souviens pas", "je m'en souviens pas", "oublie", "j'ai oublie",
           "pas de numero", "je n'ai pas", "j'ai pas", "je n'ai plus", "j'ai plus",
           "je ne l'ai plus", "je l'ai plus", "pas le numero"),
    "ar": ("ما عندي", "ماعندي", "ما عنديش", "ماعنديش", "معنديش", "ما عندكش", "ما عنديهش",
           "ليس عندي", "ليس لدي", "ليس معي", "ما معي", "ما معايا", "مش معايا", "مش عندي",
           "لا أملك", "لا املك", "لا يوجد عندي", "لا يوجد لدي", "ما كاينش", "ماكاينش",
           "ما عندي رقم", "لا اعرف", "لا أعرف", "ما بعرف", "مانعرفش", "ما نعرفش", "معرفتش",
           "ما اعرف", "ما أعرف", "ما عرفتش", "مش عارف", "مش عارفة", "لا أدري", "لا ادري",
           "نسيت", "نسيته", "نسيتو", "ضيعت", "ضيعته", "ضاع", "ضاع مني", "فقدت", "فقدته",
           "لا أتذكر", "لا اتذكر", "ما عندي فكرة", "ماعرفتش"),
}
_PHRASES = tuple(" ".join(words(p)) for phrases in _NO_REFERENCE_PHRASES.values()
                 for p in phrases)
_NO_REFERENCE_PATTERNS = (
    # Spanish: "no (me) (lo|la) (tengo|sé|encuentro|recuerdo|traigo)", "no sé cuál es".
    re.compile(r"\bno (?:me |te )?(?:lo |la |le |los )?(?:tengo|se|encuentro|recuerdo|"
               r"acuerdo|traigo|conozco)\b"),
    # French: "je (ne) (l'/le/la) (ai|sais|trouve|retrouve|connais) (pas|plus|point)".
    re.compile(r"\b(?:je |j )?(?:ne |n )?(?:l |le |la |en )?(?:ai|sais|trouve|retrouve|"
               r"connais|rappelle|souviens) (?:pas|plus|point)\b"),
    # English: "(I) (do not|don't|can't|cannot) (have|know|find|remember) (it|the number)".
    re.compile(r"\b(?:do not|don t|dont|doesn t|can t|cant|cannot|didn t|never) "
               r"(?:have|know|find|remember|got|get|see)\b"),
)


def says_no_reference(text: str) -> bool:
    """True when the answer to "what is your case number?" says the person does not have it
    ("I don't have it", "no la tengo", "je ne l'ai pas", "ما عنديش الرقم", "ليس عندي الرقم")."""
    said = f" {' '.join(words(text))} "
    if any(f" {phrase} " in said for phrase in _PHRASES if phrase):
        return True
    return any(pattern.search(said) for pattern in _NO_REFERENCE_PATTERNS)


def open_cases(session: Session, phone: str | None) -> list[Case]:
    """The open cases registered to ``phone`` (a number the channel has proven), newest first."""
    if not phone:
        return []
    return list(session.scalars(
        select(Case).where(Case.phone == phone, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.updated_at.desc(), Case.id.desc()).limit(MAX_LISTED)))


def case_label(case: Case, language: str) -> str:
    """"Housing support — in review": what a case is and where it stands, for a numbered list."""
    service = pick(case.service.names, language)
    return f"{service[:1].upper()}{service[1:]} — {pick(STATUS_NAMES.get(case.status), language)}"


def _papers(case: Case) -> dict[str, str]:
    """What the case waits for, per language; nothing unless it waits for information, and
    never a booking's own note ("Appointment: …", written by bookings.book)."""
    if case.status != "needs_information":
        return {}
    found = case_detail.texts(case.detail, case.language)
    return {code: text for code, text in found.items()
            if text.strip() and not fold(text).startswith("appointment:")}


def waits_for_papers(case: Case) -> bool:
    """Whether the case waits for papers its owner must bring (said in some language)."""
    return case.status == "needs_information"


def missing_papers(case: Case, language: str) -> str | None:
    """What the case waits for from its owner, in the staff's words in ``language`` ("proof of
    address"), or None when nothing is waited for or nobody said it in that language."""
    detail = _papers(case).get(normalise(language), "")
    detail = " ".join(detail.split()).rstrip(".")
    if not detail:
        return None
    if len(detail) > MAX_DETAIL_SHOWN:
        detail = detail[:MAX_DETAIL_SHOWN - 3].rstrip() + "..."
    return detail

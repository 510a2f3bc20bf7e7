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

# Whole phrases, folded (no accents, lower case), that say "I do not have / know / find it".
_NO_REFERENCE_PHRASES = (
    "i don't have", "i dont have", "i do not have", "don't have it", "dont have it",
    "i don't know", "i dont know", "i do not know", "dont know", "don't know", "no idea",
    "lost it", "i lost", "can't find", "cant find", "cannot find", "not sure", "no number",
    "forgot", "no reference", "don't remember", "dont remember",
    "no lo tengo", "no tengo", "no se", "no lo se", "ni idea", "lo perdi", "no lo encuentro",
    "no encuentro", "no me acuerdo", "no recuerdo", "olvide",
    "je ne l'ai pas", "je l'ai pas", "je ne sais pas", "je sais pas", "sais pas",
    "aucune idee", "je l'ai perdu", "perdu", "je ne trouve pas", "je trouve pas",
    "je ne m'en souviens pas", "oublie", "pas de numero",
    "ما عندي", "ماعندي", "ليس لدي", "ما عندي رقم", "لا اعرف", "لا أعرف", "ما بعرف", "مانعرفش",
    "ما نعرفش", "معرفتش", "ما اعرف", "نسيت", "ضيعت", "ضاع", "فقدت", "مش عارف", "ما عرفتش",
)
_PHRASES = tuple(" ".join(words(p)) for p in _NO_REFERENCE_PHRASES)


def says_no_reference(text: str) -> bool:
    """True when the answer to "what is your case number?" says the person does not have it."""
    said = f" {' '.join(words(text))} "
    return any(f" {phrase} " in said for phrase in _PHRASES if phrase)


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

"""Guided forms (SPEC §5.4): which slots each form has, and reading people's free-text answers.

The Rasa side (domain/forms.yml, actions/) asks the questions; this module knows what the
answers mean in the four languages: the kind of problem ("bache", "nid-de-poule", "حفرة"), a
contact preference, "skip" for the photo, and the read-back summary of a problem report.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.domain.phones import looks_like_phone
from bot.language.detect import fold, words
from bot.language.i18n import normalise, pick
from bot.language.vocabulary import CONTACT_NAMES, FIELD_NAMES, KIND_NAMES, PHOTO_NAMES
from bot.store.models import Case, Person, ProblemReport

REPORT_FORM = "report_problem_form"
BOOKING_FORM = "book_appointment_form"
FORMS = (REPORT_FORM, BOOKING_FORM)

REPORT_SLOTS = ("problem_kind", "problem_detail", "problem_place", "problem_photo",
                "contact_preference", "contact_phone", "problem_confirm")
BOOKING_SLOTS = ("appointment_service", "appointment_office", "appointment_day",
                 "appointment_time", "booking_confirm")
# Slots any form may use: which answer to change, the reference made, the booking being moved.
SHARED_SLOTS = ("form_field", "form_reference", "booking_move", "form_offer")
ALL_SLOTS = REPORT_SLOTS + BOOKING_SLOTS + SHARED_SLOTS
CONFIRM_SLOTS = {REPORT_FORM: "problem_confirm", BOOKING_FORM: "booking_confirm"}
# Answers a person may go back and change from the read-back, per form, in asking order.
CHANGEABLE = {
    REPORT_FORM: ("problem_kind", "problem_place", "problem_photo", "contact_preference"),
    BOOKING_FORM: ("appointment_service", "appointment_office", "appointment_day",
                   "appointment_time"),
}
# Changing one answer invalidates the ones that depend on it.
DEPENDENTS = {
    "problem_kind": ("problem_detail",),
    "contact_preference": ("contact_phone",),
    "appointment_service": ("appointment_office", "appointment_day", "appointment_time"),
    "appointment_office": ("appointment_day", "appointment_time"),
    "appointment_day": ("appointment_time",),
}

YES, NO = "yes", "no"
NO_PHOTO = "none"
PHOTO_SLOT = "problem_photo"
# The photo goes to Rasa as this payload with the media in the message metadata
# (actions/forms.media_of): a caption ("here it is") must not be classified.
PHOTO_PAYLOAD = "/inform"
# Answers that are names and descriptions ("Main Street near the school" from a French speaker):
# they never switch the conversation's language on their own.
FREE_TEXT_SLOTS = frozenset({"problem_place", "problem_detail"})


OTHER = "other"
PROBLEM_KINDS = ("pothole", "street_light", "overflowing_bin", "graffiti", "flooding",
                 "fly_tipping", OTHER)
CONTACT_CHOICES = ("this_channel", "phone_call", "no_contact")
MIN_DETAIL_WORDS = 3
MAX_PLACE = 200
MAX_DETAIL = 500

# Words (folded: lower case, no accents) that name each kind of problem. Several words of a
# phrase must all appear; one word is enough for a single-word keyword.
_KIND_WORDS = {
    "pothole": "pothole potholes pot-hole hole holes crater bache baches hoyo hoyos socavon "
               "agujero nid-de-poule nids-de-poule trou trous chaussee حفرة حفر الحفرة حفره "
               "الحفر مطب",
    "street_light": "streetlight streetlights lamp lamppost lamp-post light lights lighting "
                    "farola farolas alumbrado luz luces lampara lampadaire lampadaires "
                    "eclairage reverbere lumiere انارة إنارة الانارة الإنارة مصباح المصباح "
                    "ضوء عمود",
    "overflowing_bin": "bin bins overflowing overflow litter rubbish trash garbage "
                       "contenedor contenedores papelera basura desborda lleno llena "
                       "poubelle poubelles deborde pleine ordures حاوية الحاوية قمامة القمامة "
                       "نفايات سلة ممتلئة",
    "graffiti": "graffiti grafiti grafitis graffitis tag tags pintada pintadas spray "
                "جرافيتي غرافيتي كتابة كتابات رسوم",
    "flooding": "flood flooding flooded floods water drain drains leak leaking inundacion "
                "inundado inundada agua alcantarilla charco inondation inonde inondee eau "
                "egout fuite فيضان فيضانات مياه ماء غرق مجاري تسرب",
    "fly_tipping": "fly-tipping flytipping tipping dumped dumping mattress rubble dumping "
                   "vertido vertidos escombros colchon abandonado tirado depot encombrants "
                   "sauvage decharge matelas رمي مخلفات ردم مرمية",
    OTHER: "other else otro otra autre اخرى أخرى آخر اخر",
}
KIND_KEYWORDS = {kind: frozenset(fold(w) for w in text.split())
                 for kind, text in _KIND_WORDS.items()}

_CONTACT_WORDS = {
    "phone_call": "call phone ring llamada llamar llamen llameme llamenme telefono appel "
                  "appeler appelez appelle telephone اتصال اتصل اتصلوا مكالمة هاتف الهاتف",
    "this_channel": "here message text sms telegram chat write aqui mensaje mensajes escribir "
                    "ici ecrire texto هنا رسالة رسائل تيليجرام",
    "no_contact": "none nobody nothing dont no need ninguno ninguna nada sin falta aucun "
                  "aucune pas besoin rien non لا بدون ابدا داعي",
}
CONTACT_KEYWORDS = {choice: frozenset(fold(w) for w in text.split())
                    for choice, text in _CONTACT_WORDS.items()}

_SKIP = ("skip no none nothing nope later saltar omitir sin nada paso passer non sans rien "
         "aucune تخطي لا بدون تجاوز")
SKIP_WORDS = frozenset(fold(w) for w in _SKIP.split())


def _tokens(text: str) -> list[str]:
    """Folded words, hyphenated ones kept whole too ("nid-de-poule")."""
    folded = fold(text)
    return words(text) + [t for t in folded.split() if "-" in t]


def _best(text: str, keywords: dict[str, frozenset[str]]) -> str | None:
    """The one choice whose keywords the text uses most; None when none or a tie."""
    tokens = _tokens(text)
    scores = {choice: sum(t in vocab for t in tokens) for choice, vocab in keywords.items()}
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    if not ranked or ranked[0][1] == 0 or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def match_kind(text: str) -> str | None:
    """The kind of problem a message names ("there's a pothole", "farola rota"), if clear."""
    return _best(text, KIND_KEYWORDS)


def match_contact(text: str) -> str | None:
    """How the person wants to be contacted: this channel, a phone call, or not at all."""
    return _best(text, CONTACT_KEYWORDS)


def is_skip(text: str) -> bool:
    """A short "skip" / "no" / "sin foto" answer to an optional question."""
    tokens = words(text)
    return bool(tokens) and len(tokens) <= 4 and tokens[0] in SKIP_WORDS


def is_description(text: str) -> bool:
    """Enough words to describe a problem that fits no listed kind."""
    return len(words(text)) >= MIN_DETAIL_WORDS


class PlaceError(ValueError):
    """A place answer that cannot be used; ``reason`` is ``empty`` or ``phone``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_place(text: str) -> str:
    """A usable place description (an address or a landmark), or :class:`PlaceError`."""
    place = " ".join((text or "").split())[:MAX_PLACE]
    if looks_like_phone(place):
        raise PlaceError("phone")
    if sum(ch.isalnum() for ch in place) < 3 or place.startswith("/"):
        raise PlaceError("empty")
    return place


def name_of(table: dict[str, dict[str, str]], key: str | None, language: str) -> str:
    """A choice's name in the person's language (English if missing)."""
    return pick(table.get(key or ""), language) or (key or "")


def short(text: str, limit: int = 60) -> str:
    """Free text cut for a read-back that must fit an SMS."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def report_summary(answers: dict, language: str) -> dict[str, str]:
    """The placeholders of the problem report read-back, in the person's language."""
    kind = answers.get("problem_kind")
    detail = answers.get("problem_detail")
    kind_text = name_of(KIND_NAMES, kind, language)
    if kind == OTHER and detail:
        kind_text = short(detail, 35)
    photo = answers.get("problem_photo")
    summary = {
        "kind": kind_text,
        "place": " ".join((answers.get("problem_place") or "").split()),
        "photo": name_of(PHOTO_NAMES, NO if photo in (None, NO_PHOTO) else YES, language),
        "contact": name_of(CONTACT_NAMES, answers.get("contact_preference"), language),
    }
    summary["place"] = _fitting_place(summary, language)
    return summary


READ_BACK = "utter_ask_problem_confirm"
MIN_PLACE_SHOWN = 30
SPARE = 12  # characters kept free: channels number the options a little differently


def _fitting_place(summary: dict[str, str], language: str) -> str:
    """The place whole, so the person can check it, unless the read-back (with its numbered
    options, as SMS shows them) would then pass the SMS budget: then cut to what fits."""
    from bot.language import texts
    from bot.messaging.sms.encoding import MAX_SEGMENTS, segments

    options = "".join(f"\n{i}. {title}"
                      for i, title in enumerate(texts.button_titles(READ_BACK, language), 1))
    place = summary["place"]
    limit = len(place)
    while limit > MIN_PLACE_SHOWN:
        shown = short(place, limit)
        if segments(texts.text(READ_BACK, language, **{**summary, "place": shown})
                    + options + " " * SPARE) <= MAX_SEGMENTS:
            return shown
        limit -= 5
    return short(place, MIN_PLACE_SHOWN)


# Typed names of the answers at "what do you want to change?" ("place", "la hora", "المكان"):
# the words of FIELD_NAMES in every language, and a few everyday ones.
_FIELD_EXTRA_WORDS = {
    "problem_kind": ("problem", "what", "kind", "probleme", "problema", "مشكلة"),
    "problem_place": ("place", "address", "where", "street", "direccion", "donde", "calle",
                      "adresse", "rue", "lieu", "عنوان", "العنوان", "مكان", "وين", "أين"),
    "problem_photo": ("picture", "image", "imagen", "صورة"),
    "contact_preference": ("contact", "contacto", "contacter", "تواصل", "phone", "telefono",
                           "telephone"),
    "appointment_service": ("service", "reason", "servicio", "motivo", "motif", "خدمة", "سبب"),
    "appointment_office": ("office", "oficina", "bureau", "مكتب"),
    "appointment_day": ("day", "date", "dia", "fecha", "jour", "يوم", "تاريخ"),
    "appointment_time": ("time", "hour", "hora", "heure", "وقت", "ساعة"),
}
_FIELD_NAME_STOPWORDS = frozenset({"the", "how", "you", "what", "for", "para", "que", "como",
                                   "les", "la", "el", "it", "is", "we", "vous", "comment"})
FIELD_KEYWORDS = {
    field: frozenset(w for text in names.values() for w in words(text)
                     if len(w) > 2 and w not in _FIELD_NAME_STOPWORDS)
    | frozenset(fold(w) for w in _FIELD_EXTRA_WORDS[field])
    for field, names in FIELD_NAMES.items()
}


def match_field(form: str, text: str) -> str | None:
    """Which of ``form``'s answers a typed reply names, if exactly one."""
    return _best(text, {field: FIELD_KEYWORDS[field] for field in CHANGEABLE.get(form, ())})


SERVICE_FOR_REPORTS = "street_problems"


def submit_report(session: Session, person: Person, answers: dict, language: str,
                  channel: str | None) -> Case:
    """Turn a confirmed problem report into a case (and its report row)."""
    from bot.domain import cases
    from bot.domain.people import verified_phone

    kind = answers.get("problem_kind") or OTHER
    place = answers.get("problem_place") or ""
    detail = answers.get("problem_detail")
    photo = answers.get("problem_photo")
    contact = answers.get("contact_preference") or "this_channel"
    summary = f"{KIND_NAMES[kind]['en']} at {place}" + (f": {detail}" if detail else "")
    case = cases.create_case(session, service_slug=SERVICE_FOR_REPORTS,
                             phone=verified_phone(person), language=normalise(language),
                             person=person, actor="citizen", detail=summary[:MAX_DETAIL])
    session.add(ProblemReport(
        case_id=case.id, kind=kind, place=place, detail=detail, contact=contact,
        contact_phone=answers.get("contact_phone") if contact == "phone_call" else None,
        channel=channel, media=[photo] if isinstance(photo, dict) else []))
    session.flush()
    return case

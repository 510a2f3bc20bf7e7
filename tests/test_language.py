"""SPEC §3: which language a person writes in, sticky per person, switched only with reason.

The phrases the detection is measured on are held out from the training data (data/nlu),
which the detector reads its vocabulary from: a training example would be recognised by
heart, not detected (test_detection_phrases_are_held_out_from_the_training_data).
"""

from __future__ import annotations

import re
import unicodedata

import pytest
import yaml
from sqlalchemy import select

from bot.domain import people
from bot.language import detect as lang
from bot.store.db import session_scope
from bot.store.models import Person
from tests.support.environment import ROOT
from tests.support.weak_messages import WEAK_FIRST_MESSAGES

# --- First message -------------------------------------------------------------------------

FIRST_MESSAGES = [
    ("hola, quiero saber el estado de mi solicitud", "es"),
    ("bonjour je veux un rendez-vous", "fr"),
    ("مساء الخير عليكم جميعا", "ar"),
    ("hey there, anyone around?", "en"),
    ("hi, is the bin collection running today?", "en"),
    ("¿Dónde está la oficina más cercana?", "es"),
    ("c'est où la mairie du quartier ?", "fr"),
    ("أين أقرب مكتب؟", "ar"),
]


@pytest.mark.parametrize(("text", "expected"), FIRST_MESSAGES)
def test_first_message_sets_the_language(text: str, expected: str) -> None:
    decision = lang.decide(None, text)
    assert decision.language == expected
    assert not decision.explicit
    assert not decision.show_menu


@pytest.mark.parametrize("text", ["40217382", "ok", "yes", "STOP", "4021 7382", "👍"])
def test_first_message_without_evidence_gives_the_default(text: str) -> None:
    decision = lang.decide(None, text)
    assert decision == lang.Decision("en", changed=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("hola", "es"), ("gracias", "es"), ("merci", "fr"), ("bonjour", "fr"), ("شكرا", "ar"),
     ("مرحبا", "ar"), ("hello", "en"), ("thanks", "en")],
)
def test_short_words_use_the_project_vocabulary(text: str, expected: str) -> None:
    detection = lang.detect(text)
    assert detection is not None
    assert detection.language == expected
    # ...and they are strong enough to set a first language and to switch another one.
    assert lang.decide(None, text).language == expected
    other = "fr" if expected != "fr" else "es"
    assert lang.decide(other, text) == lang.Decision(expected, changed=True)


@pytest.mark.parametrize(("word", "code"), [("hola", "es"), ("gracias", "es"), ("merci", "fr"),
                                            ("bonjour", "fr"), ("شكرا", "ar"), ("hello", "en")])
def test_vocabulary_comes_from_the_training_data(word: str, code: str) -> None:
    vocabulary = lang.vocabulary()
    assert word in vocabulary[code]
    assert all(word not in vocabulary[other] for other in lang.SUPPORTED if other != code)


# --- Neutral messages never switch ------------------------------------------------------------

NEUTRAL = ["40217382", "4021 7382", "#4021-7382", "٤٠٢١٧٣٨٢", "12/03/1985", "+15550100001",
           "ok", "OK!", "okay", "yes", "Yes.", "no", "si", "sí", "Sí", "oui", "non", "نعم", "لا",
           "STOP", "stop", "MENU", "menu", "HELP", "START", "1", "2", "?", "👍"]


@pytest.mark.parametrize("current", ["en", "es", "fr", "ar"])
@pytest.mark.parametrize("text", NEUTRAL)
def test_neutral_messages_never_switch(current: str, text: str) -> None:
    assert lang.detect(text) is None
    assert lang.decide(current, text) == lang.Decision(current, changed=False)


# --- Explicit requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("español", "es"),
        ("Español", "es"),
        ("en español por favor", "es"),
        ("spanish", "es"),
        ("in English please", "en"),
        ("english", "en"),
        ("inglés", "en"),
        ("en français svp", "fr"),
        ("français", "fr"),
        ("french please", "fr"),
        ("عربي", "ar"),
        ("بالعربي لو سمحت", "ar"),
        ("العربية", "ar"),
        ("can you speak arabic", "ar"),
        ("árabe", "ar"),
        ("بالإسبانية", "es"),  # hamza: compared folded, as message words are
        ("بالإنجليزية", "en"),
        ("No, English please", "en"),  # "no," answers something else: still a request
        ("non, en français", "fr"),
        ("english, not french", "en"),
        ("no entiendo, ¿habla inglés?", "en"),
    ],
)
def test_explicit_requests_switch_at_once(text: str, expected: str) -> None:
    assert lang.explicit_request(text) == expected
    for current in ("en", "es", "fr", "ar"):
        decision = lang.decide(current, text)
        assert decision.language == expected
        assert decision.explicit
        assert decision.changed is (current != expected)


# Naming a language to refuse it is not asking for it: answer in the one they wrote.
REFUSED = [
    ("perdone, no hablo inglés", "es"),
    ("no entiendo inglés", "es"),
    ("je ne parle pas anglais", "fr"),
    ("je ne comprends pas l'anglais", "fr"),
    ("I don't speak Spanish", "en"),
    ("لا أتكلم الإنجليزية", "ar"),
    ("ما بتكلم انجليزي", "ar"),
]


@pytest.mark.parametrize(("text", "expected"), REFUSED)
def test_a_refused_language_is_not_a_request_for_it(text: str, expected: str) -> None:
    for current in ("en", "es", "fr", "ar"):
        assert lang.decide(current, text).language == expected
    assert lang.decide(None, text).language == expected


def test_a_language_refused_further_back_is_not_a_request_for_it() -> None:
    assert lang.decide("es", "no hablo nada de inglés").language == "es"
    assert lang.decide("fr", "je ne parle vraiment pas bien anglais").language == "fr"


def test_a_negation_refuses_only_the_first_language_named_after_it() -> None:
    assert lang.decide("es", "no quiero español quiero inglés").language == "en"


@pytest.mark.parametrize("text", ["/language", "idioma", "language", "langue", "اللغة",
                                  "Idioma?", "/LANGUAGE"])
def test_bare_language_word_asks_for_the_menu(text: str) -> None:
    assert lang.explicit_request(text) == "menu"
    for current in ("en", "es", "fr", "ar"):
        assert lang.decide(current, text) == lang.Decision(current, changed=False,
                                                           show_menu=True)
    assert lang.decide(None, text) == lang.Decision("en", changed=False, show_menu=True)


LONG_NAMING_A_LANGUAGE = [
    ("I would like to know the status of my application, my mother only speaks Spanish", "en"),
    ("Hello, I need to renew my French passport and my ID card at city hall", "en"),
    ("Hola, mi hijo estudia inglés y quiere saber dónde hay clases de informática", "es"),
    ("Bonjour, mon fils apprend l'espagnol et cherche des cours d'informatique gratuits", "fr"),
]


@pytest.mark.parametrize(("text", "written_in"), LONG_NAMING_A_LANGUAGE)
def test_a_long_sentence_naming_a_language_is_not_an_explicit_request(
    text: str, written_in: str
) -> None:
    assert lang.explicit_request(text) is None
    decision = lang.decide(written_in, text)
    assert decision == lang.Decision(written_in, changed=False)


CONFIDENT_SWITCHES = [
    ("en", "Je voudrais savoir où se trouve la mairie et quels sont les horaires", "fr"),
    ("en", "¿Dónde está la oficina más cercana y a qué hora abre?", "es"),
    ("fr", "Hello, I would like to know if the buses are running today", "en"),
    ("es", "Bonjour, est-ce que la collecte des poubelles fonctionne cette semaine ?", "fr"),
    ("en", "أريد أن أعرف حالة طلبي من فضلك", "ar"),
    ("ar", "Hola, quiero saber el estado de mi solicitud, por favor", "es"),
]


@pytest.mark.parametrize(("current", "text", "expected"), CONFIDENT_SWITCHES)
def test_a_confident_full_sentence_switches(current: str, text: str, expected: str) -> None:
    detection = lang.detect(text)
    assert detection is not None
    assert detection.language == expected
    assert detection.confidence >= lang.SWITCH_CONFIDENCE
    assert lang.decide(current, text) == lang.Decision(expected, changed=True)


IN_THE_CURRENT_LANGUAGE = {"en": "where is the nearest office",
                           "es": "dónde está la oficina más cercana",
                           "fr": "où est le bureau le plus proche", "ar": "أين أقرب مكتب"}


@pytest.mark.parametrize("current", ["en", "es", "fr", "ar"])
def test_a_sentence_in_the_current_language_keeps_it(current: str) -> None:
    text = IN_THE_CURRENT_LANGUAGE[current]
    assert lang.decide(current, text) == lang.Decision(current, changed=False)


# --- Stickiness: the person -------------------------------------------------------------------


def test_apply_language_remembers_the_first_language(session) -> None:
    person = people.get_or_create(session, "+15550100001")
    assert person.language is None
    decision = people.apply_language(session, person,
                                     "hola, quiero saber el estado de mi solicitud")
    assert decision.language == "es"
    assert person.language == "es"
    assert person.language_explicit is False
    # A reference, a yes or a keyword later do not move it.
    for text in ("40217382", "sí", "ok", "MENU", "STOP"):
        assert people.apply_language(session, person, text).changed is False
        assert person.language == "es"


def test_language_persists_across_sessions(session) -> None:
    person = people.get_or_create(session, "+34612345678")
    people.apply_language(session, person, "bonjour je veux un rendez-vous")
    person_id = person.id
    session.commit()

    # A later conversation (a new database session, as a new Rasa session would be).
    with session_scope() as later:
        again = people.get_or_create(later, "+34612345678")
        assert again.id == person_id
        assert again.language == "fr"
        # Still sticky against neutral input, in the new session too.
        assert people.apply_language(later, again, "12345674").language == "fr"
        assert again.language == "fr"
    with session_scope() as check:
        rows = check.scalars(select(Person).where(Person.phone == "+34612345678")).all()
        assert [(row.id, row.language) for row in rows] == [(person_id, "fr")]


def test_explicit_switch_is_stored_and_marked(session) -> None:
    person = people.get_or_create(session, "tg:424242")
    people.apply_language(session, person, "hello")
    assert person.language == "en"
    decision = people.apply_language(session, person, "عربي")
    assert decision == lang.Decision("ar", changed=True, explicit=True)
    session.commit()
    with session_scope() as later:
        again = people.get_or_create(later, "tg:424242")
        assert (again.language, again.language_explicit) == ("ar", True)


def test_set_language_from_a_menu(session) -> None:
    person = people.get_or_create(session, "+15550100002")
    people.set_language(session, person, "fr")
    assert (person.language, person.language_explicit) == ("fr", True)
    people.set_language(session, person, "de")  # unsupported: the default
    assert person.language == "en"


def test_sms_and_voice_share_one_person(session) -> None:
    # Both channels use the caller's E.164 number as the Rasa sender id.
    by_sms = people.get_or_create(session, "+33612345678")
    people.apply_language(session, by_sms, "merci")
    session.commit()
    with session_scope() as voice_call:
        by_voice = people.get_or_create(voice_call, "+33612345678")
        assert by_voice.id == by_sms.id
        assert by_voice.language == "fr"
    with session_scope() as check:
        count = len(check.scalars(select(Person).where(Person.phone == "+33612345678")).all())
        assert count == 1


def test_different_people_keep_their_own_language(session) -> None:
    spanish = people.get_or_create(session, "+15550100003")
    arabic = people.get_or_create(session, "tg:777")
    people.apply_language(session, spanish, "hola")
    people.apply_language(session, arabic, "مرحبا")
    assert spanish.id != arabic.id
    assert (spanish.language, arabic.language) == ("es", "ar")
    assert people.get_or_create(session, "tg:777").language == "ar"
    assert people.get_or_create(session, "+15550100003").language == "es"


# --- Accuracy on one- and two-word messages --------------------------------------------------

# Written for this test, none a training example (held out; see the check below).
SHORT_MESSAGES = {
    "en": [
        "urgent help", "application update", "case update", "my reference", "where's my case",
        "status update", "when open", "hours today", "sunday hours", "library hours",
        "closest office", "office address", "town hall", "rubbish collection", "trash day",
        "recycling day", "missed bin", "bus delayed", "next bus", "bus route", "site broken",
        "locked out", "password help", "internet access", "wifi password", "laptop class",
        "typing course", "an advisor", "live agent", "talk to human", "book slot",
        "change appointment", "pothole outside", "street lamp", "broken pavement", "flooded road",
        "dumped mattress", "housing benefit", "parking fine", "resident permit", "lost id",
        "no idea", "afternoon team", "assist me", "quick question", "question please",
        "application progress", "progress update", "decision yet", "any news", "opening times",
        "weekend hours", "bank holiday", "nearest branch", "council building", "bin day",
        "bins missed", "bus strike", "bus diversion", "cant sign in", "password reset link",
        "digital skills", "computer help", "speak to staff", "operator please", "book visit",
        "reschedule please", "lamp broken", "blocked drain", "noisy neighbours", "benefits advice",
        "permit renewal", "id renewal", "never mind then", "dunno",
    ],
    "es": [
        "ayúdeme", "necesito apoyo", "urgente", "mi trámite", "estado trámite", "mi referencia",
        "horario hoy", "abren domingo", "cierran tarde", "la alcaldía", "dirección oficina",
        "no pasó basura", "reciclaje", "horario autobús", "bus retrasado", "próximo autobús",
        "web no funciona", "no puedo entrar", "clave olvidada", "curso computación",
        "hablar con agente", "con una persona", "un humano", "atención humana", "quiero cita",
        "cambiar cita", "anular cita", "hay un bache", "luz fundida", "acera rota",
        "pintadas pared", "calle inundada", "colchón abandonado", "ayuda vivienda",
        "multa aparcamiento", "permiso estacionamiento", "perdí documento", "ni idea",
        "gracias señora", "muy buenas", "adiós señor", "una consulta", "una pregunta",
        "alguna novedad", "cuándo abren", "horario finde", "oficina del centro",
        "basura sin recoger", "los contenedores", "huelga autobuses", "portal caído", "no me deja",
        "cursos gratis", "operador por favor", "pedir turno", "mover la cita", "farola apagada",
        "alcantarilla atascada", "ruido vecinos", "ayuda alquiler", "renovar permiso", "da igual",
        "ni modo",
    ],
    "fr": [
        "urgent svp", "mon dossier svp", "où en est", "numéro dossier", "ouvert dimanche",
        "fermé quand", "l'hôtel de ville", "mairie proche", "adresse bureau", "poubelle pleine",
        "collecte déchets", "tri sélectif", "bus en retard", "prochain bus", "horaires bus",
        "site bloqué", "connexion impossible", "wifi public", "atelier informatique", "un agent",
        "quelqu'un svp", "parler humain", "réserver créneau", "changer rendez-vous", "annuler rdv",
        "trou chaussée", "lampadaire éteint", "trottoir abîmé", "tags mur", "rue inondée",
        "dépôt sauvage", "aide logement", "amende stationnement", "pièce d'identité",
        "perdu papiers", "aucune idée", "c'est bon merci", "une question", "un renseignement",
        "des nouvelles", "quand ouvert", "horaires samedi", "accueil mairie",
        "ordures pas ramassées", "grève bus", "portail en panne", "identifiant perdu",
        "cours gratuits", "décaler rdv", "égout bouché", "voisins bruyants", "aide au loyer",
        "renouveler titre", "peu importe", "je sais plus", "d'accord merci",
    ],
    "ar": [
        "الله يسلمك", "أحتاج مساعدتك", "ضروري", "ملف طلبي", "الدوام اليوم", "عنوان المكتب",
        "مقر البلدية", "أقرب فرع", "الحاوية ممتلئة", "ما أخذوا الزبالة", "إعادة التدوير",
        "موعد الباص", "الباص متأخر", "ما أقدر أدخل", "دورة حاسوب", "أكلم موظف", "إنسان حقيقي",
        "أغير موعدي", "حفرة بالشارع", "العمود طافي", "كتابة على الحيطان", "فرشة مرمية",
        "مساعدة سكن", "مخالفة وقوف", "تصريح موقف", "ضاعت هويتي", "خلاص", "ما أدري", "تمام شكرا",
        "سؤال", "تحياتي", "استفسار", "عندي سؤال", "طلبي وين", "أخبار طلبي", "أوقات الدوام",
        "مفتوحين بكرة", "المكتب الرئيسي", "الفرع القريب", "النفايات متراكمة", "إضراب الباصات",
        "ما يشتغل الموقع", "دروس مجانية", "أبي أكلم أحد", "حجز", "إزعاج الجيران", "مساعدة إيجار",
        "تجديد تصريح", "ما أعرف", "عندي مشكلة بالموقع", "وين الحافلة", "الإنارة خربانة",
        "تبليغ عن حفرة", "بطاقتي ضاعت", "ساعات المكتبة", "مكتب الإسكان",
    ],
}
MIN_ACCURACY = 0.85


def test_short_message_lists_are_realistic() -> None:
    for code, messages in SHORT_MESSAGES.items():
        assert len(set(messages)) == len(messages), code
        # At least 50, 40 of one or two words; a few set phrases ("no me deja") of three.
        assert len(messages) >= 50, code
        assert sum(len(message.split()) <= 2 for message in messages) >= 40, code
        assert all(len(message.split()) <= 3 for message in messages), code
        # Every one carries evidence (no yes/no/keyword-only message counts against us).
        assert not [m for m in messages if lang.is_neutral(m)], code


@pytest.mark.parametrize("code", ["en", "es", "fr", "ar"])
def test_short_message_accuracy(code: str) -> None:
    messages = SHORT_MESSAGES[code]
    results = {message: lang.detect(message) for message in messages}
    wrong = {m: (d.language if d else None) for m, d in results.items()
             if d is None or d.language != code}
    accuracy = 1 - len(wrong) / len(messages)
    print(f"\nlanguage detection, one/two words, {code}: {accuracy:.0%} "
          f"({len(messages) - len(wrong)}/{len(messages)}); wrong: {wrong}")
    assert accuracy >= MIN_ACCURACY, f"{code}: {accuracy:.0%}, wrong: {wrong}"


# --- Uncertain first messages: the language menu (issue 13) ---------------------------------

# The issue's own examples, answered in French or English before: all three words are in the
# training data (Darija in Latin letters), which is how they are recognised.
ISSUE_ARABIZI = ["salam bghit nchouf dossier dyali", "wach kayn chi wa7ed", "salam"]


@pytest.mark.parametrize("text", ISSUE_ARABIZI)
def test_darija_in_latin_letters_asks_for_the_language(text: str) -> None:
    assert lang.is_arabizi(text)
    assert lang.decide(None, text) == lang.Decision("en", changed=False, show_menu=True)
    for current in ("en", "es", "fr", "ar"):  # never a reason to switch someone's language
        assert lang.decide(current, text) == lang.Decision(current, changed=False)


@pytest.mark.parametrize("text", ["hola my case", "bonjour bghit un rdv",
                                  "help por favor", "hola I need help"])
def test_a_mix_of_languages_asks_for_the_language(text: str) -> None:
    assert lang.decide(None, text).show_menu


@pytest.mark.parametrize("text", ["bonjour je veux un rendez-vous", "hello there", "hola",
                                  "je veux voir mon dossier", "¿dónde está la oficina?"])
def test_plain_french_spanish_and_english_are_not_arabizi(text: str) -> None:
    assert not lang.is_arabizi(text)


def test_the_menu_keeps_someone_new_without_a_language(session) -> None:
    person = people.get_or_create(session, "+212600000013")
    assert people.apply_language(session, person, "salam 3afak").show_menu
    assert person.language is None  # asked, not guessed
    people.set_language(session, person, "ar")  # their pick
    assert people.apply_language(session, person, "wach kayn chi wa7ed").language == "ar"


def test_distress_a_person_or_nonsense_are_not_held_up_by_the_menu() -> None:
    from actions.language import asks_language

    assert lang.decide(None, "bghit nmout").show_menu  # Darija: which language is unsure...
    assert not asks_language("request_human", "bghit nmout")  # ...but a person comes first
    assert not asks_language("nlu_fallback", "grbl fnord qq")  # nonsense: rephrase, as before
    assert not asks_language("nlu_fallback", "grbl fnord qq", 1.0)  # the unknown-words fallback
    assert asks_language("nlu_fallback", "hello, gracias", 0.35)  # known words, no clear intent
    assert asks_language("nlu_fallback", "wach kayn chi wa7ed")
    assert asks_language("check_application_status", "salam bghit nchouf dossier dyali")


@pytest.mark.parametrize(("text", "code"), [
    ("bghit nhder m3a chi wa7ed", "ar"), ("3tini bnadem", "ar"), ("wach kayn chi wa7ed", "ar"),
    ("hola I need a person", None), ("human please", None), ("persona", None),
])
def test_someone_new_put_through_is_answered_in_arabic_for_darija(text: str,
                                                                  code: str | None) -> None:
    assert lang.put_through_language(text) == code


@pytest.mark.parametrize("code", ["en", "es", "fr", "ar"])
def test_weak_first_messages_are_asked_or_right_never_wrong(code: str) -> None:
    """The decision alone (tests/test_language_menu.py sends the same through the stack)."""
    messages = WEAK_FIRST_MESSAGES[code]
    assert len(set(messages)) == len(messages) >= 40
    decisions = {text: lang.decide(None, text) for text in messages}
    wrong = {text: d.language for text, d in decisions.items()
             if not d.show_menu and d.language != code}
    asked = sum(d.show_menu for d in decisions.values())
    print(f"\n{code}: {asked} menus, {len(messages) - asked - len(wrong)} right, wrong: {wrong}")
    assert wrong == {}
    assert all(decisions[text].show_menu for text in messages if lang.is_arabizi(text))


# --- The phrases are held out ---------------------------------------------------------------

# Every table above that detection decides (explicit requests name a language from
# LANGUAGE_NAMES, and the vocabulary tests take words from the training data on purpose).
DETECTION_PHRASES = {
    "first messages": [text for text, _ in FIRST_MESSAGES],
    "refused languages": [text for text, _ in REFUSED],
    "long sentences naming a language": [text for text, _ in LONG_NAMING_A_LANGUAGE],
    "confident switches": [text for _, text, _ in CONFIDENT_SWITCHES],
    "in the current language": list(IN_THE_CURRENT_LANGUAGE.values()),
    **{f"short messages ({code})": messages for code, messages in SHORT_MESSAGES.items()},
    **{f"weak first messages ({code})": messages
       for code, messages in WEAK_FIRST_MESSAGES.items()},
}


def as_words(text: str) -> str:
    """The letters of ``text`` word by word, case and accents aside (written here, not the
    detector's own folding): "¿Dónde está?" and "donde esta" are the same phrase."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[^\W\d_]+", plain))


def training_examples() -> set[str]:
    """Every NLU training example of every file in data/nlu, annotations removed."""
    found: set[str] = set()
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                example = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip().removeprefix("- "))
                if example.strip():
                    found.add(as_words(example))
    return found


def test_detection_phrases_are_held_out_from_the_training_data() -> None:
    examples = training_examples()
    # The check reads the real data: it knows training examples when it sees them.
    assert len(examples) > 1000
    assert as_words("¿Dónde está la oficina más cercana?") not in examples
    assert {as_words("No hablo inglés."), as_words("hi folks!")} <= examples
    learnt = {group: [p for p in phrases if as_words(p) in examples]
              for group, phrases in DETECTION_PHRASES.items()}
    assert {group: found for group, found in learnt.items() if found} == {}

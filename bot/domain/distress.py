"""Words that mean a person may be in danger (SPEC §5.6): the hand-off becomes urgent.

Two halves, one answer (:func:`category`): these word lists, exact and explainable, and a
learnt character n-gram model (``bot.domain.distress_model``) for the everyday and dialect wordings
no
list can enumerate ("i cant go on anymore", "ma3ndi ma nakol"). Both are measured together on
a held-out set: ``python -m scripts.distress_report`` -> results/distress-report.md.

The lists are matched in every language whatever the conversation's language, on folded words
(no case, no Latin accents, Arabic hamza and letter variants unified, Arabic prefixes
"و ف ب ل ال" allowed, digits kept inside words for Darija in Latin letters), as whole-word
phrases; a trailing ``*`` matches a word's beginning ("suicid*": suicide,
suicidio, suicidarme, suicider). The lists prefer phrases to single words, so that everyday
questions ("how do I appeal an eviction?") are not taken for emergencies; a false alarm costs a
person's time, a missed one may cost more, so they lean to caution.

Urgent replies also give the emergency and crisis numbers for the deployment's region
(``CIVICLINE_DEFAULT_REGION``).
"""

from __future__ import annotations

from bot.config import get_settings
from bot.domain import distress_model

PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "self_harm": {
        "en": ("kill myself", "killing myself", "suicid*", "end my life", "take my life",
               "want to die", "wanna die", "hurt myself", "harm myself", "self harm",
               "no reason to live", "better off dead", "overdose", "cant go on", "can t go on",
               "dont want to live", "don t want to live", "dont want to be alive",
               "don t want to be alive", "end it all", "ending it all", "wish i was dead",
               "wish i were dead", "not worth living", "no point living", "no point in living",
               "point of living", "point of being alive", "better off without me", "cut myself",
               "cutting myself", "hang myself", "ending my life", "end it tonight"),
        "es": ("suicid*", "matarme", "quitarme la vida", "quiero morir*", "me quiero morir",
               "hacerme dano", "no quiero vivir", "autolesion*", "acabar con mi vida",
               "no puedo seguir", "no aguanto mas", "no quiero seguir viviendo", "mejor muert*",
               "irme de este mundo", "ir de este mundo", "acabar con todo", "cansad* de vivir",
               "no vale la pena vivir", "me corto", "cortarme"),
        "fr": ("suicid*", "me tuer", "envie de mourir", "veux mourir", "mettre fin a mes jours",
               "me faire du mal", "plus envie de vivre", "en finir", "peux plus continuer",
               "mieux sans moi", "quitter ce monde", "me scarifie", "fatigue* de vivre",
               "plus vivre", "voudrais etre mort*", "prefere etre mort*",
               "disparaitre pour toujours"),
        "ar": ("انتحار", "انتحر*", "اقتل نفسي", "اريد ان اموت", "اوذي نفسي", "انهي حياتي", "ننتحر",
               "تعبت من الحياه", "عييت من الحياه", "بغيت نموت", "نقتل راسي", "نقتل نفسي",
               "ما بقيتش بغيت نعيش", "لا اريد ان اعيش", "ما بغيتش نعيش", "الا مت", "bghit nmout",
               "bghit nmot", "n9tel rasi", "nqtel rasi", "3yit mn l7ya*", "ma bqitch baghi n3ich"),
    },
    "violence": {
        "en": ("hits me", "hitting me", "beats me", "beating me", "domestic violence",
               "domestic abuse", "abusing me", "going to kill me", "threatening to kill",
               "threatens to kill", "raped", "rape", "sexual assault", "in danger",
               "not safe at home", "hit me", "punched me", "slapped me", "choked me",
               "strangled me", "will kill me", "gonna kill me", "ll kill me", "kill me if",
               "threatens me", "threatening me", "threw me", "pushed me", "abusive",
               "afraid of my husband", "scared of my husband", "afraid of my partner",
               "scared of my partner", "afraid he will", "with a knife"),
        "es": ("me pega", "me golpea", "violencia", "maltrato", "me maltrata", "me quiere matar",
               "me va a matar", "amenaza con matar*", "violacion", "me violo", "en peligro",
               "me pego", "me golpeo", "volvio a pegar", "golpiza", "paliza*", "bofetada",
               "me empujo", "me tiro contra", "me amenaza", "con un cuchillo", "que me mate",
               "no me deja salir", "me encierra", "me violaron", "abuso sexual",
               "miedo de mi marido", "miedo de mi esposo", "miedo de mi pareja"),
        "fr": ("me frappe", "me bat", "violence*", "me maltraite", "va me tuer", "veut me tuer",
               "viol", "violee", "en danger", "m a frappe*", "m a battu*", "donne des coups",
               "recois des coups", "m a gifle*", "m a pousse*", "jete* contre", "me menace",
               "avec un couteau", "qu il me tue", "me tuera", "m enferme", "m a viole*",
               "peur de mon mari", "peur de mon conjoint", "peur de mon compagnon"),
        "ar": ("يضربني", "عنف", "يهددني", "سيقتلني", "يريد قتلي", "اغتصاب", "في خطر", "كيضربني",
               "ضربني", "ضربتني", "كيهددني", "هددني", "يقتلني", "غادي يقتلني", "اغتصبني", "يحبسني",
               "كيحبسني", "ما كيخلينيش نخرج", "بالموس", "kaydrebni", "drebni", "darbni",
               "kaydarbni", "kayhddedni"),
    },
    "child_abuse": {
        "en": ("molest*", "grooming", "child abuse", "abusing my child", "abusing the kids",
               "beats his kids", "beats her kids", "beats the kids", "beats him", "beats her",
               "touched my daughter", "touched my son", "touches my daughter", "touches my son",
               "touched her", "touched him", "stepdad hurts", "stepfather hurts",
               "get hit every night", "gets beaten"),
        "es": ("abuso infantil", "maltrato infantil", "abusan de", "abusa de", "le pega",
               "le pegan", "pegan a los ninos", "golpean a los ninos", "acosando a mi hij*",
               "acosa a mi hij*", "maltratan a", "padrastro me", "toca a mi hij*"),
        "fr": ("attouchement*", "pedophil*", "enfant maltraite*", "enfants maltraite*", "le bat",
               "la bat", "bat ses enfants", "sont battus", "se fait frapper", "l a touche*",
               "harcele ma fille", "harcele mon fils", "beau pere me"),
        "ar": ("يتحرش", "كيتحرش", "للتحرش", "تحرش", "لمسها", "كيتضرب", "كيضربو", "يضرب اولاده",
               "يضربون", "kayt7arch", "t7arch"),
    },
    "housing": {
        "en": ("evicted today", "evicted tonight", "eviction today", "evicting me today",
               "kicked out today", "kicked out tonight", "nowhere to sleep", "homeless tonight",
               "on the street tonight", "sleeping outside", "sleep on the street", "nowhere to go",
               "nowhere to stay", "no place to go", "no place to stay", "sleeping in the car",
               "sleeping in my car", "sleeping in our car", "sleep in the car", "sleep in our car",
               "living in my car", "living in our car", "on the streets", "living on the street",
               "im homeless", "i m homeless", "am homeless", "are homeless", "became homeless",
               "got evicted", "been evicted", "being evicted", "evicting us", "evicting me",
               "throwing us out", "throwing me out", "kicked me out", "kicked us out", "no roof",
               "sleeping rough", "sleeping on a bench", "sleep on a bench"),
        "es": ("me desalojan hoy", "desalojo hoy", "desahucio hoy", "me desahucian hoy",
               "me echan hoy", "me echan de casa", "no tengo donde dormir", "duermo en la calle",
               "dormir en la calle", "no tengo donde ir", "no tengo adonde ir",
               "no tengo a donde ir", "no tengo donde quedarme", "desalojar", "desalojaron",
               "me desalojan", "nos desalojan", "me desahucian", "nos desahucian",
               "nos desahuciaron", "durmiendo en la calle", "vivo en la calle",
               "vivimos en la calle", "dormimos en el coche", "dormimos en el carro",
               "durmiendo en el coche", "durmiendo en el carro", "durmiendo en un banco",
               "duermo en un banco", "sin techo", "sin hogar", "sin casa", "me echaron",
               "nos echaron", "nos echan", "me saca manana"),
        "fr": ("expulse aujourd hui", "expulsion aujourd hui", "expulsee aujourd hui",
               "on m expulse", "nulle part ou dormir", "dormir dans la rue", "suis a la rue",
               "sommes a la rue", "expulse*", "m expulser", "nous expulser", "dors dehors",
               "dormir dehors", "dormons dehors", "dors dans la voiture", "dort dans la voiture",
               "dormons dans la voiture", "dormir dans la voiture", "dors dans ma voiture",
               "vis dans ma voiture", "sans abri", "sans toit", "sdf", "vis dans la rue",
               "dors dans la rue", "dors sur un banc", "dormir sur un banc", "mis a la porte",
               "met a la porte", "mettre a la porte", "mis dehors", "jete dehors", "jette dehors",
               "nulle part ou aller", "pas ou aller", "endroit ou dormir", "ou dormir ce soir"),
        "ar": ("طردوني من البيت", "سيطردونني", "اخلاء اليوم", "بلا ماوي", "لا مكان للنوم",
               "انام في الشارع", "طردوني", "طردونا", "طردني", "طردتني", "يخرجوني", "يخرجونا",
               "فين نبات", "فين ننعس", "فين نمشي", "ننعس شارع", "كننعس شارع", "كنباتو طوموبيل",
               "كنعسو طوموبيل", "ننعسو طوموبيل", "كننعسو طوموبيل", "بلا سكن", "fin nbat",
               "fin n3ess", "fin n3es", "tardouni", "tardoni", "jrrawni"),
    },
    "hunger": {
        "en": ("no food", "nothing to eat", "not eaten", "haven t eaten", "starving",
               "can t feed my", "havent eaten", "haven t had a meal", "havent had a meal",
               "anything to eat", "are hungry", "am hungry", "im hungry", "so hungry",
               "going hungry", "go hungry", "afford food", "no money for food", "can t buy food",
               "cant buy food", "ran out of food", "cupboards are empty", "fridge is empty",
               "no formula", "no milk for"),
        "es": ("no tengo comida", "no tenemos comida", "nada para comer", "nada que comer",
               "tengo hambre", "pasamos hambre", "no he comido", "no hemos comido", "no comemos",
               "no como nada", "sin comer", "pasando hambre", "tienen hambre", "morimos de hambre",
               "muero de hambre", "no hay comida", "sin comida", "no tiene leche", "comprar comida",
               "dinero para comer"),
        "fr": ("rien a manger", "pas de nourriture", "plus de nourriture", "ai faim", "avons faim",
               "on a faim", "pas mange", "rien mange", "ont faim", "creve* de faim",
               "meurs de faim", "mourons de faim", "ventre vide", "de quoi manger",
               "de quoi nourrir", "a notre faim", "plus de lait", "frigo est vide",
               "placards sont vides", "acheter a manger"),
        "ar": ("لا يوجد طعام", "ليس عندي طعام", "ما عندي اكل", "لا يوجد اكل", "جائع", "جوعان",
               "جوع", "ما عندي ما ناكل*", "ما عندي شي ناكل*", "ما عندنا ما ناكل*", "جيعان*",
               "ما كلينا", "ما كليتش", "لم اكل", "ما ياكلو", "ji3an*", "ma nakol", "ma nakl",
               "ma nakel", "ma naklo", "jou3"),
    },
    "emergency": {
        "en": ("emergency", "heart attack", "can t breathe", "cannot breathe", "bleeding",
               "unconscious", "ambulance", "cant breathe", "not breathing", "stopped breathing",
               "having a stroke", "had a stroke", "seizure", "fainted", "collapsed", "on fire",
               "there s a fire", "house is burning", "won t wake up", "blood everywhere", "stabbed",
               "gas leak", "swallowed bleach", "drank bleach", "overdosed"),
        "es": ("emergencia", "urgencia", "ambulancia", "infarto", "no puedo respirar", "sangrando",
               "inconsciente", "no respira", "no puede respirar", "no reacciona", "derrame",
               "sobredosis", "convulsion*", "se desmayo", "desmayad*", "sangra", "incendio",
               "se quema", "quemando", "apunal*", "olor a gas", "fuga de gas"),
        "fr": ("urgence", "ambulance", "crise cardiaque", "peux pas respirer", "peux plus respirer",
               "saigne", "inconscient*", "respire plus", "respire pas", "pas a respirer", "avc",
               "convulsion*", "effondre*", "evanoui*", "maison brule", "il y a le feu", "en feu",
               "surdose", "poignard*", "odeur de gaz", "sent le gaz", "fuite de gaz",
               "ne se reveille pas"),
        "ar": ("طوارئ", "طارئ*", "اسعاف", "نوبه قلبيه", "لا استطيع التنفس", "نزيف", "لاسبيلانس",
               "ازمه قلبيه", "جلطه", "ما كيفيقش", "كتشعل", "حريق", "طعنوه", "جافيل", "لا يتنفس",
               "ما كيتنفسش", "ما قادراش تتنفس", "ما قادرش نتنفس", "lambulance", "ma kaytneffesch"),
    },
}

# Emergency number and a crisis (suicide prevention) line by region; 112 works across Europe
# and on most mobile phones elsewhere.
NUMBERS: dict[str, tuple[str, str]] = {
    "US": ("911", "988"),
    "CA": ("911", "988"),
    "GB": ("999", "116 123"),
    "IE": ("112", "116 123"),
    "FR": ("112", "3114"),
    "ES": ("112", "024"),
}
DEFAULT_NUMBERS = ("112", "112")

_ARABIC_PREFIXES = ("وال", "فال", "بال", "لل", "ال", "و", "ف", "ب", "ل")


def _tokens(text: str) -> list[str]:
    """Folded words; an apostrophe separates ("can't" -> "can t", "m'expulse" -> "m expulse")
    and digits stay inside words (Darija in Latin letters: "ma3ndi", "n9tel")."""
    return distress_model.normalise(text, apostrophe=" ").split()


def _forms(token: str) -> set[str]:
    """A token and, for Arabic, the token without an attached prefix."""
    forms = {token}
    for prefix in _ARABIC_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 2 and token[0] > "\u0600":
            forms.add(token[len(prefix):])
    return forms


def _word_matches(pattern: str, forms: set[str]) -> bool:
    if pattern.endswith("*"):
        return any(form.startswith(pattern[:-1]) for form in forms)
    return pattern in forms


Pattern = tuple[str, tuple[str, ...]]  # (kind, words; a last "*" is a word's beginning)


def _compile() -> tuple[dict[str, list[Pattern]], list[Pattern]]:
    """The phrases as word patterns, indexed by their first word (or, when the first word is a
    beginning such as "suicid*", in a short list tried everywhere)."""
    by_first: dict[str, list[Pattern]] = {}
    starred: list[Pattern] = []
    for kind, by_language in PHRASES.items():
        for phrases in by_language.values():
            for phrase in phrases:
                pattern = _tokens(phrase.rstrip("*"))
                if phrase.endswith("*"):
                    pattern[-1] += "*"
                if pattern[0].endswith("*"):
                    starred.append((kind, tuple(pattern)))
                else:
                    by_first.setdefault(pattern[0], []).append((kind, tuple(pattern)))
    return by_first, starred


_BY_FIRST, _STARRED = _compile()


def lexicon_category(text: str) -> str | None:
    """The kind of danger the word lists find in a message, or None."""
    forms = [_forms(token) for token in _tokens(text or "")]  # once per message, not per pattern
    for start, first in enumerate(forms):
        candidates = [p for form in first for p in _BY_FIRST.get(form, ())] + _STARRED
        for kind, pattern in candidates:
            window = forms[start:start + len(pattern)]
            if len(window) == len(pattern) and all(
                    _word_matches(p, f) for p, f in zip(pattern, window, strict=True)):
                return kind
    return None


def category(text: str) -> str | None:
    """The kind of danger a message speaks of (self_harm, violence, child_abuse, housing,
    hunger, emergency), or None: the word lists first, then the learnt model
    (``bot.domain.distress_model``) for everyday and dialect wordings the lists do not know."""
    return lexicon_category(text) or distress_model.model().predict(text or "")


def is_distress(text: str) -> bool:
    return category(text) is not None


def emergency_numbers(region: str | None = None) -> tuple[str, str]:
    """(emergency number, crisis line) for the region (default: the deployment's)."""
    return NUMBERS.get((region or get_settings().default_region).upper(), DEFAULT_NUMBERS)

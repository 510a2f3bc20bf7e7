"""Words that mean a person may be in danger (SPEC §5.6): the hand-off becomes urgent.

Matched in every language whatever the conversation's language, on folded words (no case, no
Latin accents, Arabic hamza and letter variants unified, Arabic prefixes "و ف ب ل ال" allowed),
as whole-word phrases; a trailing ``*`` matches a word's beginning ("suicid*": suicide,
suicidio, suicidarme, suicider). The lists prefer phrases to single words, so that everyday
questions ("how do I appeal an eviction?") are not taken for emergencies; a false alarm costs a
person's time, a missed one may cost more, so they lean to caution.

Urgent replies also give the emergency and crisis numbers for the deployment's region
(``CIVICLINE_DEFAULT_REGION``).
"""

from __future__ import annotations

from bot.config import get_settings
from bot.language import words

PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "self_harm": {
        "en": ("kill myself", "killing myself", "suicid*", "end my life", "take my life",
               "want to die", "wanna die", "hurt myself", "harm myself", "self harm",
               "no reason to live", "better off dead", "overdose"),
        "es": ("suicid*", "matarme", "quitarme la vida", "quiero morir*", "me quiero morir",
               "hacerme dano", "no quiero vivir", "autolesion*", "acabar con mi vida"),
        "fr": ("suicid*", "me tuer", "envie de mourir", "veux mourir", "mettre fin a mes jours",
               "me faire du mal", "plus envie de vivre"),
        "ar": ("انتحار", "انتحر*", "اقتل نفسي", "اريد ان اموت", "اوذي نفسي",
               "انهي حياتي"),
    },
    "violence": {
        "en": ("hits me", "hitting me", "beats me", "beating me", "domestic violence",
               "domestic abuse", "abusing me", "going to kill me", "threatening to kill",
               "threatens to kill", "raped", "rape", "sexual assault", "in danger",
               "not safe at home"),
        "es": ("me pega", "me golpea", "violencia", "maltrato", "me maltrata", "me quiere matar",
               "me va a matar", "amenaza con matar*", "violacion", "me violo", "en peligro"),
        "fr": ("me frappe", "me bat", "violence*", "me maltraite", "va me tuer", "veut me tuer",
               "viol", "violee", "en danger"),
        "ar": ("يضربني", "عنف", "يهددني", "سيقتلني", "يريد قتلي", "اغتصاب", "في خطر"),
    },
    "housing": {
        "en": ("evicted today", "evicted tonight", "eviction today", "evicting me today",
               "kicked out today", "kicked out tonight", "nowhere to sleep", "homeless tonight",
               "on the street tonight", "sleeping outside", "sleep on the street"),
        "es": ("me desalojan hoy", "desalojo hoy", "desahucio hoy", "me desahucian hoy",
               "me echan hoy", "me echan de casa", "no tengo donde dormir",
               "duermo en la calle", "dormir en la calle"),
        "fr": ("expulse aujourd hui", "expulsion aujourd hui", "expulsee aujourd hui",
               "on m expulse", "nulle part ou dormir", "dormir dans la rue",
               "suis a la rue", "sommes a la rue"),
        "ar": ("طردوني من البيت", "سيطردونني", "اخلاء اليوم", "بلا ماوي", "لا مكان للنوم",
               "انام في الشارع"),
    },
    "hunger": {
        "en": ("no food", "nothing to eat", "not eaten", "haven t eaten", "starving",
               "can t feed my"),
        "es": ("no tengo comida", "no tenemos comida", "nada para comer", "nada que comer",
               "tengo hambre", "pasamos hambre", "no he comido", "no hemos comido"),
        "fr": ("rien a manger", "pas de nourriture", "plus de nourriture", "ai faim",
               "avons faim", "on a faim", "pas mange"),
        "ar": ("لا يوجد طعام", "ليس عندي طعام", "ما عندي اكل", "لا يوجد اكل", "جائع", "جوعان",
               "جوع"),
    },
    "emergency": {
        "en": ("emergency", "heart attack", "can t breathe", "cannot breathe", "bleeding",
               "unconscious", "ambulance"),
        "es": ("emergencia", "urgencia", "ambulancia", "infarto", "no puedo respirar",
               "sangrando", "inconsciente"),
        "fr": ("urgence", "ambulance", "crise cardiaque", "peux pas respirer",
               "peux plus respirer", "saigne", "inconscient*"),
        "ar": ("طوارئ", "طارئ*", "اسعاف", "نوبه قلبيه", "لا استطيع التنفس", "نزيف"),
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

_ARABIC_LETTERS = str.maketrans({"ى": "ي", "ة": "ه", "ـ": None})
_ARABIC_PREFIXES = ("وال", "فال", "بال", "لل", "ال", "و", "ف", "ب", "ل")


def _tokens(text: str) -> list[str]:
    return words(text.translate(_ARABIC_LETTERS))


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


def _compile() -> list[tuple[str, tuple[str, ...]]]:
    compiled = []
    for category, by_language in PHRASES.items():
        for phrases in by_language.values():
            for phrase in phrases:
                star = phrase.endswith("*")
                pattern = _tokens(phrase.rstrip("*"))
                if star:
                    pattern[-1] += "*"
                compiled.append((category, tuple(pattern)))
    return compiled


_PATTERNS = _compile()


def category(text: str) -> str | None:
    """The kind of danger a message speaks of (self_harm, violence, ...), or None."""
    forms = [_forms(token) for token in _tokens(text or "")]  # once per message, not per pattern
    for kind, pattern in _PATTERNS:
        size = len(pattern)
        for start in range(len(forms) - size + 1):
            window = forms[start:start + size]
            if all(_word_matches(p, f) for p, f in zip(pattern, window, strict=True)):
                return kind
    return None


def is_distress(text: str) -> bool:
    return category(text) is not None


def emergency_numbers(region: str | None = None) -> tuple[str, str]:
    """(emergency number, crisis line) for the region (default: the deployment's)."""
    return NUMBERS.get((region or get_settings().default_region).upper(), DEFAULT_NUMBERS)

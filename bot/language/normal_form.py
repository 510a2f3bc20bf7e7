"""One written form for the many ways people type the same word (SPEC §3, issue 13).

Citizens write "Écrire", "ecrire" and "ECRIREEE"; "إلغاء", "الغاء" and "الـغاء"; "٣" and "3".
:func:`normalise` maps them to one form: lower case, no Latin accents, no Arabic diacritics or
tatweel, Arabic letter variants unified (أ إ آ -> ا, ة -> ه, ى -> ي, Persian/Maghrebi letters),
Arabic-Indic digits as ASCII, a letter repeated three times or more cut to two ("okkkk" ->
"okk", "merciii" -> "mercii"), apostrophes dropped. Digits inside words are kept: Darija in
Latin letters writes Arabic letters with them ("wa7ed", "3afak", "l9it").

Used by the distress detector (``bot.domain.distress_model``) and by the NLU pipeline's
tokenizer (``server.nlu_tokenizer``), which features the normal form while the message text the
actions read stays as the citizen wrote it.
"""

from __future__ import annotations

import re
import unicodedata

_ARABIC_LETTERS = str.maketrans({"ى": "ي", "ة": "ه", "ـ": None, "ؤ": "و", "ئ": "ي",
                                 "ی": "ي", "ک": "ك", "ڤ": "ف", "گ": "ك",  # Persian/Maghrebi forms
                                 **{chr(0x660 + d): str(d) for d in range(10)},  # ٠-٩ -> 0-9
                                 **{chr(0x6F0 + d): str(d) for d in range(10)}})  # ۰-۹
_APOSTROPHES = re.compile(r"['’`´]")
_NOT_WORD = re.compile(r"[^\w]+|_")
_REPEATS = re.compile(r"(.)\1{2,}")


def normalise(text: str, apostrophe: str = "") -> str:
    """Folded text: lower case, no Latin accents or Arabic diacritics (NFKD also takes the
    hamza off أ إ آ ؤ ئ), Arabic letter variants unified, apostrophes dropped ("can't" ->
    "cant") or replaced by ``apostrophe``, digits kept (Darija's "3" and "9" are letters), a
    letter repeated 3+ times cut to two, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_ARABIC_LETTERS))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = _APOSTROPHES.sub(apostrophe, plain)
    plain = _REPEATS.sub(r"\1\1", plain)
    return " ".join(_NOT_WORD.sub(" ", plain).split())

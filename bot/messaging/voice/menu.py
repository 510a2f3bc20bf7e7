"""How a call reads its options (SPEC §6.3): digit first, a short title, no filler.

"Press 1: your application. 2: services. 3: offices. 4: a problem. 9: more. Star to repeat,
zero for a person." is one prompt of 25 words at most (tests/test_voice_menus.py): a caller
keeps four options in mind, not four sentences.

* The first option of a page says the verb ("Press 1: …", ``utter_voice_option_first``), the
  others only their digit ("2: …", ``utter_voice_option``).
* An option's title on a call is its *voice title* when it has one: the response
  ``utter_voice_title_<key>`` in domain/voice_menus.yml, where ``<key>`` names the button's
  payload (:func:`title_key`: ``/find_office`` -> ``find_office``,
  ``/inform{"form_choice": "new"}`` -> ``form_choice_new``). So "Is a service working?", a good
  button, is "services" to the ear, in every menu that offers it. Titles made from data (a
  case, a booking, an office) have no voice title and are read as written, without a closing
  aside in brackets: "Friday 1 January, 09:30 (ID cards)" is "Friday 1 January, 9:30 in the
  morning" to the ear (what is picked is said in full next, in the question that follows).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from bot.language import texts

Option = tuple[str, str]  # (title, payload), as bot.messaging.render.Option
VOICE_TITLE = "utter_voice_title_"
_NOT_A_NAME = re.compile(r"[^a-z0-9]+")
_ASIDE = " ?!.؟¿¡"  # a question's marks are not read: "¿Funciona un servicio?" -> "Funciona…"
_BRACKETED = re.compile(r"\s*\([^()]*\)\s*$")  # "… (ID cards)": an aside for the eye


def title_key(payload: str) -> str | None:
    """The part of a voice title's name that ``payload`` gives, or None (not an intent)."""
    if not payload.startswith("/"):
        return None
    intent, _, entities = payload[1:].partition("{")
    parts = [intent]
    if entities:
        try:
            values = json.loads("{" + entities)
        except ValueError:
            return None
        if not isinstance(values, dict):
            return None
        parts = [f"{name}_{value}" for name, value in values.items()]
    key = _NOT_A_NAME.sub("_", "_".join(parts).lower()).strip("_")
    return key or None


def spoken_title(title: str, payload: str, language: str) -> str:
    """What a call says for the option ``title``: its voice title, else the title itself."""
    key = title_key(payload)
    if key:
        try:
            said = texts.text(VOICE_TITLE + key, language)
        except KeyError:
            said = ""
        if said:
            return said
    return _BRACKETED.sub("", title).strip(_ASIDE) or title.strip(_ASIDE)


def option_lines(options: Sequence[Option], language: str) -> list[str]:
    """The options of one page, numbered from 1: "Press 1: services.", "2: offices."."""
    return [texts.text("utter_voice_option_first" if digit == 1 else "utter_voice_option",
                       language, digit=digit, option=spoken_title(title, payload, language))
            for digit, (title, payload) in enumerate(options, 1)]

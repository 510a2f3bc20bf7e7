"""A hand-off's transcript as staff read it: Rasa's events plus the hand-off's notes.

What the person said and what the bot or an agent answered, the answers a form collected, the
language, the pauses, and staff notes (SPEC §5.6, §7). The date of birth is never shown: not the
slot, nor the person's own words while it was asked (SPEC §8).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.store.models import HandoffNote
from bot.store.tracker_events import REPLAYED

# Slots that are bookkeeping, not answers the person gave.
HIDDEN_SLOTS = frozenset({"requested_slot", "awaiting", "session_started_metadata", "urgency",
                          "status_outcome", "language", "language_menu", "form_offer",
                          "reference_misses"})
# Never shown to staff (SPEC §8): the answer, and the citizen's own words while it was asked.
SECRET_SLOTS = frozenset({"date_of_birth"})
SECRET_ANSWER = "(date of birth, not shown)"


@dataclass(frozen=True)
class Entry:
    """One line of the transcript the console shows."""

    at: dt.datetime | None
    kind: str  # citizen, bot, agent, answer, language, note, failed, system
    text: str
    who: str = ""
    channel: str = ""
    error: str = ""  # a reply that was not delivered: why
    state: str = ""  # an agent's reply: its delivery state ("delivered", "read"...)
    language: str = ""  # the language the text is in (citizen, assistant, agent), if known

    @property
    def key(self) -> str:
        """Stable identity, so the console's live transcript appends only what is new."""
        stamp = self.at.isoformat() if self.at else "-"
        return f"{stamp}|{self.kind}|{zlib.crc32(self.text.encode()):08x}"


def _when(timestamp: Any) -> dt.datetime | None:
    if not isinstance(timestamp, (int, float)):
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)


def _buttons(event: dict[str, Any]) -> list[dict[str, Any]]:
    return list((event.get("data") or {}).get("buttons") or [])


def _bot_text(event: dict[str, Any]) -> str:
    text = event.get("text") or ""
    buttons = _buttons(event)
    if buttons:
        text += "".join(f"\n{i}. {b.get('title', '')}" for i, b in enumerate(buttons, 1))
    return text


def _picks(event: dict[str, Any]) -> dict[str, str]:
    """What each option of a bot message reads as once picked: a numbered pick reaches Rasa
    as the option's payload (``/change_language{...}``), which staff should not have to read."""
    return {str(b["payload"]): f"{i}. {b.get('title', '')}"
            for i, b in enumerate(_buttons(event), 1) if b.get("payload")}


# Rasa's flag (rasa.shared.core.constants.IS_EXTERNAL) on the user event of a triggered intent
# (``UserUttered.create_external``). No channel lets a citizen set a message's metadata, so
# this typed flag, never the text, tells a staff action from a citizen's words.
EXTERNAL_FLAG = "is_external"


def _external_intent(event: dict[str, Any]) -> str | None:
    """The intent staff started (``send_to_bot``) when ``event`` is one, else None."""
    if (event.get("metadata") or {}).get(EXTERNAL_FLAG) is not True:
        return None
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    return str(intent or "a task")


def _with_states(lines: list[Entry], notes: Sequence[HandoffNote],
                 states: Mapping[int, str]) -> list[Entry]:
    """Each agent reply line with its delivery state: the delivered reply notes, in order, are
    matched to the agent lines of the same author and text."""
    waiting: dict[tuple[str, str], list[int]] = {}
    for note in notes:
        if note.kind == "reply" and note.delivered:
            waiting.setdefault((note.author, note.text), []).append(note.id)
    shown = []
    for line in lines:
        queue = waiting.get((line.who, line.text)) if line.kind == "agent" else None
        if queue:
            line = replace(line, state=states.get(queue.pop(0), ""))
        shown.append(line)
    return shown


def entries(events: list[dict[str, Any]], notes: Sequence[HandoffNote] = (), *,
            states: Mapping[int, str] | None = None,
            default_language: str = "") -> list[Entry]:
    """Citizen and bot turns, agent replies (with ``states``, their delivery state by note
    id), form answers, language and channel, and notes.

    ``events`` are Rasa tracker events as dicts (``event.as_dict()``), oldest first. Each
    citizen, assistant and agent text carries its language: the conversation's ``language``
    slot as the assistant set it for that turn (it is set right after the citizen's message),
    else ``default_language``.
    """
    lines: list[Entry] = []
    language = asked = None
    offered: dict[str, str] = {}  # the options last offered: payload -> "2. Español"
    said = -1  # the citizen's last message, whose language the next ``language`` slot tells
    for event in events:
        kind, at = event.get("event"), _when(event.get("timestamp"))
        if kind == "slot" and event.get("name") == "requested_slot":
            asked = event.get("value")
        if kind == "user" and (event.get("metadata") or {}).get(REPLAYED) is True:
            continue  # the first message answered again after the language menu: shown once
        if kind == "user":
            task = _external_intent(event)
            if task is not None:
                lines.append(Entry(at, "system", f"Sent to the bot: {task}"))
            else:
                text = event.get("text") or ""
                text = SECRET_ANSWER if asked in SECRET_SLOTS else offered.get(text, text)
                said = len(lines)
                lines.append(Entry(at, "citizen", text,
                                   channel=event.get("input_channel") or "",
                                   language=language or default_language))
        elif kind == "bot":
            offered = _picks(event) or offered
            agent = (event.get("metadata") or {}).get("agent")
            lines.append(Entry(at, "agent" if agent else "bot", _bot_text(event),
                               who=agent or "", language=language or default_language))
            said = -1
        elif kind == "slot" and event.get("name") == "language" and event.get("value"):
            if said >= 0:  # the language the assistant read the citizen's message in
                lines[said] = replace(lines[said], language=str(event["value"]))
                said = -1
            if event["value"] != language:
                language = event["value"]
                lines.append(Entry(at, "language", language))
        elif kind == "slot" and event.get("name") not in HIDDEN_SLOTS \
                and event.get("value") not in (None, "", []):
            value = SECRET_ANSWER if event["name"] in SECRET_SLOTS else str(event["value"])
            lines.append(Entry(at, "answer", value, who=event["name"]))
        elif kind == "pause":
            lines.append(Entry(at, "system", "Handed to staff: the assistant is silent."))
        elif kind == "resume":
            lines.append(Entry(at, "system", "Back with the assistant."))
    for note in notes:
        if note.kind == "note":
            lines.append(Entry(note.created_at, "note", note.text, who=note.author))
        elif not note.delivered:
            lines.append(Entry(note.created_at, "failed", note.text, who=note.author,
                               error=note.error or "", language=default_language))
    epoch = dt.datetime.min
    return sorted(_with_states(lines, notes, states or {}), key=lambda entry: entry.at or epoch)

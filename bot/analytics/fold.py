"""Conversation events folded into the day's figures, per channel and language.

A *conversation* is one sender's messages on one day (UTC): the unit a help line counts
("people who wrote today"), and one that a day's rollup can close. Its channel is the input
channel of its first message, its language the last ``language`` the assistant set that day
("unknown" if none). Figures (metric, key):

- ``conversations``: conversations with at least one message from the citizen;
- ``messages`` and ``fallbacks``: the citizen's messages, and those the NLU sent to
  ``nlu_fallback`` (not understood);
- ``form_started`` (form), ``form_step`` ("form:question", each question the run reached,
  once), ``form_completed`` (form: ``form_reference`` was set, the form was submitted) and
  ``form_left`` ("form:question": a run not submitted, by the last question it reached).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.store.event_stream import SET

FALLBACK_INTENT = "nlu_fallback"
UNKNOWN = "unknown"
Key = tuple[dt.date, str, str, str, str]  # day, channel, language, metric, key


def day_of(timestamp: float) -> dt.date:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date()


@dataclass
class FormRun:
    form: str
    steps: list[str] = field(default_factory=list)
    completed: bool = False


@dataclass
class Conversation:
    channel: str | None = None
    language: str | None = None
    messages: int = 0
    fallbacks: int = 0
    runs: list[FormRun] = field(default_factory=list)
    active: FormRun | None = None

    def take(self, event: dict[str, Any]) -> None:
        kind, name, value = event["type_name"], event["name"], event["value"]
        if kind == "user":
            self.messages += 1
            self.fallbacks += name == FALLBACK_INTENT
            self.channel = self.channel or event["input_channel"]
        elif kind == "active_loop":
            if name and (self.active is None or self.active.form != name):
                self.active = FormRun(name)
                self.runs.append(self.active)
            elif not name:
                self.active = None
        elif kind == "slot" and name == "language" and value:
            self.language = value
        elif kind == "slot" and name == "requested_slot" and value and self.active \
                and value not in self.active.steps:
            self.active.steps.append(value)
        elif kind == "slot" and name == "form_reference" and value == SET:
            run = self.active or (self.runs[-1] if self.runs else None)
            if run is not None:
                run.completed = True

    def figures(self, day: dt.date, into: Counter) -> None:
        if not self.messages:
            return
        where = (day, self.channel or UNKNOWN, self.language or UNKNOWN)
        into[(*where, "conversations", "")] += 1
        into[(*where, "messages", "")] += self.messages
        into[(*where, "fallbacks", "")] += self.fallbacks
        for run in self.runs:
            into[(*where, "form_started", run.form)] += 1
            for step in run.steps:
                into[(*where, "form_step", f"{run.form}:{step}")] += 1
            into[(*where, "form_completed", run.form)] += run.completed
            if not run.completed:  # where this person left the form: its last question
                last = run.steps[-1] if run.steps else ""
                into[(*where, "form_left", f"{run.form}:{last}")] += 1


def fold(events: Iterable[dict[str, Any]]) -> Counter:
    """The figures of ``events`` (ordered by sender, then time), keyed by :data:`Key`."""
    figures: Counter = Counter()
    current: tuple[str, dt.date] | None = None
    conversation = Conversation()
    for event in events:
        here = (event["sender_id"], day_of(event["timestamp"]))
        if here != current:
            if current is not None:
                conversation.figures(current[1], figures)
            current, conversation = here, Conversation()
        conversation.take(event)
    if current is not None:
        conversation.figures(current[1], figures)
    return +figures

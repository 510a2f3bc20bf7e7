"""The messages the assistant did not understand, masked and grouped for staff to label.

Read from Rasa's ``events`` table (the only place a message's text is kept) for a period: a
citizen's message is *misunderstood* when the NLU sent it to ``nlu_fallback``, when its intent
had a confidence under :data:`LOW_CONFIDENCE`, or when the dialogue then fell back
(``action_fallback``: the "please say it another way" reply); a hand-off after two misses is
made of such messages. Each is masked (:mod:`bot.learn.masking`) at once: nothing unmasked
leaves this module. Two messages of one language whose word sets are alike (Jaccard similarity
≥ :data:`SIMILAR`) are in the same group, and so are their kin (single linkage); staff label a
group with the right intent or ``not_for_us`` (:data:`NOT_FOR_US`), kept in ``learn_labels``
by masked text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import PROJECT_ROOT
from bot.domain import audit
from bot.language.detect import fold
from bot.learn.masking import mask
from bot.store import tracker_events
from bot.store.models import LearnLabel, utcnow

LOW_CONFIDENCE = 0.5
SIMILAR = 0.4
FALLBACK_INTENT = "nlu_fallback"
REPHRASE_ACTIONS = frozenset({"action_fallback", "action_default_fallback", "utter_rephrase"})
NOT_FOR_US = "not_for_us"
MAX_MESSAGES = 3000  # the newest misunderstood messages of the period, at most
# Intents staff do not pick: the fallback itself, and form answers (their words are anything).
NOT_OFFERED = frozenset({FALLBACK_INTENT, "inform"})


class LabelError(ValueError):
    """A label that cannot be saved (no such intent, no such message)."""


@dataclass
class Message:
    text: str  # masked
    language: str
    reason: str
    at: float

    @property
    def key(self) -> str:
        return text_key(self.language, self.text)


@dataclass
class Group:
    language: str
    messages: list[Message] = field(default_factory=list)

    @property
    def texts(self) -> list[tuple[str, int]]:
        """Each distinct masked text with how often it came, most frequent first."""
        return Counter(m.text for m in self.messages).most_common()

    @property
    def keys(self) -> list[str]:
        return sorted({m.key for m in self.messages})

    @property
    def reasons(self) -> list[tuple[str, int]]:
        return Counter(m.reason for m in self.messages).most_common()

    @property
    def id(self) -> str:
        return hashlib.sha256("|".join(self.keys).encode()).hexdigest()[:12]


def text_key(language: str, text: str) -> str:
    return hashlib.sha256(f"{language}\n{text}".encode()).hexdigest()


def words_of(text: str) -> set[str]:
    return set(re.findall(r"[^\W_]+|‹\w+›", fold(text)))


def jaccard(one: set[str], other: set[str]) -> float:
    union = one | other
    return len(one & other) / len(union) if union else 1.0


def intents() -> list[str]:
    """The intents staff may choose (the domain's, less :data:`NOT_OFFERED`)."""
    found: list[str] = []
    for path in sorted((PROJECT_ROOT / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found += [name for name in data.get("intents") or [] if isinstance(name, str)]
    return sorted(set(found) - NOT_OFFERED)


def _reason(event: dict[str, Any]) -> str | None:
    intent = (event.get("parse_data") or {}).get("intent") or {}
    if intent.get("name") == FALLBACK_INTENT:
        return "not understood"
    confidence = intent.get("confidence")
    if isinstance(confidence, (int, float)) and confidence < LOW_CONFIDENCE:
        return "low confidence"
    return None


def misunderstood(session: Session, start: float, end: float) -> list[Message]:
    """The misunderstood messages with ``start <= timestamp < end``, masked, newest first."""
    if not tracker_events.has_events_table(session):
        return []
    table = tracker_events.events
    rows = session.execute(
        select(table.c.sender_id, table.c.type_name, table.c.data)
        .where(table.c.timestamp >= start, table.c.timestamp < end,
               table.c.type_name.in_(("user", "action", "slot")))
        .order_by(table.c.sender_id, table.c.id))
    found: list[Message] = []
    sender = pending = None  # pending: (event, reason) of the sender's last user message
    language = "unknown"

    def settle() -> None:
        if pending is not None and pending[1] and pending[0].get("text"):
            found.append(Message(mask(pending[0]["text"]), language, pending[1],
                                 pending[0].get("timestamp") or 0.0))

    for sender_id, kind, data in rows:
        if sender_id != sender:
            settle()
            sender, pending, language = sender_id, None, "unknown"
        try:
            event = json.loads(data)
        except ValueError:
            continue
        if kind == "user":
            settle()
            text = event.get("text") or ""
            pending = None if text.startswith("/") else (event, _reason(event))
        elif kind == "slot" and event.get("name") == "language" and event.get("value"):
            language = str(event["value"])
        elif kind == "action" and pending is not None and \
                event.get("name") in REPHRASE_ACTIONS and not pending[1]:
            pending = (pending[0], "asked to rephrase")
    settle()
    found.sort(key=lambda message: -message.at)
    return found[:MAX_MESSAGES]


def _clusters(texts: list[str]) -> list[list[int]]:
    """Single-linkage clusters of ``texts``: two texts whose word sets have a Jaccard
    similarity ≥ :data:`SIMILAR` are in one cluster (and so, transitively, their kin)."""
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    words = [words_of(text) for text in texts]
    index: dict[str, list[int]] = {}
    for i, mine in enumerate(words):
        seen: set[int] = set()
        for word in mine:
            for j in index.get(word, ()):
                if j not in seen and jaccard(mine, words[j]) >= SIMILAR:
                    parent[root(i)] = root(j)
                seen.add(j)
            index.setdefault(word, []).append(i)
    clusters: dict[int, list[int]] = {}
    for i in range(len(texts)):
        clusters.setdefault(root(i), []).append(i)
    return list(clusters.values())


def group(messages: list[Message]) -> list[Group]:
    """Messages grouped by language and similarity, biggest group first."""
    by_text: dict[tuple[str, str], list[Message]] = {}
    for message in messages:
        by_text.setdefault((message.language, message.text), []).append(message)
    groups: list[Group] = []
    for language in sorted({language for language, _text in by_text}):
        texts = sorted(text for lang, text in by_text if lang == language)
        for cluster in _clusters(texts):
            groups.append(Group(language, [m for i in cluster
                                           for m in by_text[(language, texts[i])]]))
    return sorted(groups, key=lambda g: (-len(g.messages), g.language, g.texts[0][0]))


def labelled(session: Session) -> dict[str, LearnLabel]:
    return {label.text_key: label for label in session.scalars(select(LearnLabel))}


def inbox(session: Session, start: float, end: float) -> tuple[list[Group], int]:
    """The groups still to label in the period, and how many messages are labelled already."""
    done = labelled(session)
    messages = misunderstood(session, start, end)
    todo = [m for m in messages if m.key not in done]
    return group(todo), len(messages) - len(todo)


def label(session: Session, start: float, end: float, keys: list[str], intent: str,
          actor: str) -> int:
    """Label the period's misunderstood messages with these ``keys`` as ``intent``; how many
    distinct texts were labelled. Audited (the masked texts' count, never the texts)."""
    if intent != NOT_FOR_US and intent not in intents():
        raise LabelError(f"no such intent: {intent}")
    wanted = set(keys)
    chosen = {m.key: m for m in misunderstood(session, start, end) if m.key in wanted}
    if not chosen:
        raise LabelError("those messages are no longer in the inbox: reload the page")
    done = labelled(session)
    for key, message in chosen.items():
        row = done.get(key)
        if row is None:
            session.add(LearnLabel(text_key=key, language=message.language,
                                   masked_text=message.text, intent=intent, labelled_by=actor,
                                   labelled_at=utcnow()))
        else:
            row.intent, row.labelled_by, row.labelled_at = intent, actor, utcnow()
            row.exported_at = None
    audit.record(session, actor, "learn.label", intent, texts=len(chosen))
    session.flush()
    return len(chosen)


def period(days: int, now: dt.datetime | None = None) -> tuple[float, float]:
    """The last ``days`` days up to now, as Unix seconds."""
    moment = now or dt.datetime.now(dt.timezone.utc)
    return (moment - dt.timedelta(days=days)).timestamp(), moment.timestamp() + 1

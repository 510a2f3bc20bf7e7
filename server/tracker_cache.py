"""The last saved tracker of each recent conversation, kept in this process (issue 12 §5).

Rasa's SQL tracker store rebuilds the whole conversation session on every message: it reads
every event row of the session, parses each one's JSON and replays them all into a new
tracker, so a turn's cost grew with the conversation (400 turns in: 4.7× the first turn).
Here the tracker a turn saved is kept, with what the database held after that save: the
number of the sender's event rows and the highest row id. The next read asks the database
for those two numbers only (one indexed query) and

- if they are unchanged, and the tracker was not changed in memory since it was saved, hands
  that tracker out (once: it is taken out of the cache, so no two callers ever share one);
- if rows were only added (by another worker or replica, or the server-side hand-off code of
  another process) and none of them starts a new session, reads just those rows and applies
  them to the kept tracker, exactly as Rasa's replay would;
- otherwise (rows deleted by `purge`/`erase` or edited, a new session, nothing kept) builds it
  from the database as Rasa does.

So the database stays the only truth: a kept tracker is used only when the database proves it
is still what a rebuild would produce. The lock store serialises the turns of a conversation,
so between a turn's read and its save nobody else writes that conversation's rows.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config import tunable

# How many conversations' trackers a process keeps (least recently used go first).
DEFAULT_SIZE = 2000
# The attribute a tracker handed out carries: how many of its events are already stored.
STORED = "_civicline_stored_events"


@dataclass(frozen=True)
class Mark:
    """What the database held for a sender when a tracker was kept: the number of rows, the
    highest id and the sum of the timestamps of the rows up to ``upto`` (a row edited in
    place, as a test backdating a conversation does, changes it)."""

    rows: int
    last_id: int
    stamps: float = 0.0


@dataclass(frozen=True)
class _Kept:
    tracker: DialogueStateTracker
    mark: Mark
    length: int  # len(tracker.events) when kept: more means it was changed since


def size() -> int:
    return int(tunable("CIVICLINE_TRACKER_CACHE_SIZE", DEFAULT_SIZE))


class TrackerCache:
    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = size() if capacity is None else capacity
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._lock = threading.Lock()  # reads and saves run in worker threads

    def take(self, sender_id: str) -> _Kept | None:
        with self._lock:
            return self._kept.pop(sender_id, None)

    def keep(self, tracker: DialogueStateTracker, mark: Mark, since: int) -> None:
        """Keep ``tracker`` as saved, unless the events added since index ``since`` (those of
        this save) start a new session: a rebuild would then hold the new session only."""
        if self.capacity <= 0 or any(isinstance(event, SessionStarted)
                                     for event in list(tracker.events)[since:]):
            self.forget(tracker.sender_id)
            return
        with self._lock:
            self._kept[tracker.sender_id] = _Kept(tracker, mark, len(tracker.events))
            self._kept.move_to_end(tracker.sender_id)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)

    def forget(self, sender_id: str) -> None:
        with self._lock:
            self._kept.pop(sender_id, None)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def mark_of(session: Any, table: Any, sender_id: str, upto: int | None = None) -> Mark:
    """``sender_id``'s rows: how many, the highest id, and the sum of the timestamps of the
    rows with an id up to ``upto`` (all when None); one query on the sender's index."""
    stamps = sa.func.sum(table.timestamp if upto is None else
                         sa.case((table.id <= upto, table.timestamp), else_=0.0))
    rows, last_id, total = session.query(sa.func.count(table.id), sa.func.max(table.id),
                                         stamps).filter(table.sender_id == sender_id).one()
    return Mark(int(rows or 0), int(last_id or 0), float(total or 0.0))


def reuse(kept: _Kept | None, mark: Mark, session: Any, table: Any
          ) -> DialogueStateTracker | None:
    """The kept tracker brought up to ``mark``, or None when it must be rebuilt."""
    if kept is None or len(kept.tracker.events) != kept.length \
            or mark.stamps != kept.mark.stamps:
        return None
    if mark == kept.mark:
        return kept.tracker
    added = mark.rows - kept.mark.rows
    if added <= 0 or mark.last_id <= kept.mark.last_id:
        return None
    rows = session.query(table.type_name, table.data).filter(
        table.sender_id == kept.tracker.sender_id, table.id > kept.mark.last_id,
        table.id <= mark.last_id).order_by(table.id).all()
    if len(rows) != added or any(row.type_name == SessionStarted.type_name for row in rows):
        return None  # rows deleted as others were added, or a new session: rebuild
    for row in rows:
        kept.tracker.update(Event.from_parameters(json.loads(row.data)))
    return kept.tracker


def handed_out(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """Note on ``tracker`` how many of its events the database holds (for ``save``)."""
    setattr(tracker, STORED, len(tracker.events))
    return tracker


def stored_length(tracker: DialogueStateTracker) -> int | None:
    return getattr(tracker, STORED, None)

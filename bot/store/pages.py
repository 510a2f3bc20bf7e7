"""Keyset pagination for every list the API gives (SPEC §7: ``?limit=&cursor=``).

A page is ``limit`` rows in a fixed order that ends with a unique column (the id or slug); the
cursor is the last row's sort key, with the list and filter it belongs to, as URL-safe base64
of JSON. Opaque to callers, and stable: rows added or removed before the cursor never shift the
next page (an offset would repeat or skip rows). A cursor that does not decode, or was made
for another list or filter, is a :class:`CursorError` (the API answers 422 with the reason).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, literal, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
Order = Sequence[tuple[Any, bool]]  # (column, ascending), the last one unique


class CursorError(ValueError):
    """A cursor that cannot be used for this list."""


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_cursor: str | None


def _encode(scope: str, key: list[Any]) -> str:
    values = [v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for v in key]
    raw = json.dumps({"s": scope, "k": values}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _typed(column: Any, value: Any) -> Any:
    kind = column.type.python_type
    if value is None:
        return None
    if kind is dt.datetime and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if kind is dt.date and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    raise TypeError(value)


def decode(cursor: str, scope: str, order: Order) -> list[Any]:
    """The sort key a cursor holds, typed as the columns of ``order``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        document = json.loads(raw.decode("utf-8"))
        values = document["k"]
        if document["s"] != scope:
            raise CursorError("the cursor belongs to another list or filter: start again "
                              "without it")
        if len(values) != len(order):
            raise TypeError(values)
        return [_typed(column, value) for (column, _), value in zip(order, values, strict=True)]
    except CursorError:
        raise
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise CursorError("the cursor is not one this API gave: use next_cursor as it "
                          "came") from exc


def _after(order: Order, key: list[Any]) -> ColumnElement:
    """Rows after ``key`` in ``order``: (c1 > v1) or (c1 = v1 and c2 > v2) or ..."""
    alternatives = []
    values = [literal(v, column.type) for (column, _), v in zip(order, key, strict=True)]
    for index, (column, ascending) in enumerate(order):
        equal = [c == v for (c, _), v in zip(order[:index], values[:index], strict=True)]
        beyond = column > values[index] if ascending else column < values[index]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


def page(session: Session, query: Select, order: Order, scope: str, limit: int,
         cursor: str | None) -> Page:
    """One page of ``query`` in ``order`` after ``cursor`` (None: the first page)."""
    if cursor:
        query = query.where(_after(order, decode(cursor, scope, order)))
    query = query.order_by(*(c.asc() if up else c.desc() for c, up in order)).limit(limit + 1)
    rows = list(session.scalars(query).unique())
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(rows, _encode(scope, [getattr(last, c.key) for c, _ in order]))

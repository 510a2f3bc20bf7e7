"""Bar charts as inline SVG, drawn on the server (no script, no CDN): each chart on the
analytics page stands beside the table that holds its data, and says so to a screen reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LABEL_WIDTH = 290
BAR_WIDTH = 330
ROW = 26
BAR_HEIGHT = 16


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str
    y: int
    width: float


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    bar_width: int = BAR_WIDTH

    @property
    def width(self) -> int:
        return self.label_width + self.bar_width + 90


def _shown(value: float, unit: str) -> str:
    number = f"{value:.1f}".removesuffix(".0") if isinstance(value, float) else str(value)
    return f"{number}{unit}"


def bars(title: str, items: list[tuple[str, float | None]], unit: str = "",
         scale: float | None = None) -> Chart:
    """A horizontal bar per (label, value); ``scale`` is the full bar's value (100 for a
    percentage, else the largest value). A missing value is drawn as no bar and "n/a"."""
    known = [value for _label, value in items if value is not None]
    top = scale or max(known, default=0) or 1
    drawn = []
    for index, (label, value) in enumerate(items):
        width = 0.0 if value is None else max(1.0, BAR_WIDTH * value / top) if value else 0.0
        drawn.append(Bar(label, value or 0, "n/a" if value is None else _shown(value, unit),
                         10 + index * ROW, round(width, 1)))
    return Chart(title, drawn, 20 + len(items) * ROW)


def place(row: dict[str, Any], names: dict[str, dict[str, str]]) -> str:
    """A row's channel and language as words: "SMS · Spanish"."""
    channel = names["channels"].get(row.get("channel"), row.get("channel") or "")
    language = names["languages"].get(row.get("language"), row.get("language") or "")
    return " · ".join(part for part in (channel, language) if part)

"""The city catalogue's schema (docs/catalogue.md): what a valid entry is, and where it is wrong.

One validator serves the YAML file (``python -m bot catalogue load``), the API's JSON bodies and
the console's forms. It reads plain Python values and returns each entry in its canonical form
(languages in the order en, es, fr, ar; weekdays "0" (Monday) to "6", all present; office
services and holidays sorted; optional fields left out when empty), which is also what export
writes. Every problem is a :class:`Problem` naming the field by its path
(``offices[2].hours."7"``); for a file, :func:`yaml_lines` maps each path to its line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from bot.language.detect import SUPPORTED
from bot.store.models import SERVICE_STATUSES

Path = tuple[str | int, ...]
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")
PHONE = re.compile(r"\+[1-9]\d{6,14}")
PLACE_KINDS = ("access", "class")
SECTIONS = ("services", "offices", "digital_places", "digital_guides")
MAX_TEXT = 300
MAX_DESKS = 100


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str

    def where(self) -> str:
        text = ""
        for part in self.path:
            if isinstance(part, int):
                text += f"[{part}]"
            else:
                plain = SLUG.fullmatch(part) and not part.isdigit()
                text += ("." if text else "") + (part if plain else f'"{part}"')
        return text or "the file"


class CatalogueError(ValueError):
    """The catalogue (or one entry of it) is not valid; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem], lines: Mapping[Path, int] | None = None,
                 source: str = ""):
        self.problems = problems
        self.lines = lines or {}
        self.source = source
        super().__init__("\n".join(self.describe()))

    def line_of(self, path: Path) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def describe(self) -> list[str]:
        out = []
        for problem in self.problems:
            line = self.line_of(problem.path)
            where = f"{self.source}:{line}: " if line and self.source else (
                f"line {line}: " if line else "")
            out.append(f"{where}{problem.where()}: {problem.message}")
        return out

    def fields(self) -> dict[str, str]:
        return {problem.where(): problem.message for problem in self.problems}


class _Checker:
    """Collects problems while entries are read."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path, message))

    def mapping(self, value: Any, path: Path, required: tuple[str, ...],
                optional: tuple[str, ...]) -> dict | None:
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping of fields")
            return None
        for name in required:
            if name not in value:
                self.fail(path, f"'{name}' is missing")
        for name in value:
            if name not in required and name not in optional:
                allowed = ", ".join((*required, *optional))
                self.fail((*path, str(name)), f"unknown field (allowed: {allowed})")
        return value

    def text(self, value: Any, path: Path, max_length: int = MAX_TEXT) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "must be a non-empty text")
            return None
        if len(value) > max_length:
            self.fail(path, f"is longer than {max_length} characters")
            return None
        return value.strip()

    def slug(self, value: Any, path: Path) -> str | None:
        if not isinstance(value, str) or not SLUG.fullmatch(value):
            self.fail(path, "must be a slug: lower-case letters, digits, '_' or '-', "
                      "at most 64")
            return None
        return value

    def per_language(self, value: Any, path: Path, read: Callable[[Any, Path], Any],
                     every: bool = True) -> dict[str, Any]:
        """{lang: read(value)}, in SUPPORTED order; ``every``: all four languages needed."""
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping of language code (en, es, fr, ar) to text")
            return {}
        for lang in value:
            if lang not in SUPPORTED:
                self.fail((*path, str(lang)), "not a supported language (en, es, fr, ar)")
        if every:
            missing = [lang for lang in SUPPORTED if lang not in value]
            if missing:
                self.fail(path, f"missing language(s): {', '.join(missing)} (every text "
                          "citizens see exists in en, es, fr and ar)")
        return {lang: read(value[lang], (*path, lang)) for lang in SUPPORTED if lang in value}

    def words(self, value: Any, path: Path) -> list[str]:
        if not isinstance(value, list) or not value:
            self.fail(path, "must be a non-empty list of words")
            return []
        out = []
        for index, word in enumerate(value):
            text = self.text(word, (*path, index), 60)
            if text is not None:
                if text != text.lower():
                    self.fail((*path, index), "keywords are lower case")
                out.append(text)
        return out

    def steps(self, value: Any, path: Path) -> list[str]:
        if not isinstance(value, list) or not value:
            self.fail(path, "must be a non-empty list of steps")
            return []
        steps = [self.text(step, (*path, index)) for index, step in enumerate(value)]
        return [step for step in steps if step is not None]


# --- entries -----------------------------------------------------------------------------------


def _service(check: _Checker, value: Any, path: Path) -> dict | None:
    item = check.mapping(value, path, ("slug", "names"), ("keywords", "status", "message"))
    if item is None:
        return None
    out: dict[str, Any] = {"slug": check.slug(item.get("slug"), (*path, "slug")),
                           "names": check.per_language(item.get("names"), (*path, "names"),
                                                       check.text)}
    if item.get("keywords"):
        out["keywords"] = check.per_language(item["keywords"], (*path, "keywords"),
                                             check.words, every=False)
    status = item.get("status", "operational")
    if status not in SERVICE_STATUSES:
        check.fail((*path, "status"), f"must be one of: {', '.join(SERVICE_STATUSES)}")
    out["status"] = status
    if item.get("message"):
        out["message"] = check.per_language(item["message"], (*path, "message"), check.text,
                                            every=False)
    return out


def _hours(check: _Checker, value: Any, path: Path) -> dict[str, list[list[str]]]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        check.fail(path, 'must map weekdays "0" (Monday) to "6" (Sunday) to opening ranges')
        return {}
    days = {str(day): [] for day in range(7)}
    for day, ranges in value.items():
        where = (*path, str(day))
        if str(day) not in days:
            check.fail(where, 'not a weekday: use "0" (Monday) to "6" (Sunday)')
            continue
        if ranges is None:
            continue
        if not isinstance(ranges, list):
            check.fail(where, 'must be a list of ranges like ["09:00", "17:00"] ([] : closed)')
            continue
        for index, pair in enumerate(ranges):
            spot = (*where, index)
            if (not isinstance(pair, list) or len(pair) != 2
                    or not all(isinstance(t, str) and CLOCK.fullmatch(t) for t in pair)):
                check.fail(spot, 'must be a range of two quoted times, like ["09:00", "17:00"]')
            elif pair[0] >= pair[1]:
                check.fail(spot, f"opens ({pair[0]}) after it closes ({pair[1]})")
            else:
                days[str(day)].append([pair[0], pair[1]])
        days[str(day)].sort()
    return days


def _day(check: _Checker, value: Any, path: Path) -> str | None:
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        check.fail(path, "must be a date like 2026-12-25")
        return None


def _holidays(check: _Checker, value: Any, path: Path) -> list[dict]:
    if not isinstance(value, list):
        check.fail(path, "must be a list of {day, names}")
        return []
    out, seen = [], set()
    for index, item in enumerate(value):
        where = (*path, index)
        entry = check.mapping(item, where, ("day", "names"), ())
        if entry is None:
            continue
        day = _day(check, entry.get("day"), (*where, "day"))
        if day in seen:
            check.fail((*where, "day"), f"{day} is listed twice")
        seen.add(day)
        out.append({"day": day, "names": check.per_language(entry.get("names"),
                                                            (*where, "names"), check.text)})
    return sorted(out, key=lambda h: h["day"] or "")


def _office(check: _Checker, value: Any, path: Path) -> dict | None:
    item = check.mapping(value, path, ("slug", "names", "address"),
                         ("keywords", "phone", "hours", "desks", "services", "holidays"))
    if item is None:
        return None
    out: dict[str, Any] = {
        "slug": check.slug(item.get("slug"), (*path, "slug")),
        "names": check.per_language(item.get("names"), (*path, "names"), check.text),
    }
    if item.get("keywords"):
        out["keywords"] = check.per_language(item["keywords"], (*path, "keywords"),
                                             check.words, every=False)
    out["address"] = check.text(item.get("address"), (*path, "address"), 255)
    if item.get("phone") is not None:
        phone = item["phone"]
        if not isinstance(phone, str) or not PHONE.fullmatch(phone):
            check.fail((*path, "phone"), 'must be a quoted E.164 number, like "+15550100100"')
        out["phone"] = phone
    out["hours"] = _hours(check, item.get("hours"), (*path, "hours"))
    if item.get("desks") is not None:
        desks = item["desks"]
        if not isinstance(desks, int) or isinstance(desks, bool) or not 1 <= desks <= MAX_DESKS:
            check.fail((*path, "desks"), f"must be a whole number from 1 to {MAX_DESKS}")
        out["desks"] = desks
    services = item.get("services") or []
    if not isinstance(services, list):
        check.fail((*path, "services"), "must be a list of service slugs")
        services = []
    out["services"] = sorted({s for i, s in enumerate(services)
                              if check.slug(s, (*path, "services", i))})
    out["holidays"] = _holidays(check, item.get("holidays") or [], (*path, "holidays"))
    if not out["services"]:
        del out["services"]
    if not out["holidays"]:
        del out["holidays"]
    return out


def _place(check: _Checker, value: Any, path: Path) -> dict | None:
    item = check.mapping(value, path, ("slug", "kind", "names", "address"), ("when",))
    if item is None:
        return None
    if item.get("kind") not in PLACE_KINDS:
        check.fail((*path, "kind"), "must be access (free internet or computers) or class")
    out = {"slug": check.slug(item.get("slug"), (*path, "slug")), "kind": item.get("kind"),
           "names": check.per_language(item.get("names"), (*path, "names"), check.text),
           "address": check.text(item.get("address"), (*path, "address"), 255)}
    if item.get("when"):
        out["when"] = check.per_language(item["when"], (*path, "when"), check.text)
    return out


def _guide(check: _Checker, value: Any, path: Path) -> dict | None:
    item = check.mapping(value, path, ("slug", "titles", "steps"), ("keywords",))
    if item is None:
        return None
    out = {"slug": check.slug(item.get("slug"), (*path, "slug")),
           "titles": check.per_language(item.get("titles"), (*path, "titles"), check.text)}
    if item.get("keywords"):
        out["keywords"] = check.per_language(item["keywords"], (*path, "keywords"),
                                             check.words, every=False)
    out["steps"] = check.per_language(item.get("steps"), (*path, "steps"), check.steps)
    return out


READERS = {"services": _service, "offices": _office, "digital_places": _place,
           "digital_guides": _guide}


def entry(section: str, value: Any) -> dict:
    """One entry of ``section`` (an API body, a console form) in canonical form, or a
    :class:`CatalogueError`."""
    check = _Checker()
    out = READERS[section](check, value, ())
    if check.problems or out is None:
        raise CatalogueError(check.problems or [Problem((), "not valid")])
    return out


def document(data: Any, known_services: set[str] = frozenset(),
             extra_sections: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """A whole catalogue in canonical form: each section a list; slugs unique per section;
    each office's services in the file or ``known_services`` (already in the database)."""
    check = _Checker()
    if not isinstance(data, dict):
        raise CatalogueError([Problem((), "the file must be a mapping with sections: "
                                      + ", ".join(SECTIONS))])
    for name in data:
        if name not in SECTIONS and name not in extra_sections:
            check.fail((str(name),), f"unknown section (allowed: {', '.join(SECTIONS)})")
    out: dict[str, list[dict]] = {}
    offices: list[tuple[int, dict]] = []
    for section in SECTIONS:
        items = data.get(section) or []
        if not isinstance(items, list):
            check.fail((section,), "must be a list of entries")
            items = []
        out[section], seen = [], set()
        for index, item in enumerate(items):
            entry_ = READERS[section](check, item, (section, index))
            if entry_ is None:
                continue
            if entry_["slug"] in seen:
                check.fail((section, index, "slug"), f"{entry_['slug']} is used twice")
            seen.add(entry_["slug"])
            out[section].append(entry_)
            if section == "offices":
                offices.append((index, item))
    services = known_services | {s["slug"] for s in out["services"]}
    for index, item in offices:
        for position, slug in enumerate(item.get("services") or []):
            if isinstance(slug, str) and slug not in services:
                check.fail(("offices", index, "services", position),
                           f"unknown service {slug!r} (not in this file's services)")
    if check.problems:
        raise CatalogueError(check.problems)
    return out


# --- YAML with line numbers --------------------------------------------------------------------


def yaml_lines(text: str) -> dict[Path, int]:
    """The line (1-based) of every value in a YAML document, by its path."""
    lines: dict[Path, int] = {}

    def walk(node: yaml.Node, path: Path) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, str(key.value)))
                lines[(*path, str(key.value))] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                walk(value, (*path, index))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return lines


def parse_yaml(text: str, source: str, known_services: set[str] = frozenset(),
               extra_sections: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """A catalogue file's text, validated; a :class:`CatalogueError` names line and field."""
    try:
        data = yaml.safe_load(text)
        lines = yaml_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogueError([Problem((), f"not valid YAML: {problem}")],
                             {(): mark.line + 1} if mark else {}, source) from exc
    try:
        return document(data, known_services, extra_sections)
    except CatalogueError as exc:
        raise CatalogueError(exc.problems, lines, source) from None

"""The city's own catalogue (SPEC §7, docs/catalogue.md): services, offices (names and keywords
per language, address, phone, hours, desks, holidays, services offered), digital-help places
and guides, loaded from a file, exported to one, and changed one entry at a time (API, console).

Entries are matched by slug. What an entry says follows the file or the request, with one
exception: a service's ``status`` and ``message`` are set when the service is created, then
belong to the operators (``PUT /api/services/{slug}/status``), so loading the file again never
undoes an outage notice. Entries the file does not name are kept (cases and bookings point at
them) and reported (:attr:`Result.not_in_file`); with ``prune`` they are *retired* (any
entry: :func:`retire`): the row stays, with ``retired_at``, so cases and bookings still show
it, but the assistant no longer offers it (bot.domain.services, offices, digital read only
entries not retired), the API and the console list it no more, and export leaves it out. A
file (or ``upsert``) naming a retired entry brings it back. The canonical form of an entry
(:func:`service_entry`, :func:`office_entry`...) is what export writes and what the API
returns, so load → export gives the file back, line for line, when it is in canonical form
(bot/domain/catalogue_schema.py).

Every change is audited (``catalogue.load``, ``catalogue.<kind>.create|update|retire``) when
an ``actor`` is given; the demo seed (bot/store/seed.py) gives none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import audit
from bot.domain.catalogue_schema import SECTIONS, CatalogueError, Problem, entry, parse_yaml
from bot.store.models import (
    DigitalGuide,
    DigitalPlace,
    Office,
    OfficeHoliday,
    Service,
    utcnow,
)

HEADER = ("# CivicLine catalogue: services, offices and digital help. Schema: docs/catalogue.md\n"
          "# Load with `python -m bot catalogue load FILE`; written by `catalogue export`.\n")
MODELS: dict[str, type] = {"services": Service, "offices": Office,
                           "digital_places": DigitalPlace, "digital_guides": DigitalGuide}
KIND_NAMES = {"services": "service", "offices": "office", "digital_places": "digital_place",
              "digital_guides": "digital_guide"}
RETIRABLE = ("services", "offices", "digital_places", "digital_guides")


@dataclass
class Result:
    """How many entries of each section were created and updated (holidays: created)."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        (*SECTIONS, "office_holidays"), 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    # Load: the entries in the catalogue the file does not name, and those retired (--prune).
    not_in_file: dict[str, list[str]] = field(default_factory=dict)
    retired: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        return ", ".join(f"{name} +{self.created[name]} ~{self.updated.get(name, 0)}"
                         + (f" -{len(self.retired[name])}" if self.retired.get(name) else "")
                         for name in self.created)


# --- canonical entries from rows -----------------------------------------------------------


def _some(**values: Any) -> dict[str, Any]:
    """The fields that have a value (optional fields are left out when empty)."""
    return {k: v for k, v in values.items() if v not in (None, {}, [])}


def service_entry(service: Service) -> dict[str, Any]:
    return _some(slug=service.slug, names=service.names, keywords=service.keywords,
                 status=service.status, message=service.message)


def office_entry(office: Office) -> dict[str, Any]:
    return _some(slug=office.slug, names=office.names, keywords=office.keywords,
                 address=office.address, phone=office.phone, hours=office.hours,
                 desks=office.desks, services=sorted(s.slug for s in office.services
                                                     if s.retired_at is None),
                 holidays=[{"day": h.day.isoformat(), "names": h.names}
                           for h in sorted(office.holidays, key=lambda h: h.day)])


def place_entry(place: DigitalPlace) -> dict[str, Any]:
    return _some(slug=place.slug, kind=place.kind, names=place.names, address=place.address,
                 when=place.when)


def guide_entry(guide: DigitalGuide) -> dict[str, Any]:
    return _some(slug=guide.slug, titles=guide.titles, keywords=guide.keywords,
                 steps=guide.steps)


ENTRIES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "services": service_entry, "offices": office_entry, "digital_places": place_entry,
    "digital_guides": guide_entry}


# --- applying entries ----------------------------------------------------------------------


def _set(row: object, values: Mapping[str, Any]) -> bool:
    """Set only the attributes that differ (an unchanged row stays clean); whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _holidays(session: Session, office: Office, wanted: list[dict], keep_others: bool) -> int:
    """Make the office's holidays the wanted ones (``keep_others``: only add and rename);
    returns how many were added."""
    known = {holiday.day.isoformat(): holiday for holiday in office.holidays}
    added = 0
    for item in wanted:
        holiday = known.pop(item["day"], None)
        if holiday is None:
            office.holidays.append(OfficeHoliday(day=dt.date.fromisoformat(item["day"]),
                                                 names=item["names"]))
            added += 1
        else:
            _set(holiday, {"names": item["names"]})
    if not keep_others:
        for holiday in known.values():
            office.holidays.remove(holiday)
    if known and not keep_others:
        session.flush()
    return added


def _content(section: str, item: dict[str, Any], session: Session) -> dict[str, Any]:
    """The column values of an entry (a service's status and message apart)."""
    if section == "services":
        return {"names": item["names"], "keywords": item.get("keywords", {})}
    if section == "offices":
        services = {s.slug: s for s in session.scalars(
            select(Service).where(Service.slug.in_(item.get("services", []))))}
        return {"names": item["names"], "keywords": item.get("keywords", {}),
                "address": item["address"], "phone": item.get("phone"),
                "hours": item["hours"], "desks": item.get("desks"),
                "services": [services[slug] for slug in item.get("services", [])]}
    if section == "digital_places":
        return {"kind": item["kind"], "names": item["names"], "address": item["address"],
                "when": item.get("when", {})}
    return {"titles": item["titles"], "keywords": item.get("keywords", {}),
            "steps": item["steps"]}


def upsert(session: Session, section: str, item: dict[str, Any], result: Result,
           keep_hand_added_holidays: bool = False) -> Any:
    """Create or bring up to date the row of one canonical entry; returns the row."""
    model = MODELS[section]
    row = session.scalar(select(model).where(model.slug == item["slug"]))
    content = _content(section, item, session)
    if section == "offices":
        relation = content.pop("services")
    if row is None:
        extra = ({"status": item["status"], "message": item.get("message", {})}
                 if section == "services" else {})
        row = model(slug=item["slug"], **content, **extra)
        session.add(row)
        result.created[section] += 1
        changed = False
    else:
        changed = _set(row, content)
        if getattr(row, "retired_at", None) is not None:  # named again: offered again
            row.retired_at = None
            changed = True
    if section == "offices":
        if {s.slug for s in row.services} != {s.slug for s in relation}:
            row.services = relation
            changed = True
        added = _holidays(session, row, item.get("holidays", []), keep_hand_added_holidays)
        result.created["office_holidays"] += added
        changed = changed or bool(added)
    if section == "services" and changed:
        row.updated_at = utcnow()
    if changed and row.id is not None:
        result.updated[section] += 1
    session.flush()
    return row


def apply(session: Session, document: dict[str, list[dict]],
          keep_hand_added_holidays: bool = False) -> Result:
    """Upsert a validated catalogue (services first: offices point at them)."""
    result = Result()
    for section in SECTIONS:
        for item in document.get(section, []):
            upsert(session, section, item, result, keep_hand_added_holidays)
    return result


def known_services(session: Session) -> set[str]:
    """The slugs of the services not retired (what an office may offer)."""
    return set(session.scalars(select(Service.slug).where(Service.retired_at.is_(None))))


def active(model: type) -> Any:
    """The rows of ``model`` not retired (a query)."""
    query = select(model)
    return query.where(model.retired_at.is_(None)) if hasattr(model, "retired_at") else query


def retire(session: Session, section: str, row: Any, actor: str | None) -> bool:
    """Retire an entry (kept for what refers to it, offered no more); False if it was."""
    if section not in RETIRABLE:
        raise ValueError(f"{section} entries cannot be retired")
    if row.retired_at is not None:
        return False
    row.retired_at = utcnow()
    session.flush()
    if actor:
        audit.record(session, actor, f"catalogue.{KIND_NAMES[section]}.retire", row.slug)
    return True


def _not_named(session: Session, document: dict[str, list[dict]]) -> dict[str, list[Any]]:
    """The entries (not retired) of each retirable section that ``document`` does not name."""
    missing = {}
    for section in RETIRABLE:
        named = {item["slug"] for item in document.get(section, [])}
        rows = [row for row in session.scalars(active(MODELS[section])
                                               .order_by(MODELS[section].slug))
                if row.slug not in named]
        if rows:
            missing[section] = rows
    return missing


# --- the file ------------------------------------------------------------------------------


def load(session: Session, path: Path, actor: str, prune: bool = False) -> Result:
    """Validate the file (a :class:`CatalogueError` names line and field) and apply it; the
    entries it does not name are reported, and with ``prune`` retired."""
    text = path.read_text(encoding="utf-8")
    document = parse_yaml(text, str(path), known_services(session))
    result = apply(session, document)
    for section, rows in _not_named(session, document).items():
        result.not_in_file[section] = [row.slug for row in rows]
        if prune:
            for row in rows:
                retire(session, section, row, actor)
            result.retired[section] = [row.slug for row in rows]
    audit.record(session, actor, "catalogue.load", path.name, created=result.created,
                 updated=result.updated, retired=result.retired)
    return result


def export(session: Session) -> str:
    """The whole catalogue as canonical YAML (entries in the order they were created)."""
    document = {section: [ENTRIES[section](row) for row in session.scalars(
        active(MODELS[section]).order_by(MODELS[section].id))] for section in SECTIONS}
    return HEADER + yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                              width=100)


class _Dumper(yaml.SafeDumper):
    """Mappings in block style, one text a line; lists of words or times in flow style."""


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    flow = all(not isinstance(item, dict | list) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, value: dict) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=False)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)


# --- one entry (API, console) --------------------------------------------------------------


def get(session: Session, section: str, slug: str, retired: bool = False) -> Any:
    """The entry ``slug`` of ``section``; a retired one only when ``retired``."""
    model = MODELS[section]
    return session.scalar((select(model) if retired else active(model))
                          .where(model.slug == slug))


def _office_services_known(session: Session, item: dict[str, Any]) -> None:
    known = known_services(session)
    unknown = [s for s in item.get("services", []) if s not in known]
    if unknown:
        raise CatalogueError([Problem(("services",), f"unknown service(s): "
                                      f"{', '.join(unknown)}")])


def create(session: Session, section: str, body: Any, actor: str) -> Any:
    """A new entry from a request body; :class:`CatalogueError` when invalid or taken."""
    item = entry(section, body)
    existing = get(session, section, item["slug"], retired=True)
    if existing is not None:
        retired = " (retired: name it in a catalogue file to bring it back)" \
            if getattr(existing, "retired_at", None) else ""
        raise CatalogueError([Problem(("slug",), f"{item['slug']} exists already{retired}")])
    if section == "offices":
        _office_services_known(session, item)
    row = upsert(session, section, item, Result())
    audit.record(session, actor, f"catalogue.{KIND_NAMES[section]}.create", item["slug"])
    return row


def update(session: Session, section: str, row: Any, changes: Mapping[str, Any],
           actor: str) -> Any:
    """Change some fields of an entry (its slug stays; a service's status has its own
    route); the whole entry is validated again."""
    if "slug" in changes and changes["slug"] != row.slug:
        raise CatalogueError([Problem(("slug",), "a slug cannot change (cases and bookings "
                                      "refer to it): create a new entry instead")])
    if section == "services" and ({"status", "message"} & set(changes)):
        raise CatalogueError([Problem(("status",), "change a service's status with PUT "
                                      "/api/services/{slug}/status")])
    before = ENTRIES[section](row)
    merged = {**before, **changes}
    item = entry(section, {k: v for k, v in merged.items() if v is not None})
    if section == "offices":
        _office_services_known(session, item)
    upsert(session, section, item, Result())
    after = ENTRIES[section](row)
    fields = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if fields:
        audit.record(session, actor, f"catalogue.{KIND_NAMES[section]}.update", row.slug,
                     fields=fields)
    return row

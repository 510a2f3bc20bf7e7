"""Demo data for Riverton: services, offices, digital help and cases, in every language.

:func:`seed_demo_data` reads ``bot/store/data/demo.yml`` and upserts it, so running it again (as
``make run`` does on every start) creates nothing new and breaks nothing an operator changed:

- services, offices, digital places and guides are matched by slug; their descriptive content
  (names, keywords, addresses, hours, steps) follows the file, but a service's *status and
  message* are set only when the service is created: afterwards they belong to the operator
  (``PUT /api/services/{slug}/status``);
- office holidays are matched by (office, day); holidays added by hand are kept;
- cases are matched by reference and never touched once they exist (their status is the
  operator's, and a change would owe the citizen a notification).

The caller owns the transaction: this module flushes but never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import case_detail
from bot.domain.cases import dob_hash
from bot.domain.references import is_valid
from bot.store.models import (
    CASE_STATUSES,
    SERVICE_STATUSES,
    Case,
    DigitalGuide,
    DigitalPlace,
    Office,
    OfficeHoliday,
    Service,
)

DEMO_DATA_PATH = Path(__file__).resolve().parent / "data" / "demo.yml"

KINDS = ("services", "offices", "office_holidays", "digital_places", "digital_guides", "cases")


class SeedError(ValueError):
    """The demo data file is inconsistent (unknown service, bad status, ...)."""


def load_demo_data(path: Path = DEMO_DATA_PATH) -> dict[str, Any]:
    """The parsed demo data file."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise SeedError(f"{path}: expected a mapping at the top level")
    return data


def seed_demo_data(session: Session, path: Path = DEMO_DATA_PATH,
                   cases: bool = True) -> dict[str, int]:
    """Upsert the demo data into ``session``; return how many rows of each kind were created.

    ``cases=False`` (production) leaves out the demo cases.
    """
    data = load_demo_data(path)
    counts = dict.fromkeys(KINDS, 0)
    services = _seed_services(session, data.get("services", []), counts)
    _seed_offices(session, data.get("offices", []), services, counts)
    _seed_places(session, data.get("digital_places", []), counts)
    _seed_guides(session, data.get("digital_guides", []), counts)
    if cases:
        _seed_cases(session, data.get("cases", []), services, counts)
    session.flush()
    return counts


# --- helpers -------------------------------------------------------------------------------


def _texts(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """A fresh copy of a per-language mapping (YAML anchors share one object between rows)."""
    return {
        lang: list(text) if isinstance(text, list) else text for lang, text in (value or {}).items()
    }


def _date(value: str | dt.date | None) -> dt.date | None:
    """An ISO date string (or a date YAML already parsed) as a date."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _update(row: object, values: Mapping[str, Any]) -> None:
    """Set only the attributes that differ, so an unchanged row stays clean (no UPDATE)."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def _by_slug(session: Session, model: type, slugs: Iterable[str]) -> dict[str, Any]:
    rows = session.execute(select(model).where(model.slug.in_(list(slugs)))).scalars()
    return {row.slug: row for row in rows}


# --- services ------------------------------------------------------------------------------


def _seed_services(
    session: Session, items: list[dict[str, Any]], counts: dict[str, int]
) -> dict[str, Service]:
    """Services by slug; status and message only on creation. Returns every service by slug."""
    existing = _by_slug(session, Service, (item["slug"] for item in items))
    for item in items:
        content = {"names": _texts(item["names"]), "keywords": _texts(item.get("keywords"))}
        service = existing.get(item["slug"])
        if service is not None:
            _update(service, content)
            continue
        status = item.get("status", "operational")
        if status not in SERVICE_STATUSES:
            raise SeedError(f"service {item['slug']}: unknown status {status!r}")
        service = Service(
            slug=item["slug"], status=status, message=_texts(item.get("message")), **content
        )
        session.add(service)
        existing[service.slug] = service
        counts["services"] += 1
    session.flush()
    everything = session.execute(select(Service)).scalars()
    return {service.slug: service for service in everything}


# --- offices -------------------------------------------------------------------------------


def _office_services(item: dict[str, Any], services: Mapping[str, Service]) -> list[Service]:
    try:
        return [services[slug] for slug in item.get("services", [])]
    except KeyError as missing:
        raise SeedError(f"office {item['slug']}: unknown service {missing}") from None


def _seed_offices(
    session: Session,
    items: list[dict[str, Any]],
    services: Mapping[str, Service],
    counts: dict[str, int],
) -> None:
    """Offices by slug (content follows the file), then their holidays by (office, day)."""
    existing = _by_slug(session, Office, (item["slug"] for item in items))
    for item in items:
        content = {
            "names": _texts(item["names"]),
            "address": item["address"],
            "phone": item.get("phone"),
            "hours": _hours(item.get("hours")),
            "keywords": item.get("keywords") or {},
        }
        office = existing.get(item["slug"])
        if office is None:
            office = Office(slug=item["slug"], **content)
            session.add(office)
            counts["offices"] += 1
        else:
            _update(office, content)
        wanted = _office_services(item, services)
        if {s.slug for s in office.services} != {s.slug for s in wanted}:
            office.services = wanted
        _seed_holidays(office, item.get("holidays", []), counts)


def _hours(hours: Mapping[Any, Any] | None) -> dict[str, list[list[str]]]:
    """Weekly hours with string weekday keys "0" (Monday) to "6" and string times."""
    hours = hours or {}
    return {
        str(day): [[str(start), str(end)] for start, end in hours.get(str(day), [])]
        for day in range(7)
    }


def _seed_holidays(office: Office, items: list[dict[str, Any]], counts: dict[str, int]) -> None:
    """Add missing holidays, refresh names of known ones, keep any added by hand."""
    known = {holiday.day: holiday for holiday in office.holidays}
    for item in items:
        day = _date(item["day"])
        names = _texts(item.get("names"))
        holiday = known.get(day)
        if holiday is None:
            holiday = OfficeHoliday(day=day, names=names)
            office.holidays.append(holiday)
            known[day] = holiday
            counts["office_holidays"] += 1
        else:
            _update(holiday, {"names": names})


# --- digital help --------------------------------------------------------------------------


def _seed_places(session: Session, items: list[dict[str, Any]], counts: dict[str, int]) -> None:
    """Free internet/computer access points and digital-skills classes, by slug."""
    existing = _by_slug(session, DigitalPlace, (item["slug"] for item in items))
    for item in items:
        if item["kind"] not in ("access", "class"):
            raise SeedError(f"digital place {item['slug']}: unknown kind {item['kind']!r}")
        content = {
            "kind": item["kind"],
            "names": _texts(item["names"]),
            "address": item["address"],
            "when": _texts(item.get("when")),
        }
        counts["digital_places"] += _upsert(session, DigitalPlace, existing, item["slug"], content)


def _seed_guides(session: Session, items: list[dict[str, Any]], counts: dict[str, int]) -> None:
    """Step-by-step portal guides, by slug."""
    existing = _by_slug(session, DigitalGuide, (item["slug"] for item in items))
    for item in items:
        content = {
            "titles": _texts(item["titles"]),
            "keywords": _texts(item.get("keywords")),
            "steps": _texts(item["steps"]),
        }
        counts["digital_guides"] += _upsert(session, DigitalGuide, existing, item["slug"], content)


def _upsert(
    session: Session,
    model: type,
    existing: Mapping[str, Any],
    slug: str,
    content: Mapping[str, Any],
) -> int:
    """Create the row for ``slug`` (returns 1) or bring the existing one up to date (returns 0)."""
    row = existing.get(slug)
    if row is None:
        session.add(model(slug=slug, **content))
        return 1
    _update(row, content)
    return 0


# --- cases ---------------------------------------------------------------------------------


def _seed_cases(
    session: Session,
    items: list[dict[str, Any]],
    services: Mapping[str, Service],
    counts: dict[str, int],
) -> None:
    """Create the demo cases that do not exist yet; existing ones are left exactly as they are."""
    references = [str(item["reference"]) for item in items]
    query = select(Case.reference).where(Case.reference.in_(references))
    known = set(session.execute(query).scalars())
    for item in items:
        reference = str(item["reference"])
        if reference in known:
            continue
        session.add(_new_case(item, reference, services))
        known.add(reference)
        counts["cases"] += 1


def _dob_hash(value: str | dt.date | None) -> str | None:
    """The stored (hashed) form of a demo case's date of birth (bot.domain.cases.dob_hash)."""
    day = _date(value)
    return dob_hash(day) if day else None


def _new_case(item: dict[str, Any], reference: str, services: Mapping[str, Service]) -> Case:
    if not is_valid(reference):
        raise SeedError(f"case {reference}: not 8 digits ending in a Luhn check digit")
    service = services.get(item["service"])
    if service is None:
        raise SeedError(f"case {reference}: unknown service {item['service']!r}")
    if item["status"] not in CASE_STATUSES:
        raise SeedError(f"case {reference}: unknown status {item['status']!r}")
    return Case(
        reference=reference,
        service=service,
        status=item["status"],
        phone=item.get("phone"),
        date_of_birth_hash=_dob_hash(item.get("date_of_birth")),
        language=item.get("language", "en"),
        detail=case_detail.encode(item.get("detail"), item.get("language", "en")),
    )

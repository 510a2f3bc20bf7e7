"""Demo data for Riverton: services, offices, digital help and cases, in every language.

Development only, and only when asked (``python -m bot setup --demo``, which ``make run`` does;
production refuses it). :func:`seed_demo_data` reads ``bot/store/data/demo.yml`` (a catalogue
file, docs/catalogue.md, plus a ``cases`` section) and upserts it, so running it again creates
nothing new and breaks nothing an operator changed:

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import case_detail, catalogue, catalogue_schema
from bot.domain.cases import dob_hash
from bot.domain.references import is_valid
from bot.store.models import CASE_STATUSES, Case, Service

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

    The catalogue part is validated and applied like a city's own file
    (bot/domain/catalogue.py), keeping holidays added by hand; ``cases=False`` leaves out the
    demo cases.
    """
    text = path.read_text(encoding="utf-8")
    try:
        document = catalogue_schema.parse_yaml(text, str(path), extra_sections=("cases",))
    except catalogue_schema.CatalogueError as exc:
        raise SeedError(str(exc)) from exc
    created = catalogue.apply(session, document, keep_hand_added_holidays=True).created
    counts = {kind: created.get(kind, 0) for kind in KINDS}
    if cases:
        services = {service.slug: service for service in session.scalars(select(Service))}
        _seed_cases(session, yaml.safe_load(text).get("cases", []), services, counts)
    session.flush()
    return counts


def _date(value: str | dt.date | None) -> dt.date | None:
    """An ISO date string (or a date YAML already parsed) as a date."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


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

"""Retiring catalogue entries (issue 14 §3): a retired service, office or digital-help place
is offered to citizens no more (the assistant's searches, the booking choices), is left out
of lists and exports, and is kept for the cases that refer to it; `catalogue load` reports the
entries a file does not name and retires them only with ``--prune``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import bookings, case_help, cases, catalogue, digital, offices, services
from bot.store.models import AuditEntry, Case
from server import api
from server.http import InputError

ROOT = Path(__file__).resolve().parent.parent


def audited(session: Session, action: str) -> list[tuple[str, str]]:
    return [(e.actor, e.target) for e in session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def test_a_retired_office_is_offered_no_more(session: Session) -> None:
    assert offices.match_by_name(session, "where is the riverside hub").slug == "riverside_hub"
    office = catalogue.get(session, "offices", "riverside_hub")
    assert catalogue.retire(session, "offices", office, "api:city-crm") is True
    assert catalogue.retire(session, "offices", office, "api:city-crm") is False  # once
    assert offices.match_by_name(session, "where is the riverside hub") is None or \
        offices.match_by_name(session, "where is the riverside hub").slug != "riverside_hub"
    assert "riverside_hub" not in {o.slug for o in offices.all_offices(session)}
    assert offices.get(session, "riverside_hub") is None
    assert catalogue.get(session, "offices", "riverside_hub") is None
    assert catalogue.get(session, "offices", "riverside_hub", retired=True) is office
    assert "riverside_hub" not in catalogue.export(session)
    assert audited(session, "catalogue.office.retire") == [("api:city-crm", "riverside_hub")]


def test_a_retired_service_is_offered_no_more_and_its_cases_still_show(session: Session) -> None:
    case = session.scalar(select(Case).join(Case.service).where(
        Case.service.has(slug="housing_support")))
    assert services.match(session, "housing support")[0].slug == "housing_support"
    bookable = {s.slug for s in bookings.bookable_services(session)}
    service = catalogue.get(session, "services", "housing_support")
    catalogue.retire(session, "services", service, "dev-admin")
    assert [s.slug for s in services.match(session, "housing support")] == []
    assert services.get(session, "housing_support") is None
    assert "housing_support" not in {s.slug for s in services.all_services(session)}
    assert {s.slug for s in bookings.bookable_services(session)} == bookable - {"housing_support"}
    assert all("housing_support" not in o["services"] for o in
               yaml.safe_load(catalogue.export(session))["offices"])
    # The case that refers to it: as staff and the citizen see it.
    assert cases.to_json(cases.get_by_reference(session, case.reference))["service"] == \
        "housing_support"
    assert case_help.case_label(case, "en").startswith("Housing support")
    # Staff cannot open a new case for it through the API; another service still takes one.
    with pytest.raises(InputError, match="retired") as refused:
        api._create_case(session, {"service": "housing_support", "status": "received"},
                         "api:city-crm")
    assert (refused.value.status, refused.value.fields) == (422, {"service": "retired"})
    status, created = api._create_case(session, {"service": "id_cards", "status": "received"},
                                       "api:city-crm")
    assert status == 201 and created["service"] == "id_cards"


def test_a_retired_digital_place_is_offered_no_more(session: Session) -> None:
    before = [p.slug for p in digital.places(session, "access")]
    assert "central_library_access" in before
    place = catalogue.get(session, "digital_places", "central_library_access")
    catalogue.retire(session, "digital_places", place, "dev-admin")
    assert [p.slug for p in digital.places(session, "access")] == \
        [s for s in before if s != "central_library_access"]


def test_a_retired_guide_is_offered_no_more(session: Session, tmp_path: Path) -> None:
    assert digital.match_guide(session, "I forgot my password").slug == "reset_password"
    document = yaml.safe_load(catalogue.export(session))
    document["digital_guides"] = [g for g in document["digital_guides"]
                                  if g["slug"] != "reset_password"]
    path = tmp_path / "city.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    assert catalogue.load(session, path, "cli").not_in_file == {
        "digital_guides": ["reset_password"]}
    assert catalogue.load(session, path, "cli", prune=True).retired == {
        "digital_guides": ["reset_password"]}
    assert digital.get_guide(session, "reset_password") is None
    assert "reset_password" not in {g.slug for g in digital.guides(session)}
    matched = digital.match_guide(session, "I forgot my password")
    assert matched is None or matched.slug != "reset_password"
    assert "reset_password" not in catalogue.export(session)
    assert audited(session, "catalogue.digital_guide.retire") == [("cli", "reset_password")]


def test_load_reports_what_the_file_leaves_out_and_prunes_only_when_asked(
        session: Session, tmp_path: Path) -> None:
    document = yaml.safe_load(catalogue.export(session))
    document["offices"] = [o for o in document["offices"] if o["slug"] != "north_centre"]
    document["digital_places"] = [p for p in document["digital_places"]
                                  if p["slug"] != "class_computer_basics"]
    path = tmp_path / "city.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")

    kept = catalogue.load(session, path, "cli")
    assert kept.not_in_file == {"offices": ["north_centre"],
                                "digital_places": ["class_computer_basics"]}
    assert kept.retired == {} and offices.get(session, "north_centre") is not None

    pruned = catalogue.load(session, path, "cli", prune=True)
    assert pruned.retired == {"offices": ["north_centre"],
                              "digital_places": ["class_computer_basics"]}
    assert offices.get(session, "north_centre") is None
    assert "offices +0 ~0 -1" in pruned.summary()
    assert audited(session, "catalogue.office.retire") == [("cli", "north_centre")]
    again = catalogue.load(session, path, "cli", prune=True)  # nothing left to retire
    assert again.retired == {} and again.not_in_file == {}

    with pytest.raises(catalogue.CatalogueError, match="retired"):  # its slug stays taken
        catalogue.create(session, "offices", {**yaml.safe_load(
            catalogue.export(session))["offices"][0], "slug": "north_centre"}, "cli")
    everything = tmp_path / "all.yml"  # a file naming it again brings it back
    document["offices"].append(yaml.safe_load(path.read_text())["offices"][0]
                               | {"slug": "north_centre"})
    everything.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                          encoding="utf-8")
    catalogue.load(session, everything, "cli")
    assert offices.get(session, "north_centre") is not None


def test_migrations_0016_and_0017_match_the_models_and_downgrade(database: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from bot.store.db import get_engine
    from bot.store.migrate import alembic_config
    from bot.store.models import Base

    with get_engine().connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "retired_at" in repr(d)] == []
    config = alembic_config(database)
    command.downgrade(config, "0016_ops14")
    with get_engine().connect() as connection:
        assert "retired_at" not in {c["name"] for c in
                                    inspect(connection).get_columns("digital_guides")}
        assert "retired_at" in {c["name"] for c in inspect(connection).get_columns("offices")}
    command.downgrade(config, "0015")
    with get_engine().connect() as connection:
        assert "retired_at" not in {c["name"] for c in inspect(connection).get_columns("offices")}
    command.upgrade(config, "head")
    with get_engine().connect() as connection:
        assert "retired_at" in {c["name"] for c in inspect(connection).get_columns("services")}
        assert "retired_at" in {c["name"] for c in
                                inspect(connection).get_columns("digital_guides")}

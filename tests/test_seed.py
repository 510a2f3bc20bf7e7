"""The Riverton demo data: complete in every language, valid, and safe to seed again."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from collections.abc import Iterator

import phonenumbers
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bot.domain.cases import dob_hash
from bot.store.db import build_engine
from bot.store.models import (
    CASE_STATUSES,
    Base,
    Case,
    DigitalGuide,
    DigitalPlace,
    Office,
    OfficeHoliday,
    Service,
)
from bot.store.seed import load_demo_data, seed_demo_data
from tests.support.oracles import luhn_valid

LANGUAGES = ("en", "es", "fr", "ar")
FIXED_CASES = {
    # reference: (status, service, phone, date of birth, language) -- other tests rely on these
    "40217382": ("in_review", "housing_support", "+15550100001", "1985-03-12", "en"),
    "12345674": ("approved", "id_cards", "+34612345678", "1990-07-01", "es"),
    "55501233": ("needs_information", "benefits_line", "+33612345678", "1978-11-30", "fr"),
    "90000001": ("rejected", "parking_permits", "+212612345678", "1969-01-05", "ar"),
}


def fold(word: str) -> str:
    """Lower case without accents/marks, as a matcher might compare words."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@pytest.fixture()
def session(tmp_path) -> Iterator[Session]:
    engine = build_engine(f"sqlite:///{tmp_path}/t.db")
    Base.metadata.create_all(engine)
    with Session(engine, future=True) as db:
        yield db
    engine.dispose()


@pytest.fixture()
def seeded(session: Session) -> tuple[Session, dict[str, int]]:
    counts = seed_demo_data(session)
    session.commit()
    return session, counts


def count(session: Session, model: type) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def assert_all_languages(value: object, where: str) -> None:
    assert isinstance(value, dict), where
    assert set(value) == set(LANGUAGES), f"{where}: languages {sorted(value)}"
    for lang in LANGUAGES:
        text = value[lang]
        if isinstance(text, list):
            assert text and all(isinstance(t, str) and t.strip() for t in text), f"{where}.{lang}"
        else:
            assert isinstance(text, str) and text.strip(), f"{where}.{lang}"


def test_luhn_helper_itself() -> None:
    assert luhn_valid("79927398713")  # the textbook example
    assert not luhn_valid("79927398710")
    assert luhn_valid("12345674")
    assert not luhn_valid("40217385")


def test_first_run_creates_everything(seeded: tuple[Session, dict[str, int]]) -> None:
    session, counts = seeded
    services = session.execute(select(Service)).scalars().all()
    assert counts["services"] == len(services) >= 6
    assert any(s.status == "disrupted" for s in services)
    assert {s.slug: s.status for s in services} == {
        "online_portal": "operational",
        "bin_collection": "disrupted",
        "health_clinic": "operational",
        "buses": "operational",
        "benefits_line": "down",
        "id_cards": "operational",
        "housing_support": "maintenance",
        "parking_permits": "operational",
        "street_problems": "operational",
    }

    offices = session.execute(select(Office)).scalars().all()
    assert counts["offices"] == len(offices) == 3
    for office in offices:
        assert set(office.hours) == {str(day) for day in range(7)}, office.slug
        assert any(office.hours[str(day)] for day in range(7)), office.slug
        assert office.holidays, office.slug
        assert office.services, office.slug
    assert counts["office_holidays"] == count(session, OfficeHoliday) >= 3

    places = session.execute(select(DigitalPlace)).scalars().all()
    assert counts["digital_places"] == len(places)
    kinds = Counter(place.kind for place in places)
    assert kinds["access"] >= 2 and kinds["class"] >= 2

    assert counts["digital_guides"] == count(session, DigitalGuide) >= 4

    cases = session.execute(select(Case)).scalars().all()
    assert counts["cases"] == len(cases) == 10
    assert {case.status for case in cases} == set(CASE_STATUSES)
    assert {case.language for case in cases} == set(LANGUAGES)


def test_second_run_creates_nothing(seeded: tuple[Session, dict[str, int]]) -> None:
    session, _ = seeded
    models = (Service, Office, OfficeHoliday, DigitalPlace, DigitalGuide, Case)
    before = {model: count(session, model) for model in models}
    session.expire_all()  # read everything back from the database, as a new process would
    writes: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        again = seed_demo_data(session)
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert again and set(again.values()) == {0}
    assert writes == []
    assert {model: count(session, model) for model in models} == before


def test_status_changed_between_runs_is_kept(seeded: tuple[Session, dict[str, int]]) -> None:
    session, _ = seeded
    case = session.execute(select(Case).where(Case.reference == "40217382")).scalar_one()
    case.status = "approved"
    bins = session.execute(select(Service).where(Service.slug == "bin_collection")).scalar_one()
    bins.status = "operational"
    bins.message = {lang: "OK" for lang in LANGUAGES}
    session.commit()

    seed_demo_data(session)
    session.commit()
    session.expire_all()

    case = session.execute(select(Case).where(Case.reference == "40217382")).scalar_one()
    assert case.status == "approved"
    bins = session.execute(select(Service).where(Service.slug == "bin_collection")).scalar_one()
    assert bins.status == "operational"
    assert bins.message == {lang: "OK" for lang in LANGUAGES}


def test_hand_added_holiday_is_kept(seeded: tuple[Session, dict[str, int]]) -> None:
    session, _ = seeded
    office = session.execute(select(Office).where(Office.slug == "city_hall")).scalar_one()
    office.holidays.append(OfficeHoliday(day=dt.date(2027, 7, 4), names={"en": "Extra"}))
    session.commit()
    assert seed_demo_data(session)["office_holidays"] == 0
    session.commit()
    session.expire_all()
    office = session.execute(select(Office).where(Office.slug == "city_hall")).scalar_one()
    assert dt.date(2027, 7, 4) in {holiday.day for holiday in office.holidays}


def test_every_text_in_every_language(seeded: tuple[Session, dict[str, int]]) -> None:
    session, _ = seeded
    for service in session.execute(select(Service)).scalars():
        for field in ("names", "keywords"):
            assert_all_languages(getattr(service, field), f"service {service.slug}.{field}")
        # A message is optional (a running service says the status's generic text), but one
        # that is there is there in every language.
        if service.message:
            assert_all_languages(service.message, f"service {service.slug}.message")
        else:
            assert service.status == "operational", service.slug
    for office in session.execute(select(Office)).scalars():
        assert_all_languages(office.names, f"office {office.slug}.names")
        for holiday in office.holidays:
            assert_all_languages(holiday.names, f"holiday {office.slug} {holiday.day}")
    for place in session.execute(select(DigitalPlace)).scalars():
        assert_all_languages(place.names, f"place {place.slug}.names")
        assert_all_languages(place.when, f"place {place.slug}.when")
    for guide in session.execute(select(DigitalGuide)).scalars():
        for field in ("titles", "keywords", "steps"):
            assert_all_languages(getattr(guide, field), f"guide {guide.slug}.{field}")


def test_guide_steps_are_short_and_unnumbered(seeded: tuple[Session, dict[str, int]]) -> None:
    session, _ = seeded
    for guide in session.execute(select(DigitalGuide)).scalars():
        for lang in LANGUAGES:
            steps = guide.steps[lang]
            assert 3 <= len(steps) <= 5, (guide.slug, lang)
            for step in steps:
                assert len(step) <= 90, (guide.slug, lang, step)
                assert not step.lstrip()[:1].isdigit(), (guide.slug, lang, step)
            assert any("riverton.gov/portal" in step for step in steps), (guide.slug, lang)


def test_keywords_lower_case_and_not_shared(seeded: tuple[Session, dict[str, int]]) -> None:
    session, _ = seeded
    for model in (Service, DigitalGuide):
        owners: dict[str, set[str]] = {}
        for row in session.execute(select(model)).scalars():
            for lang in LANGUAGES:
                words = row.keywords[lang]
                assert 8 <= len(words) <= 15, (row.slug, lang, len(words))
                for word in words:
                    assert word == word.lower().strip(), (row.slug, word)
                    owners.setdefault(fold(word), set()).add(row.slug)
        shared = {word: slugs for word, slugs in owners.items() if len(slugs) > 1}
        assert not shared, shared


def test_cases_are_valid(seeded: tuple[Session, dict[str, int]]) -> None:
    session, _ = seeded
    cases = {case.reference: case for case in session.execute(select(Case)).scalars()}
    for reference, case in cases.items():
        assert len(reference) == 8 and reference.isdigit(), reference
        assert luhn_valid(reference), reference
        assert case.date_of_birth_hash is not None, reference
        assert list(case.detail) == [case.language], reference  # {its language: text}
        assert case.detail[case.language].strip(), reference
        assert case.language in LANGUAGES, reference
        number = phonenumbers.parse(case.phone, None)
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        assert e164 == case.phone, reference
    for reference, (status, service, phone, dob, language) in FIXED_CASES.items():
        case = cases[reference]
        assert case.status == status
        assert case.service.slug == service
        assert case.phone == phone
        assert case.date_of_birth_hash == dob_hash(dt.date.fromisoformat(dob))  # never clear
        assert case.language == language


def test_office_hours_and_holidays(seeded: tuple[Session, dict[str, int]]) -> None:
    session, _ = seeded
    offices = {o.slug: o for o in session.execute(select(Office)).scalars()}
    assert offices["city_hall"].hours["5"] == [["09:00", "12:00"]]
    assert offices["north_centre"].hours["4"] == [["09:00", "13:00"]]
    assert offices["riverside_hub"].hours["0"] == []
    assert offices["riverside_hub"].hours["5"] == [["10:00", "13:00"], ["14:00", "18:00"]]
    assert {s.slug for s in offices["riverside_hub"].services} == {
        "parking_permits",
        "benefits_line",
        "health_clinic",
    }
    for office in offices.values():
        for ranges in office.hours.values():
            for start, end in ranges:
                assert len(start) == len(end) == 5 and start < end, office.slug
        assert phonenumbers.is_possible_number(phonenumbers.parse(office.phone, None))
    assert "2026-12-26" in {h.day.isoformat() for h in offices["riverside_hub"].holidays}


def test_data_file_has_no_duplicate_slugs() -> None:
    data = load_demo_data()
    for kind in ("services", "offices", "digital_places", "digital_guides"):
        slugs = [item["slug"] for item in data[kind]]
        assert len(slugs) == len(set(slugs)), kind
    references = [item["reference"] for item in data["cases"]]
    assert len(references) == len(set(references))

"""The catalogue from the demo data: services (§5.2), offices (§5.3) and digital help (§5.5)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from bot.domain import digital, offices, services

# --- Services ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("is the bin collection running", "bin_collection"),
        ("are the bins being collected this week?", "bin_collection"),
        ("¿funciona la recogida de basura?", "bin_collection"),
        ("les poubelles", "bin_collection"),
        ("est-ce que la collecte des déchets marche", "bin_collection"),
        ("هل القمامة", "bin_collection"),
        ("is the website down", "online_portal"),
        ("I can't get on the portal", "online_portal"),
        ("¿funciona la página web?", "online_portal"),
        ("le site ne marche pas", "online_portal"),
        ("الموقع لا يعمل", "online_portal"),
        ("are the buses running", "buses"),
        ("¿hay autobuses hoy?", "buses"),
        ("les bus circulent ?", "buses"),
        ("هل الحافلات تعمل", "buses"),
        ("is the clinic open", "health_clinic"),
        ("el centro de salud", "health_clinic"),
        ("is the benefits line working", "benefits_line"),
        ("la ligne des allocations", "benefits_line"),
        ("housing support", "housing_support"),
        ("parking permit", "parking_permits"),
        ("where can I renew my ID card", "id_cards"),
    ],
)
def test_service_match(session: Session, text: str, slug: str) -> None:
    matched = services.match(session, text)
    assert matched, text
    assert matched[0].slug == slug


@pytest.mark.parametrize("text", ["hello", "thank you", "40217382", "", "مرحبا", "bonjour"])
def test_service_match_nothing(session: Session, text: str) -> None:
    assert services.match(session, text) == []


@pytest.mark.parametrize(
    ("slug", "status", "message_en"),
    [
        ("bin_collection", "disrupted",
         "Collections are one day late this week because of the holiday."),
        ("benefits_line", "down",
         "The phone line is down. Please use the website or visit an office."),
        ("housing_support", "maintenance",
         "Online requests pause on Sunday 2-6 am for upgrades."),
    ],
)
def test_service_status_from_the_demo_data(session: Session, slug: str, status: str,
                                           message_en: str) -> None:
    service = services.get(session, slug)
    assert service.status == status
    assert service.message["en"] == message_en
    assert set(service.names) == set(service.message) == {"en", "es", "fr", "ar"}


def test_set_service_status(session: Session) -> None:
    service = services.get(session, "buses")
    before = service.updated_at
    services.set_status(session, service, "disrupted", {"en": "Route 5 is diverted."},
                        actor="test")
    assert service.status == "disrupted"
    assert service.message["en"] == "Route 5 is diverted."
    assert service.message == {"en": "Route 5 is diverted."}  # nothing old contradicts it
    assert service.updated_at >= before
    with pytest.raises(services.ServiceError):
        services.set_status(session, service, "broken", None, actor="test")
    assert service.status == "disrupted"


# --- Offices ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Mon-Fri 08:30-16:30, Sat 09:00-12:00"),
        ("es", "lun-vie 08:30-16:30, sáb 09:00-12:00"),
        ("fr", "lun-ven 08:30-16:30, sam 09:00-12:00"),
        ("ar", "الاثنين-الجمعة 08:30-16:30، السبت 09:00-12:00"),
        ("de", "Mon-Fri 08:30-16:30, Sat 09:00-12:00"),  # unsupported: English
        (None, "Mon-Fri 08:30-16:30, Sat 09:00-12:00"),
    ],
)
def test_city_hall_weekly_hours(session: Session, language: str | None, expected: str) -> None:
    assert offices.weekly_hours(offices.get(session, "city_hall"), language) == expected


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("north_centre", "Mon-Thu 09:00-17:00, Fri 09:00-13:00"),
        ("riverside_hub", "Tue-Fri 10:00-18:00, Sat 10:00-13:00, 14:00-18:00"),
    ],
)
def test_other_offices_weekly_hours(session: Session, slug: str, expected: str) -> None:
    assert offices.weekly_hours(offices.get(session, slug), "en") == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 12, 25), []),  # Christmas Day, a Friday: a holiday
        (dt.date(2027, 1, 1), []),  # New Year's Day, a Friday: a holiday
        (dt.date(2026, 12, 24), [("08:30", "16:30")]),  # Thursday
        (dt.date(2026, 12, 26), [("09:00", "12:00")]),  # Saturday
        (dt.date(2026, 12, 27), []),  # Sunday: closed
    ],
)
def test_city_hall_ranges_on(session: Session, day: dt.date, expected: list) -> None:
    assert offices.ranges_on(offices.get(session, "city_hall"), day) == expected


def test_holidays(session: Session) -> None:
    city_hall = offices.get(session, "city_hall")
    christmas = offices.holiday_on(city_hall, dt.date(2026, 12, 25))
    assert christmas is not None
    assert christmas.names["es"] == "Navidad"
    assert offices.holiday_on(city_hall, dt.date(2026, 12, 24)) is None
    riverside = offices.get(session, "riverside_hub")
    assert offices.ranges_on(riverside, dt.date(2026, 12, 26)) == []  # its extra holiday
    assert offices.ranges_on(riverside, dt.date(2026, 12, 19)) == [("10:00", "13:00"),
                                                                    ("14:00", "18:00")]
    assert offices.hours_on(riverside, dt.date(2026, 12, 19)) == "10:00-13:00, 14:00-18:00"
    assert offices.hours_on(city_hall, dt.date(2026, 12, 25)) == ""


@pytest.mark.parametrize(("language", "expected"), [("en", "Saturday"), ("es", "sábado"),
                                                    ("fr", "samedi"), ("ar", "السبت")])
def test_day_name(language: str, expected: str) -> None:
    assert offices.day_name(dt.date(2026, 12, 26), language) == expected


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("where is city hall", "city_hall"),
        ("City Hall opening hours", "city_hall"),
        ("el ayuntamiento", "city_hall"),
        ("hôtel de ville", "city_hall"),
        ("بلدية ريفرتون", "city_hall"),
        ("north centre", "north_centre"),
        ("the North Community Service Centre", "north_centre"),
        ("riverside", "riverside_hub"),
        ("مكتب ريفرسايد", "riverside_hub"),
    ],
)
def test_match_by_name(session: Session, text: str, slug: str) -> None:
    office = offices.match_by_name(session, text)
    assert office is not None
    assert office.slug == slug


@pytest.mark.parametrize("text", ["are you open on saturday", "where can I renew my ID card",
                                  "hello", "the office", "centre", ""])
def test_match_by_name_nothing(session: Session, text: str) -> None:
    assert offices.match_by_name(session, text) is None


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("id_cards", ["city_hall", "north_centre"]),
        ("housing_support", ["city_hall", "north_centre"]),
        ("parking_permits", ["city_hall", "riverside_hub"]),
        ("benefits_line", ["north_centre", "riverside_hub"]),
        ("health_clinic", ["riverside_hub"]),
        ("buses", []),
    ],
)
def test_offering(session: Session, service: str, expected: list[str]) -> None:
    found = offices.offering(session, services.get(session, service))
    assert [office.slug for office in found] == expected


@pytest.mark.parametrize(("language", "expected"), [("en", "Riverton City Hall"),
                                                    ("es", "Ayuntamiento de Riverton"),
                                                    ("fr", "Hôtel de ville de Riverton"),
                                                    ("ar", "بلدية ريفرتون")])
def test_office_name(session: Session, language: str, expected: str) -> None:
    assert offices.name(offices.get(session, "city_hall"), language) == expected


# --- Digital help -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("I forgot my password", "reset_password"),
        ("reset password", "reset_password"),
        ("olvidé mi contraseña", "reset_password"),
        ("no recuerdo mi clave", "reset_password"),
        ("j'ai oublié mon mot de passe", "reset_password"),
        ("mdp oublié", "reset_password"),
        ("نسيت كلمة المرور", "reset_password"),
        ("how do I make an account", "create_account"),
        ("crear una cuenta", "create_account"),
        ("créer un compte", "create_account"),
        ("upload a document", "upload_document"),
        ("envoyer un fichier pdf", "upload_document"),
        ("track my application online", "check_application_online"),
        ("seguimiento de mi solicitud", "check_application_online"),
    ],
)
def test_match_guide(session: Session, text: str, slug: str) -> None:
    guide = digital.match_guide(session, text)
    assert guide is not None
    assert guide.slug == slug


@pytest.mark.parametrize("text", ["free wifi", "hello", "computer classes", ""])
def test_match_guide_nothing(session: Session, text: str) -> None:
    assert digital.match_guide(session, text) is None


def test_guides_have_steps_in_every_language(session: Session) -> None:
    guide = digital.get_guide(session, "reset_password")
    assert set(guide.steps) == {"en", "es", "fr", "ar"}
    assert guide.steps["en"][0] == "Go to riverton.gov/portal."
    assert len({len(steps) for steps in guide.steps.values()}) == 1


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("free wifi", "access"),
        ("where can I use a computer", "access"),
        ("internet gratuit", "access"),
        ("ordenador gratis", "access"),
        ("واي فاي مجاني", "access"),
        ("computer classes", "class"),
        ("I want to learn", "class"),
        ("cours d'informatique", "class"),
        ("clases de computación", "class"),
        ("taller de ordenador", "class"),
        ("دورات كمبيوتر", "class"),
        ("is there wi-fi", "access"),
        ("a free pc", "access"),
        ("hello", None),
        ("reset my password", None),
        ("I need help with something", None),  # "with" is not "wi(-fi)"
        ("will you help me", None),
        ("", None),
    ],
)
def test_match_topic(text: str, topic: str | None) -> None:
    assert digital.match_topic(text) == topic


@pytest.mark.parametrize(("kind", "expected"), [
    ("access", ["central_library_access", "north_centre_computers"]),
    ("class", ["class_computer_basics", "class_phone_and_website"]),
])
def test_places(session: Session, kind: str, expected: list[str]) -> None:
    assert [place.slug for place in digital.places(session, kind)] == expected

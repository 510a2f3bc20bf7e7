"""The catalogue's admin pages in a real browser (issue 14 §3): an administrator adds an office
with its hours, desks, services and a holiday, edits it, is told exactly what is wrong when a
form is not valid, and adds a digital-help place; what they saved is what the API (and so the
assistant) reads. An agent cannot open the pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in, tab
from tests.support.stack import Stack
from tests.support.stack_data import make_staff, query

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("kept_catalogue")]


@pytest.fixture
def page(browser) -> Iterator:
    with tab(browser) as opened:
        yield opened


def test_an_admin_adds_and_edits_an_office(stack: Stack, page) -> None:
    admin = make_staff(stack, "catalogue-admin", role="admin")
    log_in(page, stack.url, admin)
    page.get_by_role("link", name="Catalogue").click()
    expect(page.get_by_role("heading", name="Catalogue", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Edit Riverton City Hall")).to_be_visible()

    page.get_by_role("link", name="Add an office").click()
    page.get_by_label("Slug").fill("west_branch")
    for lang, name in (("English", "West Branch Office"), ("Spanish", "Oficina Oeste"),
                       ("French", "Bureau Ouest"), ("Arabic", "المكتب الغربي")):
        page.get_by_label(f"Name in {lang}", exact=True).fill(name)
    page.get_by_label("Keywords in English").fill("west, west branch")
    page.get_by_label("Address").fill("9 West Street")
    page.get_by_label("Desks for appointments").fill("3")
    page.get_by_label("Monday").fill("09:00-12:30, 13:30-17:00")
    page.get_by_label("Wednesday").fill("10:00-18:00")
    page.get_by_label("id_cards").check()
    page.get_by_label("Holidays").fill("2026-12-25 | Christmas Day | Navidad | Noël | "
                                       "عيد الميلاد")
    page.get_by_role("button", name="Add office").click()
    expect(page.get_by_role("status")).to_have_text("Saved: the new entry is in the catalogue.")
    expect(page).to_have_url(re.compile(r"/console/catalogue/offices/west_branch\?done="))

    status, office = stack.api("GET", "/api/offices/west_branch")
    assert status == 200, office
    assert office["hours"]["0"] == [["09:00", "12:30"], ["13:30", "17:00"]]
    assert office["hours"]["2"] == [["10:00", "18:00"]] and office["hours"]["1"] == []
    assert office["desks"] == 3 and office["services"] == ["id_cards"]
    assert office["keywords"] == {"en": ["west", "west branch"]}
    assert office["holidays"] == [{"day": "2026-12-25", "names": {
        "en": "Christmas Day", "es": "Navidad", "fr": "Noël", "ar": "عيد الميلاد"}}]

    # A mistake: nothing is saved, each problem is named, what was typed stays.
    page.get_by_label("Tuesday").fill("18:00-09:00")
    page.get_by_label("Name in Arabic").fill("")
    page.get_by_role("button", name="Save changes").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was saved")
    expect(alert).to_contain_text('hours."1"[0]: opens (18:00) after it closes (09:00)')
    expect(alert).to_contain_text("names: missing language(s): ar")
    expect(page.get_by_label("Tuesday")).to_have_value("18:00-09:00")
    assert stack.api("GET", "/api/offices/west_branch")[1]["hours"]["1"] == []

    page.get_by_label("Tuesday").fill("")
    page.get_by_label("Name in Arabic").fill("المكتب الغربي")
    page.get_by_label("Address").fill("11 West Street")
    page.get_by_label("Desks for appointments").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")
    office = stack.api("GET", "/api/offices/west_branch")[1]
    assert office["address"] == "11 West Street" and "desks" not in office
    assert query(stack, "SELECT actor, action FROM audit_log WHERE target = 'west_branch' "
                 "ORDER BY id") == [("catalogue-admin", "catalogue.office.create"),
                                    ("catalogue-admin", "catalogue.office.update")]


def test_an_admin_adds_a_digital_help_place(stack: Stack, page) -> None:
    log_in(page, stack.url, make_staff(stack, "catalogue-admin-2", role="admin"))
    page.goto(f"{stack.url}/console/catalogue/digital-places/new")
    page.get_by_label("Slug").fill("west_computers")
    for lang, name in (("English", "West computer room"), ("Spanish", "Sala de ordenadores"),
                       ("French", "Salle informatique"), ("Arabic", "قاعة الحواسيب")):
        page.get_by_label(f"Name in {lang}", exact=True).fill(name)
    page.get_by_label("Kind").select_option("class")
    page.get_by_label("Address").fill("9 West Street")
    for lang, when in (("English", "Mon 10am-12pm"), ("Spanish", "lun 10-12 h"),
                       ("French", "lun 10h-12h"), ("Arabic", "الاثنين 10-12")):
        page.get_by_label(f"When, in {lang}").fill(when)
    page.get_by_role("button", name="Add digital-help place").click()
    expect(page.get_by_role("status")).to_have_text("Saved: the new entry is in the catalogue.")
    place = stack.api("GET", "/api/digital-places/west_computers")[1]
    assert place["kind"] == "class" and place["when"]["ar"] == "الاثنين 10-12"


def test_an_admin_retires_a_digital_help_place(stack: Stack, page) -> None:
    """Retired from its edit page: gone from the catalogue's table and the API, listed as
    retired, audited as the administrator."""
    place = {"slug": "pier_computers", "kind": "access", "address": "1 Pier Road",
             "names": {"en": "Pier computers", "es": "Ordenadores del muelle",
                       "fr": "Ordinateurs du quai", "ar": "حواسيب الرصيف"}}
    assert stack.api("POST", "/api/digital-places", place)[0] == 201
    log_in(page, stack.url, make_staff(stack, "catalogue-admin-3", role="admin"))
    page.goto(f"{stack.url}/console/catalogue")
    page.get_by_role("link", name="Edit Pier computers").click()
    expect(page.get_by_role("heading", name="Retire this digital-help place")).to_be_visible()
    page.get_by_role("button", name="Retire Pier computers").click()
    expect(page.get_by_role("status")).to_have_text(
        "Retired: the assistant no longer offers it.")
    expect(page.get_by_role("link", name="Edit Pier computers")).to_have_count(0)
    expect(page.get_by_text("Retired (kept for cases and appointments, not offered)")
           ).to_contain_text("pier_computers")
    assert stack.api("GET", "/api/digital-places/pier_computers")[0] == 404
    assert query(stack, "SELECT actor, action FROM audit_log WHERE target = 'pier_computers' "
                 "ORDER BY id")[-1] == ("catalogue-admin-3", "catalogue.digital_place.retire")


def test_an_agent_cannot_open_the_catalogue(stack: Stack, page) -> None:
    log_in(page, stack.url, make_staff(stack, "catalogue-agent"))
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    response = page.goto(f"{stack.url}/console/catalogue")
    assert response.status == 403

"""The console's catalogue pages (administrators): add and edit services, offices and
digital-help places (issue 14 §3). The forms become catalogue entries checked by the same
schema as the file and the API (bot/domain/catalogue_schema.py); each change is audited as the
administrator. A wrong form is shown again with what is wrong (422) and what was typed.

Form fields: ``names_<lang>``, ``keywords_<lang>`` (comma-separated), ``address``, ``phone``,
``desks``, ``hours_<0..6>`` ("09:00-12:30, 13:30-17:00"; empty: closed), ``services``
(checkboxes), ``holidays`` (one a line: ``2026-12-25 | English | Spanish | French | Arabic``),
``kind``, ``when_<lang>``, and for a new service ``status``.
"""

from __future__ import annotations

from typing import Any

from sanic import response
from sanic.request import Request
from sqlalchemy import select

from bot.domain import catalogue
from bot.domain.catalogue_schema import SECTIONS, CatalogueError, Problem
from bot.language.detect import SUPPORTED
from bot.language.vocabulary import DAY_NAMES
from bot.store.db import session_scope
from bot.store.models import SERVICE_STATUSES
from server.console.auth import staff_only
from server.console.templating import PREFIX, page, redirect
from server.http import InputError, in_thread

URL_SECTIONS = {"services": "services", "offices": "offices", "digital-places": "digital_places"}
TITLES = {"services": "Service", "offices": "Office", "digital_places": "Digital-help place"}
OPTIONAL = {"services": ("keywords",), "offices": ("keywords", "phone", "desks", "services",
                                                  "holidays"),
            "digital_places": ("when",)}
SAVED = {"created": "Saved: the new entry is in the catalogue.", "updated": "Changes saved.",
         "retired": "Retired: the assistant no longer offers it."}
LISTED = ("services", "offices", "digital_places")


def _section(name: str) -> str:
    section = URL_SECTIONS.get(name)
    if section is None or section not in SECTIONS:
        raise InputError("no such part of the catalogue", status=404)
    return section


# --- forms to entries and back -----------------------------------------------------------------


def _texts(form: dict[str, str], prefix: str) -> dict[str, str]:
    return {lang: form[f"{prefix}_{lang}"].strip() for lang in SUPPORTED
            if form.get(f"{prefix}_{lang}", "").strip()}


def _words(form: dict[str, str]) -> dict[str, list[str]]:
    out = {}
    for lang in SUPPORTED:
        words = [w.strip() for w in form.get(f"keywords_{lang}", "").split(",") if w.strip()]
        if words:
            out[lang] = words
    return out


def _hours(form: dict[str, str]) -> dict[str, list[list[str]]]:
    hours: dict[str, list[list[str]]] = {}
    for day in range(7):
        text = form.get(f"hours_{day}", "").strip()
        ranges = [part.strip() for part in text.split(",") if part.strip()]
        pairs = [[t.strip() for t in part.split("-")] for part in ranges]
        if any(len(pair) != 2 for pair in pairs):
            raise CatalogueError([Problem(("hours", str(day)), "write opening ranges like "
                                          "09:00-12:30, 13:30-17:00 (empty: closed)")])
        hours[str(day)] = pairs
    return hours


def _holidays(text: str) -> list[dict[str, Any]]:
    holidays = []
    for number, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 1 + len(SUPPORTED):
            raise CatalogueError([Problem(("holidays", number), "one holiday a line: "
                                          "2026-12-25 | English | Spanish | French | Arabic")])
        holidays.append({"day": parts[0], "names": dict(zip(SUPPORTED, parts[1:],
                                                            strict=True))})
    return holidays


def form_entry(section: str, form: dict[str, Any], services: list[str]) -> dict[str, Any]:
    """The catalogue entry a form describes (the schema checks it afterwards)."""
    entry: dict[str, Any] = {"slug": form.get("slug", "").strip(),
                             "names": _texts(form, "names")}
    if section in ("services", "offices") and _words(form):
        entry["keywords"] = _words(form)
    if section == "services":
        entry["status"] = form.get("status") or "operational"
    if section in ("offices", "digital_places"):
        entry["address"] = form.get("address", "").strip()
    if section == "offices":
        if form.get("phone", "").strip():
            entry["phone"] = form["phone"].strip()
        desks = form.get("desks", "").strip()
        if desks:
            entry["desks"] = int(desks) if desks.isdigit() else desks
        entry["hours"] = _hours(form)
        entry["services"] = services
        entry["holidays"] = _holidays(form.get("holidays", ""))
    if section == "digital_places":
        entry["kind"] = form.get("kind", "")
        if _texts(form, "when"):
            entry["when"] = _texts(form, "when")
    return entry


def entry_form(entry: dict[str, Any]) -> dict[str, str]:
    """A catalogue entry as the form's field values."""
    form: dict[str, str] = {"slug": entry.get("slug", ""), "address": entry.get("address", ""),
                            "phone": entry.get("phone", ""), "kind": entry.get("kind", ""),
                            "status": entry.get("status", ""),
                            "desks": str(entry.get("desks") or "")}
    for lang in SUPPORTED:
        form[f"names_{lang}"] = entry.get("names", {}).get(lang, "")
        form[f"keywords_{lang}"] = ", ".join(entry.get("keywords", {}).get(lang, []))
        form[f"when_{lang}"] = entry.get("when", {}).get(lang, "")
    for day in range(7):
        form[f"hours_{day}"] = ", ".join(f"{a}-{b}" for a, b in entry.get("hours", {})
                                         .get(str(day), []))
    form["holidays"] = "\n".join(
        " | ".join([h["day"], *(h["names"].get(lang, "") for lang in SUPPORTED)])
        for h in entry.get("holidays", []))
    return form


# --- data and writes (worker threads) ----------------------------------------------------------


def _listing() -> dict[str, Any]:
    """The entries of each section, and the retired ones apart."""
    with session_scope() as session:
        listing: dict[str, Any] = {"retired": {}}
        for section in LISTED:
            model = catalogue.MODELS[section]
            rows = list(session.scalars(select(model).order_by(model.slug)))
            listing[section] = [catalogue.ENTRIES[section](r) for r in rows
                                if r.retired_at is None]
            listing["retired"][section] = [{"slug": r.slug} for r in rows
                                           if r.retired_at is not None]
        return listing


def _all_services() -> list[str]:
    with session_scope() as session:
        return sorted(catalogue.known_services(session))


def _retire(section: str, slug: str, actor: str) -> None:
    with session_scope() as session:
        row = catalogue.get(session, section, slug)
        if row is None:
            raise InputError(f"no {TITLES[section].lower()} '{slug}' (or it is retired)",
                             status=404)
        catalogue.retire(session, section, row, actor)


def _current(section: str, slug: str) -> dict[str, Any]:
    with session_scope() as session:
        row = catalogue.get(session, section, slug)
        if row is None:
            raise InputError(f"no {TITLES[section].lower()} '{slug}'", status=404)
        return catalogue.ENTRIES[section](row)


def _save(section: str, slug: str | None, entry: dict[str, Any], actor: str) -> str:
    with session_scope() as session:
        if slug is None:
            return catalogue.create(session, section, entry, actor).slug
        row = catalogue.get(session, section, slug)
        if row is None:
            raise InputError(f"no {TITLES[section].lower()} '{slug}'", status=404)
        changes: dict[str, Any] = dict.fromkeys(OPTIONAL[section])  # absent: removed
        changes.update({k: v for k, v in entry.items() if k not in ("slug", "status")})
        catalogue.update(session, section, row, changes, actor)
        return row.slug


# --- pages -------------------------------------------------------------------------------------


def _form_page(request: Request, section: str, slug: str | None, form: dict[str, str],
               chosen: list[str], services: list[str], status: int = 200,
               problems: list[str] | None = None) -> response.HTTPResponse:
    return page("catalogue_form.html", status, viewer=request.ctx.viewer, section=section,
                url_section=next(k for k, v in URL_SECTIONS.items() if v == section),
                title=TITLES[section], slug=slug, form=form, chosen=chosen,
                all_services=services, problems=problems or [], supported=SUPPORTED,
                day_names=DAY_NAMES["en"], statuses=SERVICE_STATUSES,
                notice=SAVED.get(request.args.get("done", "")))


async def _overview(request: Request, status: int = 200, error: str | None = None
                    ) -> response.HTTPResponse:
    return page("catalogue.html", status, viewer=request.ctx.viewer, titles=TITLES,
                error=error, url_sections={v: k for k, v in URL_SECTIONS.items()},
                notice=SAVED.get(request.args.get("done", "")), **await in_thread(_listing))


@staff_only(admin=True)
async def overview(request: Request) -> response.HTTPResponse:
    return await _overview(request)


@staff_only(admin=True)
async def new_form(request: Request, kind: str) -> response.HTTPResponse:
    try:
        section = _section(kind)
    except InputError as exc:
        return await _overview(request, exc.status, str(exc))
    return _form_page(request, section, None, entry_form({}), [],
                      await in_thread(_all_services))


@staff_only(admin=True)
async def edit_form(request: Request, kind: str, slug: str) -> response.HTTPResponse:
    try:
        section = _section(kind)
        current = await in_thread(_current, section, slug)
    except InputError as exc:
        return await _overview(request, exc.status, str(exc))
    return _form_page(request, section, slug, entry_form(current),
                      current.get("services", []), await in_thread(_all_services))


async def _submit(request: Request, kind: str, slug: str | None) -> response.HTTPResponse:
    form = {key: request.form.get(key) or "" for key in request.form}
    chosen = request.form.getlist("services") or []
    try:
        section = _section(kind)
        entry = form_entry(section, form, chosen)
        if slug is not None:
            entry["slug"] = slug
        saved = await in_thread(_save, section, slug, entry, request.ctx.viewer.username)
    except CatalogueError as exc:
        return _form_page(request, section, slug, form, chosen, await in_thread(_all_services),
                          422, exc.describe())
    except InputError as exc:
        return await _overview(request, exc.status, str(exc))
    done = "created" if slug is None else "updated"
    return redirect(f"{PREFIX}/catalogue/{kind}/{saved}?done={done}")


@staff_only(admin=True)
async def create(request: Request, kind: str) -> response.HTTPResponse:
    return await _submit(request, kind, None)


@staff_only(admin=True)
async def update(request: Request, kind: str, slug: str) -> response.HTTPResponse:
    return await _submit(request, kind, slug)


@staff_only(admin=True)
async def retire(request: Request, kind: str, slug: str) -> response.HTTPResponse:
    """Retire an entry (audited as the administrator): offered to citizens no more."""
    try:
        await in_thread(_retire, _section(kind), slug, request.ctx.viewer.username)
    except InputError as exc:
        return await _overview(request, exc.status, str(exc))
    return redirect(f"{PREFIX}/catalogue?done=retired")

"""Every URL of the console and the handler that answers it."""

from __future__ import annotations

from sanic import Blueprint

from server.console import admin, analytics, auth, catalogue, conversations, learn, records
from server.console.templating import PREFIX, STATIC, strict_transport
from server.http import Route, mount

HANDOFF = f"{PREFIX}/handoffs/<handoff_id:int>"

ROUTES: tuple[Route, ...] = (
    ("GET", f"{PREFIX}/login", auth.login_form),
    ("POST", f"{PREFIX}/login", auth.login_submit),
    ("POST", f"{PREFIX}/logout", auth.logout),
    # the queue and the conversations
    ("GET", PREFIX, conversations.queue),
    ("GET", f"{PREFIX}/queue", conversations.queue_fragment),
    ("GET", HANDOFF, conversations.conversation),
    ("GET", f"{HANDOFF}/transcript", conversations.transcript_fragment),
    ("POST", f"{HANDOFF}/claim", conversations.claim),
    ("POST", f"{HANDOFF}/reply", conversations.reply),
    ("POST", f"{HANDOFF}/note", conversations.note),
    ("POST", f"{HANDOFF}/release", conversations.release),
    ("POST", f"{HANDOFF}/resolve", conversations.resolve),
    ("GET", f"{PREFIX}/send", conversations.send_form),
    ("POST", f"{PREFIX}/send", conversations.send_submit),
    # past conversations, the operators' figures and the learning inbox
    ("GET", f"{PREFIX}/search", records.search_page),
    ("GET", f"{PREFIX}/analytics", analytics.analytics),
    ("GET", f"{PREFIX}/analytics/<filename:str>", analytics.analytics_csv),
    ("GET", f"{PREFIX}/learn", learn.learn),
    ("POST", f"{PREFIX}/learn/label", learn.label),
    ("GET", f"{PREFIX}/audit", records.audit_page),
    # held-back SMS and administration
    ("GET", f"{PREFIX}/held", admin.held),
    ("GET", f"{PREFIX}/admin", admin.admin),
    ("POST", f"{PREFIX}/admin/staff", admin.create_staff),
    ("POST", f"{PREFIX}/admin/staff/<staff_id:int>", admin.update_staff),
    ("POST", f"{PREFIX}/admin/staff/<staff_id:int>/password", admin.reset_password),
    ("POST", f"{PREFIX}/admin/hours", admin.save_hours),
    ("POST", f"{PREFIX}/admin/holidays", admin.add_holiday),
    ("POST", f"{PREFIX}/admin/holidays/<holiday_id:int>/delete", admin.remove_holiday),
    ("POST", f"{PREFIX}/admin/canned", admin.add_canned),
    ("POST", f"{PREFIX}/admin/canned/<reply_id:int>/delete", admin.remove_canned),
    # the catalogue (server/console/catalogue.py)
    ("GET", f"{PREFIX}/catalogue", catalogue.overview),
    ("GET", f"{PREFIX}/catalogue/<kind>/new", catalogue.new_form),
    ("POST", f"{PREFIX}/catalogue/<kind>/new", catalogue.create),
    ("GET", f"{PREFIX}/catalogue/<kind>/<slug>", catalogue.edit_form),
    ("POST", f"{PREFIX}/catalogue/<kind>/<slug>", catalogue.update),
    ("POST", f"{PREFIX}/catalogue/<kind>/<slug>/retire", catalogue.retire),
)


def add_routes(bp: Blueprint) -> None:
    """Attach the console's pages (and HSTS on https) to the platform blueprint."""
    bp.static(f"{PREFIX}/static", str(STATIC), name="console_static")
    bp.middleware(strict_transport, attach_to="response")
    mount(bp, ROUTES, "console")

"""What the OpenAPI document says about each API route (server/openapi.py builds the document
from the route tables and this): summaries, parameters, bodies, answers and the JSON schemas of
what they return. Every route of a table must have its entry here and every entry a route
(the build fails otherwise, and tests/test_openapi.py builds it); the walk in that test calls
each route and checks the answers against these schemas.
"""

from __future__ import annotations

from typing import Any

from bot.domain.catalogue_schema import PLACE_KINDS
from bot.language.detect import SUPPORTED
from bot.store.models import CASE_STATUSES, SERVICE_STATUSES
from bot.store.pages import MAX_LIMIT

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
LANGUAGE = {"type": "string", "enum": list(SUPPORTED)}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def texts(description: str) -> dict[str, Any]:
    return {"type": "object", "description": description,
            "propertyNames": {"enum": list(SUPPORTED)}, "additionalProperties": STRING}


def page_of(name: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "next_cursor"], "additionalProperties": False,
            "properties": {"items": {"type": "array", "items": ref(name)},
                           "next_cursor": {"type": ["string", "null"],
                                           "description": "null on the last page"}}}


WORDS = {"type": "object", "propertyNames": {"enum": list(SUPPORTED)},
         "additionalProperties": {"type": "array", "items": STRING}}
HOURS = {"type": "object", "description": 'Weekday "0" (Monday) to "6" to opening ranges',
         "propertyNames": {"enum": [str(d) for d in range(7)]},
         "additionalProperties": {"type": "array", "items": {
             "type": "array", "items": STRING, "minItems": 2, "maxItems": 2}}}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"],
              "properties": {"error": STRING,
                             "fields": {"type": "object", "additionalProperties": STRING}}},
    "Health": {"type": "object", "required": ["status"], "properties": {"status": STRING}},
    "Ready": {"type": "object", "required": ["status"],
              "properties": {"status": {"enum": ["ready", "not ready"]}},
              "additionalProperties": {"type": "boolean"}},
    "NewCase": {"type": "object", "required": ["service", "status"], "additionalProperties": False,
                "properties": {"service": STRING, "status": {"enum": list(CASE_STATUSES)},
                               "phone": STRING, "date_of_birth": {"type": "string",
                                                                  "format": "date"},
                               "language": LANGUAGE,
                               "detail": {"type": ["string", "object", "null"]}}},
    "CaseChange": {"type": "object", "required": ["status"], "additionalProperties": False,
                   "properties": {"status": {"enum": list(CASE_STATUSES)}, "note": STRING,
                                  "detail": {"type": ["string", "object", "null"]}}},
    "Case": {"type": "object",
             "required": ["reference", "service", "status", "phone", "date_of_birth_on_file",
                          "language", "detail", "created_at", "updated_at", "history"],
             "properties": {
                 "reference": {"type": "string", "pattern": "^[0-9]{8}$"},
                 "service": STRING, "status": {"enum": list(CASE_STATUSES)},
                 "phone": NULLABLE_STRING, "date_of_birth_on_file": {"type": "boolean"},
                 "language": LANGUAGE, "detail": {"type": ["string", "object", "null"]},
                 "created_at": TIME, "updated_at": TIME,
                 "history": {"type": "array", "items": {
                     "type": "object", "required": ["from", "to", "actor", "at"],
                     "properties": {"from": NULLABLE_STRING, "to": STRING,
                                    "note": NULLABLE_STRING, "actor": STRING, "at": TIME}}},
                 "notifications": {"type": "array", "items": {"type": "object"}},
                 "verification": {"type": "object",
                                  "required": ["locked", "locked_until", "failures_24h"]}}},
    "ServiceStatus": {"type": "object", "required": ["status"], "additionalProperties": False,
                      "properties": {"status": {"enum": list(SERVICE_STATUSES)},
                                     "message": texts("the notice, per language")}},
    "Service": {"type": "object",
                "required": ["slug", "names", "keywords", "status", "message", "updated_at"],
                "properties": {"slug": STRING, "names": texts("its name"), "keywords": WORDS,
                               "status": {"enum": list(SERVICE_STATUSES)},
                               "message": texts("the status notice"), "updated_at": TIME}},
    "ServiceEntry": {"type": "object", "required": ["slug", "names"],
                     "additionalProperties": False,
                     "properties": {"slug": STRING, "names": texts("in en, es, fr and ar"),
                                    "keywords": WORDS,
                                    "status": {"enum": list(SERVICE_STATUSES)},
                                    "message": texts("the first notice")}},
    "ServiceChange": {"type": "object", "additionalProperties": False,
                      "properties": {"names": texts("in en, es, fr and ar"), "keywords": WORDS}},
    "Office": {"type": "object", "required": ["slug", "names", "address", "hours"],
               "additionalProperties": False,
               "properties": {
                   "slug": STRING, "names": texts("in en, es, fr and ar"), "keywords": WORDS,
                   "address": STRING, "phone": {"type": "string", "description": "E.164"},
                   "hours": HOURS, "desks": {"type": "integer", "minimum": 1},
                   "services": {"type": "array", "items": STRING},
                   "holidays": {"type": "array", "items": {
                       "type": "object", "required": ["day", "names"],
                       "properties": {"day": {"type": "string", "format": "date"},
                                      "names": texts("in en, es, fr and ar")}}}}},
    "DigitalPlace": {"type": "object", "required": ["slug", "kind", "names", "address"],
                     "additionalProperties": False,
                     "properties": {"slug": STRING, "kind": {"enum": list(PLACE_KINDS)},
                                    "names": texts("in en, es, fr and ar"), "address": STRING,
                                    "when": texts("opening times, in words")}},
    "Handoff": {"type": "object",
                "required": ["id", "sender_id", "channel", "language", "reason", "urgent",
                             "status", "waiting_since", "waiting_seconds"],
                "properties": {"id": {"type": "integer"}, "sender_id": STRING,
                               "channel": NULLABLE_STRING, "language": LANGUAGE,
                               "reason": STRING, "urgent": {"type": "boolean"},
                               "status": {"enum": ["waiting", "active", "resolved"]},
                               "waiting_since": TIME, "waiting_seconds": {"type": "integer"},
                               "contact_later": {"type": "boolean"},
                               "assignee": NULLABLE_STRING, "claimed_at": NULLABLE_TIME,
                               "closed_at": NULLABLE_TIME, "resolution": NULLABLE_STRING}},
    "HandoffDetail": {"allOf": [ref("Handoff"), {
        "type": "object", "required": ["transcript"],
        "properties": {"transcript": {"type": "array", "items": {
            "type": "object", "required": ["kind", "text"],
            "properties": {"at": NULLABLE_TIME, "kind": STRING, "text": STRING}}}}}]},
    "AgentText": {"type": "object", "required": ["text"], "additionalProperties": False,
                  "properties": {"text": STRING}},
    "Delivery": {"type": "object", "required": ["delivered"],
                 "properties": {"delivered": {"type": "boolean"}, "error": STRING}},
    "Closed": {"type": "object", "required": ["id", "status", "resolution", "citizen_told"],
               "properties": {"id": {"type": "integer"}, "status": {"enum": ["resolved"]},
                              "resolution": {"enum": ["released", "resolved"]},
                              "citizen_told": {"type": "boolean"},
                              "delivery_error": STRING}},
    "Outreach": {"type": "object", "required": ["phone", "task"], "additionalProperties": False,
                 "properties": {"phone": STRING, "task": {"enum": ["appointment", "status"]},
                                "language": LANGUAGE}},
    "OutreachDone": {"type": "object",
                     "required": ["phone", "task", "language", "messages", "delivered"],
                     "properties": {"phone": STRING, "task": STRING, "language": LANGUAGE,
                                    "messages": {"type": "integer"},
                                    "delivered": {"type": "boolean"}, "error": STRING}},
    "Retired": {"type": "object", "required": ["slug", "retired_at"],
                "additionalProperties": False,
                "properties": {"slug": STRING, "retired_at": TIME}},
    "OpenAPI": {"type": "object", "required": ["openapi", "paths"],
                "properties": {"openapi": STRING, "paths": {"type": "object"}}},
}
for _name in ("Service", "Office", "DigitalPlace", "Handoff"):
    SCHEMAS[f"{_name}Page"] = page_of(_name)
SCHEMAS["OfficeChange"] = {**SCHEMAS["Office"], "required": []}
SCHEMAS["DigitalPlaceChange"] = {**SCHEMAS["DigitalPlace"], "required": []}

LIMIT = {"name": "limit", "in": "query", "required": False,
         "description": f"items a page, 1 to {MAX_LIMIT} (default 50)",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}}
CURSOR = {"name": "cursor", "in": "query", "required": False,
          "description": "the next_cursor of the page before; leave out for the first page",
          "schema": STRING}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "description": "the same key and body again get the first answer (header "
                              "Idempotent-Replayed: true); another body with it: 422. Kept "
                              "24 hours, per client.",
               "schema": {"type": "string", "maxLength": 255}}
IDEMPOTENCY_SEND = {**IDEMPOTENCY, "description": (
    "the same key and body again get the first answer (header Idempotent-Replayed: true) and "
    "nothing is sent twice; a request arriving while the first is still sending waits for its "
    "answer (409 after 30 s); a failed send (502) frees the key for a retry; another body "
    "with it: 422. Kept 24 hours, per client.")}
HANDOFF_STATUS = {"name": "status", "in": "query", "required": False,
                  "description": "waiting, active or resolved, comma-separated (default "
                                 "waiting,active)", "schema": STRING}


def _answer(description: str, schema: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema:
        answer["content"] = {"application/json": {"schema": ref(schema)}}
    return answer


def op(summary: str, ok: tuple[int, str, str], errors: dict[int, str] | None = None,
       body: str | None = None, params: tuple[dict, ...] = (), public: bool = False,
       tag: str = "cases", example: Any = None) -> dict[str, Any]:
    """One operation: its summary, success answer, error answers and body."""
    status, description, schema = ok
    responses = {str(status): _answer(description, schema)}
    for code, why in (errors or {}).items():
        responses[str(code)] = _answer(why, "Error")
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if not public:
        responses["401"] = _answer("missing or wrong bearer token", "Error")
        responses["503"] = _answer("the database is unavailable; try again shortly", "Error")
    else:
        operation["security"] = []
    if params:
        operation["parameters"] = list(params)
    if body:
        content: dict[str, Any] = {"schema": ref(body)}
        if example is not None:
            content["example"] = example
        operation["requestBody"] = {"required": True, "content": {"application/json": content}}
        responses.setdefault("400", _answer("the body is not a JSON object", "Error"))
        responses.setdefault("422", _answer("a field is wrong (fields names it)", "Error"))
    return operation


BAD_PAGE = {422: "a bad limit or cursor (fields names it)"}
CATALOGUE_ERRORS = {404: "unknown slug"}


NAMES = {"en": "Recycling centre", "es": "Punto limpio", "fr": "Déchetterie",
         "ar": "مركز إعادة التدوير"}
EXAMPLES: dict[str, Any] = {
    "Service": {"slug": "recycling_centre", "names": NAMES,
                "keywords": {"en": ["recycling centre", "tip"], "es": ["punto limpio"]},
                "status": "operational"},
    "Office": {"slug": "east_library", "names": {
        "en": "East Library desk", "es": "Mostrador de la Biblioteca Este",
        "fr": "Accueil de la bibliothèque Est", "ar": "مكتب المكتبة الشرقية"},
        "address": "8 Elm Street", "phone": "+15550100400",
        "hours": {"0": [["09:00", "17:00"]], "2": [["09:00", "12:00"], ["13:00", "17:00"]]},
        "desks": 3, "services": ["id_cards"],
        "holidays": [{"day": "2026-12-25", "names": {"en": "Christmas Day", "es": "Navidad",
                                                     "fr": "Noël", "ar": "عيد الميلاد"}}]},
    "DigitalPlace": {"slug": "east_library_wifi", "kind": "access", "names": {
        "en": "East Library computers", "es": "Ordenadores de la Biblioteca Este",
        "fr": "Ordinateurs de la bibliothèque Est", "ar": "حواسيب المكتبة الشرقية"},
        "address": "8 Elm Street", "when": {"en": "Mon-Fri 9am-5pm", "es": "lun-vie 9-17 h",
                                            "fr": "lun-ven 9h-17h", "ar": "الاثنين-الجمعة 9-17"}},
}
CHANGES: dict[str, Any] = {
    "Service": {"keywords": {"en": ["recycling centre", "tip", "dump"]}},
    "Office": {"desks": 4, "address": "10 Elm Street"},
    "DigitalPlace": {"when": {"en": "Mon-Sat 9am-5pm", "es": "lun-sáb 9-17 h",
                              "fr": "lun-sam 9h-17h", "ar": "الاثنين-السبت 9-17"}},
}


def _catalogue(path: str, kind: str, schema: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        ("GET", path): op(f"{kind}s, by slug", (200, "one page", f"{schema}Page"), BAD_PAGE,
                          params=(LIMIT, CURSOR), tag="catalogue"),
        ("POST", path): op(f"add a {kind}", (201, "created", schema),
                           {409: "the slug exists already"}, body=f"{schema}Entry"
                           if schema == "Service" else schema, params=(IDEMPOTENCY,),
                           tag="catalogue", example=EXAMPLES[schema]),
        ("GET", f"{path}/{{slug}}"): op(f"one {kind}", (200, "found", schema), CATALOGUE_ERRORS,
                                        tag="catalogue"),
        ("PATCH", f"{path}/{{slug}}"): op(f"change some fields of a {kind} (null removes an "
                                          "optional one)", (200, "changed", schema),
                                          CATALOGUE_ERRORS, body=f"{schema}Change",
                                          tag="catalogue", example=CHANGES[schema]),
        ("DELETE", f"{path}/{{slug}}"): op(
            f"retire a {kind}: kept for the cases and bookings that refer to it, offered to "
            "citizens no more, gone from the list and reads", (200, "retired", "Retired"),
            {404: "unknown or already retired slug"}, tag="catalogue"),
    }


OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/health"): op("the process is up", (200, "up", "Health"), public=True,
                           tag="health"),
    ("GET", "/ready"): op("model, database and stores ready", (200, "ready", "Ready"),
                          {503: "not ready"}, public=True, tag="health"),
    ("GET", "/api/openapi.json"): op("this document", (200, "the OpenAPI document", "OpenAPI"),
                                     public=True, tag="health"),
    ("POST", "/api/cases"): op("open a case", (201, "created", "Case"), body="NewCase",
                               params=(IDEMPOTENCY,), example={
                                   "service": "housing_support", "status": "received",
                                   "phone": "+15550104242", "date_of_birth": "1970-05-06",
                                   "language": "es",
                                   "detail": {"es": "Ayuda para el alquiler"}}),
    ("GET", "/api/cases/{reference}"): op("one case, with its notifications",
                                          (200, "found", "Case"),
                                          {404: "no such case", 422: "not a valid reference"}),
    ("PATCH", "/api/cases/{reference}"): op("change a case's status (its owner is told)",
                                            (200, "changed", "Case"),
                                            {404: "no such case"}, body="CaseChange",
                                            example={"status": "approved",
                                                     "note": "All papers in order"}),
    ("GET", "/api/services"): op("services and their status, by slug",
                                 (200, "one page", "ServicePage"), BAD_PAGE,
                                 params=(LIMIT, CURSOR), tag="catalogue"),
    ("PUT", "/api/services/{slug}/status"): op("set a service's status and notice",
                                               (200, "set", "Service"), {404: "unknown slug"},
                                               body="ServiceStatus", tag="catalogue",
                                               example={"status": "disrupted", "message": {
                                                   "en": "Closed this afternoon."}}),
    ("GET", "/api/handoffs"): op("hand-offs in queue order (resolved alone: newest first)",
                                 (200, "one page", "HandoffPage"), BAD_PAGE,
                                 params=(HANDOFF_STATUS, LIMIT, CURSOR), tag="handoffs"),
    ("GET", "/api/handoffs/{handoff_id}"): op("one hand-off with its transcript",
                                              (200, "found", "HandoffDetail"),
                                              {404: "no such hand-off"}, tag="handoffs"),
    ("POST", "/api/handoffs/{handoff_id}/messages"): op(
        "send the citizen a message on their channel", (200, "delivered", "Delivery"),
        {404: "no such hand-off", 409: "already resolved, or another request with this "
         "Idempotency-Key is still being answered", 502: "not delivered (kept)"},
        body="AgentText", params=(IDEMPOTENCY_SEND,), tag="handoffs",
        example={"text": "Hello, this is Sam from the city."}),
    ("POST", "/api/handoffs/{handoff_id}/release"): op(
        "hand the conversation back to the assistant", (200, "released", "Closed"),
        {404: "no such hand-off", 409: "already resolved"}, tag="handoffs"),
    ("POST", "/api/handoffs/{handoff_id}/resolve"): op(
        "close the hand-off", (200, "resolved", "Closed"),
        {404: "no such hand-off", 409: "already resolved"}, tag="handoffs"),
    ("POST", "/api/outreach"): op("start the appointment form or a status check by SMS",
                                  (200, "sent", "OutreachDone"),
                                  {409: "another request with this Idempotency-Key is still "
                                   "being answered", 502: "not delivered"},
                                  body="Outreach", params=(IDEMPOTENCY_SEND,), tag="handoffs",
                                  example={"phone": "+15550100001", "task": "status"}),
    **_catalogue("/api/offices", "office", "Office"),
    **_catalogue("/api/digital-places", "digital-help place", "DigitalPlace"),
}
OPERATIONS[("POST", "/api/services")] = _catalogue("/api/services", "service", "Service")[
    ("POST", "/api/services")]
OPERATIONS[("GET", "/api/services/{slug}")] = op("one service", (200, "found", "Service"),
                                                 CATALOGUE_ERRORS, tag="catalogue")
OPERATIONS[("DELETE", "/api/services/{slug}")] = _catalogue(
    "/api/services", "service", "Service")[("DELETE", "/api/services/{slug}")]
OPERATIONS[("PATCH", "/api/services/{slug}")] = op(
    "change a service's names or keywords (its status: PUT .../status)",
    (200, "changed", "Service"), CATALOGUE_ERRORS, body="ServiceChange", tag="catalogue",
    example=CHANGES["Service"])

"""People and audit pages: search people by name, a person's page, the audit log."""

from __future__ import annotations

import json
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.care.core.errors import InvalidInput
from assistant.care.core.views import PersonRecord
from assistant.console.kit import PAGE_SIZE, Kit, args_of, page_link, page_number, pages

AUDIT_FILTERS = ("actor", "action", "entity", "from", "to")
PERSON_BOOKINGS = 50


async def person_sections(kit: Kit, person_id: str) -> dict[str, Any]:
    """Everything on a person's page (also the JSON of ``GET /api/people/<id>``).

    Raises:
        NotFound: If there is no such person.
    """
    record: PersonRecord = await kit.call(kit.people.record, person_id)
    pid = str(record.person_id)
    bookings, total = await kit.call(kit.care.bookings.search, senior_id=pid, limit=PERSON_BOOKINGS)
    return {
        "person": record,
        "bookings": bookings,
        "bookings_total": total,
        "reminders": await kit.call(kit.people.reminders, pid),
        "deliveries": await kit.call(kit.people.deliveries, pid),
        "escalations": await kit.call(kit.people.open_escalations, pid),
    }


def detail_of(text: str) -> Any:
    """An audit row's detail as JSON values (the raw text if it is not JSON)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def register(app: Sanic, kit: Kit) -> None:
    """Add the people and audit pages to ``app``."""

    @app.get("/people")
    @kit.authenticated
    async def people(request: Request) -> HTTPResponse:
        filters = args_of(request, "q")
        page = page_number(request)
        try:
            rows, total = await kit.call(kit.people.search, filters["q"], (page - 1) * PAGE_SIZE, PAGE_SIZE)
            error = ""
        except InvalidInput as refused:
            rows, total, error = [], 0, refused.message
        return kit.render(
            request, "people.html", status=400 if error else 200, rows=rows, total=total, page=page,
            pages=pages(total), filters=filters, error=error,
            prev_link=page_link("/people", filters, page - 1), next_link=page_link("/people", filters, page + 1),
        )

    @app.get("/people/<person_id:str>")
    @kit.authenticated
    async def person(request: Request, person_id: str) -> HTTPResponse:
        sections = await person_sections(kit, person_id)
        return kit.render(request, "person.html", **sections)

    @app.get("/audit")
    @kit.authenticated
    async def audit_log(request: Request) -> HTTPResponse:
        filters = args_of(request, *AUDIT_FILTERS)
        page = page_number(request)
        try:
            rows, total = await kit.call(
                kit.audit.search, actor=filters["actor"], action=filters["action"], entity=filters["entity"],
                date_from=filters["from"], date_to=filters["to"], offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
            )
            error = ""
        except InvalidInput as refused:
            rows, total, error = [], 0, refused.message
        return kit.render(
            request, "audit.html", status=400 if error else 200, rows=rows, total=total, page=page,
            pages=pages(total), filters=filters, error=error,
            prev_link=page_link("/audit", filters, page - 1), next_link=page_link("/audit", filters, page + 1),
        )

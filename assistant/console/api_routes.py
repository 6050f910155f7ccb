"""The JSON API behind the console's session: providers, bookings, people, the audit log.

Authentication is the console's session cookie; calls that change something also send the
session's CSRF token in the ``X-CSRF-Token`` header (``GET /api/session`` returns it).
Refusals are JSON ``{"error", "message", "field"}``: 400 for bad input, 404 for an unknown
id, 409 for a status change the lifecycle does not allow (see ``/api/openapi.json``).
"""

from __future__ import annotations

from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.care.core import audit
from assistant.console.kit import (
    Kit,
    actor_name,
    api_json,
    api_window,
    args_of,
    json_body,
    jsonable,
    only_fields,
    url_quote,
)
from assistant.console.people_routes import AUDIT_FILTERS, detail_of, person_sections


def listing(items: list[Any], total: int, offset: int, limit: int) -> dict[str, Any]:
    """One page of a list, as every list endpoint returns it."""
    return {"total": total, "offset": offset, "limit": limit, "items": items}


def register(app: Sanic, kit: Kit) -> None:
    """Add the JSON API's endpoints to ``app``."""

    def coordinator(request: Request) -> str:
        return audit.coordinator_actor(actor_name(request))

    @app.get("/api/providers")
    @kit.authenticated
    async def api_providers(request: Request) -> HTTPResponse:
        offset, limit = api_window(request)
        filters = args_of(request, "q", "kind", "district")
        rows, total = await kit.call(
            kit.care.registry.search, filters["q"], kind=filters["kind"] or None,
            district=filters["district"] or None, offset=offset, limit=limit,
        )
        return api_json(listing(rows, total, offset, limit))

    @app.post("/api/providers")
    @kit.authenticated
    async def api_create_provider(request: Request) -> HTTPResponse:
        record = await kit.call(kit.care.registry.create, json_body(request), actor=coordinator(request))
        response = api_json(record, status=201)
        response.headers["Location"] = f"/api/providers/{record.provider_id}"
        return response

    @app.get("/api/providers/<provider_id:str>")
    @kit.authenticated
    async def api_provider(request: Request, provider_id: str) -> HTTPResponse:
        return api_json(await kit.call(kit.care.registry.record, provider_id))

    @app.patch("/api/providers/<provider_id:str>")
    @kit.authenticated
    async def api_edit_provider(request: Request, provider_id: str) -> HTTPResponse:
        await kit.call(kit.care.registry.record, provider_id)  # 404 before looking at the body
        record = await kit.call(kit.care.registry.edit, provider_id, json_body(request), actor=coordinator(request))
        return api_json(record)

    @app.get("/api/bookings")
    @kit.authenticated
    async def api_bookings(request: Request) -> HTTPResponse:
        offset, limit = api_window(request)
        filters = args_of(request, "status", "kind", "from", "to", "senior")
        rows, total = await kit.call(
            kit.care.bookings.search, status=filters["status"] or None, kind=filters["kind"] or None,
            date_from=filters["from"], date_to=filters["to"], senior_id=filters["senior"] or None,
            timezone=kit.timezone, offset=offset, limit=limit,
        )
        return api_json(listing(rows, total, offset, limit))

    @app.get("/api/bookings/<reference:str>")
    @kit.authenticated
    async def api_booking(request: Request, reference: str) -> HTTPResponse:
        return api_json(await kit.call(kit.care.bookings.record, reference))

    @app.post("/api/bookings/<reference:str>/status")
    @kit.authenticated
    async def api_booking_status(request: Request, reference: str) -> HTTPResponse:
        await kit.call(kit.care.bookings.record, reference)  # 404 before looking at the body
        body = json_body(request)
        only_fields(body, ("status",), "a status change")
        record = await kit.call(
            kit.care.home_services.coordinator_status, reference, body.get("status"), actor_name(request)
        )
        return api_json(record)

    @app.post("/api/bookings/<reference:str>/provider")
    @kit.authenticated
    async def api_booking_provider(request: Request, reference: str) -> HTTPResponse:
        await kit.call(kit.care.bookings.record, reference)  # 404 before looking at the body
        body = json_body(request)
        only_fields(body, ("offering_id",), "a provider change")
        return api_json(await kit.call(
            kit.care.home_services.reassign, reference, body.get("offering_id"), actor_name(request)))

    @app.get("/api/people")
    @kit.authenticated
    async def api_people(request: Request) -> HTTPResponse:
        offset, limit = api_window(request)
        rows, total = await kit.call(kit.people.search, args_of(request, "q")["q"], offset, limit)
        return api_json(listing(rows, total, offset, limit))

    @app.get("/api/people/<person_id:str>")
    @kit.authenticated
    async def api_person(request: Request, person_id: str) -> HTTPResponse:
        sections = await person_sections(kit, person_id)
        data = jsonable(sections)
        for item in data["escalations"]:
            item["url"] = f"/escalations/{url_quote(item['reference'])}"
        return api_json(data)

    @app.get("/api/audit")
    @kit.authenticated
    async def api_audit(request: Request) -> HTTPResponse:
        offset, limit = api_window(request)
        filters = args_of(request, *AUDIT_FILTERS)
        rows, total = await kit.call(
            kit.audit.search, actor=filters["actor"], action=filters["action"], entity=filters["entity"],
            date_from=filters["from"], date_to=filters["to"], offset=offset, limit=limit,
        )
        items = [dict(jsonable(row), detail=detail_of(row.detail)) for row in rows]
        return api_json(listing(items, total, offset, limit))

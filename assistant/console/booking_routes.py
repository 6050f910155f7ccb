"""Booking pages: the filtered list of bookings (meal orders too) and one booking with its status.

A coordinator can also give a home visit to another provider free at the same time (the
senior keeps the agreed price). A status change goes through :meth:`~assistant.care.homeservices.homeservices.HomeServiceService.coordinator_status`,
the same path as ``assistant coordinator booking-status``: the senior is told, and asked for a
rating when a visit is done.
"""

from __future__ import annotations

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, redirect

from assistant.care.bookings.bookings import STATUS_WORDS
from assistant.care.core.errors import InvalidInput, InvalidTransition, Unavailable
from assistant.care.core.vocabulary import (
    BOOKING_KINDS,
    BOOKING_STATUSES,
    HOME_SERVICE_KINDS,
)
from assistant.console.kit import (
    PAGE_SIZE,
    Kit,
    actor_name,
    args_of,
    page_link,
    page_number,
    pages,
    url_quote,
)

FILTERS = ("status", "kind", "from", "to", "senior")
STATUS_BUTTONS = {
    "confirmed": "Confirm",
    "assigned": "Helper assigned",
    "in_progress": "In progress",
    "done": "Done (ask for a rating)",
    "cancelled": "Cancel booking",
}


def register(app: Sanic, kit: Kit) -> None:
    """Add the booking pages to ``app``."""

    @app.get("/bookings")
    @kit.authenticated
    async def bookings(request: Request) -> HTTPResponse:
        filters = args_of(request, *FILTERS)
        page = page_number(request)
        try:
            rows, total = await kit.call(
                kit.care.bookings.search, status=filters["status"] or None, kind=filters["kind"] or None,
                date_from=filters["from"], date_to=filters["to"], senior_id=filters["senior"] or None,
                timezone=kit.timezone, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
            )
            error = ""
        except InvalidInput as refused:
            rows, total, error = [], 0, refused.message
        return kit.render(
            request, "bookings.html", status=400 if error else 200, rows=rows, total=total, page=page,
            pages=pages(total), filters=filters, statuses=BOOKING_STATUSES, kinds=("meal", *BOOKING_KINDS),
            error=error, prev_link=page_link("/bookings", filters, page - 1),
            next_link=page_link("/bookings", filters, page + 1),
        )

    async def booking_page(request: Request, reference: str, status: int = 200, error: str = "") -> HTTPResponse:
        record = await kit.call(kit.care.bookings.record, reference)
        others = await kit.call(kit.care.home_services.free_alternatives, reference) \
            if record.kind in HOME_SERVICE_KINDS else []
        return kit.render(request, "booking.html", status, b=record, buttons=STATUS_BUTTONS,
                          words=STATUS_WORDS, error=error, others=others)

    @app.get("/bookings/<reference:str>")
    @kit.authenticated
    async def booking(request: Request, reference: str) -> HTTPResponse:
        return await booking_page(request, reference)

    @app.post("/bookings/<reference:str>/status")
    @kit.authenticated
    async def booking_status(request: Request, reference: str) -> HTTPResponse:
        try:
            record = await kit.call(
                kit.care.home_services.coordinator_status, reference, request.form.get("status") or "",
                actor_name(request),
            )
        except (InvalidInput, InvalidTransition) as refused:
            return await booking_page(request, reference, 409 if isinstance(refused, InvalidTransition) else 400,
                                      refused.message)
        return redirect(f"/bookings/{url_quote(record.reference)}", status=303)

    @app.post("/bookings/<reference:str>/provider")
    @kit.authenticated
    async def booking_provider(request: Request, reference: str) -> HTTPResponse:
        try:
            record = await kit.call(
                kit.care.home_services.reassign, reference, request.form.get("offering_id") or "", actor_name(request)
            )
        except (InvalidInput, InvalidTransition, Unavailable) as refused:
            return await booking_page(request, reference, 400 if isinstance(refused, InvalidInput) else 409,
                                      refused.message)
        return redirect(f"/bookings/{url_quote(record.reference)}", status=303)

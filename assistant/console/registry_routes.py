"""Registry pages: search providers, add one, look at and edit one, import a CSV file.

Validation lives in :mod:`assistant.care.registry.registry`; these handlers turn the form into the
domain's fields, and show a refusal next to the form with what was typed kept.
"""

from __future__ import annotations

import csv
import os
import tempfile
from typing import Any, Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, redirect

from assistant.care.core import audit
from assistant.care.registry.csv_import import COLUMNS, ImportReport, import_providers_csv
from assistant.care.core.errors import InvalidInput
from assistant.care.core.views import ProviderRecord
from assistant.care.core.vocabulary import PROVIDER_KINDS
from assistant.console.kit import (
    PAGE_SIZE,
    Kit,
    actor_name,
    args_of,
    page_link,
    page_number,
    pages,
)

MAX_UPLOAD_BYTES = 900_000
FORM_FIELDS = ("name", "kind", "districts", "opening_hours", "phone")


def form_values(record: Optional[ProviderRecord]) -> dict[str, Any]:
    """The provider form's values for ``record`` (empty for a new provider)."""
    if record is None:
        return {"name": "", "kind": "", "districts": "", "opening_hours": "", "phone": "",
                "verified": False, "active": True}
    return {
        "name": record.name, "kind": record.kind, "districts": "; ".join(record.districts),
        "opening_hours": record.opening_hours, "phone": record.phone or "",
        "verified": record.verified, "active": record.active,
    }


def submitted(request: Request, record: Optional[ProviderRecord]) -> dict[str, Any]:
    """What the provider form sent, as the domain's fields (unticked boxes are ``False``)."""
    data: dict[str, Any] = {key: request.form.get(key) or "" for key in FORM_FIELDS}
    data["verified"] = request.form.get("verified") == "yes"
    data["active"] = request.form.get("active") == "yes"
    if record is not None:
        prices = {
            str(o.offering_id): request.form.get(f"price_{o.offering_id}")
            for o in record.offerings if request.form.get(f"price_{o.offering_id}") is not None
        }
        if prices:
            data["offering_prices"] = prices
    return data


def register(app: Sanic, kit: Kit) -> None:
    """Add the registry pages to ``app``."""

    @app.get("/providers")
    @kit.authenticated
    async def providers(request: Request) -> HTTPResponse:
        filters = args_of(request, "q", "kind", "district")
        page = page_number(request)
        try:
            rows, total = await kit.call(
                kit.care.registry.search, filters["q"], kind=filters["kind"] or None,
                district=filters["district"] or None, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
            )
            error = ""
        except InvalidInput as refused:
            rows, total, error = [], 0, refused.message
        return kit.render(
            request, "providers.html", status=400 if error else 200, rows=rows, total=total, page=page,
            pages=pages(total), filters=filters, kinds=PROVIDER_KINDS, error=error,
            prev_link=page_link("/providers", filters, page - 1),
            next_link=page_link("/providers", filters, page + 1),
        )

    @app.get("/providers/new")
    @kit.authenticated
    async def new_provider(request: Request) -> HTTPResponse:
        return kit.render(request, "provider_form.html", values=form_values(None), kinds=PROVIDER_KINDS,
                          record=None, error="", error_field="")

    @app.post("/providers/new")
    @kit.authenticated
    async def create_provider(request: Request) -> HTTPResponse:
        data = submitted(request, None)
        try:
            record = await kit.call(
                kit.care.registry.create, data, actor=audit.coordinator_actor(actor_name(request))
            )
        except InvalidInput as refused:
            return kit.render(request, "provider_form.html", 400, values=data, kinds=PROVIDER_KINDS,
                              record=None, error=refused.message, error_field=refused.field or "")
        return redirect(f"/providers/{record.provider_id}?saved=1", status=303)

    @app.get("/providers/import")
    @kit.authenticated
    async def import_form(request: Request) -> HTTPResponse:
        return kit.render(request, "provider_import.html", columns=COLUMNS, report=None, error="")

    @app.post("/providers/import")
    @kit.authenticated
    async def import_upload(request: Request) -> HTTPResponse:
        upload = request.files.get("file") if request.files else None
        if upload is None or not upload.body:
            return kit.render(request, "provider_import.html", 400, columns=COLUMNS, report=None,
                              error="Please choose a CSV file to import.")
        if len(upload.body) > MAX_UPLOAD_BYTES:
            return kit.render(request, "provider_import.html", 400, columns=COLUMNS, report=None,
                              error="That file is too large. Please split it into smaller files.")
        try:
            report = await kit.call(_import, kit, upload.body, audit.coordinator_actor(actor_name(request)))
        except InvalidInput as refused:
            return kit.render(request, "provider_import.html", 400, columns=COLUMNS, report=None,
                              error=refused.message)
        return kit.render(request, "provider_import.html", columns=COLUMNS, report=report, error="")

    @app.get("/providers/<provider_id:str>")
    @kit.authenticated
    async def provider(request: Request, provider_id: str) -> HTTPResponse:
        record = await kit.call(kit.care.registry.record, provider_id)
        return kit.render(request, "provider.html", record=record, values=form_values(record),
                          kinds=PROVIDER_KINDS, error="", error_field="",
                          saved=request.args.get("saved") == "1")

    @app.post("/providers/<provider_id:str>")
    @kit.authenticated
    async def edit_provider(request: Request, provider_id: str) -> HTTPResponse:
        record = await kit.call(kit.care.registry.record, provider_id)
        data = submitted(request, record)
        try:
            await kit.call(
                kit.care.registry.edit, provider_id, data, actor=audit.coordinator_actor(actor_name(request))
            )
        except InvalidInput as refused:
            values = dict(data)
            values.pop("offering_prices", None)
            return kit.render(request, "provider.html", 400, record=record, values=values, kinds=PROVIDER_KINDS,
                              error=refused.message, error_field=refused.field or "", saved=False)
        return redirect(f"/providers/{record.provider_id}?saved=1", status=303)


def _import(kit: Kit, body: bytes, actor: str) -> ImportReport:
    """Import an uploaded CSV file through the same code as ``assistant db import-csv``."""
    handle, path = tempfile.mkstemp(suffix=".csv", prefix="console-import-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        try:
            return import_providers_csv(kit.care.db, path, actor=actor)
        except (UnicodeDecodeError, csv.Error):
            raise InvalidInput("That file is not a UTF-8 CSV file. Please save it as CSV (UTF-8).") from None
    finally:
        os.unlink(path)

"""The review list: messages the assistant was unsure of, checked by a person, exported as training data.

``GET /review`` lists them (new, accepted or dismissed) with the classifier's guesses and what the
user chose next; ``POST /review/<id>`` accepts one as an example of an intent, or dismisses it;
``GET /review/export.yml`` downloads the accepted ones in Rasa's YAML training format.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, redirect, text

from assistant.care.core.errors import InvalidInput, NotFound
from assistant.care.coordinators.review_list import STATUSES
from assistant.console.kit import PAGE_SIZE, Kit, actor_name, args_of, page_link, page_number, pages
from assistant.settings import PROJECT_ROOT


@lru_cache(maxsize=1)
def training_intents(folder: Path = PROJECT_ROOT / "data" / "nlu") -> tuple[str, ...]:
    """The intents the assistant is trained on (those a reviewed message can be filed under)."""
    found: set[str] = set()
    for path in sorted(folder.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
            if isinstance(item, dict) and item.get("intent"):
                found.add(str(item["intent"]))
    return tuple(sorted(found))


def register(app: Sanic, kit: Kit) -> None:
    """Add the review list pages to ``app``."""

    async def review_page(request: Request, status: int = 200, error: str = "") -> HTTPResponse:
        filters = args_of(request, "status")
        filters["status"] = filters["status"] if filters["status"] in STATUSES else "new"
        page = page_number(request)
        rows, total = await kit.call(kit.care.review_list.search, filters["status"], (page - 1) * PAGE_SIZE, PAGE_SIZE)
        return kit.render(
            request, "review.html", status=status, rows=rows, total=total, page=page, pages=pages(total),
            filters=filters, statuses=STATUSES, intents=training_intents(), error=error,
            prev_link=page_link("/review", filters, page - 1), next_link=page_link("/review", filters, page + 1),
        )

    @app.get("/review")
    @kit.authenticated
    async def review(request: Request) -> HTTPResponse:
        return await review_page(request)

    @app.post("/review/<unclear_id:int>")
    @kit.authenticated
    async def review_one(request: Request, unclear_id: int) -> HTTPResponse:
        intent = "" if request.form.get("action") == "dismiss" else (request.form.get("intent") or "").strip()
        if not intent and request.form.get("action") != "dismiss":
            return await review_page(request, 400, "Choose the intent the message meant, or dismiss it.")
        try:
            await kit.call(kit.care.review_list.review, unclear_id, intent or None, actor_name(request),
                           training_intents())
        except InvalidInput as refused:
            return await review_page(request, 400, refused.message)
        except NotFound as missing:
            return await review_page(request, 404, missing.message)
        return redirect("/review", status=303)

    @app.get("/review/export.yml")
    @kit.authenticated
    async def review_export(request: Request) -> HTTPResponse:
        body = await kit.call(kit.care.review_list.export_yaml)
        return text(body, content_type="application/x-yaml; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="reviewed_nlu.yml"'})

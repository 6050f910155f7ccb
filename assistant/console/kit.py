"""What the console's route modules share: the services, rendering, the session guard, helpers.

:func:`assistant.console.app.create_app` builds one :class:`Kit` and hands it to each route
module's ``register(app, kit)``. Handlers stay thin: they read the request, call the care
domain in the thread pool (:meth:`Kit.call`) and render a template or JSON.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Optional, TypeVar
from urllib.parse import quote, urlencode

from jinja2 import Environment
from sanic.request import Request
from sanic.response import HTTPResponse, html
from sanic.response import json as json_response

from assistant.care import CareServices
from assistant.care.core.audit import AuditLogReader
from assistant.care.coordinators.directory import PeopleDirectory
from assistant.care.core.errors import InvalidInput

T = TypeVar("T")
PAGE_SIZE = 50
"""Rows per page of every console list."""
API_MAX_LIMIT = 500


@dataclass
class Kit:
    """The console's shared tools, built once per app.

    Attributes:
        care: The care services (registry, bookings, home services...).
        people: Read-only look-ups of people.
        audit: The audit log reader.
        templates: The Jinja2 environment (autoescaping on).
        authenticated: Decorator: a session for every request, CSRF for every change.
        timezone: The display timezone (also the one filter days are meant in).
    """

    care: CareServices
    people: PeopleDirectory
    audit: AuditLogReader
    templates: Environment
    authenticated: Callable[[Callable[..., Any]], Callable[..., Any]]
    timezone: str

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking domain code in the default thread pool."""
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args, **kwargs))

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
        """Render a page for the signed-in coordinator (``user`` and ``csrf`` are added)."""
        context.setdefault("user", request.ctx.user)
        context.setdefault("csrf", request.ctx.csrf)
        return html(self.templates.get_template(template).render(**context), status=status)


def actor_name(request: Request) -> str:
    """The signed-in coordinator's display name (what the audit log records)."""
    return str(request.ctx.user.display_name)


def page_number(request: Request) -> int:
    """The ``page`` query argument (1 and up; anything else is page 1)."""
    return int_arg(request.args.get("page"), 1, 1, 10**6)


def int_arg(value: Optional[str], default: int, low: int, high: int) -> int:
    """Return a whole-number query argument clamped to ``low..high``, else ``default``."""
    try:
        return min(high, max(low, int(value))) if value is not None else default
    except ValueError:
        return default


def api_window(request: Request) -> tuple[int, int]:
    """The API's ``offset`` and ``limit`` query arguments."""
    return (
        int_arg(request.args.get("offset"), 0, 0, 10**9),
        int_arg(request.args.get("limit"), PAGE_SIZE, 1, API_MAX_LIMIT),
    )


def pages(total: int) -> int:
    """How many pages ``total`` rows make (at least one)."""
    return max(1, -(-total // PAGE_SIZE))


def args_of(request: Request, *names: str) -> dict[str, str]:
    """The given query arguments, stripped (missing ones are empty)."""
    return {name: (request.args.get(name) or "").strip() for name in names}


def page_link(path: str, filters: dict[str, str], page: int) -> str:
    """A link to another page of a filtered list."""
    query = {k: v for k, v in filters.items() if v}
    query["page"] = str(page)
    return f"{path}?{urlencode(query)}"


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object.

    Raises:
        InvalidInput: If the body is not a JSON object.
    """
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The body must be a JSON object.", field="body") from None
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object.", field="body")
    return data


def only_fields(body: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    """Refuse a JSON body with a field outside ``allowed``.

    Raises:
        InvalidInput: Naming the first unknown field.
    """
    unknown = [key for key in body if key not in allowed]
    if unknown:
        raise InvalidInput(f"{unknown[0][:60]!r} is not a field of {what}.", field=unknown[0][:60])


def jsonable(value: Any) -> Any:
    """Return ``value`` (views, lists, datetimes) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def api_json(value: Any, status: int = 200) -> HTTPResponse:
    """A JSON response of ``value`` (views are converted with :func:`jsonable`)."""
    return json_response(jsonable(value), status=status)


def url_quote(value: str) -> str:
    """Quote a path segment."""
    return quote(value, safe="")

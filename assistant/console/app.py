"""The coordinators' web console: a Sanic app with server-rendered Jinja2 pages.

Every page and API call needs a signed session cookie of an active coordinator account;
every form that changes something carries a CSRF token, every JSON call that changes
something the same token in the ``X-CSRF-Token`` header (``GET /api/session`` tells it).
The handlers stay thin: the work is done by the care domain
(:class:`~assistant.care.escalations.escalations.EscalationService`,
:class:`~assistant.care.coordinators.coordinators.CoordinatorService`, the registry, bookings, the people
directory and the audit log reader), run in a thread pool so the database and argon2 never
block the event loop. The escalation pages live here; the registry, bookings, people, audit
and the rest of the JSON API in the ``*_routes`` modules beside this one.
"""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse, html, redirect
from sanic.response import json as json_response

from assistant.care import CareServices
from assistant.care.core.audit import AuditLogReader
from assistant.care.core.clock import Clock, utcnow
from assistant.care.coordinators.coordinators import CoordinatorService, CoordinatorView, LoginFailed
from assistant.care.coordinators.directory import PeopleDirectory
from assistant.care.core.errors import (
    CareError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
)
from assistant.care.escalations.escalations import EscalationService
from assistant.care.core.views import EscalationView, format_price
from assistant.console import (
    api_routes,
    booking_routes,
    escalation_api,
    openapi,
    people_routes,
    registry_routes,
    review_routes,
)
from assistant.console.kit import Kit
from assistant.console.ratelimit import FailedLogins
from assistant.console.security import Signer, same
from assistant.console.transcript import (
    TranscriptLine,
    TranscriptSource,
    TranscriptUnavailable,
)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "care_console_session"
LOGIN_COOKIE = "care_console_login"
CSRF_HEADER = "X-CSRF-Token"
"""The header carrying the session's CSRF token on JSON calls that change something."""
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_SECONDS = 12 * 3600
TOO_MANY_TRIES = "Too many log-ins failed from here. Please wait 15 minutes and try again, or ask a colleague."
PAGE_SIZE = 50
SSE_POLL_SECONDS = 0.5
SSE_MAX_SECONDS = 600
SLA_MINUTES = {1: 5, 2: 30, 3: 240, 4: 1440}
"""How long an escalation of each priority may wait before it shows as overdue."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

T = TypeVar("T")


class ConsoleSanic(Sanic):
    """Sanic for the console, able to run beside other Sanic apps in one process.

    On start-up Sanic 21.12 rewrites some of its own methods ("touch-up") in place; a second
    app in the same process then fails to start unless ``test_mode`` keeps the originals.
    """

    test_mode = True


@dataclass
class ConsoleDeps:
    """What the console needs from the rest of the system."""

    escalations: EscalationService
    coordinators: CoordinatorService
    signer: Signer
    clock: Clock = utcnow
    timezone: str = "Europe/London"
    care: Optional[CareServices] = None
    """The care services behind the registry, bookings, people and audit pages (off when None)."""
    failed_logins: Optional[FailedLogins] = None
    """Failed log-ins per client address (a fresh counter per app when None)."""
    transcripts: Optional[TranscriptSource] = None
    """Where conversation transcripts are read (Rasa's HTTP API); no transcript when None."""


def create_app(deps: ConsoleDeps, *, name: str = "care_console") -> Sanic:
    """Build the console app.

    Args:
        deps: The services, the cookie signer, the clock and the display timezone.
        name: Sanic app name; unique per process (tests build several apps).
    """
    app = ConsoleSanic(name)
    app.config.ACCESS_LOG = False
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 2
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.ctx.deps = deps
    app.ctx.stopping = False
    zone = ZoneInfo(deps.timezone)
    templates = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters["local"] = lambda value: value.astimezone(zone).strftime("%d %b %H:%M") if value else ""
    templates.filters["price"] = format_price
    app.static("/static", str(HERE / "static"), name="static")
    failed_logins = deps.failed_logins or FailedLogins()
    people = PeopleDirectory(deps.care.db, clock=deps.clock) if deps.care is not None else None

    async def call(fn: Callable[..., T], *args: Any) -> T:
        """Run blocking domain code in the default thread pool."""
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))

    def render(template: str, status: int = 200, **context: Any) -> HTTPResponse:
        return html(templates.get_template(template).render(**context), status=status)

    async def current_user(request: Request) -> Optional[tuple[CoordinatorView, str]]:
        """Return the signed-in coordinator and the session's CSRF token, or None."""
        data = deps.signer.unsign("session", request.cookies.get(SESSION_COOKIE))
        if data is None or not isinstance(data.get("u"), str) or not isinstance(data.get("c"), str):
            return None
        try:
            user = await call(deps.coordinators.get, data["u"])
        except NotFound:
            return None
        if data.get("e", 0) != user.session_epoch:
            return None  # logged out since this cookie was issued
        return user, data["c"]

    def set_cookie(request: Request, response: HTTPResponse, name: str, value: str, max_age: int) -> None:
        response.cookies[name] = value
        cookie = response.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["max-age"] = max_age
        if request.scheme == "https":
            cookie["secure"] = True

    def login_page(request: Request, status: int = 200, error: str = "", username: str = "") -> HTTPResponse:
        nonce = secrets.token_urlsafe(18)
        response = render(
            "login.html", status, error=error, username=username,
            csrf=deps.signer.token_for("login", nonce), next=_safe_next(request.args.get("next")),
        )
        set_cookie(request, response, LOGIN_COOKIE, deps.signer.sign("login", {"n": nonce}, 3600), 3600)
        return response

    def wants_json(request: Request) -> bool:
        return request.path.startswith("/api/") or request.path == "/events"

    def unauthenticated(request: Request) -> HTTPResponse:
        if wants_json(request):
            return json_response({"error": "unauthenticated", "message": "Please log in."}, status=401)
        target = request.path + (f"?{request.query_string}" if request.query_string else "")
        return redirect(f"/login?next={_quote(target)}", status=303)

    def authenticated(handler: Callable[..., Any]) -> Callable[..., Any]:
        """Require a session; POST requests also need the session's CSRF token."""

        @functools.wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            found = await current_user(request)
            if found is None:
                return unauthenticated(request)
            user, csrf = found
            if request.method in CHANGING_METHODS and wants_json(request):
                if not same(request.headers.get(CSRF_HEADER), csrf):
                    return json_response({
                        "error": "csrf", "field": CSRF_HEADER,
                        "message": f"Send the session's CSRF token in the {CSRF_HEADER} header (GET /api/session).",
                    }, status=403)
            elif request.method in CHANGING_METHODS and not same(request.form.get("csrf"), csrf):
                return render("error.html", 403, user=user, csrf=csrf,
                              message="This form has expired. Please go back, reload the page and try again.")
            request.ctx.user = user
            request.ctx.csrf = csrf
            return await handler(request, *args, **kwargs)

        return wrapper

    kit = Kit(
        care=deps.care, people=people, audit=AuditLogReader(deps.care.db, deps.timezone),
        templates=templates, authenticated=authenticated, timezone=deps.timezone,
    ) if deps.care is not None and people is not None else None

    @app.middleware("response")
    async def security_headers(request: Request, response: HTTPResponse) -> None:
        for key, value in SECURITY_HEADERS.items():
            if key == "Cache-Control" and request.path.startswith("/static/"):
                continue
            response.headers.setdefault(key, value)

    @app.exception(CareError)
    async def care_error(request: Request, error: CareError) -> HTTPResponse:
        status = _status(error)
        if wants_json(request):
            return json_response({"error": error.kind, "message": error.message, "field": error.field}, status=status)
        found = await current_user(request)
        user, csrf = found if found else (None, "")
        return render("error.html", status, user=user, csrf=csrf, message=error.message)

    @app.exception(SanicException)
    async def http_error(request: Request, error: SanicException) -> HTTPResponse:
        """Unknown paths and methods: JSON for the API, a page for people (never a stack trace)."""
        status = int(getattr(error, "status_code", 500) or 500)
        kind = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
        message = {404: "There is no such page.", 405: "That method is not allowed here."}.get(
            status, "Sorry, that request could not be handled."
        )
        if wants_json(request):
            return json_response({"error": kind, "message": message, "field": None}, status=status)
        found = await current_user(request)
        user, csrf = found if found else (None, "")
        return render("error.html", status, user=user, csrf=csrf, message=message)

    @app.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        if await current_user(request):
            return redirect("/", status=303)
        return login_page(request)

    @app.post("/login")
    async def login_submit(request: Request) -> HTTPResponse:
        username = (request.form.get("username") or "").strip()
        login = deps.signer.unsign("login", request.cookies.get(LOGIN_COOKIE))
        nonce = login.get("n") if login else None
        if not isinstance(nonce, str) or not same(request.form.get("csrf"), deps.signer.token_for("login", nonce)):
            return login_page(request, 403, "This form has expired. Please try again.", username)
        address = request.remote_addr or request.ip or "-"
        if failed_logins.blocked(address):
            return login_page(request, 429, TOO_MANY_TRIES, username)
        try:
            user = await call(deps.coordinators.authenticate, username, request.form.get("password") or "")
        except LoginFailed as error:
            failed_logins.failed(address)
            return login_page(request, 401, error.message, username)
        response = redirect(_safe_next(request.form.get("next")), status=303)
        session = {"u": user.username, "c": secrets.token_urlsafe(24), "e": user.session_epoch}
        set_cookie(request, response, SESSION_COOKIE, deps.signer.sign("session", session, SESSION_SECONDS), SESSION_SECONDS)
        del response.cookies[LOGIN_COOKIE]
        return response

    @app.get("/logout")
    @authenticated
    async def logout_form(request: Request) -> HTTPResponse:
        return render("logout.html", user=request.ctx.user, csrf=request.ctx.csrf)

    @app.post("/logout")
    @authenticated
    async def logout(request: Request) -> HTTPResponse:
        await call(deps.coordinators.end_sessions, request.ctx.user.username)
        response = redirect("/login", status=303)
        del response.cookies[SESSION_COOKIE]
        return response

    @app.get("/")
    @authenticated
    async def queue(request: Request) -> HTTPResponse:
        page = _page_number(request.args.get("page"))
        items, total = await call(deps.escalations.list_page, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        now = deps.clock()
        pages = max(1, -(-total // PAGE_SIZE))
        return render(
            "queue.html", user=request.ctx.user, csrf=request.ctx.csrf,
            rows=[_row(item, now) for item in items], total=total, page=page, pages=pages,
            rendered_at=now.isoformat(),
        )

    @app.get("/escalations/<reference:str>")
    @authenticated
    async def escalation(request: Request, reference: str) -> HTTPResponse:
        return await detail_page(request, reference)

    async def detail_page(request: Request, reference: str, status: int = 200, error: str = "") -> HTTPResponse:
        item = await call(deps.escalations.get, reference)
        notes = await call(deps.coordinators.notes, reference)
        person_id = await call(people.person_of_escalation, reference) if people is not None else None
        lines, transcript_error = await transcript_of(item)
        return render(
            "escalation.html", status, user=request.ctx.user, csrf=request.ctx.csrf,
            item=_row(item, deps.clock()), notes=notes, error=error, person_id=person_id,
            handoff_by=item.handoff_by, lines=lines, transcript_error=transcript_error,
        )

    async def transcript_of(item: EscalationView) -> tuple[list[TranscriptLine], str]:
        """The conversation's newest lines, or an explanation of why there are none."""
        if not item.conversation_id:
            return [], "This escalation has no conversation."
        if deps.transcripts is None:
            return [], "Transcripts are not available here."
        try:
            return await call(deps.transcripts.lines, item.conversation_id), ""
        except TranscriptUnavailable:
            return [], "The conversation could not be loaded just now (the assistant is not answering)."

    async def act(request: Request, reference: str, fn: Callable[..., Any], *args: Any) -> HTTPResponse:
        """Run an action on an escalation; on a refusal show the page again with the reason."""
        try:
            await call(fn, *args)
        except (InvalidInput, InvalidTransition, NotAllowed) as error:
            return await detail_page(request, reference, _status(error), error.message)
        return redirect(f"/escalations/{_quote(reference)}", status=303)

    form_calls = escalation_api.escalation_calls(
        deps.escalations, deps.coordinators.add_note, deps.care.handoffs if deps.care is not None else None
    )

    def form_route(action: str, field: Optional[str]) -> None:
        """``POST /escalations/<reference>/<action>``: the escalation page's form for one action."""

        async def handler(request: Request, reference: str) -> HTTPResponse:
            text = [request.form.get(field) or ""] if field else []
            return await act(request, reference, form_calls[action], reference,
                             request.ctx.user.display_name, *text)

        handler.__name__ = f"escalation_{action}"
        app.post(f"/escalations/<reference:str>/{action}", name=handler.__name__)(authenticated(handler))

    for action, field in escalation_api.ACTIONS.items():
        form_route(action, field)

    @app.get("/api/escalations/<reference:str>/transcript")
    @authenticated
    async def api_transcript(request: Request, reference: str) -> HTTPResponse:
        item = await call(deps.escalations.get, reference)
        lines, problem = await transcript_of(item)
        return json_response({
            "reference": item.reference, "handoff_by": item.handoff_by, "available": not problem,
            "message": problem,
            "lines": [{"speaker": line.speaker, "text": line.text,
                       "at": line.at.isoformat() if line.at else None,
                       "time": line.at.astimezone(zone).strftime("%H:%M") if line.at else ""} for line in lines],
        })

    @app.get("/api/escalations")
    @authenticated
    async def api_queue(request: Request) -> HTTPResponse:
        offset = _int_arg(request.args.get("offset"), 0, 0, 10**9)
        limit = _int_arg(request.args.get("limit"), PAGE_SIZE, 1, 500)
        items, total = await call(deps.escalations.list_page, offset, limit)
        now = deps.clock()
        return json_response({
            "total": total, "offset": offset, "limit": limit,
            "items": [_row(item, now) for item in items],
        })

    @app.get("/api/escalations/<reference:str>")
    @authenticated
    async def api_escalation(request: Request, reference: str) -> HTTPResponse:
        item = await call(deps.escalations.get, reference)
        notes = await call(deps.coordinators.notes, reference)
        return json_response(dict(
            _row(item, deps.clock()), outcome=item.outcome,
            resolved_at=item.resolved_at.isoformat() if item.resolved_at else None,
            notes=[{"coordinator": n.coordinator, "text": n.text, "created_at": n.created_at.isoformat()} for n in notes],
        ))

    @app.get("/events")
    @authenticated
    async def events(request: Request) -> None:
        """Server-sent events: every escalation opened since the page was shown, as it is opened.

        Each event carries ``first_page``: whether it belongs on the queue's first page now (the page
        adds those rows); emergencies raise the banner wherever they would sort.
        """
        since = _parse_time(request.args.get("since")) or deps.clock()
        response = await request.respond(
            content_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        await response.send("retry: 1000\n\n")
        seen: set[str] = set()
        started = asyncio.get_running_loop().time()
        idle = 0.0
        while not app.ctx.stopping and asyncio.get_running_loop().time() - started < SSE_MAX_SECONDS:
            fresh = [item for item in await call(deps.escalations.opened_since, since) if item.reference not in seen]
            if fresh:
                page, _ = await call(deps.escalations.list_page, 0, PAGE_SIZE)
                on_page = {item.reference for item in page}
                now = deps.clock()
                for item in fresh:
                    seen.add(item.reference)
                    since = max(since, item.created_at)
                    await response.send(_sse("escalation", dict(_row(item, now), first_page=item.reference in on_page)))
                idle = 0.0
            idle += SSE_POLL_SECONDS
            if idle >= 15:
                await response.send(": keep-alive\n\n")
                idle = 0.0
            await asyncio.sleep(SSE_POLL_SECONDS)
        await response.eof()

    @app.get("/api/session")
    @authenticated
    async def api_session(request: Request) -> HTTPResponse:
        """Who is signed in, and the CSRF token JSON calls that change something must send."""
        user = request.ctx.user
        return json_response({
            "username": user.username, "display_name": user.display_name,
            "csrf_token": request.ctx.csrf, "csrf_header": CSRF_HEADER,
        })

    @app.get("/api/openapi.json")
    @authenticated
    async def api_openapi(request: Request) -> HTTPResponse:
        """The OpenAPI 3.0 description of this API."""
        return json_response(openapi.document())

    if kit is not None:
        for module in (registry_routes, booking_routes, people_routes, review_routes, api_routes):
            module.register(app, kit)
        escalation_api.register(app, kit, deps.coordinators.add_note)

    @app.before_server_stop
    async def stop_streams(app: Sanic, _loop: Any) -> None:
        app.ctx.stopping = True

    return app


def _row(item: EscalationView, now: datetime) -> dict[str, Any]:
    """Return what the queue shows of an escalation (also the JSON of the API and events)."""
    waited = now - item.created_at
    overdue = item.status != "resolved" and waited > timedelta(minutes=SLA_MINUTES.get(item.priority, 1440))
    sla = "emergency" if item.kind == "emergency" or item.priority == 1 else ("overdue" if overdue else "ok")
    return {
        "reference": item.reference,
        "kind": item.kind,
        "kind_label": item.kind.replace("_", " "),
        "priority": item.priority,
        "status": item.status,
        "summary": item.summary,
        "created_at": item.created_at.isoformat(),
        "age": _age(waited),
        "sla": sla if item.status != "resolved" else "done",
        "overdue": overdue,
        "claimed_by": item.claimed_by,
        "conversation_id": item.conversation_id,
        "outcome": item.outcome,
        "url": f"/escalations/{item.reference}",
    }


def _age(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _status(error: CareError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidTransition):
        return 409
    if isinstance(error, NotAllowed):
        return 403
    return 400


def _safe_next(value: Optional[str]) -> str:
    """Return a local path to go to after login (never another site)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="/")


def _page_number(value: Optional[str]) -> int:
    return _int_arg(value, 1, 1, 10**6)


def _int_arg(value: Optional[str], default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(value))) if value is not None else default
    except ValueError:
        return default


def _parse_time(value: Optional[str]) -> Optional[datetime]:
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None

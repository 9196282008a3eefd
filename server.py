"""The HTTP API and the website widget: a thin FastAPI layer over the Assistant.

Translation only: requests are validated into pydantic models, handed to the core
(``assistant.*``), and the result or a clean JSON error goes back. The cross-cutting parts live
here too: start-up loading, rate limits, CORS, body limits, security headers, request ids,
JSON logs and Prometheus metrics.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import hmac
import html
import io
import json
import logging
import math
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as FastPath
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.sse import EventSourceResponse, format_sse_event
from fastapi.staticfiles import StaticFiles
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pythonjsonlogger.json import JsonFormatter
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.booking.slots import SlotUnavailable
from assistant.booking.store import SlotTaken
from assistant.booking.validation import BookingRequest, CallbackRequest, ValidationProblem, mask_email
from assistant.calc_errors import CalculatorError, InvalidYear
from assistant.calc_models import CalcResult, ClaimRequest, PlannedPost
from assistant.calculator import affordable_wte, claim, employment_cost, headroom, max_amount, pcn_sum
from assistant.feedback import FeedbackIn, FeedbackStore
from assistant.models import Answer, AssistantError, IndexUnavailable, InvalidQuestion
from assistant.rates import Area, RateTables, row_json, select_rows
from assistant.roles import RoleCatalogue
from assistant.settings import Settings
from slack_app import mount_slack

log = logging.getLogger("arrs.http")

WEB_DIR = Path(__file__).resolve().parent / "web"
RELOAD_SECONDS = 10.0
SESSION_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
REQUEST_ID_HEADER = "X-Request-ID"
CLIENT_HEADER = "X-ARRS-Client"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_request_id: ContextVar[str] = ContextVar("arrs_request_id", default="-")

# Pages get a CSP that allows only this origin's own files; everything else (JSON, scripts,
# events) gets one that allows nothing, so a response can never be rendered as a page.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


# ------------------------------------------------------------------------------------------------
# Request and response shapes (the Answer and FeedbackIn models come from the core).


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The visitor's question (plain text).")
    session_id: str | None = Field(
        default=None,
        max_length=128,
        pattern=SESSION_PATTERN,
        description="Continue a conversation: the session_id of a previous Answer.",
    )


# The calculator's requests: one body per `arrs calc` sub-command, told apart by `operation`. Each
# is turned into exactly the call the CLI makes, so the JSON is the same as `arrs calc ... --json`.


class CalcClaimIn(ClaimRequest):
    """`arrs calc claim`: the claimable amount over a period, month by month."""

    model_config = ConfigDict(extra="forbid")
    operation: Literal["claim"]


class CalcSumIn(BaseModel):
    """`arrs calc sum`: the PCN's Additional Roles Reimbursement Sum for a year."""

    model_config = ConfigDict(extra="forbid")
    operation: Literal["sum"]
    population: Decimal = Field(description="PCN weighted population.")
    year: str = Field(description="Financial year, e.g. 2025/26.")


class CalcAffordIn(BaseModel):
    """`arrs calc afford`: how many WTE of a role a budget funds for a year."""

    model_config = ConfigDict(extra="forbid")
    operation: Literal["afford"]
    budget: Decimal = Field(description="Budget in pounds.")
    role: str
    year: str | None = None
    on: date | None = Field(default=None, description="Use the rate in force on a date.")
    area: Area = Area.NATIONAL
    band: str | None = None


class CalcCostIn(BaseModel):
    """`arrs calc cost`: employer NI, employer pension and optionally the levy on a salary."""

    model_config = ConfigDict(extra="forbid")
    operation: Literal["cost"]
    salary: Decimal = Field(description="Annual salary in pounds.")
    on: date = Field(description="Date whose NI and pension rates apply.")
    levy: bool = False


class CalcMaxIn(BaseModel):
    """`arrs calc max`: the maximum per 1.0 WTE per year in force on a date."""

    model_config = ConfigDict(extra="forbid")
    operation: Literal["max"]
    role: str
    on: date
    area: Area = Area.NATIONAL
    band: str | None = None


class CalcHeadroomIn(BaseModel):
    """`arrs calc headroom`: what is left of the PCN's sum after planned posts."""

    model_config = ConfigDict(extra="forbid")
    operation: Literal["headroom"]
    population: Decimal
    year: str
    posts: list[PlannedPost] = Field(default_factory=list)


CalcIn = Annotated[
    CalcClaimIn | CalcSumIn | CalcAffordIn | CalcCostIn | CalcMaxIn | CalcHeadroomIn,
    Field(discriminator="operation"),
]


CALC_OPERATIONS = frozenset({"claim", "sum", "afford", "cost", "max", "headroom"})


def calculate(tables: RateTables, body: CalcIn) -> CalcResult:
    """The calculator call `arrs calc <operation>` makes for the same inputs."""
    if isinstance(body, CalcClaimIn):
        return claim(tables, ClaimRequest.model_validate(body.model_dump(exclude={"operation"})))
    if isinstance(body, CalcSumIn):
        return pcn_sum(tables, body.population, body.year)
    if isinstance(body, CalcAffordIn):
        return affordable_wte(
            tables,
            body.budget,
            body.role,
            financial_year=body.year,
            on=body.on,
            area=body.area,
            band=body.band,
        )
    if isinstance(body, CalcCostIn):
        return employment_cost(tables, body.salary, body.on, include_levy=body.levy)
    if isinstance(body, CalcMaxIn):
        return max_amount(tables, body.role, body.on, body.area, body.band)
    return headroom(tables, body.population, body.year, body.posts)


def rate_rows(tables: RateTables, role: str | None, year: str | None) -> list[dict[str, Any]]:
    """The rows `arrs rates --json` prints (money as strings with two decimals), filtered."""
    try:
        return [row_json(row) for row in select_rows(tables, role, year)]
    except InvalidYear as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None


class Problem(BaseModel):
    field: str
    problem: str


class ErrorOut(BaseModel):
    """Every error has this shape: a stable code, a message fit to show, the request id."""

    error: str
    message: str
    request_id: str
    details: list[Problem] | None = None


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    index_loaded: bool
    chroma_reachable: bool
    message: str | None = None


class FeedbackOut(BaseModel):
    stored: bool = True


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (413, 422, 429, 500, 503)
}


class ApiError(Exception):
    """An error response decided by a route (status, code, message, extra headers)."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}


# ------------------------------------------------------------------------------------------------
# Logging: one JSON object per line, carrying the request id.


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """JSON logs on stderr for the whole process (idempotent: several apps may be created)."""
    root = logging.getLogger()
    if any(getattr(handler, "_arrs_json", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_RequestIdFilter())
    handler._arrs_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    # Our own access log replaces uvicorn's, which would log query strings (an erasure
    # request carries an email address there).
    logging.getLogger("uvicorn.access").disabled = True


# ------------------------------------------------------------------------------------------------
# Metrics: a registry per app, so tests and several apps in one process never collide.


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "arrs_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "arrs_http_request_duration_seconds",
            "Time to the end of the response, by route template.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.answers = Counter(
            "arrs_answers", "Answers given, by intent.", ["intent", "channel"], registry=self.registry
        )
        self.abstentions = Counter(
            "arrs_abstentions",
            "Answers that abstained or redirected (grounded false), by intent.",
            ["intent"],
            registry=self.registry,
        )
        self.feedback = Counter(
            "arrs_feedback", "Feedback received, by rating.", ["rating"], registry=self.registry
        )
        self.rate_limited = Counter(
            "arrs_rate_limited", "Requests refused by the rate limit.", registry=self.registry
        )

    def observe_answer(self, answer: Answer, channel: str) -> None:
        self.answers.labels(intent=str(answer.intent), channel=channel).inc()
        if not answer.grounded:
            self.abstentions.labels(intent=str(answer.intent)).inc()


# ------------------------------------------------------------------------------------------------
# Per-app runtime state: the Assistant (once loaded) and the stores built on it.


class Runtime:
    def __init__(self, settings: Settings, assistant: Any | None) -> None:
        self.settings = settings
        self.assistant = assistant
        if assistant is not None:
            self.attach(assistant)
        self.load_error: str | None = None
        self.metrics = Metrics()
        self._feedback: FeedbackStore | None = None
        self._tables: RateTables | None = None

    def attach(self, assistant: Any) -> None:
        """Connect the adapters' services to the core: leads go to Slack when it is configured."""
        from slackbot.leads import lead_notifier

        if getattr(assistant, "lead_notifier", None) is None:
            assistant.lead_notifier = lead_notifier(self.settings)

    @property
    def tables(self) -> RateTables:
        """The cited rate tables and role catalogue (read once; they need no index)."""
        if self._tables is None:
            roles = RoleCatalogue.load(self.settings.roles_file)
            self._tables = RateTables.load(self.settings.rates_dir, roles)
        return self._tables

    @property
    def feedback(self) -> FeedbackStore:
        if self._feedback is None:
            self._feedback = FeedbackStore(self.ready_assistant().engine)
        return self._feedback

    def ready_assistant(self) -> Any:
        if self.assistant is None:
            raise ApiError(
                503,
                "not_ready",
                "The assistant is starting up or its index is unavailable. Please try again shortly.",
                {"Retry-After": str(int(RELOAD_SECONDS))},
            )
        return self.assistant

    async def load_until_ready(self) -> None:
        """Build the one Assistant of this process in a worker thread, retrying until it loads.

        The server accepts connections meanwhile: /healthz answers and the API says 503.
        """
        from assistant.chain import Assistant

        while self.assistant is None:
            try:
                loaded = await asyncio.to_thread(Assistant.from_settings, self.settings)
                self.attach(loaded)
                self.assistant = loaded
                self.load_error = None
                log.info("assistant loaded")
            except AssistantError as exc:
                self.load_error = str(exc)
                log.warning("assistant not ready: %s", exc)
            except Exception:
                self.load_error = "unexpected start-up error"
                log.exception("assistant failed to load")
            if self.assistant is None:
                await asyncio.sleep(RELOAD_SECONDS)


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def ready_assistant(request: Request) -> Any:
    return runtime(request).ready_assistant()


def request_id() -> str:
    return _request_id.get()


# ------------------------------------------------------------------------------------------------
# ASGI middleware (pure ASGI, so streamed responses are never buffered).


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(key.lower().encode(), value.encode()) for key, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class RequestContext:
    """Request id, security headers, one access-log line and metrics for every request.

    It is also the last line of defence: an exception that escapes the app becomes a JSON 500
    with the request id (the traceback goes to the log, never to the client).
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(rid)
        scope["arrs.request_id"] = rid
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", [])]
                present = {k.lower() for k, _ in headers}
                extra = {**SECURITY_HEADERS, REQUEST_ID_HEADER: rid}
                if b"content-security-policy" not in present:
                    extra["Content-Security-Policy"] = API_CSP
                headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error")
            status = 500
            if not response_started:
                await send_wrapper(_internal_error_start(rid))
                await send_wrapper(_internal_error_body(rid))
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(route=route, method=method, status=str(status)).inc()
            self.metrics.latency.labels(route=route).observe(elapsed)
            log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": method,
                    "path": scope["path"],  # never the query string: it may hold an email
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            _request_id.reset(token)


def _internal_error_payload(rid: str) -> bytes:
    return json.dumps(
        {
            "error": "internal_error",
            "message": "Something went wrong on our side. Please try again; quote this request id if it keeps happening.",
            "request_id": rid,
        }
    ).encode()


def _internal_error_start(rid: str) -> Message:
    body = _internal_error_payload(rid)
    return {
        "type": "http.response.start",
        "status": 500,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }


def _internal_error_body(rid: str) -> Message:
    return {"type": "http.response.body", "body": _internal_error_payload(rid)}


class _BodyTooLarge(StarletteHTTPException):
    """Raised while the app reads the body; an HTTPException, so FastAPI passes it through to
    the error handlers (which answer the JSON 413)."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimit:
    """Refuse bodies over ``max_bytes`` with a JSON 413: up front from Content-Length, and while
    reading for chunked bodies that carry none."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await _send_json(
            send,
            413,
            {
                "error": "body_too_large",
                "message": f"The request body is too large: the limit is {self.max_bytes:,} bytes.",
                "request_id": scope.get("arrs.request_id", "-"),
            },
            {"Connection": "close"},
        )


class RateLimit:
    """A moving-window limit per client IP on /api/ (storage shared between replicas via Redis).

    If the storage is unreachable the request is let through and a warning logged: an outage of
    the limiter must not become an outage of the service.
    """

    def __init__(self, app: ASGIApp, item: RateLimitItem, storage_uri: str, metrics: Metrics) -> None:
        self.app = app
        self.item = item
        self.metrics = metrics
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        options: dict[str, Any] = {}
        if uri.startswith(("async+redis", "async+rediss")):
            options["implementation"] = "redispy"
        self.storage = storage_from_string(uri, **options)
        self.limiter = MovingWindowRateLimiter(self.storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        try:
            allowed = await self.limiter.hit(self.item, "arrs", client)
            retry_after = 0
            if not allowed:
                stats = await self.limiter.get_window_stats(self.item, "arrs", client)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        except Exception as exc:
            log.warning("rate-limit storage unavailable, request let through: %s", type(exc).__name__)
            allowed = True
        if allowed:
            await self.app(scope, receive, send)
            return
        self.metrics.rate_limited.inc()
        await _send_json(
            send,
            429,
            {
                "error": "rate_limited",
                "message": f"Too many requests: the limit is {self.item}. Please wait {retry_after} s.",
                "request_id": scope.get("arrs.request_id", "-"),
            },
            {"Retry-After": str(retry_after)},
        )


# ------------------------------------------------------------------------------------------------
# Error translation.


def _error(
    status: int,
    error: str,
    message: str,
    *,
    details: list[Problem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorOut(error=error, message=message, request_id=request_id(), details=details)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _problems(exc: RequestValidationError) -> list[Problem]:
    problems = []
    for item in exc.errors():
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
        if len(loc) > 1 and loc[0] in CALC_OPERATIONS:
            loc = loc[1:]  # the union member's tag, not a field the client sent
        kind = item.get("type", "")
        if kind == "json_invalid":
            problems.append(Problem(field="body", problem="The request body is not valid JSON."))
        elif kind == "missing" and not loc:
            problems.append(Problem(field="body", problem="A JSON body is required."))
        elif kind in ("model_attributes_type", "dict_type", "model_type") and not loc:
            problems.append(Problem(field="body", problem="The request body must be a JSON object."))
        elif kind == "extra_forbidden":
            problems.append(Problem(field=".".join(loc), problem="Unknown field."))
        else:
            problems.append(Problem(field=".".join(loc) or "body", problem=str(item.get("msg", "Invalid."))))
    return problems


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "not_ready",
}


def install_error_handlers(app: FastAPI, settings: Settings) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        content_type = request.headers.get("content-type", "")
        if request.method in ("POST", "PUT", "PATCH") and "json" not in content_type:
            return _error(
                415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json."
            )
        problems = _problems(exc)
        summary = "; ".join(f"{p.field}: {p.problem}" if p.field != "body" else p.problem for p in problems)
        return _error(422, "invalid_request", summary or "The request is invalid.", details=problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        if status == 404:
            message = f"No such endpoint: {request.method} {request.url.path}"
        elif status == 405:
            message = f"{request.method} is not allowed on {request.url.path}."
        elif status == 413:
            message = f"The request body is too large: the limit is {settings.max_body_bytes:,} bytes."
        elif status == 400 and "parsing the body" in str(exc.detail):
            # FastAPI's answer for a body that is not even text (undecodable bytes).
            problem = Problem(field="body", problem="The request body is not valid UTF-8 JSON.")
            return _error(422, "invalid_request", problem.problem, details=[problem])
        else:
            message = str(exc.detail)
        return _error(status, _STATUS_CODES.get(status, "error"), message, headers=exc.headers)

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.error, exc.message, headers=exc.headers)

    @app.exception_handler(InvalidQuestion)
    async def _question(request: Request, exc: InvalidQuestion) -> JSONResponse:
        return _error(
            422, "invalid_question", str(exc), details=[Problem(field="question", problem=str(exc))]
        )

    @app.exception_handler(IndexUnavailable)
    async def _index(request: Request, exc: IndexUnavailable) -> JSONResponse:
        log.warning("index unavailable: %s", exc)
        return _error(
            503,
            "not_ready",
            "The guidance index is unavailable at the moment. Please try again shortly.",
            headers={"Retry-After": str(int(RELOAD_SECONDS))},
        )

    @app.exception_handler(ValidationProblem)
    async def _booking_field(request: Request, exc: ValidationProblem) -> JSONResponse:
        return _error(
            422, "invalid_request", exc.message, details=[Problem(field=exc.field, problem=exc.message)]
        )

    @app.exception_handler(SlotTaken)
    async def _taken(request: Request, exc: SlotTaken) -> JSONResponse:
        return _error(409, "slot_taken", str(exc))

    @app.exception_handler(SlotUnavailable)
    async def _unavailable(request: Request, exc: SlotUnavailable) -> JSONResponse:
        return _error(
            422, "slot_unavailable", str(exc), details=[Problem(field="slot_start", problem=str(exc))]
        )

    @app.exception_handler(CalculatorError)
    async def _calculator(request: Request, exc: CalculatorError) -> JSONResponse:
        return _error(422, "cannot_calculate", str(exc))

    @app.exception_handler(AssistantError)
    async def _assistant(request: Request, exc: AssistantError) -> JSONResponse:
        return _error(400, "bad_request", str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        rid = request.scope.get("arrs.request_id", request_id())
        return JSONResponse(json.loads(_internal_error_payload(rid)), status_code=500)


# ------------------------------------------------------------------------------------------------
# Pages and static files.


def _inline_script_hashes(html: str) -> list[str]:
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in scripts
    ]


def _docs_page(openapi_url: str, title: str) -> HTMLResponse:
    """Swagger UI from files served here (no CDN), with a CSP that admits only its init script."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} - API docs",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/swagger/favicon-32x32.png",
    )
    html = bytes(page.body).decode()
    scripts = " ".join(["'self'", *_inline_script_hashes(html)])
    csp = PAGE_CSP.replace("script-src 'self'", f"script-src {scripts}").replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$")


def _public_origin(request: Request, settings: Settings) -> str:
    """ARRS_PUBLIC_BASE_URL when set; else the origin the page was requested at (checked)."""
    origin = (settings.public_base_url or str(request.base_url)).rstrip("/")
    return origin if _ORIGIN.match(origin) else ""


def _web_file(name: str, media_type: str, csp: str | None = None, cache: str = "no-cache") -> Response:
    headers = {"Cache-Control": cache}
    if csp:
        headers["Content-Security-Policy"] = csp
    return FileResponse(WEB_DIR / name, media_type=media_type, headers=headers)


# ------------------------------------------------------------------------------------------------
# Streaming.


def answer_pieces(text: str, words: int = 4) -> list[str]:
    """Split an answer into small pieces of whole words (whitespace kept), for the stream."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)] or [""]


async def _answer_events(answer: Answer) -> AsyncIterator[bytes]:
    for piece in answer_pieces(answer.answer):
        yield format_sse_event(event="delta", data_str=json.dumps({"text": piece}))
        await asyncio.sleep(0)  # hand control back so each piece is flushed as it comes
    yield format_sse_event(event="final", data_str=answer.model_dump_json())


# ------------------------------------------------------------------------------------------------
# The app factory.


def create_app(settings: Settings | None = None, assistant: Any | None = None) -> FastAPI:
    """Build the app. ``assistant`` injects a ready Assistant (tests); otherwise the lifespan
    loads one per process in the background and the API answers 503 until it is ready."""
    settings = settings or Settings()
    configure_logging()
    state = Runtime(settings, assistant)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = None if state.assistant is not None else asyncio.create_task(state.load_until_ready())
        try:
            yield
        finally:
            if loader is not None:
                loader.cancel()

    app = FastAPI(
        title="ARRS Assistant",
        version="1.0",
        summary="Cited answers and reimbursement arithmetic for the Additional Roles Reimbursement Scheme.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.runtime = state
    install_error_handlers(app, settings)

    # Middleware: the last added is the outermost. Outer to inner: request context (ids, headers,
    # logs, metrics, the catch-all), CORS (so even a 429 can be read by the widget), rate limit,
    # body limit.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimit, item=parse(settings.rate_limit), storage_uri=settings.rate_limit_storage_uri, metrics=state.metrics)  # fmt: skip
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", CLIENT_HEADER, REQUEST_ID_HEADER],
        expose_headers=["Retry-After", REQUEST_ID_HEADER, "Location"],
        max_age=600,
    )
    app.add_middleware(RequestContext, metrics=state.metrics)

    _add_core_routes(app, settings, state)
    _add_calculator_routes(app, state)
    _add_booking_routes(app, settings, state)
    _add_web_routes(app, settings)
    mount_slack(app, lambda: state.assistant, settings)  # POST /slack/events when Slack is configured
    return app


def _channel(request: Request) -> str:
    return "widget" if request.headers.get(CLIENT_HEADER, "").lower() == "widget" else "api"


async def _ask(request: Request, body: AskIn, assistant: Any, settings: Settings, state: Runtime) -> Answer:
    channel = _channel(request)
    if settings.log_questions:
        log.info("question", extra={"question": body.question, "channel": channel})
    answer: Answer = await run_in_threadpool(
        assistant.ask, body.question, session_id=body.session_id, channel=channel
    )
    state.metrics.observe_answer(answer, channel)
    log.info(
        "answer",
        extra={
            "intent": answer.intent,
            "grounded": answer.grounded,
            "citations": len(answer.citations),
            "question_chars": len(body.question),
            "turn": answer.turn,
        },
    )
    return answer


def _add_core_routes(app: FastAPI, settings: Settings, state: Runtime) -> None:
    @app.get("/healthz", response_model=Health, tags=["operations"])
    async def healthz() -> Health:
        """The process is up (it may still be loading the index: see /readyz)."""
        return Health(status="ok")

    @app.get("/readyz", response_model=Readiness, tags=["operations"], responses={503: {"model": Readiness}})
    async def readyz() -> JSONResponse:
        """The index is loaded and Chroma answers: this replica can take traffic."""
        assistant = state.assistant
        if assistant is None:
            body = Readiness(
                ready=False,
                index_loaded=False,
                chroma_reachable=False,
                message="loading" if state.load_error is None else "index unavailable",
            )
            return JSONResponse(body.model_dump(), status_code=503)
        index_loaded = len(getattr(assistant, "index", ())) > 0
        reachable = await run_in_threadpool(assistant.ready)
        body = Readiness(
            ready=index_loaded and reachable, index_loaded=index_loaded, chroma_reachable=reachable
        )
        return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics() -> Response:
        """Prometheus text format."""
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/api/ask", response_model=Answer, tags=["answers"])
    async def ask(body: AskIn, request: Request, assistant: Any = Depends(ready_assistant)) -> Answer:
        """Answer one question with numbered citations (or a calculation, or a booking step)."""
        return await _ask(request, body, assistant, settings, state)

    @app.post(
        "/api/ask/stream",
        tags=["answers"],
        response_class=Response,
        responses={
            200: {
                "description": '`delta` events with {"text"} pieces, then one `final` event with the Answer.',
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        },
    )
    async def ask_stream(
        body: AskIn, request: Request, assistant: Any = Depends(ready_assistant)
    ) -> Response:
        """The same answer as /api/ask, as Server-Sent Events: `delta` {"text"} pieces, then
        `final` with the full Answer JSON. Errors are ordinary JSON responses, before the stream."""
        answer = await _ask(request, body, assistant, settings, state)
        return EventSourceResponse(
            _answer_events(answer), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    @app.post("/api/feedback", response_model=FeedbackOut, status_code=201, tags=["answers"])
    async def feedback(body: FeedbackIn, request: Request, _: Any = Depends(ready_assistant)) -> FeedbackOut:
        """Thumbs up or down on one answer (session_id + turn); a second rating replaces the first."""
        await run_in_threadpool(state.feedback.record, body, _channel(request))
        state.metrics.feedback.labels(rating=body.rating).inc()
        return FeedbackOut()


def _add_calculator_routes(app: FastAPI, state: Runtime) -> None:
    @app.post("/api/calculate", tags=["calculator"], response_model=None, summary="Calculate")
    async def calculate_route(body: CalcIn) -> JSONResponse:
        """Deterministic ARRS arithmetic over the cited rate tables: the same JSON as
        `arrs calc <operation> ... --json` (money as strings with two decimals)."""
        result = await run_in_threadpool(calculate, state.tables, body)
        return JSONResponse(result.to_dict())

    @app.get("/api/roles", tags=["calculator"])
    async def roles() -> list[dict[str, Any]]:
        """The role catalogue: ids, names, synonyms, abbreviations, bands, year added, WTE basis."""
        return [role.model_dump(mode="json") for role in state.tables.roles.all()]

    @app.get("/api/rates", tags=["calculator"])
    async def rates(
        role: Annotated[
            str | None, Query(max_length=100, description="Role name, id or abbreviation.")
        ] = None,
        year: Annotated[str | None, Query(max_length=20, description="Financial year, e.g. 2024/25.")] = None,
    ) -> list[dict[str, Any]]:
        """Maximum reimbursable amounts held, per row with its status and source (as `arrs rates --json`)."""
        return rate_rows(state.tables, role, year)


class SlotOut(BaseModel):
    start: str = Field(description="ISO 8601 with the office's UTC offset, e.g. 2026-11-24T10:30:00+00:00.")
    end: str


class BookingOut(BaseModel):
    """What the person who booked gets back (contact details masked; no internal lead scoring)."""

    id: str
    slot_start: str = Field(description="ISO 8601 with the office's UTC offset.")
    slot_end: str
    name: str
    organisation: str
    email: str
    status: str
    invite_url: str


class CallbackOut(BaseModel):
    id: str
    status: str = "received"


class ErasureOut(BaseModel):
    deleted: dict[str, int]


BOOKING_ID = r"^[0-9a-fA-F\-]{8,64}$"
CSV_FIELDS = [
    "id", "slot_start", "slot_end", "name", "email", "phone", "organisation", "ods_code", "interest",
    "notes", "priority", "priority_reasons", "summary", "created_at", "status", "session_id",
]  # fmt: skip


def _booking_service(assistant: Any) -> Any:
    """The Assistant's one booking service (with the Slack lead notifier when attached)."""
    from assistant.booking_dialogue import service

    return service(assistant)


def _csv_cell(value: Any) -> str:
    """Text as a spreadsheet will not run it: a leading = + - @ would start a formula."""
    if value is None:
        return ""
    text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def bookings_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for row in rows:
        writer.writerow([_csv_cell(row.get(field)) for field in CSV_FIELDS])
    return buffer.getvalue()


def _add_booking_routes(app: FastAPI, settings: Settings, state: Runtime) -> None:
    def tz_of(service: Any) -> Any:
        return service.profile.office_hours.tz

    def invite_url(request: Request, booking_id: str) -> str:
        return f"{_public_origin(request, settings) or ''}/api/bookings/{booking_id}.ics"

    def transcript(assistant: Any, session_id: str | None) -> list[str]:
        if not session_id:
            return []
        session, _ = assistant.sessions.load(session_id)
        return list(session.transcript)

    @app.get("/api/slots", response_model=list[SlotOut], tags=["booking"])
    async def slots(
        assistant: Any = Depends(ready_assistant),
        start: Annotated[
            date | None, Query(alias="from", description="First day, YYYY-MM-DD (default today).")
        ] = None,
        end: Annotated[
            date | None, Query(alias="to", description="Last day, YYYY-MM-DD (default the horizon).")
        ] = None,
    ) -> list[SlotOut]:
        """Free 30-minute consultation slots in office hours (Europe/London), never in the past,
        before the lead time, on bank holidays or already booked."""
        service = _booking_service(assistant)
        first = start or settings.current_date()
        last = end or first + timedelta(days=settings.booking_horizon_days)
        found = await run_in_threadpool(service.available_slots, first, last)
        return [SlotOut(**slot.as_json()) for slot in found]

    @app.post("/api/bookings", response_model=BookingOut, status_code=201, tags=["booking"],
              responses={409: {"model": ErrorOut}})  # fmt: skip
    async def book(
        body: BookingRequest, request: Request, assistant: Any = Depends(ready_assistant)
    ) -> JSONResponse:
        """Book a free slot. 409 when someone else has just taken it (a unique constraint decides)."""
        service = _booking_service(assistant)
        said = await run_in_threadpool(transcript, assistant, body.session_id)
        booking = await run_in_threadpool(service.book, body, said)
        url = invite_url(request, booking.id)
        out = BookingOut(
            id=booking.id,
            slot_start=booking.slot_start.astimezone(tz_of(service)).isoformat(),
            slot_end=booking.slot_end.astimezone(tz_of(service)).isoformat(),
            name=booking.name,
            organisation=booking.organisation,
            email=mask_email(booking.email),
            status=booking.status,
            invite_url=url,
        )
        return JSONResponse(out.model_dump(mode="json"), status_code=201, headers={"Location": url})

    @app.get("/api/bookings/{booking_id}.ics", tags=["booking"], response_class=Response,
             responses={200: {"content": {"text/calendar": {}}}, 404: {"model": ErrorOut}})  # fmt: skip
    async def invite(
        booking_id: Annotated[str, FastPath(pattern=BOOKING_ID)], assistant: Any = Depends(ready_assistant)
    ) -> Response:
        """The calendar invite (iCalendar) for a booking."""
        data = await run_in_threadpool(_booking_service(assistant).invite, booking_id)
        if data is None:
            raise ApiError(404, "not_found", "No booking with that id.")
        return Response(
            data,
            media_type="text/calendar; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="consultation.ics"',
                "Cache-Control": "no-store",
            },
        )

    @app.post("/api/callbacks", response_model=CallbackOut, status_code=201, tags=["booking"])
    async def callback(body: CallbackRequest, assistant: Any = Depends(ready_assistant)) -> CallbackOut:
        """Ask for a person to call back (an email or a phone number is needed)."""
        service = _booking_service(assistant)
        said = await run_in_threadpool(transcript, assistant, body.session_id)
        stored = await run_in_threadpool(service.request_callback, body, said)
        return CallbackOut(id=stored.id)

    # Admin: off (404) unless ARRS_ADMIN_TOKEN is set; then a bearer token is required.
    admin_on = settings.admin_token is not None

    def require_admin(request: Request) -> None:
        secret = settings.admin_token
        token = secret.get_secret_value() if isinstance(secret, SecretStr) else str(secret or "")
        if not token:
            raise StarletteHTTPException(404)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise ApiError(401, "unauthorized", "A valid admin bearer token is required.",
                           {"WWW-Authenticate": "Bearer"})  # fmt: skip

    admin = {"tags": ["admin"], "include_in_schema": admin_on, "dependencies": [Depends(require_admin)]}

    @app.get("/api/admin/bookings", **admin, response_model=None)
    async def admin_bookings(
        assistant: Any = Depends(ready_assistant),
        format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")] = "json",
    ) -> Response:
        """Every booking, newest first, with lead priority and summary."""
        found = await run_in_threadpool(_booking_service(assistant).list_bookings)
        rows = [booking.model_dump(mode="json") for booking in found]
        if format == "csv":
            return Response(
                bookings_csv(rows),
                media_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": 'attachment; filename="bookings.csv"',
                    "Cache-Control": "no-store",
                },
            )
        return JSONResponse(rows, headers={"Cache-Control": "no-store"})

    @app.delete("/api/admin/bookings/{booking_id}", **admin, status_code=204, response_class=Response)
    async def admin_delete(
        booking_id: Annotated[str, FastPath(pattern=BOOKING_ID)], assistant: Any = Depends(ready_assistant)
    ) -> Response:
        """Delete one booking (the slot becomes free again)."""
        if not await run_in_threadpool(_booking_service(assistant).delete, booking_id):
            raise ApiError(404, "not_found", "No booking with that id.")
        return Response(status_code=204)

    @app.delete("/api/admin/people", **admin, response_model=ErasureOut)
    async def admin_erase(
        email: Annotated[str, Query(min_length=3, max_length=254, description="The person's email address.")],
        assistant: Any = Depends(ready_assistant),
    ) -> ErasureOut:
        """Erase one person's data (bookings, callbacks and any other rows keyed on the email)."""
        counts = await run_in_threadpool(_booking_service(assistant).erase_person, email)
        return ErasureOut(deleted=counts)

    @app.get("/api/admin/report", **admin, response_model=None)
    async def admin_report(
        assistant: Any = Depends(ready_assistant),
        format: Annotated[
            Literal["html", "md", "json"], Query(description="html (default), md or json.")
        ] = "html",
        since: Annotated[
            date | None, Query(description="Only questions from this date (YYYY-MM-DD).")
        ] = None,
    ) -> Response:
        """Staff insights: unanswered questions grouped, negative feedback, intents, conversion, latency."""
        from assistant.report import REPORT_CSP, report_response

        body, media_type = await run_in_threadpool(
            report_response, assistant.engine, assistant.embeddings.encode, since, format
        )
        headers = {"Cache-Control": "no-store"}
        if format == "html":
            headers["Content-Security-Policy"] = REPORT_CSP
        return Response(body, media_type=media_type, headers=headers)


def _add_web_routes(app: FastAPI, settings: Settings) -> None:
    import swagger_ui_bundle

    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return _docs_page(app.openapi_url or "/openapi.json", app.title)

    @app.get("/", include_in_schema=False)
    async def demo_page(request: Request) -> HTMLResponse:
        """A stand-in customer site carrying the one-line embed, with this server's origin."""
        page = (WEB_DIR / "index.html").read_text(encoding="utf-8")
        page = page.replace("{{ORIGIN}}", html.escape(_public_origin(request, settings), quote=True))
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"})

    @app.get("/widget.js", include_in_schema=False)
    async def widget_js() -> Response:
        return _web_file("widget.js", "text/javascript; charset=utf-8", cache="public, max-age=300")

    @app.get("/demo.css", include_in_schema=False)
    async def demo_css() -> Response:
        return _web_file("demo.css", "text/css; charset=utf-8", cache="public, max-age=300")

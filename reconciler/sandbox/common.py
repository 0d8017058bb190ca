"""HTTP pieces every dialect shares: errors, bearer auth, the request log, JSON answers.

Dialects differ in paths and error envelopes, not in how a token is checked or a
request recorded, so those live here once. Answers are built as raw JSON
(``Response``), not through response models: the sandbox must stay cheap per
request when a benchmark lists tens of thousands of objects through it.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.sandbox.store import Store, dumps

MAX_LIMIT = 500
DEFAULT_LIMIT = 100

ErrorRenderer = Callable[[int, str, str], Any]
"""Turns (status, code, message) into a dialect's error body."""

_STATUS_CODES = {400: "validation_error", 401: "unauthorized", 404: "not_found", 409: "conflict"}


class ErrorAnswer(Exception):
    """An error answer the sandbox sends: status, a machine code and a message for people.

    Raised inside a route and rendered in the dialect's error shape by
    :func:`install_error_handlers`; it never leaves the server, so it is not part
    of reconciler's own error tree (:mod:`reconciler.errors`, whose ``ApiError``
    is the client's view of such an answer)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(what: str) -> ErrorAnswer:
    return ErrorAnswer(404, "not_found", f"{what} not found")


def invalid(message: str) -> ErrorAnswer:
    return ErrorAnswer(400, "validation_error", message)


def conflict(message: str) -> ErrorAnswer:
    return ErrorAnswer(409, "conflict", message)


def default_error_body(status: int, code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def json_response(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


def raw_json_response(text: str, status: int = 200) -> Response:
    """An answer already serialised (e.g. spliced from stored rows)."""
    return Response(text, status_code=status, media_type="application/json")


def splice_list(rows: Iterable[str], extra: Mapping[str, Any]) -> str:
    """``{"items": [rows...], **extra}`` from rows that are already JSON text."""
    tail = "".join(f",{dumps(k)}:{dumps(v)}" for k, v in extra.items())
    return '{"items":[' + ",".join(rows) + "]" + tail + "}"


def page_response(store: Store, collection: str, limit: int, offset: int) -> Response:
    """The paged list envelope: ``{"items", "total", "limit", "offset"}``, limit capped."""
    limit = min(limit, MAX_LIMIT)
    rows, total = store.page(collection, limit, offset)
    return raw_json_response(splice_list(rows, {"total": total, "limit": limit, "offset": offset}))


Limit = Annotated[
    int, Query(ge=0, description=f"Page size; values over {MAX_LIMIT} serve {MAX_LIMIT}.")
]
Offset = Annotated[int, Query(ge=0, description="How many objects to skip.")]


def _describe(error: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    message = str(error.get("msg", "invalid"))
    return f"{where}: {message}" if where else message


def install_error_handlers(app: FastAPI, render: ErrorRenderer = default_error_body) -> None:
    """Every error, FastAPI's own included, in the dialect's documented shape.

    FastAPI answers bad input with ``422 {"detail": [...]}``; documented APIs
    answer 400, so validation errors are rewritten here.
    """

    def answer(
        status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        response = json_response(render(status, code, message), status)
        if headers:
            response.headers.update(dict(headers))
        return response

    async def error_answer(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ErrorAnswer)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return answer(exc.status, exc.code, exc.message, headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        message = "; ".join(_describe(e) for e in exc.errors()) or "invalid request"
        return answer(400, "validation_error", message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(
            exc.status_code, "method_not_allowed" if exc.status_code == 405 else "error"
        )
        return answer(exc.status_code, code, str(exc.detail), exc.headers)

    async def unexpected(request: Request, exc: Exception) -> Response:
        return answer(500, "internal_error", f"{type(exc).__name__}: {exc}")

    app.add_exception_handler(ErrorAnswer, error_answer)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


_bearer = HTTPBearer(auto_error=False, description="The token the sandbox was started with.")


def bearer_auth(token: str) -> Callable[..., Awaitable[None]]:
    """A dependency that lets only ``Authorization: Bearer <token>`` through."""
    expected = token.encode()

    # async: FastAPI runs a plain-def dependency in a worker thread, a costly hop.
    async def check(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if credentials is None:
            raise ErrorAnswer(401, "unauthorized", "missing bearer token")
        if not secrets.compare_digest(credentials.credentials.encode(), expected):
            raise ErrorAnswer(401, "unauthorized", "invalid bearer token")

    return check


class SegmentRoute(APIRoute):
    """A route matched on the path as sent, each parameter one decoded segment.

    Starlette routes on the percent-decoded path, so an id sent as ``a%2Fb``
    would reach the server as two segments (``a/b``) and match another route or
    none. Here the route is matched on the raw path (``raw_path``, still
    encoded) and every path parameter is then decoded on its own: ``a%2Fb``
    arrives as the one value ``a/b``, ``%2E%2E`` as ``..``, ``%252F`` as ``%2F``.
    The literal parts of a route are matched as sent, so a client must not
    percent-encode them (none does).
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raw = scope.get("raw_path")
        if scope["type"] != "http" or not isinstance(raw, bytes) or scope.get("root_path"):
            return super().matches(scope)
        match, child = super().matches({**scope, "path": raw.decode("latin-1")})
        if match is not Match.NONE:
            params = dict(child.get("path_params", {}))
            for name in self.param_convertors:
                if isinstance(params.get(name), str):
                    params[name] = unquote(params[name])
            child["path_params"] = params
        return match, child


def api_router(prefix: str, dependencies: Sequence[DependsParam] = ()) -> APIRouter:
    """The router every dialect mounts its API on: routes are :class:`SegmentRoute`."""
    return APIRouter(prefix=prefix, dependencies=list(dependencies), route_class=SegmentRoute)


def _all_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, those of included routers too (FastAPI keeps them in a wrapper)."""
    for route in routes:
        yield route
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if isinstance(included, APIRouter):
            yield from _all_routes(included.routes)
        elif isinstance(route, Mount):
            yield from _all_routes(route.routes)


def check_segment_routes(app: FastAPI) -> None:
    """Refuse an app with a route taking a path parameter that would split a segment."""
    for route in _all_routes(app.routes):
        if (
            isinstance(route, APIRoute)
            and route.param_convertors
            and not isinstance(route, SegmentRoute)
        ):
            raise TypeError(
                f"sandbox route {route.path} is not a SegmentRoute: build dialect routers "
                "with reconciler.sandbox.common.api_router"
            )


def logged_path(scope: Scope) -> str:
    """The path as the client sent it: percent-encoded, one ``/`` per segment boundary."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        return raw.decode("latin-1")
    return quote(str(scope["path"]), safe="/")


class RequestLogMiddleware:
    """Records every request (method, path, query, status) before its answer leaves.

    The path is logged as sent (percent-encoded, see :func:`logged_path`), so a
    reader can split it on ``/`` and decode each segment to see exactly which
    object a call named. Writing at ``http.response.start`` means a client that has its answer can
    already see the call in the log. Health probes are left out so a fresh
    sandbox's log holds only API calls.
    """

    def __init__(self, app: ASGIApp, store: Store, skip: Iterable[str] = ("/healthz",)) -> None:
        self.app = app
        self.store = store
        self.skip = frozenset(skip)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.skip:
            await self.app(scope, receive, send)
            return
        started = False

        def log(status: int) -> None:
            query = scope.get("query_string", b"").decode("latin-1")
            self.store.log_request(scope["method"], logged_path(scope), query, status)

        async def logging_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                log(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        except Exception:
            if not started:
                log(500)
            raise

"""A fake of the few GitHub REST endpoints reconciler uses, served over real HTTP.

It keeps issues and comments in memory, pages listings with ``Link`` headers
like GitHub (``max_page`` forces small pages), rejects what GitHub rejects
(a bad token, a body over 65,536 characters, writes when ``deny_writes`` is
set) and records every request, so a test can assert exactly what was sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from click.testing import Result
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from reconciler.sandbox.server import BackgroundServer

BODY_LIMIT = 65_536
BOT = "github-actions[bot]"
GH_TOKEN = "ghs_fakeTOKEN-SECRET-987"
"""Recognisable, so a test can assert it never shows in output."""

RunGh = Callable[..., Result]
"""The ``run_gh`` fixture: ``run_gh(args, input=None, event=None, **env)``."""


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


@dataclass
class FakeGitHub:
    """State and behaviour; ``serve()`` runs it on 127.0.0.1 on a free port."""

    token: str
    repository: str = "octo/app"
    prefix: str = ""
    max_page: int = 100
    deny_writes: str | None = None
    next_link: str | None = None
    """Replace every ``rel="next"`` link with this URL (to test where links may lead)."""
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _ids: int = 1000
    url: str = ""

    # --- seeding -----------------------------------------------------------------
    def add_issue(self, number: int, *, pull_request: bool = False, **fields: Any) -> None:
        issue = {
            "number": number,
            "title": fields.pop("title", f"#{number}"),
            "body": fields.pop("body", ""),
            "state": fields.pop("state", "open"),
            "labels": [{"name": n} for n in fields.pop("labels", [])],
            "user": {"login": fields.pop("login", "someone")},
            "html_url": f"https://github.test/{self.repository}/issues/{number}",
        }
        if pull_request:
            issue["pull_request"] = {"url": "…"}
        self.issues[number] = issue

    def add_comment(self, issue: int, body: str, login: str = BOT) -> int:
        self._ids += 1
        self.comments[self._ids] = {
            "id": self._ids,
            "issue": issue,
            "body": body,
            "user": {"login": login},
            "html_url": f"https://github.test/{self.repository}/issues/{issue}#c{self._ids}",
        }
        return self._ids

    def comments_on(self, issue: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == issue]

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests if r.method != "GET"]

    # --- the HTTP side -------------------------------------------------------------
    def app(self) -> Starlette:
        repo = "/repos/{owner}/{name}"
        routes = [
            Route(repo + "/issues/{number:int}/comments", self._comments, methods=["GET", "POST"]),
            Route(repo + "/issues/comments/{cid:int}", self._edit_comment, methods=["PATCH"]),
            Route(repo + "/issues", self._issues, methods=["GET", "POST"]),
            Route(repo + "/issues/{number:int}", self._edit_issue, methods=["PATCH"]),
        ]
        return Starlette(routes=[Mount(self.prefix, routes=routes)] if self.prefix else routes)

    async def _check(self, request: Request) -> tuple[Any, Response | None]:
        """Record the request; answer as GitHub would to a bad token, repo or body."""
        body = await request.json() if await request.body() else None
        self.requests.append(
            Recorded(request.method, request.url.path, dict(request.query_params), body, 0)
        )
        owner, name = request.path_params["owner"], request.path_params["name"]
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return body, self._answer(401, {"message": "Bad credentials"})
        if f"{owner}/{name}" != self.repository:
            return body, self._answer(404, {"message": "Not Found"})
        if request.method != "GET" and self.deny_writes:
            return body, self._answer(403, {"message": self.deny_writes})
        if isinstance(body, dict) and len(str(body.get("body", ""))) > BODY_LIMIT:
            too_long = {"message": "body is too long (maximum is 65536 characters)"}
            return body, self._answer(422, {"message": "Validation Failed", "errors": [too_long]})
        return body, None

    def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        self.requests[-1].status = status
        return JSONResponse(payload, status, headers=headers)

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        size = min(int(request.query_params.get("per_page", 30)), self.max_page)
        page = int(request.query_params.get("page", 1))
        headers = {}
        if page * size < len(items):
            params = {**request.query_params, "page": str(page + 1)}
            nxt = self.next_link or str(request.url.include_query_params(**params))
            headers["Link"] = f'<{nxt}>; rel="next"'
        return self._answer(200, items[(page - 1) * size : page * size], headers)

    async def _comments(self, request: Request) -> Response:
        body, error = await self._check(request)
        number = request.path_params["number"]
        if error is not None:
            return error
        if number not in self.issues:
            return self._answer(404, {"message": "Not Found"})
        if request.method == "GET":
            return self._page(request, self.comments_on(number))
        return self._answer(201, self.comments[self.add_comment(number, body["body"])])

    async def _edit_comment(self, request: Request) -> Response:
        body, error = await self._check(request)
        comment = self.comments.get(request.path_params["cid"])
        if error is not None:
            return error
        if comment is None:
            return self._answer(404, {"message": "Not Found"})
        comment["body"] = body["body"]
        return self._answer(200, comment)

    async def _issues(self, request: Request) -> Response:
        body, error = await self._check(request)
        if error is not None:
            return error
        if request.method == "GET":
            state = request.query_params.get("state", "open")
            label = request.query_params.get("labels")
            found = [
                i
                for i in sorted(self.issues.values(), key=lambda i: -i["number"])
                if i["state"] == state
                and (label is None or label in {x["name"] for x in i["labels"]})
            ]
            return self._page(request, found)
        number = max(self.issues, default=0) + 1
        self.add_issue(number, login=BOT, **body)
        return self._answer(201, self.issues[number])

    async def _edit_issue(self, request: Request) -> Response:
        body, error = await self._check(request)
        issue = self.issues.get(request.path_params["number"])
        if error is not None:
            return error
        if issue is None:
            return self._answer(404, {"message": "Not Found"})
        issue.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
        return self._answer(200, issue)


class RunningFake:
    """``with RunningFake(fake):`` serves ``fake`` and sets ``fake.url``."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.server = BackgroundServer(fake.app(), name="fake-github", what="the fake GitHub")

    def __enter__(self) -> FakeGitHub:
        port = self.server.start()
        self.fake.url = f"http://127.0.0.1:{port}{self.fake.prefix}"
        return self.fake

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.stop()

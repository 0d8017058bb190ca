"""A fake of the few GitHub REST endpoints reconciler uses, served over real HTTP.

It keeps issues, comments, pull requests and workflow artifacts in memory,
pages listings with ``Link`` headers like GitHub (``max_page`` forces small
pages), answers an artifact download with a redirect to a signed URL of its
own "storage" path (which wants no token, and records whether one came),
rejects what GitHub rejects (a bad token, a body over 65,536 characters, writes
when ``deny_writes`` is set), answers with the secondary rate limit when
``rate_limited`` says so, and records every request, so a test can assert
exactly what was sent.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from click.testing import Result
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
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
    authorization: str | None = None


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
    rate_limited: int = 0
    """Answer this many next requests with GitHub's secondary rate limit (403, Retry-After)."""
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
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

    def add_pull(self, number: int, head_sha: str, *, merge_commit_sha: str | None = None) -> None:
        """Pull request ``number`` (an issue too, for comments); merged when given its commit."""
        self.add_issue(number, pull_request=True, title=f"PR {number}")
        self.pulls[number] = {
            "number": number,
            "state": "closed" if merge_commit_sha else "open",
            "merged_at": "2026-12-01T10:00:00Z" if merge_commit_sha else None,
            "merge_commit_sha": merge_commit_sha,
            "head": {"sha": head_sha, "ref": f"branch-{number}"},
            "base": {"ref": "main"},
            "html_url": f"https://github.test/{self.repository}/pull/{number}",
        }

    def add_artifact(
        self,
        name: str,
        files: dict[str, bytes],
        *,
        run_id: int,
        head_sha: str,
        expired: bool = False,
    ) -> int:
        """An artifact as upload-artifact leaves it: ``files`` at the top of a zip."""
        self._ids += 1
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w") as archive:
            for member, content in files.items():
                archive.writestr(member, content)
        self.artifacts.append(
            {
                "id": self._ids,
                "name": name,
                "expired": expired,
                "created_at": f"2026-12-01T10:{len(self.artifacts):02d}:00Z",
                "workflow_run": {"id": run_id, "head_sha": head_sha},
                "zip": data.getvalue(),
            }
        )
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
            Route(repo + "/commits/{sha}/pulls", self._commit_pulls, methods=["GET"]),
            Route(repo + "/actions/artifacts", self._artifacts, methods=["GET"]),
            Route(repo + "/actions/runs/{run:int}/artifacts", self._artifacts, methods=["GET"]),
            Route(repo + "/actions/artifacts/{aid:int}/zip", self._download, methods=["GET"]),
        ]
        storage = Route("/_storage/{aid:int}", self._storage, methods=["GET"])
        api = [Mount(self.prefix, routes=routes)] if self.prefix else routes
        return Starlette(routes=[storage, *api])

    async def _check(self, request: Request) -> tuple[Any, Response | None]:
        """Record the request; answer as GitHub would to a bad token, repo or body."""
        body = await request.json() if await request.body() else None
        auth = request.headers.get("authorization")
        self.requests.append(
            Recorded(request.method, request.url.path, dict(request.query_params), body, 0, auth)
        )
        owner, name = request.path_params["owner"], request.path_params["name"]
        if self.rate_limited > 0:
            self.rate_limited -= 1
            limited = {"message": "You have exceeded a secondary rate limit."}
            return body, self._answer(403, limited, {"Retry-After": "1"})
        if auth != f"Bearer {self.token}":
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

    def _page(
        self, request: Request, items: list[dict[str, Any]], key: str | None = None
    ) -> Response:
        size = min(int(request.query_params.get("per_page", 30)), self.max_page)
        page = int(request.query_params.get("page", 1))
        headers = {}
        if page * size < len(items):
            params = {**request.query_params, "page": str(page + 1)}
            nxt = self.next_link or str(request.url.include_query_params(**params))
            headers["Link"] = f'<{nxt}>; rel="next"'
        chunk = items[(page - 1) * size : page * size]
        payload: Any = chunk if key is None else {"total_count": len(items), key: chunk}
        return self._answer(200, payload, headers)

    async def _commit_pulls(self, request: Request) -> Response:
        """Like GitHub: the pull request that merged the commit, and open ones holding it."""
        _, error = await self._check(request)
        if error is not None:
            return error
        sha = request.path_params["sha"]
        found = [p for p in self.pulls.values() if sha in (p["merge_commit_sha"], p["head"]["sha"])]
        return self._page(request, found)

    async def _artifacts(self, request: Request) -> Response:
        _, error = await self._check(request)
        if error is not None:
            return error
        name = request.query_params.get("name")
        run = request.path_params.get("run")
        found = [
            {k: v for k, v in a.items() if k != "zip"}
            for a in reversed(self.artifacts)
            if (name is None or a["name"] == name)
            and (run is None or a["workflow_run"]["id"] == run)
        ]
        return self._page(request, found, key="artifacts")

    async def _download(self, request: Request) -> Response:
        """A 302 to a signed URL on the storage path, as GitHub answers."""
        _, error = await self._check(request)
        if error is not None:
            return error
        aid = request.path_params["aid"]
        if not any(a["id"] == aid for a in self.artifacts):
            return self._answer(404, {"message": "Not Found"})
        self.requests[-1].status = 302
        location = f"{self.url.removesuffix(self.prefix)}/_storage/{aid}?sig=signed-{aid}"
        return RedirectResponse(location, status_code=302)

    async def _storage(self, request: Request) -> Response:
        """The signed URL: the signature is the credential; no token is wanted here."""
        auth = request.headers.get("authorization")
        self.requests.append(
            Recorded("GET", request.url.path, dict(request.query_params), None, 200, auth)
        )
        aid = request.path_params["aid"]
        found = [a for a in self.artifacts if a["id"] == aid]
        if not found or request.query_params.get("sig") != f"signed-{aid}":
            self.requests[-1].status = 403
            return Response("AuthenticationFailed", 403)
        return Response(found[0]["zip"], 200, media_type="application/zip")

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

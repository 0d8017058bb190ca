"""A specs repository living through pull requests, merges and applies, for end-to-end tests.

- a git "origin" (bare) whose main branch holds the starter specs and a
  ``reconciler.yaml`` target ``production`` (tokenEnv ``PLATFORM_TOKEN``);
- the platform: a real reference sandbox behind a :class:`Gateway` that knows
  two tokens, a read-only one (GET only) and the write one, and records which
  token each request came with;
- jobs: the action's "Run reconciler" step run as the plan job of pull request
  #7 (with the read-only token) and as the apply job after its merge (with the
  write token), against the fake GitHub; an upload is the fake's artifact.

The origin and the applied platform are made once per module (:class:`Platform`)
and copied for each test: every test starts from the same main and the same state.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.sandbox.server import BackgroundServer
from tests.conftest import SharedSandbox, request_log
from tests.github.fake_github import BOT, GH_TOKEN, FakeGitHub
from tests.github.runner import ROOT, Runner, Step, run_inputs
from tests.integration.helpers import GIT_SETTINGS, copy_tree, run_cli

READ_TOKEN = "platform-READ-only-7321"
PR = 7
RUN_OF_PLAN, RUN_OF_APPLY = 100, 200


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_SETTINGS, *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@dataclass
class Gateway:
    """The platform's front door: a read-only token may only read; the write token may all."""

    upstream: str
    write_token: str
    seen: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, path, "read" | "write" | "other") of every request."""

    _upstream: httpx.AsyncClient | None = None

    def app(self) -> Starlette:
        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            # one client while the gateway runs: a client per request built its TLS
            # context each time, about 20 ms of CPU per proxied call
            async with httpx.AsyncClient(base_url=self.upstream) as client:
                self._upstream = client
                yield
            self._upstream = None

        return Starlette(
            routes=[
                Route("/{path:path}", self.proxy, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
            ],
            lifespan=lifespan,
        )

    async def proxy(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        kind = {f"Bearer {READ_TOKEN}": "read", f"Bearer {self.write_token}": "write"}.get(
            auth, "other"
        )
        self.seen.append((request.method, request.url.path, kind))
        if kind == "other":
            return JSONResponse({"error": "unauthorized", "message": "bad token"}, 401)
        if kind == "read" and request.method != "GET":
            return JSONResponse({"error": "forbidden", "message": "read-only token"}, 403)
        assert self._upstream is not None, "the gateway is not running"
        answer = await self._upstream.request(
            request.method,
            request.url.path,
            params=request.query_params,
            content=await request.body(),
            headers={
                "Authorization": f"Bearer {self.write_token}",
                "Content-Type": request.headers.get("content-type", "application/json"),
            },
        )
        return Response(answer.content, answer.status_code, media_type="application/json")

    def since(self, start: int) -> list[tuple[str, str, str]]:
        return self.seen[start:]


@dataclass
class Recorder:
    """Someone else's server: answers nothing useful, records everything, tokens included."""

    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def record(request: Request) -> Response:
            auth = request.headers.get("authorization")
            self.seen.append((request.method, request.url.path, auth))
            return JSONResponse({"message": "Not Found"}, 404)

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", record, methods=methods)])


def serve(app: Starlette, name: str) -> tuple[BackgroundServer, str]:
    server = BackgroundServer(app, name=name, what=name)
    return server, f"http://127.0.0.1:{server.start()}"


def config(url: str, token_env: str = "PLATFORM_TOKEN") -> str:
    return (
        "apiVersion: reconciler.dev/v1\n"
        "prune:\n  Tenant: ignore\n"
        "targets:\n"
        f"  production:\n    api: reference\n    url: {url}\n    tokenEnv: {token_env}\n"
    )


class Platform:
    """What each test of a module starts from, made by the first (a git repository and an
    apply: about a second) and copied for the others: the gateway in front of the module's
    shared sandbox, the bare origin whose main holds the starter specs with a
    ``reconciler.yaml`` naming that gateway, and the sandbox's database once they are
    applied."""

    def __init__(self, sandbox: SharedSandbox, root: Path) -> None:
        self.sandbox = sandbox
        self.gateway = Gateway(sandbox.url, sandbox.token)
        self._server, self.gateway_url = serve(self.gateway.app(), "gateway")
        self._origin = root / "origin.git"
        self._database = root / "applied.sqlite"
        self._root = root

    def start(self, origin: Path, sandbox: SharedSandbox) -> None:
        """The origin copied to ``origin``; ``sandbox`` (the shared one, made fresh for
        the test) holding the starter specs as applied; no request seen by the gateway."""
        assert sandbox is self.sandbox, "the test's sandbox is the one behind the gateway"
        if self._database.exists():
            sandbox.restore(self._database)
        else:
            self._make()
        shutil.copytree(self._origin, origin, symlinks=True)
        self.gateway.seen.clear()

    def _make(self) -> None:
        git(self._root, "init", "-q", "--bare", "-b", "main", str(self._origin))
        seed = self._root / "seed"
        git(self._root, "clone", "-q", str(self._origin), str(seed))
        copy_tree(ROOT / "specs", seed / "specs", dirs_exist_ok=True)
        (seed / "specs" / "reconciler.yaml").write_text(config(self.gateway_url))
        git(seed, "add", "-A")
        git(seed, "commit", "-q", "-m", "the platform as it should be")
        git(seed, "push", "-q", "origin", "main")
        applied = run_cli(
            ["apply", str(seed / "specs"), "--auto-approve"], PLATFORM_TOKEN=self.sandbox.token
        )
        assert applied.exit_code == 0, applied.output
        self.sandbox.save(self._database)

    def close(self) -> None:
        self._server.stop()


class SpecsRepo:
    """The repository of specs, its pull request #7, and the jobs GitHub would run for it."""

    def __init__(
        self, tmp: Path, github: FakeGitHub, sandbox: SharedSandbox, platform: Platform
    ) -> None:
        self.tmp, self.github, self.sandbox = tmp, github, sandbox
        self.origin = tmp / "origin.git"
        platform.start(self.origin, sandbox)
        self.head = ""
        self.merge_sha = ""
        self.before = ""

    def clone(self, name: str) -> Path:
        path = self.tmp / name
        git(self.tmp, "clone", "-q", str(self.origin), str(path))
        return path

    def writes_since(self, start: int) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in request_log(self.sandbox.db_path)[start:] if m != "GET"]

    def log_size(self) -> int:
        return len(request_log(self.sandbox.db_path))

    def open_pull_request(self, edit: Callable[[Path], None]) -> Path:
        """Push a branch with ``edit`` to its specs; the plan job's checkout (the test merge)."""
        work = self.clone("author")
        git(work, "checkout", "-q", "-b", "change")
        edit(work / "specs")
        git(work, "commit", "-q", "-am", "a change")
        git(work, "push", "-q", "origin", "change")
        self.head = git(work, "rev-parse", "HEAD")
        checkout = self.clone("pull-7-merge")  # refs/pull/7/merge, as actions/checkout does
        git(checkout, "merge", "-q", "--no-ff", "-m", "test merge", "origin/change")
        return checkout

    def plan_job(self, checkout: Path, *, upload: bool = True) -> Step:
        """The plan job of #7 (read-only token); its plan uploaded when the step succeeded."""
        job = Runner(self.tmp / "plan-job", self.github, checkout, {"pull_request": {"number": PR}})
        env = run_inputs(
            "plan",
            TARGET="production",
            BASE_REF="main",
            PR_NUMBER=str(PR),
            ARGS="--show-calls",
            PLATFORM_TOKEN_INPUT=READ_TOKEN,
            GITHUB_SHA=git(checkout, "rev-parse", "HEAD"),
        )
        run = job.step("Run reconciler", "pull_request", **env)
        if run.rc != 0:
            return run
        posted = job.step(
            "Sticky pull-request comment",
            "pull_request",
            GITHUB_TOKEN=GH_TOKEN,
            REPORT_DIR=run.outputs["dir"],
            AUTHOR=BOT,
        )
        assert posted.rc == 0, posted.stderr
        if upload:
            self.upload(
                run.outputs["artifact-name"], Path(run.outputs["dir"]), RUN_OF_PLAN, self.head
            )
        return run

    def upload(self, name: str, folder: Path, run_id: int, head_sha: str) -> int:
        """actions/upload-artifact: the folder's files at the top of the archive."""
        files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        return self.github.add_artifact(name, files, run_id=run_id, head_sha=head_sha)

    def merge(self) -> None:
        """Merge #7 into main (a merge commit), as GitHub's merge button does."""
        work = self.clone("merger")
        self.before = git(work, "rev-parse", "HEAD")
        git(work, "merge", "-q", "--no-ff", "-m", "Merge pull request #7", "origin/change")
        git(work, "push", "-q", "origin", "main")
        self.merge_sha = git(work, "rev-parse", "HEAD")
        self.github.add_pull(PR, self.head, merge_commit_sha=self.merge_sha)

    def apply_job(self, attempt: int = 1, token: str | None = None) -> Step:
        """The apply job on the push of the merge (write token, run 200, ``attempt``)."""
        checkout = self.clone(f"apply-{attempt}")
        event = {"repository": {"default_branch": "main"}, "before": self.before}
        job = Runner(self.tmp / f"apply-job-{attempt}", self.github, checkout, event)
        env = run_inputs(
            "apply",
            TARGET="production",
            BASE_SHA=self.before,
            ARGS="--show-calls",
            ENVIRONMENT="reconciler-apply",
            PLATFORM_TOKEN_INPUT=token or self.sandbox.token,
            GITHUB_SHA=self.merge_sha,
            GITHUB_RUN_ID=str(RUN_OF_APPLY),
            GITHUB_RUN_ATTEMPT=str(attempt),
        )
        return job.step("Run reconciler", "push", **env)


def calls(report_json: Path) -> list[tuple[str, str]]:
    """The writes a plan's report says apply would send (``--show-calls``)."""
    document = json.loads(report_json.read_text())
    return [(c["method"], c["path"]) for c in document["calls"]]

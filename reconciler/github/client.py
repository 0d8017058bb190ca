"""The one client for GitHub's REST API: headers, pagination, and errors that say what to do.

A failed call becomes a :class:`GitHubError` whose message tells the user the
fix (a 403 names the ``permissions:`` the workflow needs), never a traceback.
The token is set once as a header; it is scrubbed from any server text we
repeat and never leaves for a host other than the API's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from reconciler import __version__
from reconciler.errors import ApiError, TransportError
from reconciler.github.context import GitHubContext

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 500
"""50,000 items at 100 a page: past that a ``Link`` header is looping, not paging."""


class GitHubError(ApiError):
    """A GitHub call failed; ``hint`` is the whole message for the user."""

    def __init__(self, method: str, path: str, status: int, server_message: str, hint: str):
        super().__init__(method, path, status, server_message)
        self.hint = hint

    def __str__(self) -> str:
        return self.hint


@dataclass(frozen=True)
class Access:
    """What a run does, to explain a 403: e.g. ``write comments`` needs ``pull-requests: write``."""

    doing: str
    permission: str


def github_message(response: httpx.Response) -> str:
    """GitHub's ``message`` plus the ``errors[].message`` a 422 carries."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if not isinstance(body, dict):
        return response.reason_phrase
    parts = [str(body.get("message") or response.reason_phrase)]
    errors = body.get("errors")
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, dict) and error.get("message"):
                parts.append(str(error["message"]))
    return ": ".join(parts)


def _rate_limited(response: httpx.Response, message: str) -> bool:
    return (
        response.status_code == 429
        or response.headers.get("x-ratelimit-remaining") == "0"
        or "rate limit" in message.lower()
    )


class GitHubClient:
    """Synchronous calls to one repository's API; use as a context manager."""

    def __init__(
        self,
        context: GitHubContext,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.context = context
        self._base = httpx.URL(context.api_url + "/")
        self._http = httpx.Client(
            base_url=self._base,
            headers={
                "Authorization": f"Bearer {context.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"reconciler/{__version__}",
            },
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a redirect must not carry the token elsewhere
        )

    @property
    def repo_path(self) -> str:
        return f"repos/{self.context.repository}"

    def call(
        self,
        method: str,
        path: str,
        access: Access,
        *,
        subject: str = "",
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """One call; the decoded JSON answer, or a GitHubError that says what to do."""
        return self._send(method, path, access, subject, json=json, params=params)[1]

    def pages(
        self,
        path: str,
        access: Access,
        *,
        subject: str = "",
        params: Mapping[str, str | int] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a listing, following ``Link: <…>; rel="next"`` to the end."""
        url: str = path
        query: Mapping[str, str | int] | None = {"per_page": PER_PAGE, **(params or {})}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response, items = self._send("GET", url, access, subject, params=query)
            if not isinstance(items, list):
                raise self._error(response, "GET", path, access, subject, "not a list")
            yield from (item for item in items if isinstance(item, dict))
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return
            if not self._is_api_url(next_url) or next_url in seen:
                raise self._error(response, "GET", path, access, subject, "bad next-page link")
            seen.add(next_url)
            url, query = next_url, None
        raise self._error(response, "GET", path, access, subject, "too many pages")

    def _is_api_url(self, url: str) -> bool:
        """The token goes only to the API's own scheme, host, port and path."""
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            return False
        return (target.scheme, target.host, target.port) == (
            self._base.scheme,
            self._base.host,
            self._base.port,
        ) and target.path.startswith(self._base.path)

    def _send(
        self,
        method: str,
        url: str,
        access: Access,
        subject: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> tuple[httpx.Response, Any]:
        """The response and its decoded JSON; anything else is an error for the user."""
        shown = self._shown(url)
        try:
            response = self._http.request(method, url, json=json, params=params)
        except httpx.HTTPError as exc:
            raise TransportError(
                method, shown, self._scrub(str(exc) or type(exc).__name__)
            ) from None
        if not response.is_success:
            raise self._error(response, method, url, access, subject)
        try:
            return response, response.json()
        except ValueError:
            raise self._error(response, method, url, access, subject, "not JSON") from None

    def _shown(self, url: str) -> str:
        """A call as the user sees it: the path under the API, without the query."""
        path = httpx.URL(url).path if "://" in url else "/" + url.lstrip("/").split("?")[0]
        base = self._base.path.rstrip("/")
        return "/" + path[len(base) :].lstrip("/") if base and path.startswith(base) else path

    def _scrub(self, text: str) -> str:
        return text.replace(self.context.token, "***")

    def _error(
        self,
        response: httpx.Response,
        method: str,
        url: str,
        access: Access,
        subject: str,
        problem: str | None = None,
    ) -> GitHubError:
        status = response.status_code
        shown = self._shown(url)
        repo = self.context.repository
        message = self._scrub(problem or github_message(response))
        if problem is not None:
            hint = f"GitHub answered {method} {shown} with {problem} ({status}); giving up"
        elif status == 401:
            hint = (
                f"GITHUB_TOKEN was refused by {self.context.api_url} (401: {message}); "
                "it may have expired or belong to another GitHub host"
            )
        elif status in (403, 429) and _rate_limited(response, message):
            hint = (
                f"GitHub's rate limit stopped {method} {shown} ({status}: {message}); retry later"
            )
        elif status == 403:
            hint = (
                f"GITHUB_TOKEN cannot {access.doing} on {repo} (403: {message}); "
                f"give the workflow `permissions: {access.permission}`"
            )
        elif status == 404:
            what = f"{subject} on {repo}" if subject else repo
            hint = (
                f"{what} not found ({method} {shown}: 404 {message}); check GITHUB_REPOSITORY, "
                "the number, and that the token can see the repository"
            )
        else:
            hint = f"GitHub refused {method} {shown} ({status}: {message})"
        return GitHubError(method, shown, status, message, hint)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

"""The one client for GitHub's REST API: headers, pagination, and errors that say what to do.

A failed call becomes a :class:`GitHubError` whose message tells the user the
fix (a 403 names the ``permissions:`` the workflow needs), never a traceback.
The token is set once as a header; it is scrubbed from any server text we
repeat and never leaves for a host other than the API's own (a download's
redirect to signed storage is followed without it).

GitHub's rate limits (the secondary one comes with ``Retry-After``; the primary
one with ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``) are waited out
a few times, for at most a minute each, as GitHub asks; a limited request was
not processed, so even a POST is sent again. Longer waits are errors that say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from reconciler import __version__
from reconciler.errors import ApiError, TransportError
from reconciler.github.context import LOOPBACK, GitHubContext

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 500
"""50,000 items at 100 a page: past that a ``Link`` header is looping, not paging."""
RATE_LIMIT_RETRIES = 3
RATE_LIMIT_MAX_WAIT = 60.0
"""Seconds; a limit that lifts later than this fails the call (saying when to retry)."""
REDIRECTS = frozenset({301, 302, 303, 307, 308})


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


def rate_limit_wait(response: httpx.Response, now: float) -> float | None:
    """Seconds GitHub asks us to wait before sending ``response``'s request again.

    None when it is not a rate-limit answer (403 or 429 with ``Retry-After``, or
    with ``x-ratelimit-remaining: 0``), or when the header cannot be read.
    """
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    if headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset", "").strip()
        if reset.isdigit():
            return max(float(reset) - now, 0.0) + 1.0  # its clock and ours: a second to spare
    return None


class GitHubClient:
    """Synchronous calls to one repository's API; use as a context manager."""

    def __init__(
        self,
        context: GitHubContext,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.context = context
        self._sleep, self._clock = sleep, clock
        self._transport, self._timeout = transport, timeout
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
        key: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a listing, following ``Link: <…>; rel="next"`` to the end.

        ``key``: the items are under this key of each page's object (the Actions
        API answers ``{"total_count": n, "artifacts": [...]}``), not the page itself.
        """
        url: str = path
        query: Mapping[str, str | int] | None = {"per_page": PER_PAGE, **(params or {})}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response, body = self._send("GET", url, access, subject, params=query)
            items = body.get(key) if key is not None and isinstance(body, dict) else body
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
        response = self._request(method, url, json=json, params=params)
        if not response.is_success:
            raise self._error(response, method, url, access, subject)
        try:
            return response, response.json()
        except ValueError:
            raise self._error(response, method, url, access, subject, "not JSON") from None

    def _request(
        self,
        method: str,
        url: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> httpx.Response:
        """One request, sent again while GitHub's rate limit asks for a short wait."""
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                response = self._http.request(method, url, json=json, params=params)
            except httpx.HTTPError as exc:
                reason = self._scrub(str(exc) or type(exc).__name__)
                raise TransportError(method, self._shown(url), reason) from None
            wait = rate_limit_wait(response, self._clock())
            if wait is None or wait > RATE_LIMIT_MAX_WAIT or attempt == RATE_LIMIT_RETRIES:
                return response
            self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns")

    def download(self, path: str, access: Access, *, subject: str, limit: int) -> bytes:
        """The bytes behind ``path`` (an artifact's zip), at most ``limit`` of them.

        GitHub answers with a redirect to a short-lived signed URL on its storage
        host; that URL is fetched without the token (its signature is the
        credential), and only over https (http on this machine, for tests).
        """
        response = self._request("GET", path)
        if response.is_success:
            content = response.content
        elif response.status_code in REDIRECTS and response.headers.get("location"):
            content = self._fetch_signed(response.headers["location"], path, access, subject, limit)
        else:
            raise self._error(response, "GET", path, access, subject)
        if len(content) > limit:
            raise self._error(response, "GET", path, access, subject, f"over {limit} bytes")
        return content

    def _fetch_signed(
        self, location: str, path: str, access: Access, subject: str, limit: int
    ) -> bytes:
        try:
            url = httpx.URL(location)
        except httpx.InvalidURL:
            url = httpx.URL("invalid:")
        if not (url.scheme == "https" or (url.scheme == "http" and url.host in LOOPBACK)):
            raise GitHubError(
                "GET",
                self._shown(path),
                302,
                "redirect",
                f"{subject}: GitHub's download link is not an https URL; refusing to follow it",
            )
        shown = f"{subject} (signed download)"
        chunks: list[bytes] = []
        size = 0
        try:
            with (
                httpx.Client(transport=self._transport, timeout=self._timeout) as plain,
                plain.stream("GET", url, headers={"User-Agent": f"reconciler/{__version__}"}) as r,
            ):
                if not r.is_success:
                    raise GitHubError(
                        "GET",
                        shown,
                        r.status_code,
                        r.reason_phrase,
                        f"{subject}: its download link answered {r.status_code}; re-run the job",
                    )
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise GitHubError(
                            "GET",
                            shown,
                            r.status_code,
                            "too large",
                            f"{subject} is over {limit} bytes; not a reconciler plan",
                        )
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise TransportError(
                "GET", shown, self._scrub(str(exc) or type(exc).__name__)
            ) from None
        return b"".join(chunks)

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
            wait = rate_limit_wait(response, self._clock())
            when = f"retry in {wait:.0f} s" if wait is not None else "retry later"
            hint = f"GitHub's rate limit stopped {method} {shown} ({status}: {message}); {when}"
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

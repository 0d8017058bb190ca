"""The GitHub client's errors: each says what to do, none repeats the token."""

from __future__ import annotations

import httpx
import pytest

from reconciler.github.client import Access, GitHubClient, GitHubError
from reconciler.github.context import GitHubContext

TOKEN = "ghs_unit-SECRET"
ACCESS = Access("write comments", "pull-requests: write")


def client(handler: httpx.MockTransport) -> GitHubClient:
    return GitHubClient(
        GitHubContext("https://api.github.test", "octo/app", TOKEN), transport=handler
    )


def fails(response: httpx.Response) -> GitHubError:
    with (
        client(httpx.MockTransport(lambda request: response)) as gh,
        pytest.raises(GitHubError) as caught,
    ):
        gh.call("POST", "repos/octo/app/issues/7/comments", ACCESS, json={"body": "x"})
    return caught.value


def test_a_rate_limited_403_says_rate_limit_not_permissions() -> None:
    error = fails(
        httpx.Response(
            403,
            json={"message": "API rate limit exceeded"},
            headers={"x-ratelimit-remaining": "0"},
        )
    )
    assert "rate limit" in str(error) and "permissions" not in str(error)
    assert error.status == 403 and error.path == "/repos/octo/app/issues/7/comments"


def test_a_422_repeats_githubs_reasons_and_scrubs_the_token() -> None:
    error = fails(
        httpx.Response(
            422, json={"message": "Validation Failed", "errors": [{"message": f"bad {TOKEN}"}]}
        )
    )
    assert "422: Validation Failed: bad ***" in str(error) and TOKEN not in str(error)


def test_an_html_page_or_a_redirect_is_an_error_not_a_success() -> None:
    assert "not JSON" in str(fails(httpx.Response(200, text="<html>proxy login</html>")))
    moved = fails(httpx.Response(301, headers={"Location": "https://elsewhere.test/"}))
    assert moved.status == 301


def counting(answers: list[httpx.Response]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport giving ``answers`` in turn (the last one again), recording each request."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1]

    return httpx.MockTransport(handle), seen


def paced(transport: httpx.MockTransport, now: float = 1_000.0) -> tuple[GitHubClient, list[float]]:
    slept: list[float] = []
    gh = GitHubClient(
        GitHubContext("https://api.github.test", "octo/app", TOKEN),
        transport=transport,
        sleep=slept.append,
        clock=lambda: now,
    )
    return gh, slept


SECONDARY = {"message": "You have exceeded a secondary rate limit."}


def test_the_secondary_rate_limit_is_waited_out_as_github_says() -> None:
    transport, seen = counting(
        [
            httpx.Response(403, json=SECONDARY, headers={"Retry-After": "2"}),
            httpx.Response(429, json=SECONDARY, headers={"Retry-After": "5"}),
            httpx.Response(201, json={"id": 1}),
        ]
    )
    gh, slept = paced(transport)
    with gh:
        created = gh.call("POST", "repos/octo/app/issues/7/comments", ACCESS, json={"body": "x"})
    assert created == {"id": 1}
    assert slept == [2.0, 5.0]
    assert len(seen) == 3  # a limited request was not processed: sending it again is safe


def test_the_primary_rate_limit_waits_until_its_reset_when_that_is_soon() -> None:
    exhausted = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1010"}
    transport, _ = counting(
        [
            httpx.Response(403, json={"message": "API rate limit exceeded"}, headers=exhausted),
            httpx.Response(200, json=[]),
        ]
    )
    gh, slept = paced(transport, now=1_000.0)
    with gh:
        assert gh.call("GET", "repos/octo/app/issues", ACCESS) == []
    assert slept == [11.0]  # until the reset, and a second for clocks that disagree


def test_waiting_is_bounded_in_time_and_in_tries() -> None:
    later = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4600"}
    transport, seen = counting(
        [httpx.Response(403, json={"message": "API rate limit exceeded"}, headers=later)]
    )
    gh, slept = paced(transport, now=1_000.0)
    with gh, pytest.raises(GitHubError) as too_long:
        gh.call("GET", "repos/octo/app/issues", ACCESS)
    assert slept == [] and len(seen) == 1
    assert "rate limit" in str(too_long.value) and "retry in 3601 s" in str(too_long.value)

    transport, seen = counting([httpx.Response(429, json=SECONDARY, headers={"Retry-After": "1"})])
    gh, slept = paced(transport)
    with gh, pytest.raises(GitHubError) as kept_on:
        gh.call("GET", "repos/octo/app/issues", ACCESS)
    assert slept == [1.0, 1.0, 1.0] and len(seen) == 4
    assert kept_on.value.status == 429


def test_a_permission_403_is_not_retried() -> None:
    transport, seen = counting(
        [httpx.Response(403, json={"message": "Resource not accessible by integration"})]
    )
    gh, slept = paced(transport)
    with gh, pytest.raises(GitHubError) as caught:
        gh.call("POST", "repos/octo/app/issues/7/comments", ACCESS, json={"body": "x"})
    assert slept == [] and len(seen) == 1
    assert "permissions: pull-requests: write" in str(caught.value)


def test_a_download_follows_githubs_redirect_without_the_token() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.github.test":
            return httpx.Response(
                302, headers={"Location": "https://storage.test/a/1.zip?sig=s3cr3t"}
            )
        assert "authorization" not in request.headers  # the signature is the credential
        return httpx.Response(200, content=b"PK-zip-bytes")

    gh, _ = paced(httpx.MockTransport(handle))
    with gh:
        data = gh.download("repos/octo/app/actions/artifacts/1/zip", ACCESS, subject="a", limit=100)
    assert data == b"PK-zip-bytes"


def test_a_download_refuses_plain_http_elsewhere_and_oversized_answers() -> None:
    def to(location: str) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            if request.url.host == "api.github.test":
                return httpx.Response(302, headers={"Location": location})
            return httpx.Response(200, content=b"x" * 50)

        return httpx.MockTransport(handle)

    gh, _ = paced(to("http://storage.test/a.zip"))
    with gh, pytest.raises(GitHubError) as plain:
        gh.download("repos/octo/app/actions/artifacts/1/zip", ACCESS, subject="a", limit=100)
    assert "not an https URL" in str(plain.value)
    gh, _ = paced(to("https://storage.test/a.zip"))
    with gh, pytest.raises(GitHubError) as big:
        gh.download("repos/octo/app/actions/artifacts/1/zip", ACCESS, subject="a", limit=10)
    assert "over 10 bytes" in str(big.value)

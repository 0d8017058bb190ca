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

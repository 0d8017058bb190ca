"""Reports as GitHub renders them: cmark-gfm (GitHub's own parser) with its extensions.

These tests check the HTML, not only the Markdown string: hostile values from
specs or servers produce no tag, no link that goes elsewhere than it says, and
no text GitHub's filters would turn into a mention, an issue link, an emoji or
math; tags are balanced wherever a report was cut; and a destructive change in
a huge pull request is the first thing a reviewer sees.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import cmarkgfm  # type: ignore[import-untyped]
import pytest
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

from reconciler.engine.plan import Plan
from reconciler.engine.planner import Planner, PlannerCapabilities
from reconciler.model import Kind, Resource, ResourceId, State
from reconciler.providers.reference import ReferenceProvider
from reconciler.report import escape
from reconciler.report.markdown import build_report
from reconciler.report.metadata import Metadata
from reconciler.rules import Rules
from tests.report.balance import outside_fences

EXTENSIONS = ["table", "autolink", "strikethrough", "tagfilter"]
PLANNER = Planner(Rules(prune={Kind.TENANT: "delete"}), PlannerCapabilities.of(ReferenceProvider))
RUN = "https://github.com/octo/app/actions/runs/4242"
META = Metadata(commit="0123456789abcdef" * 2 + "01234567", run_url=RUN, artifact="plan-7")
HOSTILE = (
    "@octo-org/admins #12 octo/app#34 GH-56 gh-7 :shipit: :+1: $x^2$ $$y$$ "
    "a\u202eb\u200bc <img src=x onerror=alert(1)> [click](https://evil.example) "
    "https://evil.example/@x?a=b#9 www.evil.example/p_(q)_ mail@evil.example"
)
ALLOWED_TAGS = {
    "p", "h2", "h3", "strong", "em", "code", "pre", "a", "details", "summary", "table",
    "thead", "tbody", "tr", "th", "td", "blockquote", "ul", "li", "hr", "sub",
}  # fmt: skip
VOID = {"hr", "br", "img", "input"}
GITHUB_LINKS = {
    "mention": re.compile(r"(?<![\w`])@[A-Za-z0-9][\w-]*"),
    "issue": re.compile(r"(?<![\w&])#\d+"),
    "GH issue": re.compile(r"\bGH-\d+", re.I),
    "repo issue": re.compile(r"[\w.-]+/[\w.-]+#\d+"),
    "emoji": re.compile(r":[\w+-]+:"),
    "bidi or zero-width (own)": re.compile("[\u202a-\u202e\u2066-\u2069\u200c-\u200f]"),
}


class Page(HTMLParser):
    """Tags in order, balanced or not; text by where it is; links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.problems: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.prose: list[str] = []  # text GitHub's filters read (not code, pre or links)
        self.texts: list[tuple[int, str]] = []  # (details depth, text)
        self._href: str | None = None
        self._link_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if any(name.startswith("on") for name, _ in attrs):
            self.problems.append(f"<{tag}> with an event handler")
        if tag == "a":
            self._href, self._link_text = dict(attrs).get("href") or "", ""
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:  # <hr /> reports an end too
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._link_text))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._link_text += data
        if not {"code", "pre", "a"} & set(self.stack):
            self.prose.append(data)
        self.texts.append((self.stack.count("details"), data))


def render(markdown: str) -> Page:
    html = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=Options.CMARK_OPT_UNSAFE, extensions=EXTENSIONS
    )
    page = Page()
    page.feed(html)
    page.close()
    assert not page.problems, page.problems
    assert not page.stack, f"left open: {page.stack}"
    assert set(page.tags) <= ALLOWED_TAGS, set(page.tags) - ALLOWED_TAGS
    return page


def assert_inert(markdown: str, page: Page) -> None:
    """No live link GitHub would add, no math, and every link goes where it says."""
    prose = " ".join(page.prose)
    for what, pattern in GITHUB_LINKS.items():
        assert not pattern.search(prose), (what, pattern.search(prose))
    # math starts only at a written '$' (an entity is no delimiter), outside code and comments
    no_code = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)|<!--.*?-->", "", outside_fences(markdown))
    assert "$" not in no_code
    for href, text in page.links:
        assert href == text or (href == RUN and text == "run 4242"), (href, text)


def tenant(key: str, **fields: object) -> Resource:
    return Resource(ResourceId(Kind.TENANT, key), dict(fields), server={"id": key})


def hostile_report(limit: int) -> str:
    live = [tenant(f"{HOSTILE} {i}", status="active") for i in range(3)]
    for i, resource in enumerate(live):
        resource.server = {"id": f"h{i}"}  # an id a path can carry: these are deleted
    desired = [tenant("acme", display_name=HOSTILE)]
    plan = PLANNER.plan(State(desired), State(live))
    plan.unsafe[ResourceId(Kind.TENANT, HOSTILE)] = HOSTILE
    drift = Plan(changes=list(plan.changes))
    return build_report(
        title=f"plan {HOSTILE}",
        target=f"prod ({HOSTILE}) at http://127.0.0.1:8080/api",
        specs=HOSTILE,
        plan=plan,
        pr_changes=plan,
        drift=drift,
        reverted=drift.changes,
        base=HOSTILE,
        meta=META,
        report_file=HOSTILE,
    ).render(limit)


@pytest.mark.parametrize("limit", [65_536, 8_000, 2_000], ids=["whole", "cut", "minimal"])
def test_hostile_values_render_inert(limit: int) -> None:
    markdown = hostile_report(limit)
    page = render(markdown)
    assert_inert(markdown, page)
    text = " ".join(data for _, data in page.texts)
    assert "<img src=x onerror=alert(1)>" in text  # shown as text, never a tag
    assert "a\\u202eb\\u200bc" in text  # visible escapes
    if limit == 8_000:
        assert "This report was cut" in text
    if limit == 2_000:
        assert "This report is too long" in text


def test_urls_are_code_as_written_or_links_that_go_where_they_say() -> None:
    plan = PLANNER.plan(State([tenant("acme")]), State())
    markdown = build_report(
        title="plan",
        target="local (reference at http://127.0.0.1:8080)",
        specs="specs",
        plan=plan,
        meta=META,
    ).render()
    page = render(markdown)
    codes = re.findall(r"<code>([^<]*)</code>", cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=Options.CMARK_OPT_UNSAFE, extensions=EXTENSIONS
    ))  # fmt: skip
    assert "http://127.0.0.1:8080" in codes
    assert "\\" not in " ".join(page.prose)  # no escape shows, in a URL or anywhere
    assert page.links == [(RUN, "run 4242")]
    assert META.commit is not None and META.commit[:12] in codes


def test_a_suspension_among_2000_creates_is_shown_first_with_a_warning() -> None:
    """The issue's reproduction: ``--base`` with a branch adding ``status: suspended`` to a
    tenant whose base spec had none, and 2,000 creates in the same pull request."""
    base = [tenant("globex")]
    branch = [tenant("globex", status="suspended")]
    branch += [tenant(f"new-{i:04d}", display_name="New tenant") for i in range(2000)]
    live = [tenant("globex", status="active")]
    plan = PLANNER.plan(State(branch), State(live))
    markdown = build_report(
        title="plan",
        target="prod",
        specs="specs",
        plan=plan,
        pr_changes=PLANNER.plan(State(branch), State(base)),
        drift=PLANNER.plan(State(base), State(live)),
        base="origin/main",
        meta=META,
    ).render()
    page = render(markdown)
    summaries = re.findall(
        r"<summary>(.*?)</summary>",
        cmarkgfm.markdown_to_html_with_extensions(
            markdown, options=Options.CMARK_OPT_UNSAFE, extensions=EXTENSIONS
        ),
    )
    assert summaries[0].startswith("⚠️ <code>~ Tenant/globex will be updated in place")
    assert 'status null → "suspended"' in summaries[0]
    assert sum(s.startswith("⚠️") for s in summaries) == 1
    assert 1 < len(summaries) < 2001  # cut, the suspension kept
    warning = next(data for _, data in page.texts if "destructive change" in data)
    assert "1 destructive change(s)" in warning
    assert all(depth == 0 for depth, data in page.texts if "This report was cut" in data)


def test_the_escaping_functions_break_what_github_would_link() -> None:
    zw = escape.ZWSP_ENTITY
    assert escape.md("GH-7 :shipit: $x$") == f"GH{zw}\\-7 :{zw}shipit: &#36;x&#36;"
    assert escape.md("see http://127.0.0.1:8080.") == "see `http://127.0.0.1:8080`\\."
    assert escape.md("x ``http://a.b/`c`` y") == "x \\`\\``http://a.b/`\\`c\\`\\` y"
    assert escape.html_text("@a $1") == f"@{zw}a &#36;1"
    assert escape.code("`tick") == "`` `tick ``"

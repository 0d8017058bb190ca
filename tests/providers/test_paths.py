"""Every URL path segment is encoded, everywhere (issue 10).

(a) the path helper with hostile values; (b) what httpx puts on the wire, seen
through ``httpx.MockTransport`` as ``request.url.raw_path``; (c) a walk over every
provider module that fails on any path built by string formatting; (d) each
provider's ``unaddressable`` for live objects it cannot address safely.

Over 400 lines on purpose: the four parts share one corpus of hostile values and
are the judge of one guarantee; ``--show-calls`` paths are in test_preview.py.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

import reconciler.providers as providers_package
from reconciler.errors import PlanError, ReconcilerError
from reconciler.model import Action, Change, FieldChange, Kind, Resource, ResourceId
from reconciler.providers import dialects, provider_class
from reconciler.providers.base import ApplyContext, Provider
from reconciler.providers.http import (
    ApiClient,
    UnsafePath,
    UnsafePathSegment,
    encode_segment,
    path_problem,
    segment_problem,
    url_path,
)

# ---- (a) the helper ------------------------------------------------------------------

ENCODED = [
    ("..", "%2E%2E"),
    (".", "%2E"),
    ("...", "..."),  # not a dot segment: RFC 3986 resolves only "." and ".."
    ("beta#frag", "beta%23frag"),
    ("sso?x=1", "sso%3Fx%3D1"),
    ("%73so", "%2573so"),
    ("%2e%2e", "%252e%252e"),
    ("a b", "a%20b"),
    ("é", "%C3%A9"),
    ("\u202e", "%E2%80%AE"),
    ("\u200b", "%E2%80%8B"),
    ("a;b=c,d", "a%3Bb%3Dc%2Cd"),
    ("user@example.com", "user%40example.com"),
    ("a:b", "a%3Ab"),
    ("+&$!'()*", "%2B%26%24%21%27%28%29%2A"),
    ("[x]", "%5Bx%5D"),
    ("~Az09-_.", "~Az09-_."),
    (" ", "%20"),
    ("日本", "%E6%97%A5%E6%9C%AC"),
    ("\U0001f600", "%F0%9F%98%80"),
    (42, "42"),
    (-1, "-1"),
    ("operator-admin", "operator-admin"),
    ("3f2b8c1e-0d4a-4b8e-9a7f-1c2d3e4f5a6b", "3f2b8c1e-0d4a-4b8e-9a7f-1c2d3e4f5a6b"),
]


@pytest.mark.parametrize(("value", "encoded"), ENCODED)
def test_each_value_becomes_exactly_one_encoded_segment(value: str | int, encoded: str) -> None:
    assert segment_problem(value) is None
    assert encode_segment(value) == encoded
    path = url_path("/tenants/{}/feature-flags/{}", "t1", value, base="/api/v1/operator")
    assert path == f"/api/v1/operator/tenants/t1/feature-flags/{encoded}"
    assert path_problem(path) is None
    assert path.count("/") == 7


REFUSED = [
    ("", "empty"),
    ("a/b", "'/'"),
    ("../../users/1", "'/'"),
    ("../../../users/1", "'/'"),
    ("/", "'/'"),
    ("a\\b", "'\\'"),
    ("..\\..\\users", "'\\'"),
    ("\n", "U+000A"),
    ("beta\r\n", "U+000D"),
    ("\x00", "U+0000"),
    ("a\x1fb", "U+001F"),
    ("\x7f", "U+007F"),
    ("\x85", "U+0085"),
    ("\x9f", "U+009F"),
    ("\ud800", "surrogate"),
    (None, "NoneType"),
    (True, "bool"),
    (1.5, "float"),
    (b"abc", "bytes"),
    (["a"], "list"),
    ({"id": 1}, "dict"),
]


@pytest.mark.parametrize(("value", "reason"), REFUSED)
def test_values_that_cannot_be_a_segment_are_refused(value: object, reason: str) -> None:
    problem = segment_problem(value)
    assert problem is not None and reason in problem
    with pytest.raises(UnsafePathSegment) as raised:
        url_path("/users/{}", value)  # type: ignore[arg-type]
    assert isinstance(raised.value, PlanError)
    assert isinstance(raised.value, ReconcilerError)
    assert raised.value.value == value
    assert reason in raised.value.reason
    assert "\n" not in str(raised.value) and "\x00" not in str(raised.value)


def test_the_refusal_message_escapes_what_it_shows() -> None:
    with pytest.raises(UnsafePathSegment) as raised:
        url_path("/x/{}", "\u202e/\n::error::x" + "y" * 200)
    message = str(raised.value)
    assert "\u202e" not in message and "\n" not in message
    assert "\\u202e" in message
    assert len(message) < 200


def test_template_and_base() -> None:
    assert url_path("") == ""
    assert url_path("", base="/v1/tenants") == "/v1/tenants"
    assert url_path("/{}", "t 1", base="/v1/tenants") == "/v1/tenants/t%201"
    assert url_path("/{}/{}", ".", "..") == "/%2E/%2E%2E"
    assert url_path("/users/{}/roles/{}", 7, "operator-admin") == "/users/7/roles/operator-admin"


@pytest.mark.parametrize(
    "template",
    [
        "/users/x{}",  # a placeholder inside a segment
        "/users/{}x",
        "/users/{0}",
        "/users/{id}",
        "users/{}",  # no leading slash
        "/users//{}",  # an empty segment
        "/users/",
        "/users/../{}",
        "/users/./{}",
        "/users?x={}",
        "/us ers/{}",
    ],
)
def test_bad_templates_are_programming_errors(template: str) -> None:
    with pytest.raises(ValueError):
        url_path(template, "v")


def test_values_must_match_the_placeholders() -> None:
    with pytest.raises(ValueError):
        url_path("/users/{}", "a", "b")
    with pytest.raises(ValueError):
        url_path("/users/{}/roles/{}", "a")
    with pytest.raises(ValueError):
        url_path("/users/{}", "a", base="/api/{}")
    with pytest.raises(ValueError):
        url_path("/users/{}", "a", base="/api/")


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("", True),
        ("/api/v1/x", True),
        ("/a/%2E%2E/%C3%A9", True),
        ("/a/..", False),
        ("/a/./b", False),
        ("/a//b", False),
        ("/a/", False),
        ("a/b", False),
        ("/a b", False),
        ("/a?b", False),
        ("/a#b", False),
        ("/a%zz", False),
        ("/a%2", False),
        ("/é", False),
        ("/a\\b", False),
        ("/a\nb", False),
    ],
)
def test_only_encoded_paths_are_well_formed(path: str, ok: bool) -> None:
    assert (path_problem(path) is None) is ok


# ---- (b) on the wire -----------------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


def wire(paths: list[str], params: dict[str, Any] | None = None) -> list[httpx.Request]:
    """Send a DELETE per path through ApiClient over MockTransport; the requests seen."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async def go() -> None:
        async with ApiClient(
            "http://api.test/base", "tok", transport=httpx.MockTransport(handler)
        ) as client:
            for path in paths:
                await client.send("DELETE", path, params=params)

    asyncio.run(go())
    return seen


@pytest.mark.parametrize(("value", "encoded"), [(v, e) for v, e in ENCODED if isinstance(v, str)])
def test_the_encoded_path_goes_on_the_wire_unchanged(value: str, encoded: str) -> None:
    path = url_path("/tenants/{}/feature-flags/{}", "t1", value, base="/api/v1/operator")
    (request,) = wire([path])
    expected = f"/base/api/v1/operator/tenants/t1/feature-flags/{encoded}"
    assert request.url.raw_path == expected.encode("ascii")
    assert request.method == "DELETE"
    assert request.url.query == b""
    assert request.url.fragment == ""


def test_dot_segments_are_not_resolved_and_percent_not_double_encoded() -> None:
    paths = [url_path("/a/{}/b", v) for v in ("..", ".", "%2E%2E", "%25", "%73so")]
    raw = [r.url.raw_path for r in wire(paths)]
    assert raw == [
        b"/base/a/%2E%2E/b",
        b"/base/a/%2E/b",
        b"/base/a/%252E%252E/b",
        b"/base/a/%2525/b",
        b"/base/a/%2573so/b",
    ]


def test_query_parameters_stay_out_of_the_path() -> None:
    path = url_path("/users/{}", "a?b")
    (request,) = wire([path], params={"confirmation": "x/../y?#"})
    assert request.url.raw_path == b"/base/users/a%3Fb?confirmation=x%2F..%2Fy%3F%23"
    assert request.url.params["confirmation"] == "x/../y?#"


@pytest.mark.parametrize("path", ["/users/../admin", "/users/a b", "/users/a?x=1", "users/a"])
def test_a_path_not_built_by_the_helper_is_refused_before_sending(path: str) -> None:
    written: list[str] = []
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async def go() -> None:
        async with ApiClient(
            "http://api.test", "tok", transport=httpx.MockTransport(handler)
        ) as client:

            def hook(method: str, p: str) -> Callable[[int | None, str | None], None]:
                written.append(p)  # called before a write is sent: none may be
                return lambda status, error: None

            client.on_write = hook
            await client.send("DELETE", path)

    with pytest.raises(UnsafePath):
        asyncio.run(go())
    assert seen == [] and written == []


# ---- (c) no provider builds a path by formatting -------------------------------------

PROVIDER_DIR = Path(providers_package.__file__).parent
HELPERS = {"paths.py": {"url_path"}}
"""Functions allowed to join path strings: the helper itself."""


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound to a string constant (``BASE = "/api/v1"``)."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = value.value
    return found


def _text(node: ast.AST, constants: dict[str, str]) -> list[str]:
    """The string pieces of an expression known statically (literals, str constants)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.JoinedStr):
        return [t for part in node.values for t in _text(part, constants)]
    if isinstance(node, ast.FormattedValue):
        return _text(node.value, constants)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text(node.left, constants) + _text(node.right, constants)
    return []


def _built(node: ast.AST, constants: dict[str, str]) -> list[str] | None:
    """The known pieces of a string-building expression; None when ``node`` builds none."""
    if isinstance(node, ast.JoinedStr):
        return _text(node, constants)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text(node, constants)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _text(node.left, constants)
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
        return _text(node.target, constants) + _text(node.value, constants)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join")
    ):
        return _text(node.func.value, constants)
    return None


def path_building(source: str, filename: str = "<module>") -> list[str]:
    """Every place ``source`` builds a string holding ``/`` by formatting or joining.

    f-strings, ``+`` / ``+=``, ``%`` and ``.format`` on a template, ``"/".join``:
    when the pieces known statically (literals, module string constants such as
    ``BASE``) hold a ``/``, the result is a path built with a value, outside the
    helper. A literal holding whitespace is a message, not a path (a path never
    holds raw whitespace: ``ApiClient.send`` refuses one, ``path_problem``), so
    ``f"{rid}: no call (POST /tenants/test)"`` passes and ``f"Tenant/{name}"``
    does not.
    """
    tree = ast.parse(source, filename)
    constants = _module_strings(tree)
    exempt: set[int] = set()
    for node in ast.walk(tree):
        is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        name = node.name if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else ""
        if is_function and name in HELPERS.get(Path(filename).name, set()):
            exempt.update(id(inner) for inner in ast.walk(node))
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in exempt:
            continue
        pieces = _built(node, constants)
        if pieces is None:
            continue
        text = "".join(pieces)
        if "/" in text and not any(char.isspace() for char in text):
            line = getattr(node, "lineno", 0)
            found.append(f"{filename}:{line}: {ast.unparse(node)[:80]}")
    return sorted(set(found))


def provider_modules() -> Iterator[Path]:
    yield from sorted(PROVIDER_DIR.glob("*.py"))


def test_the_walk_covers_every_provider_module() -> None:
    names = {p.name for p in provider_modules()}
    assert {
        "base.py",
        "http.py",
        "paging.py",
        "paths.py",
        "preview.py",
        "reference.py",
        "operator_v1.py",
        "iaas_v1.py",
        "admin_operators.py",
        "platform_admin.py",
        "tenants_v1.py",
    } <= names


@pytest.mark.parametrize("module", list(provider_modules()), ids=lambda p: p.name)
def test_no_provider_builds_a_path_by_string_formatting(module: Path) -> None:
    found = path_building(module.read_text(encoding="utf-8"), str(module))
    assert found == [], "paths must be built with url_path():\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        'BASE = "/api"\ndef f(x):\n    return f"{BASE}/users/{x}"',
        'BASE = "/api"\ndef f(p):\n    return f"{BASE}{p}"',
        'BASE = "/api"\ndef f(p):\n    return BASE + p',
        'def f(x):\n    return f"/users/{x}"',
        'def f(x):\n    return f"{x}/roles"',
        'def f(x):\n    return "/users/" + x',
        'def f(x):\n    return "/users/%s" % x',
        'def f(x):\n    return "/users/{}".format(x)',
        'def f(x):\n    return "/".join(["users", x])',
        'def f(p, x):\n    p += "/" + x\n    return p',
        'PATH = "/admin/operators"\ndef f(x):\n    return f"{PATH}/{x}/status"',
        'def f(x):\n    return f"Tenant/{x}"',
    ],
)
def test_the_walk_catches_each_way_of_building_a_path(source: str) -> None:
    assert path_building(source) != []


@pytest.mark.parametrize(
    "source",
    [
        'BASE = "/api"\ndef f(x):\n    return url_path("/users/{}", x, base=BASE)',
        'def f(x):\n    return f"{x}: the API has no call for it (POST /tenants/test)"',
        'def f(x):\n    return f"Tenant/{x} feature flags"',
        'def f(x):\n    return "/users/{}"',
        'def f(m, p):\n    return f"{m} {p}"',
        'def url_path(t, *v):\n    return "/".join(v)',  # only the helper in paths.py is exempt
    ],
)
def test_the_walk_passes_helpers_and_messages(source: str) -> None:
    expected = [] if "url_path(t" not in source else path_building(source)
    assert path_building(source) == expected


def test_the_walk_exempts_only_the_helper() -> None:
    source = 'def url_path(t, *v):\n    return "/".join(v)\ndef g(x):\n    return "/".join(x)'
    assert len(path_building(source, "paths.py")) == 1
    assert len(path_building(source, "reference.py")) == 2


# ---- (d) unaddressable live objects --------------------------------------------------


def live(kind: Kind, key: str, fields: dict[str, Any], **server: Any) -> Resource:
    return Resource(ResourceId(kind, key), fields, server=server)


def test_every_dialect_has_unaddressable() -> None:
    for dialect in dialects():
        provider = provider_class(dialect)
        assert provider.unaddressable(live(Kind.TENANT, "t", {}, id="ok-1")) is None
        reason = provider.unaddressable(live(Kind.TENANT, "t", {}, id="../../users/1"))
        if Kind.TENANT in provider.capabilities.supports:
            assert reason is not None and "server id" in reason and "'/'" in reason, dialect


BAD_IDS = ["../../users/1", "a\\b", "", "x\n", "\x00", "\ud800", True, 1.5, ["1"], {"id": 1}]
GOOD_IDS = [7, "7", "..", ".", "beta#frag", "%73so", "a b", "é", "\u202e", "<new-1>"]


@pytest.mark.parametrize("server_id", BAD_IDS)
@pytest.mark.parametrize("dialect", dialects())
def test_a_hostile_server_id_is_unaddressable(dialect: str, server_id: Any) -> None:
    provider = provider_class(dialect)
    for kind in provider.capabilities.supports:
        if kind is Kind.SUBSCRIPTION_PLAN and dialect == "platform-admin":
            continue  # read only: a plan slug is never put into a path
        if kind is Kind.FEATURE_FLAG and dialect == "platform-admin":
            continue  # flags go in the bulk body; the tenant's id is checked on the tenant
        reason = provider.unaddressable(live(kind, "k", {}, id=server_id))
        assert reason is not None, (dialect, kind)
        assert reason.startswith("its server id ")
        assert "\n" not in reason and "\x00" not in reason


@pytest.mark.parametrize("server_id", GOOD_IDS)
@pytest.mark.parametrize("dialect", dialects())
def test_an_encodable_server_id_is_addressable(dialect: str, server_id: Any) -> None:
    provider = provider_class(dialect)
    for kind in provider.capabilities.supports:
        fields = {"flag": "sso", "tenant": "acme"} if kind is Kind.FEATURE_FLAG else {}
        assert provider.unaddressable(live(kind, "k", fields, id=server_id)) is None


def test_an_object_without_a_server_id_has_nothing_to_check() -> None:
    for dialect in dialects():
        assert provider_class(dialect).unaddressable(live(Kind.OPERATOR, "a@x", {})) is None


@pytest.mark.parametrize("key", ["../../../users/1", "a/b", "x\r\n", "", "\x7f"])
def test_reference_flag_key_is_checked(key: str) -> None:
    provider = provider_class("reference")
    flag = live(Kind.FEATURE_FLAG, f"acme/{key}", {"tenant": "acme", "flag": key}, id="sso")
    reason = provider.unaddressable(flag)
    assert reason is not None and reason.startswith("its flag key ")


@pytest.mark.parametrize("key", ["beta#frag", "sso?x=1", "%73so", "..", "é"])
def test_reference_flag_keys_that_encode_are_addressable(key: str) -> None:
    provider = provider_class("reference")
    flag = live(Kind.FEATURE_FLAG, f"acme/{key}", {"tenant": "acme", "flag": key}, id=key)
    assert provider.unaddressable(flag) is None


@pytest.mark.parametrize("role", ["../../users/1", "", "admin\n", None, 3.0])
def test_reference_operator_roles_are_checked(role: Any) -> None:
    """Reference removes a user's other roles by ``DELETE /users/{id}/roles/{role}``."""
    provider = provider_class("reference")
    user = live(Kind.OPERATOR, "a@x", {"role": "operator"}, id=1, roles=["operator", role])
    reason = provider.unaddressable(user)
    assert reason is not None and reason.startswith("its role ")
    fine = live(Kind.OPERATOR, "a@x", {}, id=1, roles=["operator", "operator-admin", "a b"])
    assert provider.unaddressable(fine) is None


def test_operator_v1_roles_never_reach_a_path() -> None:
    """operator-v1 deletes only its own two role names: live role names are not checked."""
    provider = provider_class("operator-v1")
    user = live(Kind.OPERATOR, "a@x", {}, id=1, roles=["operator", "../../x"])
    assert provider.unaddressable(user) is None


@pytest.mark.parametrize("key", ["../x", "a/b", "\n", ""])
def test_tenants_v1_flag_key_is_checked(key: str) -> None:
    provider = provider_class("tenants-v1")
    flag = live(Kind.FEATURE_FLAG, f"acme/{key}", {"tenant": "acme", "flag": key}, id="ok")
    reason = provider.unaddressable(flag)
    assert reason is not None and reason.startswith("its flag key ")


def test_tenants_v1_role_and_grant_ids_are_checked_names_are_not() -> None:
    provider = provider_class("tenants-v1")
    role = live(Kind.ROLE, "acme/a/b", {"tenant": "acme", "name": "a/b"}, id="r1")
    assert provider.unaddressable(role) is None  # the name goes in the body, the id in the path
    role = live(Kind.ROLE, "acme/admin", {"tenant": "acme", "name": "admin"}, id="../r")
    assert provider.unaddressable(role) is not None
    grant = live(Kind.ROLE_ASSIGNMENT, "acme/admin/u", {}, id="g\n")
    assert provider.unaddressable(grant) is not None


def test_platform_admin_flags_and_plans_never_reach_a_path() -> None:
    provider = provider_class("platform-admin")
    flag = live(Kind.FEATURE_FLAG, "acme/../x", {"tenant": "acme", "flag": "../x"}, id="../x")
    assert provider.unaddressable(flag) is None
    subscription_plan = live(Kind.SUBSCRIPTION_PLAN, "a/b", {}, id="a/b")
    assert provider.unaddressable(subscription_plan) is None
    user = live(Kind.OPERATOR, "a@x", {"status": "active"}, id="../1")
    assert provider.unaddressable(user) is not None


def test_a_base_provider_checks_the_server_id() -> None:
    reason = Provider.unaddressable(live(Kind.TENANT, "t", {}, id="a/b"))
    assert reason is not None and "server id 'a/b'" in reason


# ---- the providers on the wire: hostile live values ---------------------------------


def recorder() -> tuple[ApiClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "new"})

    return ApiClient("http://api.test", "tok", transport=httpx.MockTransport(handler)), seen


def deletion(resource: Resource) -> Change:
    return Change(Action.DELETE, resource.id, live=resource, desired=None)


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("..", b"/api/v1/operator/tenants/t-1/feature-flags/%2E%2E"),
        ("beta#frag", b"/api/v1/operator/tenants/t-1/feature-flags/beta%23frag"),
        ("sso?x=1", b"/api/v1/operator/tenants/t-1/feature-flags/sso%3Fx%3D1"),
        ("%73so", b"/api/v1/operator/tenants/t-1/feature-flags/%2573so"),
    ],
)
def test_reference_prunes_exactly_the_flag_it_names(key: str, raw: bytes) -> None:
    client, seen = recorder()
    provider = provider_class("reference")(client)
    flag = live(Kind.FEATURE_FLAG, f"acme/{key}", {"tenant": "acme", "flag": key}, id=key)
    ctx = ApplyContext(ids={ResourceId(Kind.TENANT, "acme"): "t-1"})

    async def go() -> None:
        async with client:
            await provider.apply(deletion(flag), ctx)

    asyncio.run(go())
    assert [(r.method, r.url.raw_path) for r in seen] == [("DELETE", raw)]


def test_reference_refuses_a_flag_key_with_a_slash_before_any_request() -> None:
    client, seen = recorder()
    provider = provider_class("reference")(client)
    key = "../../../users/1"
    flag = live(Kind.FEATURE_FLAG, f"acme/{key}", {"tenant": "acme", "flag": key}, id=key)
    ctx = ApplyContext(ids={ResourceId(Kind.TENANT, "acme"): "t-1"})

    async def go() -> None:
        async with client:
            await provider.apply(deletion(flag), ctx)

    with pytest.raises(UnsafePathSegment):
        asyncio.run(go())
    assert seen == []


def test_a_hostile_id_from_a_create_answer_is_refused_on_its_next_use() -> None:
    """Ids the server hands back (into ``ctx.ids``) go through the helper too."""
    client, seen = recorder()
    provider = provider_class("tenants-v1")(client)
    fields = {"tenant": "acme", "flag": "sso", "enabled": True}
    want = Resource(ResourceId(Kind.FEATURE_FLAG, "acme/sso"), fields)
    change = Change(
        Action.CREATE, want.id, live=None, desired=want, fields=[FieldChange("enabled", None, True)]
    )
    ctx = ApplyContext(ids={ResourceId(Kind.TENANT, "acme"): "../../admin"})

    async def go() -> None:
        async with client:
            await provider.apply(change, ctx)

    with pytest.raises(UnsafePathSegment):
        asyncio.run(go())
    assert seen == []


# ---- against real sandboxes: hostile live flag keys are pruned exactly ---------------

HOSTILE_KEYS = [
    "..",
    ".",
    "beta#frag",
    "sso?x=1",
    "%73so",
    "%2e%2e",
    "a b",
    "é",
    "\u202e",
    "x;y=z",
    "beta/..",
    "../../../users/{user}",
    "..\\..\\users",
    "sso\n",
]
FLAG_ROUTES = {
    "reference": ("/api/v1/operator/tenants", "/api/v1/operator/tenants/{}/feature-flags"),
    "tenants-v1": ("/v1/tenants", "/v1/tenants/{}/feature-flags"),
}


@pytest.mark.parametrize("dialect", sorted(FLAG_ROUTES))
def test_pruning_hostile_live_flags_touches_exactly_those_flags(
    dialect: str, sandbox_factory: Any
) -> None:
    """Flags someone made by hand with hostile keys, pruned through the provider.

    Each addressable one is deleted and nothing else is; each unaddressable one is
    refused before any request (and left alone). The managed ``beta`` and ``sso``,
    the tenant and the users stay.
    """
    from tests.conftest import SANDBOX_TOKEN, request_log

    box = sandbox_factory(dialect)
    tenants, flags = FLAG_ROUTES[dialect]
    with httpx.Client(
        base_url=box.url, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    ) as api:
        tenant = api.post(tenants, json={"name": "victim"})
        assert tenant.status_code in (200, 201), tenant.text
        tid = tenant.json()["id"]
        user = "none"
        if dialect == "reference":
            made = api.post("/api/v1/operator/users", json={"email": "admin@x.example"})
            user = made.json()["id"]
        made_keys = []
        for key in ["beta", "sso", *(k.replace("{user}", user) for k in HOSTILE_KEYS)]:
            answer = api.post(url_path(flags, tid), json={"key": key, "enabled": True})
            if answer.status_code in (200, 201):
                made_keys.append(key)
    assert {"beta", "sso", "..", "beta#frag", "sso?x=1", "%73so"} <= set(made_keys)
    provider_type = provider_class(dialect)

    async def prune() -> tuple[set[str], set[str], list[Any]]:
        async with ApiClient(box.url, SANDBOX_TOKEN) as client:
            provider = provider_type(client)
            state = await provider.read({Kind.TENANT, Kind.FEATURE_FLAG})
            ctx = ApplyContext(ids={r.id: sid for r in state if (sid := r.server_id)})
            deleted, refused = set(), set()
            for flag in state.of_kind(Kind.FEATURE_FLAG):
                key = flag.fields["flag"]
                if key in ("beta", "sso"):
                    continue
                if provider_type.unaddressable(flag) is not None:
                    with pytest.raises(UnsafePathSegment):
                        await provider.apply(deletion(flag), ctx)
                    refused.add(key)
                else:
                    await provider.apply(deletion(flag), ctx)
                    deleted.add(key)
            after = await provider.read({Kind.TENANT, Kind.FEATURE_FLAG})
            return deleted, refused, list(after)

    before = len(request_log(box.db_path))
    deleted, refused, after = asyncio.run(prune())
    assert deleted | refused == set(made_keys) - {"beta", "sso"}
    assert all("/" in k or "\\" in k or "\n" in k for k in refused)
    assert {"..", "beta#frag", "sso?x=1", "%73so", "%2e%2e", "."} <= deleted
    left = {r.fields["flag"] for r in after if r.id.kind is Kind.FEATURE_FLAG}
    assert left == {"beta", "sso"} | refused
    assert [r.id.key for r in after if r.id.kind is Kind.TENANT] == ["victim"]
    # The server saw one DELETE per deleted flag, each at that flag's own path, and no
    # other write. (The log holds the path as sent; a log of the decoded path is
    # accepted too.)
    writes = sorted((m, p) for m, p, _ in request_log(box.db_path)[before:] if m != "GET")
    one = flags + "/{}"
    sent = sorted(("DELETE", url_path(one, tid, key)) for key in deleted)
    decoded = sorted(("DELETE", unquote(path)) for _, path in sent)
    assert writes in (sent, decoded)
    if dialect == "reference":
        with httpx.Client(
            base_url=box.url, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}
        ) as api:
            users = api.get("/api/v1/operator/users").json()["items"]
        assert [u["email"] for u in users] == ["admin@x.example"]


# ---- the change-level check: objects a change's paths go through ---------------------


def _state(*resources: Resource) -> Any:
    from reconciler.model import State

    return State(resources)


def _create(kind: Kind, key: str, fields: dict[str, Any]) -> Change:
    want = Resource(ResourceId(kind, key), fields)
    return Change(Action.CREATE, want.id, desired=want)


BAD_TENANT = live(Kind.TENANT, "t-bad", {}, id="../tenants/victim")
GOOD_TENANT = live(Kind.TENANT, "t-ok", {}, id="a b#c")


@pytest.mark.parametrize("dialect", ["reference", "platform-admin", "tenants-v1"])
def test_a_flag_created_under_an_unaddressable_tenant_is_refused(dialect: str) -> None:
    provider = provider_class(dialect)
    state = _state(BAD_TENANT, GOOD_TENANT)
    bad = _create(Kind.FEATURE_FLAG, "t-bad/beta", {"tenant": "t-bad", "flag": "beta"})
    reason = provider.unaddressable_change(bad, state)
    assert reason is not None
    assert reason.startswith("its path goes through Tenant/t-bad, whose server id ")
    good = _create(Kind.FEATURE_FLAG, "t-ok/beta", {"tenant": "t-ok", "flag": "beta"})
    assert provider.unaddressable_change(good, state) is None
    new = _create(Kind.FEATURE_FLAG, "t-new/beta", {"tenant": "t-new", "flag": "beta"})
    assert provider.unaddressable_change(new, state) is None  # checked when its id is used


def test_tenants_v1_roles_and_grants_go_through_their_tenant() -> None:
    provider = provider_class("tenants-v1")
    state = _state(BAD_TENANT)
    role = _create(Kind.ROLE, "t-bad/admin", {"tenant": "t-bad", "name": "admin"})
    grant = _create(Kind.ROLE_ASSIGNMENT, "t-bad/admin/u", {"tenant": "t-bad", "role": "admin"})
    assert provider.unaddressable_change(role, state) is not None
    assert provider.unaddressable_change(grant, state) is not None


@pytest.mark.parametrize("dialect", ["reference", "operator-v1"])
def test_tier_defaults_go_through_their_plan(dialect: str) -> None:
    provider = provider_class(dialect)
    state = _state(live(Kind.SUBSCRIPTION_PLAN, "p", {}, id="x\n"))
    change = _create(Kind.TIER_DEFAULTS, "p", {"tiers": {"basic": 1}})
    reason = provider.unaddressable_change(change, state)
    assert reason is not None and "Plan/p" in reason and "U+000A" in reason


def test_the_change_check_starts_with_the_live_object() -> None:
    provider = provider_class("reference")
    flag = live(Kind.FEATURE_FLAG, "t-ok/a/b", {"tenant": "t-ok", "flag": "a/b"}, id="a/b")
    reason = provider.unaddressable_change(deletion(flag), _state(GOOD_TENANT))
    assert reason is not None and reason.startswith("its server id ")


def test_body_only_references_do_not_block() -> None:
    """An operator's tenant travels in a body on reference: any id is fine there."""
    provider = provider_class("reference")
    change = _create(Kind.OPERATOR, "a@x", {"tenant": "t-bad", "role": "operator"})
    assert provider.unaddressable_change(change, _state(BAD_TENANT)) is None
    tenant = _create(Kind.TENANT, "child", {"parent": "t-bad"})
    assert provider.unaddressable_change(tenant, _state(BAD_TENANT)) is None


def test_iaas_membership_changes_go_through_old_and_new_tenant() -> None:
    provider = provider_class("iaas-v1")
    state = _state(BAD_TENANT, GOOD_TENANT)
    rid = ResourceId(Kind.OPERATOR, "a@x")
    have = Resource(
        rid, {"role": "member", "tenant": "t-bad", "wireguard_pubkey": "k"}, server={"id": "1"}
    )

    def update(**want: Any) -> Change:
        desired = Resource(rid, {"role": "member", **want})
        return Change(Action.UPDATE, rid, desired=desired, live=have)

    moving = update(tenant="t-ok", wireguard_pubkey="k")
    assert provider.path_parents(moving) == [
        ResourceId(Kind.TENANT, "t-bad"),
        ResourceId(Kind.TENANT, "t-ok"),
    ]
    assert provider.unaddressable_change(moving, state) is not None
    # A role change alone never goes through a tenant's path.
    role_only = update(role="operator", tenant="t-bad", wireguard_pubkey="k")
    assert provider.path_parents(role_only) == []
    assert provider.unaddressable_change(role_only, state) is None
    joining = _create(Kind.OPERATOR, "b@x", {"tenant": "t-ok", "wireguard_pubkey": "k"})
    assert provider.path_parents(joining) == [ResourceId(Kind.TENANT, "t-ok")]


def test_dialects_without_parents() -> None:
    for dialect in ("admin-operators", "operator-v1"):
        provider = provider_class(dialect)
        change = _create(Kind.OPERATOR, "a@x", {"tenant": "t-bad", "role": "operator"})
        assert provider.path_parents(change) == []


# ---- reading: nothing is fetched through a path no segment can carry -----------------


def _reader(dialect: str, answers: dict[str, Any]) -> tuple[Any, list[bytes]]:
    """A provider over MockTransport answering GETs by path; every raw path seen."""
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        params = request.url.params
        if params.get("offset", "0") != "0" or params.get("page", "1") != "1":  # page two
            return httpx.Response(200, json=answers.get("<empty>", {}))
        for path, body in answers.items():
            if request.url.path == path:
                return httpx.Response(200, json=body)
        return httpx.Response(404, json={"message": "no"})

    client = ApiClient("http://api.test", "tok", transport=httpx.MockTransport(handler))
    return provider_class(dialect)(client), seen


def _read(provider: Any, kinds: set[Kind]) -> Any:
    async def go() -> Any:
        async with provider.client:
            return await provider.read(kinds)

    return asyncio.run(go())


@pytest.mark.parametrize("dialect", ["reference", "operator-v1"])
def test_tier_defaults_of_a_plan_no_path_can_name_are_not_read(dialect: str) -> None:
    base = "/api/v1/operator"
    subscription_plans = [{"id": "p1", "name": "ok"}, {"id": "../tenants/t1", "name": "bad"}]
    provider, seen = _reader(
        dialect,
        {
            f"{base}/plans": {"items": subscription_plans, "total": 2},
            f"{base}/plans/p1/tier-defaults": {"tier_defaults": [{"tier": "b", "slot_limit": 1}]},
        },
    )
    state = _read(provider, {Kind.SUBSCRIPTION_PLAN, Kind.TIER_DEFAULTS})
    assert all(b"tenants" not in path for path in seen)
    assert state.get(ResourceId(Kind.TIER_DEFAULTS, "ok")).fields == {"tiers": {"b": 1}}
    bad = state.get(ResourceId(Kind.TIER_DEFAULTS, "bad"))
    assert bad is not None and bad.fields == {}
    assert provider.unaddressable(bad) is not None
    assert provider.unaddressable(state.get(ResourceId(Kind.SUBSCRIPTION_PLAN, "bad"))) is not None


def test_platform_admin_reads_nothing_under_a_tenant_no_path_can_name() -> None:
    base = "/api/v1/platform/admin"
    tenants = [
        {"id": "t1", "company_name": "ok", "plan": {"slug": "pro"}},
        {"id": "../users/u1", "company_name": "bad", "plan": {"slug": "pro"}},
    ]
    envelope = {"success": True, "data": {"tenants": tenants, "pagination": {"total": 2}}}
    provider, seen = _reader(
        "platform-admin",
        {
            f"{base}/tenants": envelope,
            f"{base}/tenants/t1": {"success": True, "data": {"plan_override": {"x": 1}}},
            f"{base}/tenants/t1/feature-flags": {"success": True, "data": {"flags": []}},
            "<empty>": {"success": True, "data": {"tenants": [], "pagination": {"total": 2}}},
        },
    )
    state = _read(provider, {Kind.TENANT, Kind.FEATURE_FLAG})
    assert all(b"users" not in path for path in seen)
    bad = state.get(ResourceId(Kind.TENANT, "bad"))
    assert bad is not None and provider.unaddressable(bad) is not None
    assert state.get(ResourceId(Kind.TENANT, "ok")).fields["plan_override"] == {"x": 1}


def test_tenants_v1_reads_nothing_under_a_tenant_no_path_can_name() -> None:
    tenants = [{"id": "t1", "name": "ok"}, {"id": "a\\..\\b", "name": "bad"}]
    provider, seen = _reader(
        "tenants-v1",
        {
            "/v1/tenants": {"data": tenants, "total": 2},
            "/v1/tenants/t1/configuration": {"configuration": {"r": "eu"}},
            "/v1/tenants/t1/feature-flags": {"data": [{"key": "sso", "enabled": True}]},
            "/v1/tenants/t1/roles": {"data": []},
            "/v1/tenants/t1/role-assignments": {"data": []},
            "<empty>": {"data": [], "total": 2},
        },
    )
    state = _read(provider, {Kind.TENANT, Kind.FEATURE_FLAG, Kind.ROLE, Kind.ROLE_ASSIGNMENT})
    assert all(b"%5C" not in path and b"\\" not in path for path in seen)
    assert {str(r.id) for r in state} == {"Tenant/ok", "Tenant/bad", "FeatureFlag/ok/sso"}
    assert provider.unaddressable(state.get(ResourceId(Kind.TENANT, "bad"))) is not None

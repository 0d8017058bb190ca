"""What the ``reference`` sandbox takes in: request bodies, JSON merge patch, its seed.

Unknown fields are ignored (pydantic's default), as the API page says. Booleans
and integers are strict: a real server does not read ``"yes"`` as true.

The seed holds target options (``options:``) and a page cap; both are kept in
the store, so a database put back to a template answers as that template was
seeded. The listings and error bodies they shape are answered here too. The
``iaas-v1`` and ``admin-operators`` emulations keep their options the same
way, through :func:`keep_options` and :func:`seeded_options`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr
from starlette.requests import Request
from starlette.responses import Response

from reconciler.options import DialectOptions
from reconciler.options.common import Listing
from reconciler.options.reference import ReferenceOptions
from reconciler.sandbox.common import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ErrorRenderer,
    default_error_body,
    raw_json_response,
)
from reconciler.sandbox.listing import answer, asked
from reconciler.sandbox.store import Store

Model = TypeVar("Model", bound=DialectOptions)
OPTIONS = "options"
"""The key (and scope) of the row holding the seeded options."""
_parsed: dict[tuple[type[DialectOptions], str], DialectOptions] = {}
SETTINGS = "settings"
"""The reference sandbox's collection of what it was seeded with."""
UNPAGED = 1_000_000
"""Served at once by a listing configured with ``paging: none`` (no cap seeded)."""

Text = Annotated[StrictStr, Field(min_length=1)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=100)]  # the tenants' server rule


class PlanCreate(BaseModel):
    name: Text
    display_name: StrictStr | None = None
    description: StrictStr | None = None


class PlanUpdate(BaseModel):
    display_name: StrictStr | None = None
    description: StrictStr | None = None


class TierDefault(BaseModel):
    tier: Text
    slot_limit: Annotated[StrictInt, Field(ge=0)]


class TierDefaults(BaseModel):
    tier_defaults: list[TierDefault]


class TenantCreate(BaseModel):
    name: Name
    display_name: Name | None = None
    plan_id: StrictStr | None = None
    parent_id: StrictStr | None = None
    configuration: dict[str, Any] | None = None


class TenantPatch(BaseModel):
    display_name: Name | None = None
    plan_id: StrictStr | None = None
    parent_id: StrictStr | None = None
    configuration: dict[str, Any] | None = None


class FlagCreate(BaseModel):
    key: Text
    enabled: StrictBool


class FlagUpdate(BaseModel):
    enabled: StrictBool


class UserCreate(BaseModel):
    email: Text
    name: StrictStr | None = None
    roles: list[StrictStr] = []
    tenant_id: StrictStr | None = None
    enabled: StrictBool = True


class UserUpdate(BaseModel):
    email: Text | None = None
    name: StrictStr | None = None


class RoleBody(BaseModel):
    role: Text


class TenantAssignment(BaseModel):
    tenant_id: StrictStr | None  # required, but may be null to unassign


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge key by key, ``null`` removes a key."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def keep_options(store: Store, collection: str, model: type[Model], data: Any) -> None:
    """``data`` (camelCase keys) validated as ``model`` and kept, replacing any kept before.

    A bad one is pydantic's ValidationError (a ValueError), before the server starts.
    """
    options = model.model_validate(dict(data or {}))
    found = store.find(collection, OPTIONS, scope=OPTIONS)
    if found is not None:
        store.delete(collection, str(found["id"]))
    store.insert(collection, {OPTIONS: options.as_data()}, key=OPTIONS, scope=OPTIONS)


def seeded_options(store: Store, collection: str, model: type[Model]) -> Model:
    """The options this sandbox was seeded with, else ``model``'s defaults.

    Read on every request (the database may be put back to another seed's under
    a running server), parsed once per stored row.
    """
    found = store.find(collection, OPTIONS, scope=OPTIONS)
    if found is None:
        return model()
    key = (model, str(found["id"]))
    options = _parsed.get(key)
    if options is None:
        options = _parsed[key] = model.model_validate(found[OPTIONS])
    assert isinstance(options, model)
    return options


def message_at(key: str, message: str) -> Mapping[str, Any]:
    """An error body holding ``message`` at dotted ``key`` (``problem.detail``)."""
    body: Any = message
    for part in reversed(key.split(".")):
        body = {part: body}
    assert isinstance(body, dict)
    return body


# ---- the reference sandbox's seed, and what it shapes ----------------------


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{options, quirks: {max_page}}``: answer as a server with those choices would.

    ``options`` are the target options of docs/apis/reference.md (camelCase), a
    bad one a ValueError before the server starts; ``quirks.max_page`` caps every
    paged listing below the page's 500.
    """
    unknown = set(data) - {"options", "quirks"}
    if unknown:
        raise ValueError(f"unknown reference seed keys: {', '.join(sorted(unknown))}")
    if "options" in data:
        keep_options(store, SETTINGS, ReferenceOptions, data["options"])
    quirks = dict(data.get("quirks") or {})
    if set(quirks) - {"max_page"}:
        raise ValueError(f"unknown quirks: {', '.join(sorted(set(quirks) - {'max_page'}))}")
    if quirks:
        store.insert(SETTINGS, quirks, key="quirks")


def options(store: Store) -> ReferenceOptions:
    """The target options the sandbox was seeded with, else the defaults (the page's)."""
    return seeded_options(store, SETTINGS, ReferenceOptions)


def listed(store: Store, request: Request, collection: str, listing: Listing) -> Response:
    """One page of ``collection`` as ``listing`` says; by default the page's
    ``{"items", "total", "limit", "offset"}``, ``limit`` 100 and capped at 500."""
    quirks = store.find(SETTINGS, "quirks") or {}
    cap = int(quirks.get("max_page") or (UNPAGED if listing.paging == "none" else MAX_LIMIT))
    window = asked(request.query_params, listing, max_page=cap, default_limit=DEFAULT_LIMIT)
    rows, total = store.page(collection, window.limit, window.offset)
    extra: dict[str, Any] = {}
    if listing.paging == "offset":
        extra = {listing.limit_param: window.limit, listing.offset_param: window.offset}
    path = request.url.path
    return raw_json_response(answer(listing, window, rows, total, path=path, extra=extra))


def error_body(store: Store) -> ErrorRenderer:
    """``{"error": code, "message": …}`` as the page says, or the message alone at the
    seeded ``errors.message`` key."""

    def render(status: int, code: str, message: str) -> Any:
        key = options(store).errors.message
        if key is None:
            return default_error_body(status, code, message)
        return message_at(key, message)

    return render

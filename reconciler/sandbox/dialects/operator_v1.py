"""The ``operator-v1`` dialect: the IoT operator API exactly as document ``000`` lists it.

Plans, tier defaults, tenants and users under ``/api/v1/operator`` behave as in
the ``reference`` dialect (which was built after this document), but only the
routes the document lists are served: no feature flags and no tenant
suspend/resume. Device tiers (``GET``/``POST /device-tiers``, ``PUT
/device-tiers/{tier_id}``) are added. Choices: docs/apis/operator-v1.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, StrictStr
from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.sandbox.common import (
    ApiError,
    Limit,
    Offset,
    bearer_auth,
    install_error_handlers,
    json_response,
    page_response,
)
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.dialects import reference
from reconciler.sandbox.store import Collection, Conflict, Store

BASE = reference.BASE
DEVICE_TIERS = "device_tiers"

DOCUMENTED: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/tenants"),
        ("POST", "/tenants"),
        ("GET", "/tenants/{tenant_id}"),
        ("PATCH", "/tenants/{tenant_id}"),
        ("DELETE", "/tenants/{tenant_id}"),
        ("GET", "/users"),
        ("GET", "/users/{user_id}"),
        ("POST", "/users"),
        ("PUT", "/users/{user_id}"),
        ("DELETE", "/users/{user_id}"),
        ("POST", "/users/{user_id}/enable"),
        ("POST", "/users/{user_id}/disable"),
        ("POST", "/users/{user_id}/roles"),
        ("DELETE", "/users/{user_id}/roles/{role_name}"),
        ("POST", "/users/{user_id}/tenant"),
        ("GET", "/plans"),
        ("POST", "/plans"),
        ("PUT", "/plans/{plan_id}"),
        ("GET", "/plans/{plan_id}/tier-defaults"),
        ("PUT", "/plans/{plan_id}/tier-defaults"),
    }
)
"""(method, path) of every route of document 000 this API manages, below BASE."""


class DeviceTier(BaseModel):
    name: StrictStr
    display_name: StrictStr | None = None
    description: StrictStr | None = None


class DeviceTierUpdate(BaseModel):
    display_name: StrictStr | None = None
    description: StrictStr | None = None


def _documented(route: BaseRoute) -> bool:
    path = getattr(route, "path", "")[len(BASE) :]
    methods: set[str] = getattr(route, "methods", None) or set()
    return any((m, path) in DOCUMENTED for m in methods)


def device_tiers(store: Store, token: str) -> APIRouter:
    r = APIRouter(prefix=BASE, dependencies=[Depends(bearer_auth(token))])

    @r.get("/device-tiers", tags=["device tiers"])
    async def list_tiers(limit: Limit = 100, offset: Offset = 0) -> Response:
        return page_response(store, DEVICE_TIERS, limit, offset)

    @r.post("/device-tiers", status_code=201, tags=["device tiers"])
    async def create_tier(body: DeviceTier) -> Response:
        try:
            tier = store.insert(DEVICE_TIERS, body.model_dump(), key=body.name)
        except Conflict:
            raise ApiError(409, "conflict", f"a device tier named '{body.name}' exists") from None
        return json_response(tier, 201)

    @r.put("/device-tiers/{tier_id}", tags=["device tiers"])
    async def update_tier(tier_id: str, body: DeviceTierUpdate) -> Response:
        tier = store.get(DEVICE_TIERS, tier_id)
        if tier is None:
            raise ApiError(404, "not_found", f"device tier {tier_id} not found")
        changes = body.model_dump(exclude_unset=True)
        return json_response(store.update(DEVICE_TIERS, {**tier, **changes}))

    return r


def install(app: FastAPI, store: Store, token: str) -> None:
    install_error_handlers(app)
    routes = reference.router(store, token)
    routes.routes = [route for route in routes.routes if _documented(route)]
    app.include_router(routes)
    app.include_router(device_tiers(store, token))


DIALECT = Dialect(
    name="operator-v1",
    title="IoT operator API (document 000)",
    collections=(*reference.COLLECTIONS, Collection(DEVICE_TIERS)),
    install=install,
)

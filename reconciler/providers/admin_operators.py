"""The ``admin-operators`` API: an admin invites, toggles and deletes operators.

Document ``002``. Four calls under ``/admin/operators`` manage one kind,
Operator, keyed by email:

- ``GET`` lists the accounts holding the operator role (no paging) and the
  admin the token belongs to;
- ``POST {email}`` invites a new address (201) or promotes an existing account
  (200); an admin account is refused with 409;
- ``PATCH /{id}/status {is_active}`` deactivates (the role becomes ``user``)
  or re-activates;
- ``DELETE /{id}`` deletes, only after deactivation (400 otherwise), so a
  delete is two ordered calls.

A deactivated account is no longer an operator, so the list no longer shows
it: for this API ``status: disabled`` in a spec is met by an account that is
not listed (see docs/apis/admin-operators.md).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from reconciler.errors import ApiError
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.providers.base import ApplyContext, KindSupport, Provider

PATH = "/admin/operators"


def _operator(item: dict[str, Any]) -> Resource:
    return Resource(
        ResourceId(Kind.OPERATOR, str(item["email"]).lower()),
        {"status": "active" if item.get("is_active", True) else "disabled"},
        server={
            "id": str(item["id"]),
            **{k: item[k] for k in ("name", "role", "email_verified") if k in item},
        },
    )


class AdminOperatorsProvider(Provider):
    """Operators only, managed by email through invitations and a status switch."""

    dialect = "admin-operators"
    title = "Admin operators API: invite, toggle, delete (document 002)"
    supports: ClassVar[dict[Kind, KindSupport]] = {
        Kind.OPERATOR: KindSupport(
            frozenset({Action.CREATE, Action.SUSPEND, Action.RESUME, Action.DELETE}),
            frozenset({"status"}),
            notes=(
                "name comes from the person's signup and role is always 'operator': "
                "neither can be set; a deactivated account is not listed"
            ),
        )
    }
    absent_is_inactive: ClassVar[frozenset[Kind]] = frozenset({Kind.OPERATOR})

    async def _body(self) -> dict[str, Any]:
        body = await self.client.call("GET", PATH, resource="operators")
        if not isinstance(body, dict) or not isinstance(body.get("operators"), list):
            raise TypeError("expected {'current_admin': ..., 'operators': [...]}")
        return body

    async def read(self, kinds: Collection[Kind]) -> State:
        if Kind.OPERATOR not in kinds:
            return State()
        body = await self._body()
        return State(
            _operator(item)
            for item in body["operators"]
            if item.get("role", "operator") == "operator"
        )

    async def whoami(self) -> str | None:
        admin = (await self._body()).get("current_admin") or {}
        email = admin.get("email")
        return str(email).lower() if email else None

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        rid = str(change.id)
        if change.action is Action.CREATE:
            answer = await self.client.call(
                "POST", PATH, json_body={"email": change.id.key}, resource=rid
            )
            created = _operator(answer["operator"])
            wanted = change.desired.fields.get("status") if change.desired else None
            if wanted == "disabled":
                await self._set_active(created.server["id"], False, rid)
            return created
        server_id = ctx.server_id(change.id)
        if change.action is Action.SUSPEND:
            await self._set_active(server_id, False, rid)
        elif change.action is Action.RESUME:
            await self._set_active(server_id, True, rid)
        elif change.action is Action.DELETE:
            # The API deletes only deactivated operators: two calls, in this order.
            if (change.live is None) or change.live.fields.get("status") != "disabled":
                await self._set_active(server_id, False, rid)
            try:
                await self.client.call("DELETE", f"{PATH}/{server_id}", resource=rid)
            except ApiError as exc:
                if exc.status != 404:  # gone already: what a delete wants
                    raise
        else:
            raise ApiError("-", PATH, 0, f"cannot {change.action.value} an operator", rid)
        return None

    async def _set_active(self, server_id: str, active: bool, rid: str) -> None:
        await self.client.call(
            "PATCH",
            f"{PATH}/{server_id}/status",
            json_body={"is_active": active},
            resource=rid,
        )


PROVIDER = AdminOperatorsProvider

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
not listed, and a spec asking ``status: active`` for it sends the ``POST`` the
document advises for re-activation (see docs/apis/admin-operators.md).

The document shows no paging: the list is read as one answer unless the
target's ``lists.operators`` option says how a server pages it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import ApiError
from reconciler.model import Action, Change, Kind, Resource, ResourceId
from reconciler.options.admin_operators import AdminOperatorsOptions
from reconciler.providers.base import (
    ApplyContext,
    Capabilities,
    KindHandlers,
    KindSupport,
    ListingUse,
    Provider,
    ReadScope,
)
from reconciler.providers.paths import url_path
from reconciler.providers.shapes import obj, present

PATH = "/admin/operators"


def _operator(item: dict[str, Any]) -> Resource:
    """One listed account; name, role and verification are the server's, never diffed."""
    return Resource(
        ResourceId(Kind.OPERATOR, str(item["email"]).lower()),
        {"status": "active" if item.get("is_active", True) else "disabled"},
        server={
            "id": str(item["id"]),
            **{k: item[k] for k in ("name", "role", "email_verified") if k in item},
        },
    )


def _operator_row(item: Any) -> Resource | None:
    """One listed account as an Operator; None for an account of another role (the list
    holds operators only, and a server that also shows others is read past them)."""
    row = obj(item)
    if row.get("role", "operator") != "operator":
        return None
    present(row, "email")
    present(row, "id")
    return _operator(row)


class AdminOperatorsProvider(Provider):
    """Operators only, managed by email through invitations and a status switch."""

    capabilities = Capabilities(
        dialect="admin-operators",
        title="Admin operators API: invite, toggle, delete (document 002)",
        supports={
            Kind.OPERATOR: KindSupport(
                frozenset({Action.CREATE, Action.SUSPEND, Action.RESUME, Action.DELETE}),
                frozenset({"status"}),
                choices={"status": ("active", "disabled")},
                notes=(
                    "name comes from the person's signup and role is always 'operator': "
                    "neither can be set; a deactivated account is not listed, so "
                    "'status: disabled' is met by its absence"
                ),
            )
        },
        absent_is_inactive=frozenset({Kind.OPERATOR}),
        options=AdminOperatorsOptions,
    )

    def handlers(self) -> Mapping[Kind, KindHandlers]:
        return {
            Kind.OPERATOR: KindHandlers(
                self._read_operators,
                create=self._invite,
                lifecycle=self._toggle,
                delete=self._delete,
            )
        }

    def listings(self) -> list[ListingUse]:
        assert isinstance(self.options, AdminOperatorsOptions)
        listing = self.options.lists.operators
        return [ListingUse("operators", PATH, "lists.operators", listing, _operator_row)]

    async def _read_operators(self, scope: ReadScope) -> list[Resource]:
        (use,) = self.listings()
        listed = self.client.paginate(use.path, use.listing, resource=use.label, decode=use.decode)
        return [operator async for operator in listed if operator is not None]

    async def whoami(self) -> str | None:
        """``current_admin`` of the listing's first answer (one ``GET`` as it is asked
        when unpaged; the document puts the admin beside the operators)."""
        body = await self.client.call("GET", PATH, resource="operators", decode=obj)
        admin = body.get("current_admin")
        email = admin.get("email") if isinstance(admin, dict) else None
        return str(email).lower() if email else None

    async def _invite(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """``POST {email}``: invite (201), promote or re-activate (200); 409 for an admin."""
        rid = str(change.id)
        wanted = change.desired.fields.get("status") if change.desired else None
        if wanted == "disabled":
            return None  # an account that is not listed is already no operator
        answer = await self.client.call(
            "POST", PATH, json_body={"email": change.id.key}, resource=rid
        )
        operator = answer.get("operator") if isinstance(answer, dict) else None
        if not isinstance(operator, dict) or "id" not in operator:
            raise ApiError(
                "POST", PATH, 200, "the answer holds no 'operator' object with an id", rid
            )
        return _operator({"email": change.id.key, **operator})

    async def _toggle(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Suspend or resume: ``PATCH /{id}/status``."""
        active = change.action is Action.RESUME
        await self._set_active(ctx.server_id(change.id), active, str(change.id))
        return None

    async def _delete(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """The API deletes only deactivated accounts: deactivate, then delete, in that order."""
        server_id, rid = ctx.server_id(change.id), str(change.id)
        try:
            if change.live is None or change.live.fields.get("status") != "disabled":
                await self._set_active(server_id, False, rid)
            await self.client.call("DELETE", url_path("/{}", server_id, base=PATH), resource=rid)
        except ApiError as exc:
            if exc.status != 404:  # gone already: what a delete wants
                raise
        return None

    async def _set_active(self, server_id: str, active: bool, rid: str) -> None:
        await self.client.call(
            "PATCH",
            url_path("/{}/status", server_id, base=PATH),
            json_body={"is_active": active},
            resource=rid,
        )

    @classmethod
    def preview_answer(cls, method: str, path: str, body: Any, new_id: str) -> Any:
        """Answers in the document's envelope, so ``plan --show-calls`` runs the real code."""
        if method == "POST" and isinstance(body, dict):
            operator = {"id": new_id, "email": body.get("email"), "role": "operator"}
            return {"message": "(not sent)", "operator": operator}
        return {"message": "(not sent)"}


PROVIDER = AdminOperatorsProvider

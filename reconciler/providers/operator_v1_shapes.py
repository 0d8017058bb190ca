"""How ``operator-v1`` answers look, and how :mod:`.operator_v1` reads them.

Document ``000`` says nothing of bodies, envelopes or paging: the target's
options (:class:`~reconciler.options.operator_v1.OperatorV1Options`) say which
keys hold what, and :class:`Shapes` reads answers through them. Beyond the
options, reads accept the likely variants (numeric ids, upper-case status, a
single ``role``, write answers that are only a message); at the default list
envelope also a list under the collection's own name or a bare array (the
tolerance the dialect always had). docs/apis/operator-v1.md writes the choices
down. The ``*_row`` decoders run on each listed item as its page arrives, so a
listing in another shape is reported naming its own call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.model import Kind, Resource, ResourceId
from reconciler.options.common import Listing, maybe_at
from reconciler.options.operator_v1 import OperatorV1Options
from reconciler.providers.paging import JSON
from reconciler.providers.shapes import ShapeError, optional_text, present, scalar

OPERATOR_ROLES = ("operator-admin", "operator")
"""The roles that make a user an operator, highest first."""
Row = dict[str, Any]


def tolerant_items(collection: str) -> Callable[[JSON], list[Any]]:
    """A page's items at the default envelope: under ``items``, under the collection's
    own name, or a bare list."""

    def items(body: JSON) -> list[Any]:
        if isinstance(body, list):
            return body
        if isinstance(body, dict):
            for key in ("items", collection):
                if isinstance(body.get(key), list):
                    return list(body[key])
        raise TypeError(f"expected {{'items': [...]}} or a list, got {type(body).__name__}")

    return items


def total_at(listing: Listing) -> Callable[[JSON], int | None]:
    """The reported total, where ``listing`` says it is (None when absent)."""

    def total(body: JSON) -> int | None:
        found = maybe_at(body, listing.total) if listing.total else None
        return found if isinstance(found, int) and not isinstance(found, bool) else None

    return total


def tenant_status(tenant: Row, key: str = "status") -> str:
    """``active``/``suspended`` whatever the case; a tenant shown without one is in use."""
    status = tenant.get(key)
    return status.lower() if isinstance(status, str) and status else "active"


class Shapes:
    """The answers' keys as the target's options name them, and the decoders built on them."""

    def __init__(self, options: OperatorV1Options) -> None:
        self.options = options
        self.keys = options.fields
        self.id = options.id_field

    # ---- small readings ---------------------------------------------------------------

    def server(self, obj: Row, *extra: str) -> Row:
        """What the server manages about an object (its id as text): never compared."""
        kept = {k: obj[k] for k in ("created_at", "updated_at", *extra) if k in obj}
        if obj.get(self.id) is not None:
            kept["id"] = str(obj[self.id])
        return kept

    def ident(self, obj: Row) -> str | None:
        """An object's server id as text, None when it has none."""
        found = obj.get(self.id)
        return None if found is None else str(found)

    def status(self, tenant: Row) -> str:
        return tenant_status(tenant, self.keys.status)

    def roles(self, user: Row) -> list[str]:
        held = user.get("roles")
        if isinstance(held, list):
            return [str(r) for r in held]
        role = user.get(self.keys.role)
        return [role] if isinstance(role, str) else []

    def tier_rows(self, body: JSON) -> list[Row]:
        """The rows of a tier-defaults answer: under the wrapper, or a bare list."""
        wrapper = self.options.tier_defaults.wrapper
        rows = body
        if isinstance(body, dict):
            if wrapper is None or wrapper not in body:
                raise ShapeError(
                    f"expected the rows under '{wrapper}'"
                    if wrapper
                    else "expected a bare list of rows (tierDefaults.wrapper is null)"
                )
            rows = body[wrapper]
        if not isinstance(rows, list):
            raise ShapeError(f"tier defaults are a {type(rows).__name__}, not a list")
        return [row for row in rows if isinstance(row, dict)]

    def tiers(self, tier_names: Mapping[str, str] | None) -> Callable[[JSON], dict[str, Any]]:
        """A plan's tier defaults as ``{tier name: slot limit}`` (their ``GET``'s decoder).

        ``tier_names`` (server id → name) when rows name their tier by id: a row
        naming a tier that is not listed is an answer nothing may be planned from.
        """
        shape = self.options.tier_defaults

        def decode(body: JSON) -> dict[str, Any]:
            found: dict[str, Any] = {}
            for row in self.tier_rows(body):
                tier = scalar(row, shape.tier_field)
                if tier_names is not None:
                    if str(tier) not in tier_names:
                        raise ShapeError(f"tier {tier!r} is not the id of a listed device tier")
                    tier = tier_names[str(tier)]
                found[str(tier)] = row.get(shape.limit_field)
            return found

        return decode

    # ---- listed items: None for an entry that is not an object (skipped, as before) --

    def named_row(self, item: JSON) -> Row | None:
        """A device tier or a subscription plan: an id and a name."""
        if not isinstance(item, dict):
            return None
        scalar(item, self.id)
        present(item, self.keys.name)
        return item

    def tenant_row(self, item: JSON) -> Row | None:
        """A tenant: an id and a name, unless the server keeps it as deleted (skipped)."""
        if not isinstance(item, dict):
            return None
        scalar(item, self.id)
        if self.status(item) != "deleted":
            present(item, self.keys.name)
        configuration = item.get(self.keys.configuration)
        if configuration is not None and not isinstance(configuration, dict):
            raise ShapeError(f"'configuration' is a {type(configuration).__name__}, not an object")
        return item

    def user_row(self, item: JSON) -> Row | None:
        if not isinstance(item, dict):
            return None
        scalar(item, self.id)
        present(item, self.keys.email)
        optional_text(item, self.keys.name)
        return item

    # ---- rows into resources ----------------------------------------------------------

    def named_resource(self, kind: Kind, obj: Row) -> Resource:
        """A device tier or a subscription plan: a name, a display name and a description."""
        keys = self.keys
        return Resource(
            ResourceId(kind, str(obj[keys.name])),
            {"display_name": obj.get(keys.display_name), "description": obj.get(keys.description)},
            server=self.server(obj),
        )

    def tenant_resource(
        self, t: Row, subscription_plan_names: dict[str, str], tenant_names: dict[str, str]
    ) -> Resource:
        keys = self.keys
        return Resource(
            ResourceId(Kind.TENANT, str(t[keys.name])),
            {
                "display_name": t.get(keys.display_name),
                "plan": subscription_plan_names.get(str(t.get(keys.plan))),
                "status": self.status(t),
                "parent": tenant_names.get(str(t.get(keys.parent))),
                "configuration": dict(t.get(keys.configuration) or {}),
            },
            server=self.server(t, "suspended_at"),
        )

    def operator_resource(self, u: Row, tenant_names: dict[str, str]) -> Resource | None:
        """A user as an operator, or None when it holds no operator role (a customer)."""
        held_roles = self.roles(u)
        held = [role for role in OPERATOR_ROLES if role in held_roles]
        if not held:
            return None
        email = u[self.keys.email]
        return Resource(
            ResourceId(Kind.OPERATOR, str(email).lower()),
            {
                "name": u.get(self.keys.name),
                "role": held[0],
                "status": "active" if u.get("enabled", True) else "disabled",
                "tenant": tenant_names.get(str(u.get(self.keys.tenant))),
            },
            server={**self.server(u), "email": email, "roles": held_roles},
        )


__all__ = ["OPERATOR_ROLES", "Row", "Shapes", "tenant_status", "tolerant_items", "total_at"]

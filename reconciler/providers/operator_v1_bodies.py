"""The request bodies :mod:`.operator_v1` sends, keyed and typed as the target's options say.

Document ``000`` shows no body, so every key is a setting (``fields``,
``tierDefaults``), and so is how a server id travels (``idType``: ``7`` or
``"7"``). Ids are kept as text everywhere else; they become numbers only here,
as they leave. A field the spec does not set is left out, never sent as null.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.errors import PlanError
from reconciler.model import Action, Change, Kind, ResourceId
from reconciler.options.operator_v1 import OperatorV1Options
from reconciler.providers.base import ApplyContext
from reconciler.providers.paging import JSON

_WHOLE = re.compile(r"^-?[0-9]{1,18}$")
_PREVIEWED = re.compile(r"^<new-[0-9]+>$")
"""The id ``plan --show-calls`` gives an object it did not create: shown, never sent."""


def changed(change: Change) -> dict[str, Any]:
    """The top-level fields this change moves, at their desired values."""
    assert change.desired is not None
    names = {fc.path.split(".", 1)[0] for fc in change.fields}
    return {k: v for k, v in change.desired.fields.items() if k in names}


class Bodies:
    """Builds each body from a change, with the target's keys and id type."""

    def __init__(self, options: OperatorV1Options) -> None:
        self.options = options
        self.keys = options.fields

    def sent_id(self, server_id: str, of: ResourceId) -> str | int:
        """A server id as a body carries it: text, or a number under ``idType: integer``."""
        if self.options.id_type == "string":
            return server_id
        if _PREVIEWED.match(server_id):
            return server_id
        if not _WHOLE.match(server_id):
            raise PlanError(
                f"{of} has the server id '{server_id}', which is not a whole number: "
                "the target's option idType: integer cannot send it"
            )
        return int(server_id)

    def ref(self, ctx: ApplyContext, rid: ResourceId) -> str | int:
        """The server id of the object ``rid`` names, as a body carries it."""
        return self.sent_id(ctx.server_id(rid), rid)

    def named_create(self, change: Change) -> dict[str, Any]:
        """``POST /device-tiers`` and ``POST /plans``: the name and the fields set."""
        body: dict[str, Any] = {self.keys.name: change.id.key}
        for name, value in changed(change).items():
            body[self._key(name)] = value
        return body

    def named_replace(self, change: Change) -> dict[str, Any]:
        """``PUT``: every writable field, the unmanaged ones at their live value."""
        assert change.desired is not None
        live = change.live.fields if change.live else {}
        want = change.desired.fields
        body: dict[str, Any] = {self.keys.name: change.id.key}
        for name in ("display_name", "description"):
            value = want[name] if name in want else live.get(name)
            if value is not None or name in want:  # unset: left out, never sent as null
                body[self._key(name)] = value
        return body

    def tenant(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        """The changed fields under the target's keys; references become server ids."""
        body: dict[str, Any] = {}
        for name, value in changed(change).items():
            key = self._key(name)
            if name == "plan":
                body[key] = (
                    self.ref(ctx, ResourceId(Kind.SUBSCRIPTION_PLAN, value)) if value else None
                )
            elif name == "parent":
                body[key] = self.ref(ctx, ResourceId(Kind.TENANT, value)) if value else None
            elif name == "configuration":
                live = (change.live.fields.get("configuration") or {}) if change.live else {}
                # The whole result, removals as null: right for a merge patch, and a
                # server that replaces the object keeps the keys nobody manages.
                merged = {**live, **value}
                if change.action is Action.CREATE:
                    merged = {k: v for k, v in merged.items() if v is not None}
                body[key] = merged
            else:
                body[key] = value
        return body

    def user_create(self, change: Change, ctx: ApplyContext) -> dict[str, Any]:
        want = changed(change)
        body: dict[str, Any] = {self.keys.email: change.id.key, self.keys.role: want.get("role")}
        if "name" in want:
            body[self.keys.name] = want["name"]
        if want.get("tenant"):
            body[self.keys.tenant] = self.ref(ctx, ResourceId(Kind.TENANT, want["tenant"]))
        return body

    def user_profile(self, email: str, name: Any) -> dict[str, Any]:
        """``PUT /users/{id}``: the whole profile."""
        return {self.keys.email: email, self.keys.name: name}

    def user_tenant(self, ctx: ApplyContext, tenant: str | None) -> dict[str, Any]:
        """``POST /users/{id}/tenant``: the tenant's id, or null to unassign."""
        sent = self.ref(ctx, ResourceId(Kind.TENANT, tenant)) if tenant else None
        return {self.keys.tenant: sent}

    def role(self, role: str) -> dict[str, Any]:
        return {self.keys.role: role}

    def status(self, status: str) -> dict[str, Any]:
        return {self.keys.status: status}

    def tier_defaults(self, tiers: dict[str, Any], ctx: ApplyContext) -> JSON:
        """``PUT …/tier-defaults``: the whole set, each tier by name or by its server id."""
        shape = self.options.tier_defaults
        rows = []
        for tier, limit in sorted(tiers.items()):
            named: Any = tier
            if shape.tier_reference == "id":
                named = self.ref(ctx, ResourceId(Kind.DEVICE_TIER, tier))
            rows.append({shape.tier_field: named, shape.limit_field: limit})
        return rows if shape.wrapper is None else {shape.wrapper: rows}

    def _key(self, field: str) -> str:
        """The body key of a spec field (as the model names it: ``display_name``)."""
        keys = self.keys
        return {
            "display_name": keys.display_name,
            "description": keys.description,
            "configuration": keys.configuration,
            "status": keys.status,
            "plan": keys.plan,
            "parent": keys.parent,
            "name": keys.name,
            "tenant": keys.tenant,
            "role": keys.role,
        }.get(field, field)


__all__ = ["Bodies", "changed"]

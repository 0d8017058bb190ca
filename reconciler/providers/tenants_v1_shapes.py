"""How ``tenants-v1`` bodies are written and answers read, under one target's options.

Document 004 shows no body and no answer, so every key is a target option
(:class:`~reconciler.options.tenants_v1.TenantsV1Options`): :class:`Shapes`
writes bodies with the configured names and reads items back into rows with the
provider's own names (``id``, ``name``, ``display_name``, ``parent_id``,
``status``, ``key``, ``enabled``, ``description``, ``permissions``,
``role_id``, ``user_id``). Its readers run on one call's answer (or one listed
item), so an answer in another shape is reported naming its own call, with the
key the target's options named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model import Kind, ResourceId
from reconciler.options.tenants_v1 import TenantsV1Options
from reconciler.providers.shapes import ShapeError, obj, present, scalar

Row = dict[str, Any]


class Shapes:
    """Bodies and rows of one target: the provider's names ⇄ the configured ones."""

    def __init__(self, options: TenantsV1Options) -> None:
        self.options = options
        f = options.fields
        self.tenant_keys = {
            "name": f.tenant.name,
            "display_name": f.tenant.display_name,
            "parent_id": f.tenant.parent,
            "status": f.tenant.status,
        }
        self.flag_keys = {"key": f.flag.key, "enabled": f.flag.enabled}
        self.role_keys = {
            "name": f.role.name,
            "description": f.role.description,
            "permissions": f.role.permissions,
        }
        self.grant_keys = {
            "role_id": f.role_assignment.role,
            "user_id": f.role_assignment.user,
            "status": f.role_assignment.status,
        }

    # ---- bodies --------------------------------------------------------------

    @staticmethod
    def _body(keys: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` (the provider's names) under the configured names."""
        return {keys[name]: value for name, value in values.items()}

    def tenant_body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return self._body(self.tenant_keys, values)

    def flag_body(self, key: str, enabled: Any) -> dict[str, Any]:
        return self._body(self.flag_keys, {"key": key, "enabled": enabled})

    def role_body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return self._body(self.role_keys, values)

    def grant_body(self, role_id: str, user_id: str) -> dict[str, Any]:
        return self._body(self.grant_keys, {"role_id": role_id, "user_id": user_id})

    def configuration_body(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH /{id}/configuration``: the keys, bare or under the request wrapper."""
        wrapper = self.options.configuration_request_wrapper
        return dict(config) if wrapper is None else {wrapper: dict(config)}

    # ---- answers -------------------------------------------------------------

    def _row(self, item: Any, keys: Mapping[str, str]) -> Row:
        """An item with the provider's names (``id`` from the configured id field)."""
        raw = obj(item)
        row = {name: raw[key] for name, key in keys.items() if key in raw}
        if self.options.id_field in raw:
            row["id"] = raw[self.options.id_field]
        return row

    def _has(self, item: Any, keys: Mapping[str, str], *names: str) -> Row:
        raw = obj(item)
        for name in names:
            present(raw, self.options.id_field if name == "id" else keys[name])
        return self._row(raw, keys)

    def tenant(self, item: Any) -> Row:
        """One tenant of ``GET /v1/tenants``."""
        raw = obj(item)
        scalar(raw, self.options.id_field)
        present(raw, self.tenant_keys["name"])
        scalar(raw, self.tenant_keys["parent_id"], required=False)
        return self._row(raw, self.tenant_keys)

    def flag(self, item: Any) -> Row:
        return self._has(item, self.flag_keys, "key")

    def role(self, item: Any) -> Row:
        role = self._has(item, self.role_keys, "id", "name")
        if not isinstance(role.get("permissions") or [], list):
            raise ShapeError(f"a role's '{self.role_keys['permissions']}' is not a list")
        return role

    def grant(self, item: Any) -> Row:
        """An assignment; a revoked one is history (skipped when read), the others checked."""
        grant = self._row(item, self.grant_keys)
        if grant.get("status", "active") == "active":
            self._has(item, self.grant_keys, "id", "role_id", "user_id")
        return grant

    def made_id(self, body: Any) -> str:
        """The server id in the answer of a create (under ``objectWrapper`` if set)."""
        wrapper = self.options.object_wrapper
        made = obj(body) if wrapper is None else obj(present(obj(body), wrapper))
        value = scalar(made, self.options.id_field)
        if value is None:
            raise ShapeError(f"the created object's '{self.options.id_field}' is null")
        return str(value)

    def status_of(self, body: Any) -> str | None:
        """A tenant's status in the answer of ``GET /{id}`` (under ``objectWrapper`` if set)."""
        wrapper = self.options.object_wrapper
        tenant = obj(body) if wrapper is None else obj(present(obj(body), wrapper))
        value = tenant.get(self.tenant_keys["status"])
        return value if isinstance(value, str) else None

    def configuration(self, body: Any) -> dict[str, Any]:
        """``GET /{id}/configuration``: under the response wrapper, or the bare object."""
        wrapper = self.options.configuration_response_wrapper
        found = obj(body or {}) if wrapper is None else obj(body or {}).get(wrapper) or {}
        return obj(found, "the configuration as an object")


def label(tenant: Row) -> str:
    return str(ResourceId(Kind.TENANT, str(tenant["name"])))


__all__ = ["Row", "Shapes", "label"]

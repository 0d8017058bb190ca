"""The ``reference`` API in memory: the subset the bench sends, for the fast server mode.

Same paths, bodies and answers as ``docs/apis/reference.md`` (and the sandbox
that emulates it) for what the reference provider, the naive reconcile and the
floor send: listings paged by offset (``limit`` 100 by default, at most 500),
creates, updates, tier defaults, suspend/resume, flags, users and their roles.
Natural keys stay unique and references must exist (dictionary lookups); no
other validation, no SQLite, no framework: the server costs little next to the
client, so a from-empty run measures the reconciler. Not an emulation to test
against: the sandbox is that.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.fast_http import Answer, Request, segments

BASE = ("api", "v1", "operator")
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
ROLES = ("operator", "operator-admin")
Obj = dict[str, Any]


class Refused(Exception):
    """An error answer: status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396, as the sandbox applies ``configuration``: null removes a key."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


class Table:
    """Objects in creation order, each also kept as JSON text so a page is a join."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.objs: dict[str, Obj] = {}
        self.text: dict[str, str] = {}
        self.keys: dict[str, str] = {}  # natural key -> id
        self.order: list[str] = []

    def insert(self, fields: Obj, key: str, obj_id: str | None = None) -> Obj:
        if key in self.keys:
            raise Refused(409, "conflict", f"a {self.what} '{key}' already exists")
        stamp = _now()
        obj = {"id": obj_id or str(uuid.uuid4()), **fields}
        obj.setdefault("created_at", stamp)
        obj.setdefault("updated_at", stamp)
        self._put(obj)
        self.keys[key] = obj["id"]
        self.order.append(obj["id"])
        return obj

    def _put(self, obj: Obj) -> None:
        self.objs[obj["id"]] = obj
        self.text[obj["id"]] = _dumps(obj)

    def saved(self, obj: Obj) -> Obj:
        obj["updated_at"] = _now()
        self._put(obj)
        return obj

    def get(self, obj_id: str) -> Obj:
        found = self.objs.get(obj_id)
        if found is None:
            raise Refused(404, "not_found", f"{self.what} '{obj_id}' not found")
        return found

    def must_exist(self, obj_id: Any, field: str) -> None:
        if obj_id is not None and obj_id not in self.objs:
            raise Refused(400, "invalid", f"{field}: no {self.what} with id '{obj_id}'")

    def delete(self, obj_id: str, key: str) -> None:
        self.get(obj_id)
        del self.objs[obj_id], self.text[obj_id], self.keys[key]
        self.order.remove(obj_id)

    def page(self, query: dict[str, str]) -> str:
        try:
            limit = min(max(1, int(query.get("limit", DEFAULT_LIMIT))), MAX_LIMIT)
            offset = max(0, int(query.get("offset", 0)))
        except ValueError:
            raise Refused(400, "invalid", "limit and offset are whole numbers") from None
        rows = [self.text[i] for i in self.order[offset : offset + limit]]
        tail = f',"total":{len(self.order)},"limit":{limit},"offset":{offset}}}'
        return '{"items":[' + ",".join(rows) + "]" + tail

    def rows(self) -> list[Obj]:
        return [self.objs[i] for i in self.order]


class ReferenceApi:
    """The state and one method per route; :meth:`handle` routes a request."""

    def __init__(self) -> None:
        self.plans, self.tenants = Table("plan"), Table("tenant")
        self.flags, self.users = Table("flag"), Table("user")
        self.tiers: dict[str, list[Obj]] = {}
        self.flags_of: dict[str, dict[str, str]] = {}  # tenant id -> flag key -> flag id

    # ---- state on disk (the bench's snapshots) --------------------------------------------

    def dump(self) -> Obj:
        return {
            "plans": self.plans.rows(),
            "tenants": self.tenants.rows(),
            "flags": self.flags.rows(),
            "users": self.users.rows(),
            "tiers": self.tiers,
        }

    def load(self, data: Obj) -> None:
        for p in data.get("plans", []):
            self.plans.insert(p, p["name"], p["id"])
        for t in data.get("tenants", []):
            self.tenants.insert(t, t["name"], t["id"])
        for f in data.get("flags", []):
            self._add_flag(f, f["id"])
        for u in data.get("users", []):
            self.users.insert(u, str(u["email"]).lower(), u["id"])
        self.tiers = dict(data.get("tiers", {}))

    # ---- routing -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Answer:
        parts = segments(request.path)
        if tuple(parts[:3]) != BASE or len(parts) < 4:
            return 404, _error(404, "not_found", f"no route {request.path}")
        try:
            body = json.loads(request.body) if request.body else {}
            status, answer = self._route(request.method, parts[3:], request.query, body)
        except Refused as exc:
            return exc.status, _error(exc.status, exc.code, str(exc))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return 400, _error(400, "invalid", f"bad request: {exc!r}")
        if status == 204:
            return 204, b""
        text = answer if isinstance(answer, str) else _dumps(answer)
        return status, text.encode()

    def _route(self, method: str, p: list[str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        n, head = len(p), p[0]
        if n == 1:
            listing = {"plans": self.plans, "tenants": self.tenants, "users": self.users}
            if head == "feature-flags" and method == "GET":
                return 200, self.flags.page(q)
            if head in listing and method == "GET":
                return 200, listing[head].page(q)
            if method == "POST" and head == "plans":
                return 201, self.create_plan(body)
            if method == "POST" and head == "tenants":
                return 201, self.create_tenant(body)
            if method == "POST" and head == "users":
                return 201, self.create_user(body)
        elif head == "plans":
            return self._plans(method, p, body)
        elif head == "tenants":
            return self._tenants(method, p, body)
        elif head == "users":
            return self._users(method, p, body)
        raise Refused(404 if method == "GET" else 405, "not_found", f"no route {'/'.join(p)}")

    def _plans(self, method: str, p: list[str], body: Any) -> tuple[int, Any]:
        plan = self.plans.get(p[1])
        if len(p) == 2 and method == "GET":
            return 200, self.plans.text[plan["id"]]
        if len(p) == 2 and method == "PUT":
            plan.update({k: body[k] for k in ("display_name", "description") if k in body})
            return 200, self.plans.saved(plan)
        if len(p) == 3 and p[2] == "tier-defaults" and method == "GET":
            return 200, {"plan_id": plan["id"], "tier_defaults": self.tiers.get(plan["id"], [])}
        if len(p) == 3 and p[2] == "tier-defaults" and method == "PUT":
            rows = [
                {"tier": r["tier"], "slot_limit": r["slot_limit"]} for r in body["tier_defaults"]
            ]
            self.tiers[plan["id"]] = rows
            return 200, {"plan_id": plan["id"], "tier_defaults": rows}
        raise Refused(405, "not_allowed", f"{method} /plans/...")

    def _tenants(self, method: str, p: list[str], body: Any) -> tuple[int, Any]:
        tenant = self.tenants.get(p[1])
        if len(p) == 2:
            if method == "GET":
                return 200, self.tenants.text[tenant["id"]]
            if method == "PATCH":
                return 200, self.patch_tenant(tenant, body)
            if method == "DELETE":
                for key, flag_id in self.flags_of.pop(tenant["id"], {}).items():
                    self.flags.delete(flag_id, f"{tenant['id']}/{key}")
                self.tenants.delete(tenant["id"], tenant["name"])
                return 204, None
        if len(p) == 3 and p[2] in ("suspend", "resume") and method == "POST":
            suspended = p[2] == "suspend"
            if (tenant["status"] == "suspended") != suspended:
                tenant["status"] = "suspended" if suspended else "active"
                tenant["suspended_at"] = _now() if suspended else None
                self.tenants.saved(tenant)
            return 200, tenant
        if len(p) >= 3 and p[2] == "feature-flags":
            return self._flags(method, tenant["id"], p[3] if len(p) == 4 else None, body)
        raise Refused(405, "not_allowed", f"{method} /tenants/...")

    def _flags(self, method: str, tenant_id: str, key: str | None, body: Any) -> tuple[int, Any]:
        mine = self.flags_of.get(tenant_id, {})
        if key is None and method == "GET":
            rows = [self.flags.text[i] for i in mine.values()]
            return 200, '{"items":[' + ",".join(rows) + f'],"total":{len(rows)}}}'
        if key is None and method == "POST":
            fields = {"key": body["key"], "enabled": body["enabled"], "tenant_id": tenant_id}
            return 201, self._add_flag(fields)
        flag_id = mine.get(key) if key is not None else None
        if flag_id is None or key is None:
            raise Refused(404, "not_found", f"flag '{key}' of tenant '{tenant_id}' not found")
        if method == "PUT":
            flag = self.flags.objs[flag_id]
            flag["enabled"] = body["enabled"]
            return 200, self.flags.saved(flag)
        if method == "DELETE":
            self.flags.delete(flag_id, f"{tenant_id}/{key}")
            del mine[key]
            return 204, None
        raise Refused(405, "not_allowed", f"{method} feature flag")

    def _add_flag(self, fields: Obj, flag_id: str | None = None) -> Obj:
        tenant_id, key = fields["tenant_id"], fields["key"]
        flag = self.flags.insert(fields, f"{tenant_id}/{key}", flag_id)
        self.flags_of.setdefault(tenant_id, {})[key] = flag["id"]
        return flag

    def _users(self, method: str, p: list[str], body: Any) -> tuple[int, Any]:
        user = self.users.get(p[1])
        if len(p) == 2:
            if method == "GET":
                return 200, self.users.text[user["id"]]
            if method == "PUT":
                user.update({k: body[k] for k in ("name",) if k in body})
                return 200, self.users.saved(user)
            if method == "DELETE":
                self.users.delete(user["id"], str(user["email"]).lower())
                return 204, None
        action = p[2] if len(p) >= 3 else ""
        if action in ("enable", "disable") and method == "POST":
            user["enabled"] = action == "enable"
        elif action == "roles" and method == "POST":
            _check_role(body["role"])
            if body["role"] not in user["roles"]:
                user["roles"] = [*user["roles"], body["role"]]
        elif action == "roles" and method == "DELETE" and len(p) == 4:
            user["roles"] = [r for r in user["roles"] if r != p[3]]
        elif action == "tenant" and method == "POST":
            self.tenants.must_exist(body.get("tenant_id"), "tenant_id")
            user["tenant_id"] = body.get("tenant_id")
        else:
            raise Refused(405, "not_allowed", f"{method} /users/...")
        return 200, self.users.saved(user)

    # ---- creates and the tenant patch --------------------------------------------------------

    def create_plan(self, body: Any) -> Obj:
        fields = {
            "name": body["name"],
            "display_name": body.get("display_name"),
            "description": body.get("description"),
        }
        return self.plans.insert(fields, body["name"])

    def create_tenant(self, body: Any) -> Obj:
        self.plans.must_exist(body.get("plan_id"), "plan_id")
        self.tenants.must_exist(body.get("parent_id"), "parent_id")
        fields = {
            "name": body["name"],
            "display_name": body.get("display_name"),
            "plan_id": body.get("plan_id"),
            "parent_id": body.get("parent_id"),
            "status": "active",
            "configuration": merge_patch({}, body.get("configuration") or {}),
            "suspended_at": None,
        }
        return self.tenants.insert(fields, body["name"])

    def patch_tenant(self, tenant: Obj, body: Any) -> Obj:
        if "plan_id" in body:
            self.plans.must_exist(body["plan_id"], "plan_id")
            tenant["plan_id"] = body["plan_id"]
        if "parent_id" in body:
            self.tenants.must_exist(body["parent_id"], "parent_id")
            tenant["parent_id"] = body["parent_id"]
        if "display_name" in body:
            tenant["display_name"] = body["display_name"]
        if "configuration" in body:
            patch = body["configuration"]
            tenant["configuration"] = (
                {} if patch is None else merge_patch(tenant["configuration"], patch)
            )
        return self.tenants.saved(tenant)

    def create_user(self, body: Any) -> Obj:
        roles = list(dict.fromkeys(body.get("roles") or []))
        for role in roles:
            _check_role(role)
        self.tenants.must_exist(body.get("tenant_id"), "tenant_id")
        fields = {
            "email": body["email"],
            "name": body.get("name"),
            "enabled": body.get("enabled", True),
            "roles": roles,
            "tenant_id": body.get("tenant_id"),
        }
        return self.users.insert(fields, str(body["email"]).lower())


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise Refused(400, "invalid", f"role: unknown role '{role}'")


def _error(status: int, code: str, message: str) -> bytes:
    return _dumps({"error": code, "message": message}).encode()

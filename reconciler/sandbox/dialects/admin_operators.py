"""The ``admin-operators`` dialect: an admin API that invites, toggles and deletes operators.

After document ``002``: ``GET/POST /admin/operators``, ``PATCH
/admin/operators/{user_id}/status``, ``DELETE /admin/operators/{user_id}``,
numeric ids, errors as ``{"error": "..."}``. Accounts are people with a role
(``admin``, ``operator`` or ``user``); the list shows only current operators.
Choices where the document is silent are in docs/apis/admin-operators.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import Response

from reconciler.sandbox.common import ApiError, bearer_auth, install_error_handlers, json_response
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.store import Collection, Conflict, Obj, Store

ACCOUNTS, COUNTERS = "accounts", "counters"
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
DEFAULT_ADMIN = {"email": "admin@sandbox.local", "name": "Sandbox Admin"}
PUBLIC = ("id", "name", "email", "role", "is_active", "email_verified")


def _error(status: int, code: str, message: str) -> dict[str, str]:
    return {"error": message}


def _public(account: Obj, extra: bool) -> dict[str, Any]:
    shown = {k: account[k] for k in PUBLIC}
    if extra:  # quirks: a real server's fields the document does not list
        shown |= {"last_login_at": None, "avatar_url": "https://example.invalid/a.png"}
    return shown


class Accounts:
    """The accounts, with numeric ids handed out in order."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _next_id(self) -> int:
        counter = self.store.find(COUNTERS, "accounts") or self.store.insert(
            COUNTERS, {"next": 1}, key="accounts"
        )
        number = int(counter["next"])
        self.store.update(COUNTERS, {**counter, "next": number + 1})
        return number

    def add(self, email: str, name: str, role: str, verified: bool = True) -> Obj:
        fields = {
            "num": self._next_id(),
            "name": name,
            "email": email,
            "role": role,
            "is_active": True,
            "email_verified": verified,
        }
        try:
            account = self.store.insert(ACCOUNTS, fields, key=email.lower())
        except Conflict:
            raise ApiError(409, "conflict", f"{email} already has an account") from None
        return self._with_id(account)

    @staticmethod
    def _with_id(account: Obj) -> Obj:
        return {**account, "uuid": account["id"], "id": account["num"]}

    def by_email(self, email: str) -> Obj | None:
        account = self.store.find(ACCOUNTS, email.lower())
        return None if account is None else self._with_id(account)

    def all(self) -> list[Obj]:
        rows, _ = self.store.page(ACCOUNTS, 1_000_000, 0)
        return [self._with_id(json.loads(r)) for r in rows]

    def by_id(self, user_id: int) -> Obj | None:
        return next((a for a in self.all() if a["id"] == user_id), None)

    def save(self, account: Obj) -> Obj:
        stored = {k: v for k, v in account.items() if k not in ("id", "uuid")}
        stored["id"] = account["uuid"]
        return self._with_id(self.store.update(ACCOUNTS, stored))

    def delete(self, account: Obj) -> None:
        self.store.delete(ACCOUNTS, account["uuid"])


def _operator_id(user_id: str) -> int:
    if not user_id.isdigit():
        raise ApiError(404, "not_found", "Operator not found.")
    return int(user_id)


def router(store: Store, token: str) -> APIRouter:
    accounts = Accounts(store)
    r = APIRouter(prefix="/admin/operators", dependencies=[Depends(bearer_auth(token))])

    def extra() -> bool:
        quirks = store.find(COUNTERS, "quirks")
        return bool(quirks and quirks.get("extra_fields"))

    def current_admin() -> Obj:
        admin = next((a for a in accounts.all() if a.get("current")), None)
        if admin is None:
            admin = accounts.add(DEFAULT_ADMIN["email"], DEFAULT_ADMIN["name"], "admin")
            admin = accounts.save({**admin, "current": True})
        return admin

    @r.get("", tags=["operators"])
    async def list_operators() -> Response:
        operators = [_public(a, extra()) for a in accounts.all() if a["role"] == "operator"]
        return json_response(
            {"current_admin": _public(current_admin(), extra()), "operators": operators}
        )

    @r.post("", tags=["operators"])
    async def invite(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str) or not EMAIL.match(email):
            raise ApiError(400, "validation_error", "A valid email address is required.")
        current_admin()
        account = accounts.by_email(email)
        if account is None:
            account = accounts.add(email, "Operator", "operator", verified=False)
            return json_response(
                {
                    "message": "Operator invited successfully. Invitation email has been sent.",
                    "operator": _public(account, extra()),
                },
                201,
            )
        if account["role"] == "admin":
            raise ApiError(409, "conflict", "Admin accounts cannot be converted into operators.")
        if account["role"] == "operator":
            message = (
                "Operator access confirmed."
                if account["email_verified"]
                else "Invitation email has been sent again."
            )
        else:
            message = "Existing user promoted to operator successfully."
        account = accounts.save({**account, "role": "operator", "is_active": True})
        return json_response({"message": message, "operator": _public(account, extra())})

    @r.patch("/{user_id}/status", tags=["operators"])
    async def set_status(user_id: str, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        active = body.get("is_active") if isinstance(body, dict) else None
        if not isinstance(active, bool):
            raise ApiError(400, "validation_error", "is_active must be true or false.")
        account = accounts.by_id(_operator_id(user_id))
        if account is None or account["role"] == "admin":
            raise ApiError(404, "not_found", "Operator not found.")
        if active:
            account = accounts.save({**account, "role": "operator", "is_active": True})
            message = "Operator status updated successfully."
        else:
            account = accounts.save({**account, "role": "user"})
            message = "Operator access removed successfully. The account is now a normal user."
        return json_response({"message": message, "operator": _public(account, extra())})

    @r.delete("/{user_id}", tags=["operators"])
    async def delete(user_id: str) -> Response:
        account = accounts.by_id(_operator_id(user_id))
        if account is None or account["role"] == "admin":
            raise ApiError(404, "not_found", "Operator not found.")
        if account["role"] == "operator":
            raise ApiError(
                400, "bad_request", "Deactivate the operator before deleting the account."
            )
        accounts.delete(account)
        return json_response({"message": "Operator deleted successfully."})

    return r


def install(app: FastAPI, store: Store, token: str) -> None:
    install_error_handlers(app, _error)
    app.include_router(router(store, token))


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{current_admin: {email, name}, admins: [...], users: [...], operators: [...],
    quirks: {extra_fields: true}}``: accounts the API cannot make (admins, plain users)."""
    accounts = Accounts(store)
    current = data.get("current_admin")
    if current:
        admin = accounts.add(current["email"], current.get("name", "Admin"), "admin")
        accounts.save({**admin, "current": True})
    for role, group in (("admin", "admins"), ("user", "users"), ("operator", "operators")):
        for person in data.get(group, []):
            accounts.add(person["email"], person.get("name", person["email"]), role)
    quirks = data.get("quirks")
    if quirks:
        store.insert(COUNTERS, dict(quirks), key="quirks")


DIALECT = Dialect(
    name="admin-operators",
    title="Admin operators API (invite, toggle, delete)",
    collections=(Collection(ACCOUNTS), Collection(COUNTERS)),
    install=install,
    seed=seed,
)

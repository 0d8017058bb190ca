"""The ``admin-operators`` dialect: an admin API that invites, toggles and deletes operators.

After document ``002``: ``GET/POST /admin/operators``, ``PATCH
/admin/operators/{user_id}/status``, ``DELETE /admin/operators/{user_id}``,
numeric ids, errors as ``{"error": "..."}``. Accounts are people with a role
(``admin``, ``operator`` or ``user``); the list shows only current operators.
Choices where the document is silent are in docs/apis/admin-operators.md;
a sandbox seeded with ``options:`` (that page's target options) pages the
list and words its errors as a server that made those choices would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import Response

from reconciler.options.admin_operators import AdminOperatorsOptions
from reconciler.sandbox import listing as listings
from reconciler.sandbox.common import (
    ErrorAnswer,
    ErrorRenderer,
    api_router,
    bearer_auth,
    install_error_handlers,
    json_response,
    raw_json_response,
)
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.dialects.reference_bodies import keep_options, message_at, seeded_options
from reconciler.sandbox.store import Collection, Conflict, Obj, Store, dumps

ACCOUNTS, SETTINGS = "accounts", "settings"
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
DEFAULT_ADMIN = {"email": "admin@sandbox.local", "name": "Sandbox Admin"}
PUBLIC = ("id", "name", "email", "role", "is_active", "email_verified")
SEED_KEYS = frozenset({"current_admin", "admins", "users", "operators", "quirks", "options"})
EVERYTHING = 1_000_000
"""The most one answer holds without a ``max_page`` quirk (or when the list is unpaged)."""
QUIRKS = frozenset({"max_page", "extra_fields"})

NOT_FOUND = "Operator not found."
ADMIN_REFUSED = "Admin accounts cannot be converted into operators."
DEACTIVATE_FIRST = "Deactivate the operator before deleting the account."


def _options(store: Store) -> AdminOperatorsOptions:
    """The target options this sandbox was seeded with (``options:``), else the defaults."""
    return seeded_options(store, SETTINGS, AdminOperatorsOptions)


def _error_body(store: Store) -> ErrorRenderer:
    """The document's only error shape, ``{"error": "<message>"}``, or the message at
    the seeded ``errors.message`` key."""

    def render(status: int, code: str, message: str) -> Any:
        return message_at(_options(store).errors.message or "error", message)

    return render


class Accounts:
    """Every account, keyed by lower-cased email, with numeric ids handed out in order.

    The store gives each row a uuid; the API's number is kept beside it as ``num``
    and shown as ``id``.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def _next_number(self) -> int:
        counter = self.store.find(SETTINGS, "next_id") or self.store.insert(
            SETTINGS, {"next": 1}, key="next_id"
        )
        number = int(counter["next"])
        self.store.update(SETTINGS, {**counter, "next": number + 1})
        return number

    def add(self, email: str, name: str, role: str, *, verified: bool = True) -> Obj:
        """A new account; Conflict when the email has one already."""
        if self.store.find(ACCOUNTS, email.lower()) is not None:
            raise Conflict(email)
        fields = {
            "num": self._next_number(),
            "name": name,
            "email": email,
            "role": role,
            "is_active": True,
            "email_verified": verified,
        }
        return self.store.insert(ACCOUNTS, fields, key=email.lower())

    def by_email(self, email: str) -> Obj | None:
        return self.store.find(ACCOUNTS, email.lower())

    def all(self) -> list[Obj]:
        rows, _ = self.store.page(ACCOUNTS, 1_000_000, 0)
        return [json.loads(r) for r in rows]

    def by_number(self, user_id: str) -> Obj | None:
        """The account a path's ``user_id`` names: its id exactly as the list shows it.

        Compared as text, so ``05`` or a full-width digit (U+FF15) names no account, and an
        account stored with a text id (a test seeding odd ids) is found by it.
        """
        return next((a for a in self.all() if str(a["num"]) == user_id), None)

    def save(self, account: Obj, **changes: Any) -> Obj:
        return self.store.update(ACCOUNTS, {**account, **changes})

    def current_admin(self) -> Obj:
        """The token's owner: the seeded ``current_admin``, else a default admin."""
        found = next((a for a in self.all() if a.get("current")), None)
        if found is None:
            made = self.add(DEFAULT_ADMIN["email"], DEFAULT_ADMIN["name"], "admin")
            found = self.save(made, current=True)
        return found


def _quirks(store: Store) -> Obj:
    return store.find(SETTINGS, "quirks") or {}


def _public(account: Obj, quirks: Obj) -> dict[str, Any]:
    shown = {k: account[k] for k in PUBLIC if k != "id"} | {"id": account["num"]}
    if quirks.get("extra_fields"):  # a real server's fields the document does not list
        shown |= {"last_login_at": None, "avatar_url": "https://example.invalid/a.png"}
    return shown


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def router(store: Store, token: str) -> APIRouter:
    accounts = Accounts(store)
    r = api_router("/admin/operators", [Depends(bearer_auth(token))])

    def answer(message: str, account: Obj, status: int = 200) -> Response:
        return json_response(
            {"message": message, "operator": _public(account, _quirks(store))}, status
        )

    def non_admin(user_id: str) -> Obj:
        account = accounts.by_number(user_id)
        if account is None or account["role"] == "admin":
            raise ErrorAnswer(404, "not_found", NOT_FOUND)
        return account

    @r.get("", tags=["operators"])
    async def list_operators(request: Request) -> Response:
        """Every operator in one answer, as the document shows; paged as the seeded
        ``lists.operators`` says (``max_page`` caps a paged answer only)."""
        quirks, listing = _quirks(store), _options(store).lists.operators
        operators = [_public(a, quirks) for a in accounts.all() if a["role"] == "operator"]
        admin = _public(accounts.current_admin(), quirks)
        cap = EVERYTHING if listing.paging == "none" else int(quirks.get("max_page") or EVERYTHING)
        window = listings.asked(
            request.query_params, listing, max_page=cap, default_limit=EVERYTHING
        )
        rows = [dumps(o) for o in operators[window.offset : window.offset + window.limit]]
        extra = {"current_admin": admin}
        text = listings.answer(
            listing, window, rows, len(operators), path=request.url.path, extra=extra
        )
        return raw_json_response(text)

    @r.post("", tags=["operators"])
    async def invite(request: Request) -> Response:
        email = (await _json_object(request)).get("email")
        if not isinstance(email, str) or not EMAIL.match(email):
            raise ErrorAnswer(400, "validation_error", "A valid email address is required.")
        account = accounts.by_email(email)
        if account is None:
            made = accounts.add(email, "Operator", "operator", verified=False)
            return answer(
                "Operator invited successfully. Invitation email has been sent.", made, 201
            )
        if account["role"] == "admin":
            raise ErrorAnswer(409, "conflict", ADMIN_REFUSED)
        if account["role"] != "operator":
            message = "Existing user promoted to operator successfully."
        elif account["email_verified"]:
            message = "Operator access confirmed. A notification email has been sent."
        else:
            message = "Operator invitation resent. Invitation email has been sent."
        return answer(message, accounts.save(account, role="operator", is_active=True))

    @r.patch("/{user_id}/status", tags=["operators"])
    async def set_status(user_id: str, request: Request) -> Response:
        active = (await _json_object(request)).get("is_active")
        if not isinstance(active, bool):
            raise ErrorAnswer(400, "validation_error", "is_active must be true or false.")
        account = non_admin(user_id)
        if active:
            saved = accounts.save(account, role="operator", is_active=True)
            return answer("Operator status updated successfully.", saved)
        # As in the document's example: the role changes, is_active stays as it was.
        saved = accounts.save(account, role="user")
        return answer(
            "Operator access removed successfully. The account is now a normal user.", saved
        )

    @r.delete("/{user_id}", tags=["operators"])
    async def delete(user_id: str) -> Response:
        account = non_admin(user_id)
        if account["role"] == "operator":
            raise ErrorAnswer(400, "bad_request", DEACTIVATE_FIRST)
        store.delete(ACCOUNTS, account["id"])
        return json_response({"message": "Operator deleted successfully."})

    return r


def install(app: FastAPI, store: Store, token: str) -> None:
    install_error_handlers(app, _error_body(store))
    Accounts(store).current_admin()  # the token has an owner before the first call
    app.include_router(router(store, token))


def seed(store: Store, data: Mapping[str, Any]) -> None:
    """``{current_admin, admins, users, operators, quirks}``: what the API cannot make.

    ``current_admin`` (``{email, name}``) is the token's owner; ``admins`` and
    ``users`` are accounts the API can only refuse or promote; ``operators``
    exist before any apply (``verified: false`` for one whose invitation is
    pending). ``quirks``: ``extra_fields`` adds undocumented fields to every
    account shown; ``max_page`` caps a paged list and has no effect on the
    document's unpaged one. Accounts get ids 1, 2, ... in that order.
    ``options`` (the target options of docs/apis/admin-operators.md, camelCase)
    make the sandbox answer as a target configured with them expects.
    """
    unknown = set(data) - SEED_KEYS
    if unknown:
        raise ValueError(f"unknown admin-operators seed keys: {', '.join(sorted(unknown))}")
    if "options" in data:
        keep_options(store, SETTINGS, AdminOperatorsOptions, data["options"])
    accounts = Accounts(store)
    people: list[tuple[str, Mapping[str, Any]]] = []
    if data.get("current_admin"):
        people.append(("current", data["current_admin"]))
    for role, group in (("admin", "admins"), ("user", "users"), ("operator", "operators")):
        people += [(role, person) for person in data.get(group) or []]
    for role, person in people:
        email = person["email"]
        try:
            made = accounts.add(
                email,
                person.get("name", email.split("@")[0]),
                "admin" if role == "current" else role,
                verified=bool(person.get("verified", True)),
            )
        except Conflict:
            raise ValueError(f"seed: {email} is listed twice") from None
        if role == "current":
            accounts.save(made, current=True)
    quirks = dict(data.get("quirks") or {})
    if set(quirks) - QUIRKS:
        raise ValueError(f"unknown quirks: {', '.join(sorted(set(quirks) - QUIRKS))}")
    if quirks:
        store.insert(SETTINGS, quirks, key="quirks")


DIALECT = Dialect(
    name="admin-operators",
    title="Admin operators API (invite, toggle, delete)",
    collections=(Collection(ACCOUNTS), Collection(SETTINGS)),
    install=install,
    seed=seed,
)

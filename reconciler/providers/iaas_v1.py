"""The ``iaas-v1`` API: operator access to users and tenants joined over WireGuard.

Document ``001``. Paths are relative to ``${API_BASE_URL}`` (``…/api``):

- users: ``GET /users``, ``POST /users {email, role, ssh_key_id}``,
  ``PUT /users/{id}`` with the whole user, ``DELETE /users/{id}`` (which also
  removes the user from its tenant), ``GET /users/me``;
- tenants: ``GET /tenants``, ``POST /tenants {name, users}``,
  ``DELETE /tenants/{id}``; **no update**, so a tenant has only its name;
- membership: ``PUT /tenants/{tid}/users/{uid} {pubkey}`` and
  ``DELETE /tenants/{tid}/users/{uid}``; **one tenant per user**, so a move is
  two calls, remove then add.

In the specs, membership is the Operator's ``tenant`` with its
``wireguardPubkey`` (required together). Choices where the document is silent
(listing shape, paging, the id's key, members in the tenant listing) are target
options (:class:`~reconciler.options.iaas_v1.IaasV1Options`), their defaults
described in docs/apis/iaas-v1.md; answers are read in ``iaas_v1_shapes.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from reconciler.errors import ApiError, SpecProblem
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.options import DialectOptions
from reconciler.options.iaas_v1 import IaasV1Options
from reconciler.providers.base import (
    ApplyContext,
    Capabilities,
    KindHandlers,
    KindSupport,
    ListingUse,
    Provider,
    ReadScope,
)
from reconciler.providers.iaas_v1_shapes import Row, Shapes, items, total
from reconciler.providers.paging import InconsistentRead
from reconciler.providers.paths import url_path

if TYPE_CHECKING:  # annotations only: the client (httpx) loads when a run makes one
    from reconciler.providers.http import ApiClient

C, U, D = Action.CREATE, Action.UPDATE, Action.DELETE


class IaasProvider(Provider):
    """Users (as Operators) and tenants with WireGuard membership."""

    capabilities = Capabilities(
        dialect="iaas-v1",
        title="IaaS operator API: users, tenants, WireGuard membership (document 001)",
        base_path="/api",
        sensitive_body_keys=frozenset({"pubkey"}),
        admin_role="operator",
        supports={
            Kind.TENANT: KindSupport(
                frozenset({C, D}),
                frozenset(),
                notes="the API has no tenant update nor suspend: a tenant is only its name",
            ),
            Kind.OPERATOR: KindSupport(
                frozenset({C, U, D}),
                frozenset({"role", "tenant", "wireguard_pubkey"}),
                choices={"role": ("member", "operator")},
                sensitive=frozenset({"wireguard_pubkey"}),
                notes="one tenant per user; tenant and wireguardPubkey go together",
            ),
        },
        options=IaasV1Options,
    )

    def __init__(self, client: ApiClient, options: DialectOptions | None = None) -> None:
        super().__init__(client, options)
        self._joined: dict[str, tuple[str, str]] = {}
        """user id → (tenant, pubkey) this run put in a tenant's create already."""

    def handlers(self) -> Mapping[Kind, KindHandlers]:
        return {
            Kind.TENANT: KindHandlers(
                self._read_tenants, create=self._create_tenant, delete=self._delete_tenant
            ),
            Kind.OPERATOR: KindHandlers(
                self._read_users, self._create_user, self._update_user, None, self._delete_user
            ),
        }

    @classmethod
    def support_problems(cls, desired: State) -> list[SpecProblem]:
        problems = super().support_problems(desired)
        dialect = cls.capabilities.dialect
        for r in desired.of_kind(Kind.OPERATOR):
            tenant, key = r.fields.get("tenant"), r.fields.get("wireguard_pubkey")
            if tenant and not key:
                problems.append(
                    SpecProblem(
                        r.field_sources.get("tenant", r.source),
                        f"{r.id}: a member of tenant '{tenant}' on the {dialect} API "
                        "needs its 'wireguardPubkey' (the API joins users with their key)",
                    )
                )
            if key and not tenant:
                problems.append(
                    SpecProblem(
                        r.field_sources.get("wireguard_pubkey", r.source),
                        f"{r.id}: 'wireguardPubkey' on the {dialect} API belongs to a "
                        "tenant membership: set 'tenant' too",
                    )
                )
        return problems

    @classmethod
    def path_parents(cls, change: Change) -> list[ResourceId]:
        """A membership change goes through tenants' paths: ``DELETE`` under the old
        tenant, ``PUT`` under the new one (``/tenants/{tid}/users/{uid}``)."""
        if change.id.kind is not Kind.OPERATOR or change.action not in (C, U):
            return []
        want = change.desired.fields if change.desired else {}
        have = change.live.fields if change.live else {}
        if "tenant" not in want:
            return []  # membership unmanaged
        new, old = want.get("tenant"), have.get("tenant")
        if (new, want.get("wireguard_pubkey")) == (old, have.get("wireguard_pubkey")):
            return []
        return [ResourceId(Kind.TENANT, str(t)) for t in dict.fromkeys((old, new)) if t]

    @property
    def settings(self) -> IaasV1Options:
        """The target's options, typed (the base class checked their model)."""
        assert isinstance(self.options, IaasV1Options)
        return self.options

    @cached_property
    def shapes(self) -> Shapes:
        """How this target's answers are read (ids, members)."""
        return Shapes(self.settings)

    def listings(self) -> list[ListingUse]:
        lists, shapes = self.settings.lists, self.shapes
        return [
            ListingUse("users", "/users", "lists.users", lists.users, shapes.user_row),
            ListingUse("tenants", "/tenants", "lists.tenants", lists.tenants, shapes.tenant_row),
        ]

    @cached_property
    def _uses(self) -> dict[str, ListingUse]:
        return {use.label: use for use in self.listings()}

    async def _list(self, label: str) -> list[Row]:
        """Every object of a listing, read as the target's ``lists`` option says.

        A bare array paged by offset (the default) is walked by :meth:`_walk_bare`,
        which keeps the tolerances the document's silence calls for; any other
        listing is read exactly as configured.
        """
        use = self._uses[label]
        listing = use.listing
        if listing.items is None and listing.paging == "offset":
            return await self._walk_bare(use)
        listed = self.client.paginate(use.path, listing, resource=label, decode=use.decode)
        return [row async for row in listed]

    async def _walk_bare(self, use: ListingUse) -> list[Row]:
        """A bare-array listing, however the server pages it.

        The document shows a bare ``GET`` answered with the whole array. Servers
        of this kind often cap a list and page it with FastAPI's ``skip``/``limit``;
        those that do not ignore both and send the whole array again. So: ask page
        by page, move on by what came back, and stop on an empty page, on a
        reported total, or on a page of objects already seen (paging ignored).
        """
        listing, row = use.listing, use.decode
        assert row is not None

        def page_of(body: Any) -> tuple[list[Row], int | None]:
            return [row(item) for item in items(body)], total(body, listing.total)

        found: dict[str, Row] = {}
        while True:
            page, reported = await self.client.call(
                "GET",
                use.path,
                params={listing.offset_param: len(found), listing.limit_param: listing.page_size},
                resource=use.label,
                decode=page_of,
            )
            fresh = {str(o["id"]): o for o in page if str(o["id"]) not in found}
            if page and not fresh:
                return list(found.values())
            if len(fresh) != len(page):
                raise InconsistentRead(
                    use.path, "a page repeated some objects and not others; nothing was planned"
                )
            found.update(fresh)
            if not page or (reported is not None and len(found) >= reported):
                return list(found.values())

    def _tenants(self, scope: ReadScope) -> Awaitable[list[Row]]:
        return scope.once("/tenants", lambda: self._list("tenants"))

    async def _read_tenants(self, scope: ReadScope) -> list[Resource]:
        return [
            Resource(ResourceId(Kind.TENANT, str(t["name"])), {}, server={"id": str(t["id"])})
            for t in await self._tenants(scope)
        ]

    async def _read_users(self, scope: ReadScope) -> list[Resource]:
        membership: dict[str, tuple[str, str | None]] = {}
        for t in await self._tenants(scope):
            for user_id, pubkey in self.shapes.members(t):
                membership[user_id] = (str(t["name"]), pubkey)
        found = []
        for u in await self._list("users"):
            tenant, pubkey = membership.get(str(u["id"]), (None, None))
            found.append(
                Resource(
                    ResourceId(Kind.OPERATOR, str(u["email"]).lower()),
                    {"role": u.get("role"), "tenant": tenant, "wireguard_pubkey": pubkey},
                    # PUT replaces the whole user: keep what the specs do not manage.
                    server={
                        "id": str(u["id"]),
                        "email": u["email"],
                        "ssh_key_id": u.get("ssh_key_id"),
                    },
                )
            )
        return found

    # An instance method where the base has a classmethod: the answer depends on the
    # target's options, and ``plan --show-calls`` asks the session's provider for it.
    def preview_answer(  # type: ignore[override]
        self, method: str, path: str, body: Any, new_id: str
    ) -> Any:
        """The body back with ``new_id`` under the target's ``idField`` (the preview's
        provider reads a create's id there, as on apply)."""
        answer: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
        answer.setdefault(self.settings.id_field, new_id)
        return answer

    async def whoami(self) -> str | None:
        me = await self.client.call(
            "GET", "/users/me", resource="users/me", decode=self.shapes.answered
        )
        email = me.get("email")
        return str(email).lower() if email else None

    async def _delete_tenant(self, change: Change, ctx: ApplyContext) -> Resource | None:
        await self.client.delete(
            url_path("/tenants/{}", ctx.server_id(change.id)), resource=str(change.id)
        )
        return None

    async def _delete_user(self, change: Change, ctx: ApplyContext) -> Resource | None:
        # The API takes the user out of its tenant too: one call.
        await self.client.delete(
            url_path("/users/{}", ctx.server_id(change.id)), resource=str(change.id)
        )
        return None

    async def _create_tenant(self, change: Change, ctx: ApplyContext) -> Resource:
        """``POST /tenants`` with the members already known: users that exist and are in
        no tenant yet, whose specs put them here (the others join by ``PUT`` later)."""
        name = change.id.key
        members = list(_waiting_for(name, ctx))
        body = await self.client.call(
            "POST",
            "/tenants",
            json_body={"name": name, "users": [{"user_id": u, "pubkey": k} for u, k in members]},
            resource=str(change.id),
        )
        for user_id, pubkey in members:
            self._joined[user_id] = (name, pubkey)
        tenant_id = self.shapes.created_id(body)
        if tenant_id is None:  # an answer without the object: find it by name
            listed = await self._list("tenants")
            tenant_id = self._found(
                "/tenants", change, [t["id"] for t in listed if t["name"] == name]
            )
        return Resource(change.id, {}, server={"id": str(tenant_id)})

    @staticmethod
    def _found(path: str, change: Change, ids: list[Any]) -> Any:
        """The id of an object just created, found in its listing (its create's answer
        held none, or not at the target's ``idField``)."""
        if not ids:
            raise ApiError(
                "POST",
                path,
                200,
                "the answer holds no id, and the listing does not show the object",
                str(change.id),
            )
        return ids[0]

    async def _create_user(self, change: Change, ctx: ApplyContext) -> Resource:
        assert change.desired is not None
        f, email = change.desired.fields, change.id.key
        body = await self.client.call(
            "POST",
            "/users",
            json_body={"email": email, "role": f.get("role", "member"), "ssh_key_id": None},
            resource=str(change.id),
        )
        user_id = self.shapes.created_id(body)
        if user_id is None:
            listed = await self._list("users")
            user_id = self._found(
                "/users", change, [u["id"] for u in listed if u["email"] == email]
            )
        if f.get("tenant"):
            await self._join(f["tenant"], str(user_id), f["wireguard_pubkey"], ctx, str(change.id))
        return Resource(change.id, {}, server={"id": str(user_id)})

    async def _update_user(self, change: Change, ctx: ApplyContext) -> Resource | None:
        assert change.desired is not None and change.live is not None
        rid, want, have = str(change.id), change.desired.fields, change.live.fields
        user_id = ctx.server_id(change.id)
        if "role" in want and want["role"] != have.get("role"):
            body = {
                "email": change.live.server.get("email", change.id.key),
                "role": want["role"],
                "ssh_key_id": change.live.server.get("ssh_key_id"),
            }
            path = url_path("/users/{}", user_id)
            await self.client.call("PUT", path, json_body=body, resource=rid)
        if "tenant" not in want:
            return None  # membership unmanaged (the check ties a key to a tenant)
        new_tenant, new_key = want["tenant"], want.get("wireguard_pubkey")
        old_tenant, old_key = have.get("tenant"), have.get("wireguard_pubkey")
        if self._joined.pop(user_id, None) == (new_tenant, new_key):
            return None  # joined in its tenant's create
        if (old_tenant, old_key) == (new_tenant, new_key):
            return None
        if old_tenant and old_tenant != new_tenant:
            # One tenant per user: leave the old one first, then join the new one.
            old_id = ctx.server_id(ResourceId(Kind.TENANT, old_tenant))
            await self.client.delete(
                url_path("/tenants/{}/users/{}", old_id, user_id), resource=rid
            )
        if new_tenant:
            await self._join(new_tenant, user_id, new_key, ctx, rid)
        return None

    async def _join(
        self, tenant: str, user_id: str, pubkey: str | None, ctx: ApplyContext, rid: str
    ) -> None:
        """Add a member, or change its key (the same ``PUT`` again)."""
        tenant_id = ctx.server_id(ResourceId(Kind.TENANT, tenant))
        await self.client.call(
            "PUT",
            url_path("/tenants/{}/users/{}", tenant_id, user_id),
            json_body={"pubkey": pubkey},
            resource=rid,
        )


def _waiting_for(tenant: str, ctx: ApplyContext) -> Iterator[tuple[str, str]]:
    """(user id, pubkey) of live users in no tenant that this change plan puts in ``tenant``."""
    for other in ctx.changes:
        if other.id.kind is not Kind.OPERATOR or other.action is not U:
            continue
        if other.desired is None or other.live is None or other.live.server_id is None:
            continue
        want = other.desired.fields
        key = want.get("wireguard_pubkey")
        if want.get("tenant") == tenant and not other.live.fields.get("tenant") and key:
            yield other.live.server_id, str(key)


PROVIDER = IaasProvider

"""The interface every API adapter implements.

A provider describes one API and nothing else: what it supports, how to read
live state into :mod:`reconciler.model`, and how to turn one change into HTTP
calls. It never prints and never orders changes; the engine does both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reconciler.errors import PlanError, SpecProblem
from reconciler.model import Action, Change, Kind, Resource, ResourceId, State
from reconciler.providers.http import ApiClient, segment_problem, shown_value


def path_value_problem(*named: tuple[str, object]) -> str | None:
    """The first of ``(what, value)`` that cannot be a URL path segment, as a reason.

    ``None`` when every value can be one. Used by :meth:`Provider.unaddressable`.
    """
    for what, value in named:
        problem = segment_problem(value)
        if problem is not None:
            return f"its {what} {shown_value(value)} cannot be a URL path segment: {problem}"
    return None


@dataclass(frozen=True)
class KindSupport:
    """What a provider can do with one kind: operations and the fields it can set."""

    operations: frozenset[Action]
    fields: frozenset[str]
    sensitive: frozenset[str] = frozenset()
    notes: str = ""
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Fields whose value the API takes from a fixed list (e.g. ``role``)."""


@dataclass
class ApplyContext:
    """What a provider may know while applying: server ids of referenced objects.

    The engine fills ``ids`` from the live state it read and from every create
    that succeeds during the run, so a tenant created a moment ago can be a
    parent now. ``origin`` says where the change came from (commit, pull
    request) for APIs that record a reason.
    """

    ids: dict[ResourceId, str] = field(default_factory=dict)
    origin: str = "reconciler"
    changes: list[Change] = field(default_factory=list)
    """The whole plan being applied, for APIs that take several changes in one call
    (a bulk flag update): the first such change can send its siblings too."""

    def server_id(self, rid: ResourceId) -> str:
        try:
            return self.ids[rid]
        except KeyError:
            raise PlanError(f"{rid} has no server id yet (was it created?)") from None


class Provider(ABC):
    """Base of every API adapter; subclasses describe one API dialect."""

    dialect: ClassVar[str]
    title: ClassVar[str]
    supports: ClassVar[Mapping[Kind, KindSupport]]
    absent_is_inactive: ClassVar[frozenset[Kind]] = frozenset()
    """Kinds whose inactive objects the API does not list (a deactivated operator is
    no longer an operator): a spec asking for an inactive one that is absent is met."""
    sensitive_body_keys: ClassVar[frozenset[str]] = frozenset()
    """Request-body keys that carry a sensitive field's value (``pubkey`` for a
    WireGuard key), masked in ``plan --show-calls``."""
    admin_role: ClassVar[str | None] = None
    """The API's highest operator role, guarded so an apply never leaves none active."""
    base_path: ClassVar[str] = ""
    """Path the target URL of this API ends with when the document's paths are
    relative to a base (``iaas-v1``: ``/api``); the embedded sandbox serves the
    API there, so its URL gets this appended."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    @abstractmethod
    async def read(self, kinds: Collection[Kind]) -> State:
        """Read the live objects of ``kinds``, server-managed fields kept in ``server``."""

    @abstractmethod
    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Make one change with as few calls as the API allows.

        Returns the live resource after a create or update when the API tells
        (so its server id can be recorded), ``None`` otherwise.
        """

    async def whoami(self) -> str | None:
        """The email of the account the token belongs to, when the API says; else None.

        Used to refuse a plan that would suspend, demote or delete that account.
        """
        return None

    @classmethod
    def check(cls, desired: State) -> list[SpecProblem]:
        """Problems with asking this API for ``desired``, found before any call.

        Covers kinds, fields and ``choices``; a provider with rules across
        fields (a pubkey needed with a tenant, say) extends this.
        """
        problems: list[SpecProblem] = []
        for resource in desired:
            support = cls.supports.get(resource.id.kind)
            if support is None:
                problems.append(
                    SpecProblem(
                        resource.source,
                        f"{resource.id}: the {cls.dialect} API does not manage "
                        f"{resource.id.kind.value} objects",
                    )
                )
                continue
            for name in sorted(set(resource.fields) - support.fields):
                problems.append(
                    SpecProblem(
                        resource.field_sources.get(name, resource.source),
                        f"{resource.id}: field '{name}' cannot be set through the "
                        f"{cls.dialect} API",
                    )
                )
            for name, allowed in support.choices.items():
                value = resource.fields.get(name)
                if value is not None and value not in allowed:
                    problems.append(
                        SpecProblem(
                            resource.field_sources.get(name, resource.source),
                            f"{resource.id}: {name} '{value}' is not one the {cls.dialect} "
                            f"API accepts ({', '.join(allowed)})",
                        )
                    )
        return problems

    @classmethod
    def change_problems(cls, change: Change) -> list[str]:
        """Why this API cannot make ``change``, in its own terms; empty when it can.

        Checked with the plan, before any write, for what ``supports`` cannot say:
        fields an API sets only at creation, a create needing a field the spec
        left out, an object the API can only find and never make. When a
        provider answers here, its words replace the generic "cannot <action>".
        """
        return []

    @classmethod
    def unaddressable(cls, resource: Resource) -> str | None:
        """Why the LIVE ``resource`` cannot be addressed safely, or None when it can.

        A live object's values come from the server and are untrusted: when one
        that this provider would put into a URL path for the object (its server
        id here; providers add flag keys, role names…) is a value
        :func:`~reconciler.providers.http.segment_problem` refuses, the object
        cannot be managed safely and must never be written. An object without a
        server id has nothing to check here (a write to it is refused for want of
        an id).
        """
        server_id = resource.server.get("id")
        if server_id is None:
            return None
        return path_value_problem(("server id", server_id))

    @classmethod
    def path_parents(cls, change: Change) -> list[ResourceId]:
        """Other objects whose server ids this provider puts into the paths of ``change``.

        A flag's tenant (``/tenants/{tenant}/feature-flags/…``), tier defaults'
        plan. Empty by default; ids that only travel in request bodies are not
        listed (a body carries any value safely).
        """
        return []

    @classmethod
    def unaddressable_change(cls, change: Change, live: State) -> str | None:
        """Why ``change`` cannot be made safely, or None: the change-level check.

        :meth:`unaddressable` of the live object it acts on, then the server id
        of every object its paths go through (:meth:`path_parents`) as ``live``
        holds it: a flag created under a tenant whose live id no segment can
        carry is refused too. A parent not live yet (created in the same run) is
        checked when its id is used (:func:`~reconciler.providers.http.url_path`).
        """
        if change.live is not None:
            problem = cls.unaddressable(change.live)
            if problem is not None:
                return problem
        for rid in cls.path_parents(change):
            parent = live.get(rid)
            server_id = parent.server.get("id") if parent is not None else None
            problem = None if server_id is None else segment_problem(server_id)
            if problem is not None:
                return (
                    f"its path goes through {rid}, whose server id {shown_value(server_id)} "
                    f"cannot be a URL path segment: {problem}"
                )
        return None

    @classmethod
    def preview_answer(cls, method: str, path: str, body: Any, new_id: str) -> Any:
        """How a write is answered under ``plan --show-calls``, where none is sent.

        The default echoes the body with ``new_id`` as its ``id``; a provider
        whose API wraps answers (an envelope) or wants numeric ids overrides it.
        """
        answer: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
        answer.setdefault("id", new_id)
        return answer

    @classmethod
    def can(cls, kind: Kind, action: Action) -> bool:
        support = cls.supports.get(kind)
        return support is not None and action in support.operations

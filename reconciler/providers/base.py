"""The interface every API adapter implements, inside this package or outside it.

A provider describes one API and nothing else: what it supports, how to read
live state into :mod:`reconciler.model`, and how to turn one change into HTTP
calls. It never prints and never orders changes; the engine does both.

Implementing one::

    class MyProvider(Provider):
        capabilities = Capabilities(dialect="my-api", title="…", supports={...})

        def handlers(self) -> Mapping[Kind, KindHandlers]:
            return {
                Kind.TENANT: KindHandlers(
                    read=self._read_tenants,          # (ReadScope) -> resources
                    create=self._create_tenant,       # (Change, ApplyContext) -> Resource | None
                    update=self._update_tenant,
                    lifecycle=self._suspend_or_resume,
                    delete=self._delete_tenant,
                ),
            }

:meth:`Provider.read` runs the readers of the kinds asked for at once (a
listing several kinds need is fetched once through :meth:`ReadScope.once`) and
:meth:`Provider.apply` sends a change to the handler of its kind and action.
Everything else others read is :class:`Capabilities`, one frozen value; the
class methods below (``check``, ``change_problems``, ``unaddressable``,
``path_parents``, ``preview_answer``) are hooks with sensible defaults.

Answers are read through ``client.call(..., decode=...)`` (and the paging
helpers' ``decode``), so an answer in another shape is reported naming the call
it came from; an error in the reader's own code afterwards is a provider bug.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from reconciler.errors import PlanError, SpecProblem
from reconciler.limiter import Limiter
from reconciler.model import (
    KIND_ORDER,
    Action,
    Change,
    Kind,
    Resource,
    ResourceId,
    State,
)
from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Listing
from reconciler.providers.capabilities import Capabilities, KindSupport
from reconciler.providers.paging import Decode
from reconciler.providers.paths import segment_problem, shown_value

if TYPE_CHECKING:  # annotations only: the client (httpx) loads when a run makes one
    from reconciler.providers.http import ApiClient

T = TypeVar("T")


def path_value_problem(*named: tuple[str, object]) -> str | None:
    """The first of ``(what, value)`` that cannot be a URL path segment, as a reason.

    ``None`` when every value can be one. Used by :meth:`Provider.unaddressable`.
    """
    for what, value in named:
        problem = segment_problem(value)
        if problem is not None:
            return f"its {what} {shown_value(value)} cannot be a URL path segment: {problem}"
    return None


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
    """The whole change plan being applied, for APIs that take several changes in one call
    (a bulk flag update): the first such change can send its siblings too."""

    def server_id(self, rid: ResourceId) -> str:
        try:
            return self.ids[rid]
        except KeyError:
            raise PlanError(f"{rid} has no server id yet (was it created?)") from None


class ReadScope:
    """One read of the live state, shared by the readers of the kinds asked for.

    ``kinds`` is what was asked. :meth:`once` makes a call (or a whole listing)
    that several readers need only once: they all await the same result.
    :meth:`gate` is one semaphore per name for the whole read, so per-object
    calls stay within one bound however many readers make them. ``limiter`` is
    the session's (the client's): each call waits for one of its slots anyway, so
    with one a gate lets through as many as its ceiling and the limiter decides.
    """

    def __init__(self, kinds: Collection[Kind], limiter: Limiter | None = None) -> None:
        self.kinds = frozenset(kinds)
        self.limiter = limiter
        self._shared: dict[Hashable, asyncio.Future[Any]] = {}
        self._gates: dict[str, asyncio.Semaphore] = {}

    def wants(self, *kinds: Kind) -> bool:
        """Whether any of ``kinds`` was asked for."""
        return not self.kinds.isdisjoint(kinds)

    async def once(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        """``fetch()``'s result, fetched on the first call for ``key`` and shared after."""
        future = self._shared.get(key)
        if future is None:
            future = asyncio.ensure_future(fetch())
            self._shared[key] = future
        result: T = await asyncio.shield(future)
        return result

    def gate(self, name: str, limit: int) -> asyncio.Semaphore:
        """The read's one semaphore called ``name``, made the first time with ``limit``
        (the provider's bound without a limiter), or with the limiter's ceiling."""
        gate = self._gates.get(name)
        if gate is None:
            bound = self.limiter.ceiling if self.limiter is not None else limit
            gate = self._gates[name] = asyncio.Semaphore(bound)
        return gate

    def close(self) -> None:
        """Cancel what is still running (a reader failed); failures already seen are kept."""
        for future in self._shared.values():
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # retrieved: the reader that awaited it reported it


Reader = Callable[[ReadScope], Awaitable[Iterable[Resource]]]
"""Reads the live objects of one kind."""
Writer = Callable[[Change, ApplyContext], Awaitable["Resource | None"]]
"""Makes one change; returns the live object after a create (its server id), else None."""


@dataclass(frozen=True)
class KindHandlers:
    """What a provider does with one kind: a reader, and a writer per operation.

    ``None`` where the API lacks the operation (keep it in step with
    ``Capabilities.supports``: a test checks that). ``lifecycle`` makes both
    suspend and resume; one function may serve several operations.
    """

    read: Reader
    create: Writer | None = None
    update: Writer | None = None
    lifecycle: Writer | None = None
    delete: Writer | None = None

    def writer(self, action: Action) -> Writer | None:
        """The handler of ``action``, or None when the API cannot do it."""
        if action is Action.CREATE:
            return self.create
        if action is Action.UPDATE:
            return self.update
        if action in (Action.SUSPEND, Action.RESUME):
            return self.lifecycle
        if action is Action.DELETE:
            return self.delete
        return None


@dataclass(frozen=True)
class ListingUse:
    """One listing a provider reads: what it lists, its path, and how it is configured."""

    label: str
    """What it lists, as errors name it (``tenants``)."""
    path: str
    """Its path, from :func:`~reconciler.providers.paths.url_path`."""
    option: str
    """Where its :class:`~reconciler.options.common.Listing` is in the options
    (``lists.tenants``)."""
    listing: Listing
    decode: Decode | None = None
    """The provider's reading of one listed item (raises on another shape)."""
    keyed: bool = True
    """Whether the listed items carry a server id (at the dialect's ``idField``); a
    tenant's flags listed by key do not."""


class Provider:
    """Base of every API adapter; subclasses describe one API dialect."""

    capabilities: ClassVar[Capabilities]
    """The dialect, what it manages and everything else others read about it."""

    def __init__(self, client: ApiClient, options: DialectOptions | None = None) -> None:
        self.client = client
        model = self.capabilities.options
        if options is not None and not isinstance(options, model):
            raise TypeError(
                f"{self.capabilities.dialect} takes {model.__name__}, not {type(options).__name__}"
            )
        self.options: DialectOptions = options if options is not None else model()
        """The target's options for this dialect (its defaults when none are configured)."""
        errors = getattr(self.options, "errors", None)
        if isinstance(errors, Errors):
            client.error_key = errors.message

    def listings(self) -> list[ListingUse]:
        """Each listing this provider reads, with the options that say how it answers.

        ``reconciler probe`` reads one page of each and checks it against them.
        """
        return []

    def handlers(self) -> Mapping[Kind, KindHandlers]:
        """Per kind this provider manages, its reader and writers (bound methods)."""
        return {}

    @cached_property
    def table(self) -> Mapping[Kind, KindHandlers]:
        """:meth:`handlers`, built once per provider."""
        return dict(self.handlers())

    async def read(self, kinds: Collection[Kind]) -> State:
        """Read the live objects of ``kinds``, server-managed fields kept in ``server``.

        The readers of the kinds asked for run at once; when one fails, the
        others are cancelled and its error is raised.
        """
        scope = ReadScope(kinds, self.client.limiter)
        wanted = [kind for kind in KIND_ORDER if kind in scope.kinds and kind in self.table]
        tasks = [asyncio.ensure_future(self.table[kind].read(scope)) for kind in wanted]
        try:
            found = await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            scope.close()
        state = State()
        for resources in found:
            for resource in resources:
                state.add(resource)
        return state

    async def apply(self, change: Change, ctx: ApplyContext) -> Resource | None:
        """Make one change with as few calls as the API allows.

        Returns the live resource after a create or update when the API tells
        (so its server id can be recorded), ``None`` otherwise. A change the API
        cannot make (:meth:`change_problems`, or no handler) is refused before
        any call: the change plan refuses these, a change built later (adoption) may not.
        """
        problems = self.change_problems(change)
        if problems:
            raise PlanError("; ".join(problems))
        handlers = self.table.get(change.id.kind)
        write = handlers.writer(change.action) if handlers is not None else None
        if write is None:
            raise PlanError(
                f"{change.id}: the {self.capabilities.dialect} API cannot "
                f"{change.action.value} {change.id.kind.value} objects"
            )
        return await write(change, ctx)

    async def _send(
        self, method: str, path: str, change: Change, body: Any = None, *, repeatable: bool = False
    ) -> Any:
        """One call for ``change`` (``path`` already made with ``url_path``); ``repeatable``
        marks a ``POST`` that sets a state, so sent again it lands in the same one (never a
        create). Errors name the change's resource and the call."""
        return await self.client.call(
            method,
            path,
            json_body=body,
            resource=str(change.id),
            idempotent=True if repeatable else None,
        )

    async def whoami(self) -> str | None:
        """The email of the account the token belongs to, when the API says; else None.

        Used to refuse a change plan that would suspend, demote or delete that account.
        """
        return None

    @classmethod
    def support_problems(cls, desired: State) -> list[SpecProblem]:
        """Problems with asking this API for ``desired``, found before any call.

        Covers kinds, fields and ``choices``; a provider with rules across
        fields (a pubkey needed with a tenant, say) extends this. A list, as every
        ``…_problems`` is; :func:`reconciler.core.check_support` raises with it.
        """
        problems: list[SpecProblem] = []
        dialect = cls.capabilities.dialect
        for resource in desired:
            support = cls.capabilities.supports.get(resource.id.kind)
            if support is None:
                problems.append(
                    SpecProblem(
                        resource.source,
                        f"{resource.id}: the {dialect} API does not manage "
                        f"{resource.id.kind.value} objects",
                    )
                )
                continue
            for name in sorted(set(resource.fields) - support.fields):
                problems.append(
                    SpecProblem(
                        resource.field_sources.get(name, resource.source),
                        f"{resource.id}: field '{name}' cannot be set through the {dialect} API",
                    )
                )
            for name, allowed in support.choices.items():
                value = resource.fields.get(name)
                if value is not None and value not in allowed:
                    problems.append(
                        SpecProblem(
                            resource.field_sources.get(name, resource.source),
                            f"{resource.id}: {name} '{value}' is not one the {dialect} "
                            f"API accepts ({', '.join(allowed)})",
                        )
                    )
        return problems

    @classmethod
    def change_problems(cls, change: Change) -> list[str]:
        """Why this API cannot make ``change``, in its own terms; empty when it can.

        Checked with the change plan, before any write, for what ``supports`` cannot say:
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
        subscription plan. Empty by default; ids that only travel in request bodies are not
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
        """Whether the API can ``action`` objects of ``kind`` (as :attr:`capabilities` says)."""
        return cls.capabilities.can(kind, action)


__all__ = [
    "ApplyContext",
    "Capabilities",
    "KindHandlers",
    "KindSupport",
    "ListingUse",
    "Provider",
    "ReadScope",
    "Reader",
    "Writer",
    "path_value_problem",
]

"""The one exception tree of reconciler.

Every error a user can cause or meet derives from :class:`ReconcilerError`, and
carries data (file and line, resource, HTTP call, server message) rather than a
preformatted string, so the CLI and the reports decide how to show it::

    ReconcilerError
    ├── SpecError            one or more problems in the YAML specs (all of them at once)
    ├── ConfigError          a bad reconciler.yaml or command-line target
    ├── UnsupportedError     a spec asks a target for something its API cannot do
    ├── ApiError             an HTTP call failed: resource, call, status, server message
    │   ├── ConflictError    409: the object already exists / the change is refused
    │   └── MalformedResponse  an answer in a shape the provider cannot read
    ├── TransportError       the target could not be reached (connection, timeout, TLS)
    ├── ProviderBug          a provider failed on answers it had accepted: a bug to report
    └── PlanError            the plan cannot be ordered or applied (cycle, refusal)
        ├── GuardError       a guard refused an apply (mass removal, lockout)
        └── StalePlanError   the live state moved since a saved plan was made

The token is never part of any of these: calls are described by method and path,
and what a server says (``ApiError.server_message``, ``TransportError.reason``)
goes through :func:`reconciler.redact.redact` as it enters, so an error body
that echoes the Authorization header or the token is stored without it. Their
messages are one line: control characters from a server or a live name show as
visible escapes (``\\n``, ``\\u202e``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.redact import redact
from reconciler.report.escape import inline as one_line


@dataclass(frozen=True, order=True, slots=True)
class SourceLocation:
    """Where a value came from in a spec file (1-based line and column).

    Slotted: loading makes one per YAML key and value (800,000 for 110,000
    objects), and ``__slots__`` makes each 40 bytes smaller.
    """

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class SpecProblem:
    """One thing wrong in the specs, at one place."""

    location: SourceLocation | None
    message: str

    def __str__(self) -> str:
        where = str(self.location) if self.location else "<specs>"
        return f"{where}: {self.message}"


class ReconcilerError(Exception):
    """Root of every error reconciler raises on purpose."""


class SpecError(ReconcilerError):
    """The specs are invalid; ``problems`` lists every problem found in the run."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = sorted(
            problems,
            key=lambda p: (p.location or SourceLocation("", 0, 0), p.message),
        )
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the specs")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class ConfigError(ReconcilerError):
    """reconciler.yaml or the command line names a target that cannot be used."""

    def __init__(self, message: str, location: SourceLocation | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class UnsupportedError(ReconcilerError):
    """A target's API cannot do what the specs ask; raised before any call."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class TransportError(ReconcilerError):
    """The API could not be reached at all (connection refused, timeout, TLS)."""

    def __init__(self, method: str, path: str, reason: str, resource: str | None = None) -> None:
        self.method = method
        self.path = path
        self.reason = redact(reason)
        self.resource = resource
        prefix = f"{one_line(resource)}: " if resource else ""
        super().__init__(f"{prefix}{method} {one_line(path)} failed: {one_line(self.reason)}")


class ApiError(ReconcilerError):
    """An API call answered with an error status."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        server_message: str,
        resource: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.server_message = redact(server_message)
        self.resource = resource
        prefix = f"{one_line(resource)}: " if resource else ""
        super().__init__(
            f"{prefix}{method} {one_line(path)} returned {status}: {one_line(self.server_message)}"
        )


class ConflictError(ApiError):
    """409 Conflict: the object already exists, or the server refuses the transition."""


class PlanError(ReconcilerError):
    """The plan cannot be built, ordered or applied as asked."""


class MalformedResponse(ApiError):
    """The API answered in a shape its provider cannot read: nothing is planned from it."""


class ProviderBug(ReconcilerError):
    """A provider failed in its own code, after the API's answers passed its checks.

    Not the user's specs and not the API's answer (those are other errors): a bug
    in reconciler, reported with where it happened and a request to report it.
    """

    def __init__(self, dialect: str, doing: str, error: Exception, where: str = "") -> None:
        self.dialect = dialect
        self.doing = doing
        self.error = error
        self.where = where
        detail = redact(f"{type(error).__name__}: {error}") + (f" at {where}" if where else "")
        super().__init__(
            f"the {dialect} provider failed while {doing} ({one_line(detail)}). This is a bug "
            "in reconciler, not in your specs or the API's answers: please report it with "
            "this message (reconciler -vv shows the traceback)"
        )


class GuardError(PlanError):
    """An apply refused by a guard; the message says what would have happened."""


class StalePlanError(PlanError):
    """The live state moved since the saved plan at ``path`` was made; ``moved`` says how."""

    def __init__(self, path: Path, moved: list[str]) -> None:
        self.path = path
        self.moved = moved
        shown = "\n".join(f"  {line}" for line in moved)
        super().__init__(
            f"the live state changed since {path} was made; nothing was applied.\n{shown}\n"
            "Make and review a new plan."
        )

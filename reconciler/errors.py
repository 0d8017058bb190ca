"""The one exception tree of reconciler.

Every error a user can cause or meet derives from :class:`ReconcilerError`, and
carries data (file and line, resource, HTTP call, server message) rather than a
preformatted string, so the CLI and the reports decide how to show it::

    ReconcilerError
    ├── SpecError            one or more problems in the YAML specs (all of them at once)
    ├── ConfigError          a bad reconciler.yaml or command-line target
    ├── UnsupportedError     a spec asks a target for something its API cannot do
    ├── ApiError             an HTTP call failed: resource, call, status, server message
    │   └── ConflictError    409: the object already exists / the change is refused
    ├── TransportError       the target could not be reached (connection, timeout, TLS)
    └── PlanError            the plan cannot be ordered or applied (cycle, refusal)

The token is never part of any of these: calls are described by method and path.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SourceLocation:
    """Where a value came from in a spec file (1-based line and column)."""

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
        self.reason = reason
        self.resource = resource
        prefix = f"{resource}: " if resource else ""
        super().__init__(f"{prefix}{method} {path} failed: {reason}")


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
        self.server_message = server_message
        self.resource = resource
        prefix = f"{resource}: " if resource else ""
        super().__init__(f"{prefix}{method} {path} returned {status}: {server_message}")


class ConflictError(ApiError):
    """409 Conflict: the object already exists, or the server refuses the transition."""


class PlanError(ReconcilerError):
    """The plan cannot be built, ordered or applied as asked."""

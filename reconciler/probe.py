"""``reconciler probe``: does the target's API answer the way its dialect and options say?

Read-only: only ``GET`` requests are sent. The connection and the token are
checked first; then each listing the provider reads
(:meth:`~reconciler.providers.base.Provider.listings`) is checked by
:class:`~reconciler.probe_listing.ListingProbe`: where the items and the total
are, that the page size is obeyed and the window moves, that every listed item
decodes, and where a 404 holds its message. What does not fit comes with the
options that would make it fit, found by plain heuristics (the usual names of
keys and parameters, each tried with a ``GET``). The options no read can check
(request bodies, wrappers) are listed as not checked, one line each.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError, ReconcilerError, TransportError
from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Listing
from reconciler.probe_listing import Finding, Fix, ListingProbe, Settings, Status, shown
from reconciler.probe_paging import first_window, get
from reconciler.providers.base import ListingUse, Provider
from reconciler.providers.http import ApiClient
from reconciler.providers.paths import PLACEHOLDER, segment_problem, url_path
from reconciler.report.escape import inline
from reconciler.session import open_session
from reconciler.spec.config import load_config
from reconciler.targets import TargetChoice, resolve_target
from reconciler.transport import use_transport
from reconciler.workdir import spec_root


@dataclass(frozen=True)
class ProbeResult:
    """What ``reconciler probe`` found about one target."""

    target: str
    """The target as runs describe it."""
    name: str
    dialect: str
    configured: bool
    """Whether the target is one of ``reconciler.yaml`` (so ``targets.<name>`` exists)."""
    findings: tuple[Finding, ...]

    @property
    def fits(self) -> bool:
        return all(f.status != "misfit" for f in self.findings)

    def suggested(self) -> dict[str, Any]:
        """Every fix, as the nested mapping to put under the target's ``api.options``."""
        options: dict[str, Any] = {}
        for finding in self.findings:
            for fix in finding.fixes:
                *parents, last = fix.option.split(".")
                where = options
                for part in parents:
                    where = where.setdefault(part, {})
                where.setdefault(last, fix.value)
        return options

    def as_data(self) -> dict[str, Any]:
        return {
            "target": {"name": self.name, "api": self.dialect, "describe": self.target},
            "fits": self.fits,
            "findings": [f.as_data() for f in self.findings],
            "suggested": self.suggested(),
        }


def probe(
    spec_path: Path | str, choice: TargetChoice | None = None, *, workdir: Path | None = None
) -> ProbeResult:
    """Probe the target ``reconciler.yaml`` at ``spec_path`` and ``choice`` pick, read-only.

    The embedded sandbox (no target configured) is the one whose state lives in
    ``workdir``, by default the spec root, as for ``plan``.
    """
    config = load_config(spec_path)
    chosen = choice or TargetChoice()
    target = resolve_target(config, chosen)
    use_transport(target, chosen, keep=True)
    if target.embedded and workdir is None and not Path(spec_path).exists():
        raise ConfigError(
            f"{spec_path}: no such spec directory, where the embedded sandbox keeps its state "
            "(give a target with --target or --api/--url to probe a platform)"
        )
    source = (
        "the embedded sandbox's token" if target.embedded else f"the token in ${target.token_env}"
    )

    async def run() -> list[Finding]:
        async with open_session(target, workdir or spec_root(spec_path)) as session:
            return await check(session.provider, token_source=source)

    findings = asyncio.run(run())
    return ProbeResult(
        target=target.describe(),
        name=target.name,
        dialect=target.dialect,
        configured=target.name in config.targets,
        findings=tuple(findings),
    )


async def check(provider: Provider, *, token_source: str = "the token") -> list[Finding]:
    """Every finding about ``provider``'s API, the connection first; only GETs are sent.

    ``token_source`` names where the token came from (``the token in $X``) for the
    line that reports a refused token; the token itself is never shown.
    """
    client, uses = provider.client, provider.listings()
    connection = await _connection(client, uses, token_source)
    if connection.status == "misfit":
        return [connection]
    findings = [connection]
    if not uses:
        message = f"the {provider.capabilities.dialect} provider declares no listings to probe"
        findings.append(Finding("listings", "unchecked", message))
    settings = Settings.of(provider.options, token_source)
    firsts: dict[str, list[Any]] = {}
    checked: set[str] = set()
    for use in uses:
        path = _filled(use, firsts, settings.id_field[1] if settings.id_field else "id")
        if path is None:
            message = f"its path needs the id of an object no earlier listing showed ({use.path})"
            findings.append(Finding(use.label, "unchecked", inline(message)))
            continue
        listing = ListingProbe(client, use, path, settings)
        try:
            await listing.run()
        except ReconcilerError as exc:  # a call that failed past its retries
            listing.add("misfit", f"the probe could not go on: {inline(exc)}")
        firsts[use.path] = listing.items
        checked |= listing.checked
        findings.extend(listing.findings)
    return findings + _unchecked_options(provider.options, uses, checked)


def _filled(use: ListingUse, firsts: dict[str, list[Any]], id_field: str) -> str | None:
    """The listing's path; one under an object (``/v1/tenants/{}/roles``) takes the id of
    the first object the listing at ``/v1/tenants`` showed. None when there is none."""
    if PLACEHOLDER not in use.path:
        return use.path
    parent, _, rest = use.path.partition("/" + PLACEHOLDER)
    first = (firsts.get(parent) or [None])[0]
    ident = first.get(id_field) if isinstance(first, dict) else None
    if PLACEHOLDER in rest or not isinstance(ident, str | int) or segment_problem(ident):
        return None
    return url_path(use.path, ident)


async def _connection(client: ApiClient, uses: list[ListingUse], source: str) -> Finding:
    where = inline(client.base_url)
    plain = [use for use in uses if PLACEHOLDER not in use.path]
    path = plain[0].path if plain else ""
    try:
        answer = await get(client, path, first_window(plain[0].listing, 1) if plain else None)
    except TransportError as exc:
        return Finding("connection", "misfit", f"cannot reach {where}: {inline(exc.reason)}")
    if answer.status in (401, 403):
        said = inline(answer.words[:200])
        return Finding(
            "connection",
            "misfit",
            f"{where} refused {source} ({answer.status}: {said}); "
            "check that variable's token (its value is not shown)",
        )
    return Finding("connection", "ok", f"reached {where}; {source} is accepted")


def _sections(options: DialectOptions, prefix: str = "") -> dict[str, DialectOptions]:
    """Every section of the options (``lists.tenants``, ``errors``) by its dotted YAML path."""
    found: dict[str, DialectOptions] = {}
    for name, info in type(options).model_fields.items():
        value = getattr(options, name)
        if isinstance(value, DialectOptions):
            path = prefix + (info.alias or name)
            found[path] = value
            found.update(_sections(value, path + "."))
    return found


def _unchecked_options(
    options: DialectOptions, uses: list[ListingUse], checked: set[str]
) -> list[Finding]:
    """One line per option no read checked: what only a write (or another call) shows.

    A listing section the provider declares no use of is one line for the section.
    """
    sections = _sections(options)
    skipped = {p for p, s in sections.items() if isinstance(s, Errors)} | {u.option for u in uses}
    listings = {p for p, s in sections.items() if isinstance(s, Listing)}
    found: list[Finding] = []
    for name, value in Settings.of(options, "").rows:
        section = max((p for p in sections if name.startswith(p + ".")), key=len, default=None)
        if section in skipped or name in checked:
            continue
        if section in listings:
            skipped.add(section)
            said = (
                f"`{inline(section)}` is not checked: the provider declares no use of it to probe"
            )
        else:
            said = f"`{inline(name)}` (now {shown(value)}) cannot be checked without writing"
        found.append(Finding("options", "unchecked", said))
    return found


__all__ = ["Finding", "Fix", "ProbeResult", "Status", "check", "probe"]

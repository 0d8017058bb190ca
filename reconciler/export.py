"""Live state → YAML specs, to adopt an existing platform.

The inverse of :mod:`reconciler.spec.resources`: tier defaults go back into
their subscription plan, flags and roles (with their members) into their
tenant, with the camelCase names the spec format uses. Only what the provider
read is written, and a value the spec would read differently is quoted, so a
``plan`` right after an export shows no changes.

Every document is validated as ``plan`` will validate it before it is written.
A live object the spec language cannot express (a name it refuses, a value out
of its range) is left out with the reason, and so is every object that refers
to one left out (a child tenant, an operator of that tenant): an export never
writes specs that do not load.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from reconciler.errors import ConfigError
from reconciler.model import Kind, State
from reconciler.spec.models import API_VERSION, SPEC_MODELS

Layout = Literal["kind", "tenant"]

KIND_FILES = {
    Kind.DEVICE_TIER: "device-tiers.yaml",
    Kind.SUBSCRIPTION_PLAN: "plans.yaml",
    Kind.TENANT: "tenants.yaml",
    Kind.OPERATOR: "operators.yaml",
}
ORDER = ("apiVersion", "kind", "name", "email")
REFERENCES = {
    Kind.TENANT: (("plan", Kind.SUBSCRIPTION_PLAN), ("parent", Kind.TENANT)),
    Kind.OPERATOR: (("tenant", Kind.TENANT),),
}
"""Per kind, the document keys that name another exported object, and its kind."""


@dataclass(frozen=True)
class LeftOut:
    """A live object export could not write as a spec, and why."""

    kind: Kind
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind.value} {self.key!r} left out: {self.reason}"


@dataclass
class Exported:
    """What an export wrote, and the live objects it left out."""

    written: list[Path] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order given, multi-line strings as literal blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    value = value.replace("${", "$${")  # a literal "${" must not become interpolation
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _document(kind: Kind, key_name: str, key: str, fields: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"apiVersion": API_VERSION, "kind": kind.value, key_name: key}
    for name, value in fields.items():
        if value is None:
            continue  # absent means "not managed" (and no parent, no tenant): nothing to say
        doc[to_camel(name)] = _sorted(value)
    return doc


def _sorted(value: Any) -> Any:
    """Mappings with their keys sorted, at every depth: the server's order is not stable."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def documents(state: State) -> dict[Kind, list[dict[str, Any]]]:
    """Spec documents by kind, nested as the spec format nests them, sorted by key."""
    tiers = {r.id.key: r.fields.get("tiers") for r in state.of_kind(Kind.TIER_DEFAULTS)}
    flags: defaultdict[str, dict[str, bool]] = defaultdict(dict)
    for r in state.of_kind(Kind.FEATURE_FLAG):
        flags[r.fields["tenant"]][r.fields["flag"]] = bool(r.fields.get("enabled"))
    roles: defaultdict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in state.of_kind(Kind.ROLE):
        body = {k: r.fields[k] for k in ("description", "permissions") if r.fields.get(k)}
        roles[r.fields["tenant"]][r.fields["name"]] = body
    for r in state.of_kind(Kind.ROLE_ASSIGNMENT):
        role = roles[r.fields["tenant"]].setdefault(r.fields["role"], {})
        role.setdefault("members", []).append(r.fields["user"])

    out: dict[Kind, list[dict[str, Any]]] = {}
    for kind in (Kind.DEVICE_TIER, Kind.SUBSCRIPTION_PLAN, Kind.TENANT, Kind.OPERATOR):
        docs = []
        for r in sorted(state.of_kind(kind), key=lambda r: r.id.key):
            key_name = "email" if kind is Kind.OPERATOR else "name"
            doc = _document(kind, key_name, r.id.key, r.fields)
            if kind is Kind.SUBSCRIPTION_PLAN and tiers.get(r.id.key):
                doc["tierDefaults"] = tiers[r.id.key]
            if kind is Kind.TENANT:
                if flags.get(r.id.key):
                    doc["features"] = dict(sorted(flags[r.id.key].items()))
                if roles.get(r.id.key):
                    doc["roles"] = {
                        name: _sorted_members(body)
                        for name, body in sorted(roles[r.id.key].items())
                    }
            docs.append(doc)
        if docs:
            out[kind] = docs
    return out


def _refusal(kind: Kind, doc: dict[str, Any]) -> str | None:
    """Why ``plan`` would refuse ``doc``, or None when it loads."""
    try:
        SPEC_MODELS[kind.value].model_validate(doc)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    return None


def expressible(
    by_kind: dict[Kind, list[dict[str, Any]]],
) -> tuple[dict[Kind, list[dict[str, Any]]], list[LeftOut]]:
    """The documents ``plan`` will load, and the objects left out (with those naming them)."""
    left: list[LeftOut] = []
    gone: set[tuple[Kind, str]] = set()
    key_of = {Kind.OPERATOR: "email"}
    for kind, docs in by_kind.items():
        for doc in docs:
            reason = _refusal(kind, doc)
            if reason is not None:
                key = str(doc.get(key_of.get(kind, "name")))
                left.append(LeftOut(kind, key, f"the spec format cannot express it ({reason})"))
                gone.add((kind, key))
    changed = True
    while changed:  # a child of a child that is left out goes too
        changed = False
        for kind, refs in REFERENCES.items():
            for doc in by_kind.get(kind, []):
                key = str(doc.get(key_of.get(kind, "name")))
                if (kind, key) in gone:
                    continue
                for name, target in refs:
                    if (target, doc.get(name)) in gone:
                        why = f"its {name} {target.value} {doc.get(name)!r} is left out"
                        left.append(LeftOut(kind, key, why))
                        gone.add((kind, key))
                        changed = True
                        break
    kept = {
        kind: [d for d in docs if (kind, str(d.get(key_of.get(kind, "name")))) not in gone]
        for kind, docs in by_kind.items()
    }
    return {kind: docs for kind, docs in kept.items() if docs}, left


def _sorted_members(body: dict[str, Any]) -> dict[str, Any]:
    if "members" in body:
        return {**body, "members": sorted(body["members"])}
    return body


def _dump(docs: Iterable[dict[str, Any]], header: str) -> str:
    parts = [yaml.dump(d, Dumper=_Dumper, sort_keys=False, allow_unicode=True) for d in docs]
    return header + "---\n".join(parts)


def export_state(
    state: State,
    out_dir: Path,
    layout: Layout = "kind",
    *,
    source: str = "",
    force: bool = False,
    target: dict[str, Any] | None = None,
) -> Exported:
    """Write ``state`` as spec files under ``out_dir``; refuses to overwrite without ``force``.

    A new ``reconciler.yaml`` gets ``target`` (a :func:`target_entry`) as its default
    target, so the suggested ``reconciler plan`` reads the platform that was exported.
    """
    # No time and nothing of this machine: re-exporting an unchanged platform is byte-identical.
    header = f"# Exported by reconciler from {source or 'a live target'}.\n"
    by_kind, left_out = expressible(documents(state))
    files: dict[Path, list[dict[str, Any]]] = {}
    for kind, docs in by_kind.items():
        if kind is Kind.TENANT and layout == "tenant":
            for doc in docs:
                files[out_dir / "tenants" / f"{doc['name']}.yaml"] = [doc]
        else:
            files[out_dir / KIND_FILES[kind]] = docs
    config = out_dir / "reconciler.yaml"
    existing = [p for p in files if p.exists()]
    if existing and not force:
        shown = ", ".join(str(p) for p in existing[:5])
        raise ConfigError(f"refusing to overwrite {shown} (use --force)")
    written = Exported(left_out=left_out)
    for path, docs in sorted(files.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(docs, header), encoding="utf-8")
        written.written.append(path)
    if not config.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        targets = ""
        if target is not None:
            block = {"defaultTarget": TARGET_NAME, "targets": {TARGET_NAME: target}}
            targets = yaml.dump(block, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
        config.write_text(
            header
            + f"apiVersion: {API_VERSION}\n"
            + targets
            + "# Everything on the platform is in these specs now; nothing is pruned until\n"
            + "# you choose a policy per kind (ignore | suspend | delete | suspend-then-delete).\n"
            + "prune: {}\n",
            encoding="utf-8",
        )
        written.written.append(config)
    return written


TARGET_NAME = "platform"
"""The name an export gives the one-off target it read from in a new ``reconciler.yaml``."""


def target_entry(target: Any) -> dict[str, Any] | None:
    """``target`` as a ``targets:`` entry of ``reconciler.yaml``; None for the embedded sandbox.

    The token is never written, only the variable it is read from.
    """
    if target.url is None:
        return None
    options = target.options.as_data() if target.options is not None else {}
    defaults = type(target.options)().as_data() if target.options is not None else {}
    changed = {k: v for k, v in options.items() if v != defaults.get(k)}
    entry: dict[str, Any] = {
        "api": {"dialect": target.dialect, "options": changed} if changed else target.dialect,
        "url": target.url,
        "tokenEnv": target.token_env,
    }
    if target.ca_bundle:
        entry["caBundle"] = target.ca_bundle
    for key, value in (("insecure", target.insecure), ("allowPlainHttp", target.allow_plain_http)):
        if value:
            entry[key] = True
    return entry


def source_of(target: Any) -> str:
    """Where an export read from, the same on every machine (no local paths)."""
    if target.url is None:
        return f"the local sandbox ({target.dialect})"
    return f"{target.dialect} at {target.url}"


def export(
    target: Any,
    out_dir: Path,
    layout: Layout = "kind",
    *,
    force: bool = False,
    workdir: Path | None = None,
) -> Exported:
    """Read every kind ``target``'s API supports and write it as specs (library entry point).

    ``workdir``: the spec root whose local state an embedded target lives in
    (default ``out_dir``)."""
    from reconciler.session import open_session, read_live

    async def read() -> State:
        async with open_session(target, workdir or out_dir.absolute()) as session:
            return await read_live(session)

    state = asyncio.run(read())
    return export_state(
        state, out_dir, layout, source=source_of(target), force=force, target=target_entry(target)
    )

"""docs/spec-format.md, "the full reference", documents every field the specs accept.

The fields come from the pydantic models themselves, by the name YAML uses
(their alias), so a field added to a model fails here until the page names
it. Each kind's table lists exactly its model's fields, and the dialects a
document field's row names are the built-in dialects that support it, as
their capabilities declare (what ``reconciler apis`` prints).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from reconciler import dialects as registry
from reconciler.providers import describe
from reconciler.rules import model_name
from reconciler.spec import config, models

DOC = (Path(__file__).resolve().parent.parent / "docs" / "spec-format.md").read_text("utf-8")

DOCUMENT_MODELS: dict[str, models.SpecModel] = {
    "Plan": models.SubscriptionPlanSpec,
    "Tenant": models.TenantSpec,
    "Operator": models.OperatorSpec,
    "DeviceTier": models.DeviceTierSpec,
}
CONFIG_MODELS: dict[str, type[BaseModel]] = {
    "### Top-level fields": config.ConfigSpec,
    "### A target's fields": config.TargetSpec,
    "### `api` as a mapping": config.ApiSpec,
    "### `guards`": config.GuardsSpec,
}
SHARED = ("apiVersion", "kind", "protect", "ignoreFields")
"""The fields every document kind has: one table for all of them."""


def aliases(model: type[BaseModel]) -> list[str]:
    """The model's fields as YAML writes them."""
    return [info.alias or name for name, info in model.model_fields.items()]


def every_model() -> list[type[BaseModel]]:
    """Every model of a spec document or of ``reconciler.yaml``, the parts of one included.

    ``ExternalSpec`` (a ``managed: false`` document) counts once it exists: its
    ``managed`` is documented only where the page names it.
    """
    found: list[type[BaseModel]] = [
        *DOCUMENT_MODELS.values(),
        models.RoleSpec,
        config.RulesSpec,
        *CONFIG_MODELS.values(),
    ]
    external = getattr(models, "ExternalSpec", None)
    if isinstance(external, type) and issubclass(external, BaseModel):
        found.append(external)
    return found


def tables(heading: str) -> list[list[list[str]]]:
    """The tables between ``heading`` and the next heading, each a list of rows of cells."""
    start = DOC.index(f"\n{heading}\n") + len(heading) + 2
    end = DOC.find("\n#", start)
    found: list[list[list[str]]] = []
    rows: list[list[str]] | None = None
    for line in DOC[start : end if end >= 0 else None].splitlines():
        if not line.startswith("|"):
            rows = None
            continue
        if rows is None:  # a header row: a new table, its separator line next
            rows = []
            found.append(rows)
        elif not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", line):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))])
    assert found, f"no table under {heading}"
    return found


def named(cell: str) -> list[str]:
    """The names a cell shows in backticks: ``"`prune`, `grace`"`` → prune, grace."""
    return re.findall(r"`([^`]+)`", cell)


def test_every_field_of_every_model_is_named_in_the_doc() -> None:
    missing = sorted(
        {
            f"{model.__name__}.{alias}"
            for model in every_model()
            for alias in aliases(model)
            if f"`{alias}`" not in DOC
        }
    )
    assert missing == [], f"docs/spec-format.md does not document: {', '.join(missing)}"


def test_each_kind_s_table_lists_exactly_its_fields() -> None:
    shared = [row[0] for row in tables("### Fields every document may have")[0]]
    assert [n for cell in shared for n in named(cell)] == list(SHARED)
    for kind, document in DOCUMENT_MODELS.items():
        rows = tables(f"### {kind}")[0]
        listed = [n for row in rows for n in named(row[0])]
        own = [a for a in aliases(document) if a not in SHARED]
        assert sorted(listed) == sorted(own), kind
    role = tables("### Tenant")[1]
    assert sorted(n for row in role for n in named(row[0])) == sorted(aliases(models.RoleSpec))
    for heading, model in CONFIG_MODELS.items():
        listed = [n for row in tables(heading)[0] for n in named(row[0])]
        assert sorted(listed) == sorted(aliases(model)), heading


BUILT_IN = [line.name for line in registry.REGISTRY]
OWN_KIND = {("Plan", "tierDefaults"): "TierDefaults", ("Tenant", "features"): "FeatureFlag"}
OWN_KIND[("Tenant", "roles")] = "Role"
"""Fields of a document that are objects of another kind: supported where that kind is."""


def supporting(kind: str, field: str) -> set[str]:
    """The built-in dialects whose capabilities let a spec set ``field`` of a ``kind``."""
    found = set()
    for dialect in BUILT_IN:
        kinds = describe(dialect)["kinds"]
        other = OWN_KIND.get((kind, field))
        if other is not None:
            ok = other in kinds
        elif field == DOCUMENT_MODELS[kind].KEY_FIELD:
            ok = kind in kinds  # the key: wherever the kind is managed (or read)
        else:
            ok = kind in kinds and model_name(field) in kinds[kind]["fields"]
        if ok:
            found.add(dialect)
    return found


@pytest.mark.parametrize("kind", list(DOCUMENT_MODELS))
def test_the_dialects_of_each_field_are_those_that_support_it(kind: str) -> None:
    for row in tables(f"### {kind}")[0]:
        [field] = named(row[0])
        said = {name for name in named(row[-1]) if name in BUILT_IN}
        assert said == supporting(kind, field), f"{kind}.{field}: {row[-1]}"

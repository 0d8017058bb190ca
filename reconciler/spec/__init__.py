"""Specs: YAML files → validated desired :class:`~reconciler.model.State`.

``load_specs`` reads a spec tree and returns flat resources or raises a
:class:`~reconciler.errors.SpecError` with every problem at once;
``load_config`` reads ``reconciler.yaml``; ``spec_json_schema`` describes the
document format for editors. The format is documented in docs/spec-format.md.
"""

from __future__ import annotations

from reconciler.spec.config import Config, PrunePolicy, load_config
from reconciler.spec.loader import load_specs
from reconciler.spec.models import OperatorSpec, SubscriptionPlanSpec, TenantSpec, spec_json_schema

__all__ = [
    "Config",
    "OperatorSpec",
    "PrunePolicy",
    "SubscriptionPlanSpec",
    "TenantSpec",
    "load_config",
    "load_specs",
    "spec_json_schema",
]

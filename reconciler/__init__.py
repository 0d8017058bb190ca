"""reconciler: declarative GitOps for the operator/admin APIs of multi-tenant SaaS platforms."""

from __future__ import annotations

__version__ = "0.1.0"

"""A write an apply would send, as plain data: what ``plan --show-calls`` lists.

A leaf module: the preview (:mod:`reconciler.providers.preview`) makes these,
:mod:`reconciler.runs` carries them and :mod:`reconciler.report` renders them,
and none of the three needs the others for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PlannedCall:
    """One write an apply would send, attributed to the change that sends it.

    ``path`` is the path the provider built (relative to the target URL, as
    encoded on the wire, placeholder ids such as ``<new-1>`` shown decoded);
    ``body`` has sensitive values masked.
    """

    change: str
    method: str
    path: str
    params: Mapping[str, Any] | None
    body: Any

    def describe(self) -> str:
        query = ""
        if self.params:
            query = "?" + "&".join(f"{k}={v}" for k, v in self.params.items())
        body = "" if self.body is None else " " + json.dumps(self.body, sort_keys=True)
        return f"{self.method} {self.path}{query}{body}"


__all__ = ["PlannedCall"]

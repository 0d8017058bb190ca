"""Write .github/constraints.txt: the exact versions of reconciler's runtime dependencies.

The action installs reconciler with ``pip install --constraint`` this file, so a
pull request's plan and the apply after its merge run the very same libraries.
Run it from an environment where reconciler is installed (``pip install -e .``)
after changing or upgrading a dependency:

    python .github/constraints.py
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

HEADER = (
    "# Exact versions of reconciler's runtime dependencies (and theirs), for\n"
    "# `pip install --constraint` in action.yml. Made by .github/constraints.py from the\n"
    "# environment it ran in; run it again after changing a dependency.\n"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure(root: str = "reconciler") -> dict[str, str]:
    """Every distribution ``root`` needs at run time (no extras), with its installed version."""
    found: dict[str, str] = {}
    todo = [root]
    while todo:
        dist = metadata.distribution(todo.pop())
        for requirement in dist.requires or []:
            if ";" in requirement and "extra" in requirement.split(";", 1)[1]:
                continue  # only for an extra: not a runtime need
            marker = requirement.split(";", 1)[1] if ";" in requirement else ""
            if marker and not _applies(marker):
                continue
            match = _NAME.match(requirement.strip())
            if match is None:
                continue
            name = canonical(match.group(0))
            if name in found:
                continue
            try:
                found[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue  # not needed on this Python (its marker said so)
            todo.append(name)
    return found


def _applies(marker: str) -> bool:
    from packaging.markers import Marker

    return Marker(marker).evaluate()


def render(pins: dict[str, str]) -> str:
    return HEADER + "".join(f"{name}=={pins[name]}\n" for name in sorted(pins))


if __name__ == "__main__":
    out = Path(__file__).with_name("constraints.txt")
    out.write_text(render(runtime_closure()), encoding="utf-8")
    sys.stdout.write(f"wrote {out}\n")

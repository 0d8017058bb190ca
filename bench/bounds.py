"""The least a scenario can take in Python: its floor plus libyaml's bare scan of the
spec files it must parse.

The floor sends the scenario's requests and decodes nothing; it parses no YAML
either. But a plan cannot know a changed spec file's content without reading
it: the cold no-op plan must parse every file, the warm one the file that was
touched, the 1 % change the files that changed. Scanning those files' events
with libyaml (the C parser behind PyYAML's ``CSafeLoader``, the fastest YAML
parser a Python program reaches, and the one ``reconciler.spec.yamlload``
reads), building nothing from them, is the least that parsing can cost.

So ``bound = floor + scan`` is a lower bound for any implementation on this
stack, ours or another: a target ratio below ``bound / floor`` cannot be met
by making the reconciler faster, only by parsing less (or faster) than libyaml
can. Like ``wall_s``, the bound leaves out the interpreter's start and the
imports.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

SPEC_SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = frozenset({".reconciler"})
"""The spec cache's directory under the spec root holds no specs."""


def spec_files(root: Path) -> list[Path]:
    """Every spec file under ``root``, in a stable order, outside ``.reconciler/``."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.suffix in SPEC_SUFFIXES
        and path.is_file()
        and not SKIPPED_DIRS.intersection(path.relative_to(root).parts)
    )


def changed_files(before: Path, after: Path) -> list[Path]:
    """The spec files of ``after`` whose bytes differ from the same path under ``before``
    (or that ``before`` does not have): what a plan of ``after`` must parse again
    when its cache was made from ``before``."""
    changed = []
    for path in spec_files(after):
        old = before / path.relative_to(after)
        if not old.is_file() or old.read_bytes() != path.read_bytes():
            changed.append(path)
    return changed


def scan_seconds(files: Iterable[Path], repeat: int = 3) -> float:
    """The best of ``repeat`` scans of ``files``' YAML events (read from disk each time)."""
    paths = list(files)
    best = float("inf")
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        for path in paths:
            for _event in yaml.parse(path.read_bytes(), Loader=yaml.CSafeLoader):
                pass
        best = min(best, time.perf_counter() - started)
    return best if paths else 0.0


@dataclass(frozen=True)
class Bound:
    """A scenario's lower bound: its floor plus the scan of what it must parse."""

    floor_s: float
    scan_s: float
    files: int

    @property
    def seconds(self) -> float:
        return self.floor_s + self.scan_s

    @property
    def ratio(self) -> float:
        """The lowest ``ours / floor`` any implementation can reach."""
        return self.seconds / self.floor_s if self.floor_s > 0 else float("inf")


def bound(floor_s: float, parsed: list[Path], repeat: int = 3) -> Bound:
    return Bound(floor_s, scan_seconds(parsed, repeat), len(parsed))

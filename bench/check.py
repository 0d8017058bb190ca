"""``python -m bench --check``: this run against the figures committed in docs/performance.md.

Absolute times vary by machine and by load, so what is compared is each
figure's ratio to its floor, measured in the same run on the same machine.
**Noise**, defined once for every figure: a ratio up to 25 % worse than the
committed one is noise, and so is any difference under 100 ms in the time that
ratio implies (``ours - committed ratio * this run's floor``: timer and
scheduler jitter on sub-second runs). A worse ratio beyond both is a
regression; so is a peak RSS more than 25 % above the committed one (memory
depends little on the machine). A figure that beat its floor is invalid, which
fails the check too. Better figures only say so: ``--write-baseline`` commits
them.

The committed figures are the fenced JSON block after :data:`MARKER` in
docs/performance.md, keyed by configuration (``dialect/server/latency/NxF``)
and scenario.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MARKER = "<!-- bench-baseline"
FENCE, END = "```json\n", "\n```"
NOISE = 0.25
SLACK_S = 0.1
Figures = dict[str, dict[str, dict[str, Any]]]
"""configuration -> scenario -> metric -> value."""


@dataclass(frozen=True)
class Finding:
    config: str
    scenario: str
    metric: str
    committed: float | None
    now: float | None
    verdict: str
    """``ok``, ``better``, ``regression``, ``invalid`` or ``no baseline``."""

    @property
    def failed(self) -> bool:
        return self.verdict in ("regression", "invalid")

    def line(self) -> str:
        committed = "-" if self.committed is None else f"{self.committed:g}"
        now = "-" if self.now is None else f"{self.now:g}"
        return (
            f"{self.verdict.upper():11s} {self.config} {self.scenario} {self.metric}: "
            f"committed {committed}, now {now}"
        )


def _block(text: str) -> tuple[int, int]:
    """Where the baseline's JSON starts and ends in ``text``."""
    at = text.find(MARKER)
    if at < 0:
        raise ValueError(f"no baseline block ({MARKER} ...) in the document")
    start = text.find(FENCE, at)
    end = text.find(END, start + len(FENCE))
    if start < 0 or end < 0:
        raise ValueError("the baseline marker is not followed by a ```json block")
    return start + len(FENCE), end


def read_baseline(text: str) -> dict[str, Any]:
    """The committed block: ``{"noise", "slack_s", "figures": Figures}``."""
    start, end = _block(text)
    data = json.loads(text[start:end])
    if not isinstance(data, dict) or not isinstance(data.get("figures"), dict):
        raise ValueError("the baseline block holds no 'figures' object")
    return data


def figures_of(records: Iterable[Mapping[str, Any]]) -> Figures:
    """What the baseline keeps of a run's records."""
    found: Figures = {}
    for r in records:
        found.setdefault(str(r["config"]), {})[str(r["scenario"])] = {
            "ratio_to_floor": r["ratio_to_floor"],
            "wall_s": r["wall_s"],
            "floor_s": r["floor_s"],
            "peak_rss_mb": r["peak_rss_mb"],
            "load_avg": r["load_avg"][0],
        }
    return found


def write_baseline(text: str, records: Iterable[Mapping[str, Any]]) -> str:
    """``text`` with this run's figures merged into its baseline block (others kept)."""
    data = read_baseline(text)
    for config, scenarios in figures_of(records).items():
        data["figures"].setdefault(config, {}).update(scenarios)
    start, end = _block(text)
    return text[:start] + render(data) + text[end:]


def render(data: Mapping[str, Any]) -> str:
    """The block's JSON, one line per figure, so a diff shows what moved."""
    head = {k: v for k, v in data.items() if k != "figures"}
    lines = [json.dumps(head)[:-1] + ', "figures": {']
    configs = sorted(data["figures"].items())
    for i, (config, scenarios) in enumerate(configs):
        lines.append(f" {json.dumps(config)}: {{")
        rows = sorted(scenarios.items())
        for j, (scenario, metrics) in enumerate(rows):
            comma = "," if j < len(rows) - 1 else ""
            lines.append(f"  {json.dumps(scenario)}: {json.dumps(metrics)}{comma}")
        lines.append(" }" + ("," if i < len(configs) - 1 else ""))
    lines.append("}}")
    return "\n".join(lines)


def compare(
    records: Iterable[Mapping[str, Any]],
    committed: Figures,
    noise: float = NOISE,
    slack_s: float = SLACK_S,
) -> list[Finding]:
    """Each record's ratio and memory against the committed figures of its configuration."""
    findings = []
    for r in records:
        config, scenario = str(r["config"]), str(r["scenario"])
        if not r["valid"]:
            findings.append(
                Finding(config, scenario, "beat its floor", r["floor_s"], r["wall_s"], "invalid")
            )
        base = committed.get(config, {}).get(scenario)
        if base is None:
            findings.append(
                Finding(
                    config, scenario, "ratio_to_floor", None, r["ratio_to_floor"], "no baseline"
                )
            )
            continue
        ratio, was = float(r["ratio_to_floor"]), float(base["ratio_to_floor"])
        excess = float(r["wall_s"]) - was * float(r["floor_s"])
        if ratio > was * (1 + noise) and excess > slack_s:
            verdict = "regression"
        elif ratio < was / (1 + noise):
            verdict = "better"
        else:
            verdict = "ok"
        findings.append(Finding(config, scenario, "ratio_to_floor", was, ratio, verdict))
        if "peak_rss_mb" in base:
            rss, had = float(r["peak_rss_mb"]), float(base["peak_rss_mb"])
            verdict = "regression" if rss > had * (1 + noise) else "ok"
            findings.append(Finding(config, scenario, "peak_rss_mb", had, rss, verdict))
    return findings


def exit_code(findings: list[Finding]) -> int:
    """1 on a regression or an invalid figure; 2 when nothing had a committed figure."""
    if any(f.failed for f in findings):
        return 1
    if all(f.verdict == "no baseline" for f in findings):
        return 2
    return 0

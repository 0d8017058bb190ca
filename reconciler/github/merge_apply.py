"""The apply after a merge: exactly the plan reviewed on the merged pull request, or nothing.

Steps, each refusing before the token is used when it fails:

1. the target the merged specs name must route the token as the base branch's
   does (:mod:`.trusted`), else nothing is planned or applied at all;
2. the plan: on a re-run, the new plan an earlier attempt made and posted;
   otherwise the artifact of the merged pull request's last plan run (found
   through the REST API, on the pull request's head commit);
3. that plan must name the same target; ``reconciler apply PLAN`` then refuses
   it itself unless it was made from these very specs (the spec tree digest)
   and every live object it read is unchanged, and applies exactly it.

When any of that fails, nothing is re-planned and applied silently: a new plan
of the merged specs is made and saved (for the workflow to upload), the job
fails, and the merged pull request and the job summary get a notice with the
new plan and what to do (re-run the job: its environment's reviewers approve
it, and the re-run applies exactly that new plan). The CLI runs as a child
process that gets the platform token under the target's ``tokenEnv`` and
nothing else of ours (no GitHub token).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from reconciler import planfile
from reconciler.errors import ReconcilerError
from reconciler.github import artifacts, trusted
from reconciler.github.body import COMMENT_LIMIT, Marker, find_marker, without_report_markers
from reconciler.github.client import GitHubClient, GitHubError
from reconciler.github.comment import find_comment, post_report
from reconciler.github.pulls import MergedPull, merged_pull
from reconciler.report.metadata import Metadata
from reconciler.report.workflows.apply_notice import (
    ApplyReport,
    Outcome,
    Source,
    apply_marker,
    render,
)
from reconciler.targets import Target

EMBEDDED_NAME = "local sandbox"
PLAN_ROOM = COMMENT_LIMIT - 8_000
"""Characters the new plan's report may take in the notice (the rest is the notice's)."""
REASON_CHARS = 4_000
INPUT_TOKEN = "RECONCILER_INPUT_TOKEN"
"""Where the action puts the platform token for us; never passed on under this name."""
WITHHELD = ("GITHUB_TOKEN", INPUT_TOKEN)
"""Ours, not the CLI's: removed from a child's environment."""

RunCli = Callable[[list[str], Mapping[str, str]], tuple[int, str]]
"""Run ``reconciler ARGS`` with an environment: its exit code and its stderr."""


def run_cli(args: list[str], env: Mapping[str, str], *, capture: bool = True) -> tuple[int, str]:
    """The reconciler CLI as a child process: its exit code, and its stderr when ``capture``.

    Its stdout is ours (the job log); so is its stderr when not captured.
    """
    done = subprocess.run(
        [sys.executable, "-m", "reconciler.github", *args],
        env=dict(env),
        stdout=None,
        stderr=subprocess.PIPE if capture else None,
        text=True,
        check=False,
    )
    return done.returncode, done.stderr or ""


@dataclass(frozen=True)
class MergeJob:
    """What the apply job knows: inputs, the pushed commit, the run, where to write."""

    specs: str
    target: str
    commit: str
    base: str
    branch: str | None
    out: Path
    run_id: int | None = None
    attempt: int = 1
    environment: str = ""
    apply_args: tuple[str, ...] = ()
    plan_args: tuple[str, ...] = ()
    author: str | None = None


@dataclass
class MergeResult:
    """What happened; ``exit_code`` 0 (applied, or nothing to do) or 1."""

    outcome: Outcome
    pull: MergedPull | None = None
    replan_dir: Path | None = None
    body: str = ""
    notes: list[str] = field(default_factory=list)
    """Warnings for the job log (a comment that could not be posted)."""

    @property
    def exit_code(self) -> int:
        return 0 if self.outcome in (Outcome.APPLIED, Outcome.NOTHING_TO_DO) else 1


@dataclass
class _Found:
    plan: Path | None = None
    source: Source | None = None
    missing: str = ""


def child_env(
    environ: Mapping[str, str], target: Target | None, token: str | None
) -> dict[str, str]:
    """The environment a reconciler command runs in: ours without our tokens, no colour,
    and ``token`` under ``target``'s tokenEnv (a trusted target; None: no token at all)."""
    env = {k: v for k, v in environ.items() if k not in WITHHELD}
    env["NO_COLOR"] = "1"
    if target is not None and token:
        env[target.token_env] = token
    return env


def _reviewed_plan(gh: GitHubClient, job: MergeJob, pull: MergedPull | None) -> _Found:
    """The plan to apply: an earlier attempt's new plan on a re-run, else the pull request's."""
    folder = job.out / "reviewed"
    if job.attempt > 1 and job.run_id is not None:
        for attempt in range(job.attempt - 1, 0, -1):
            name = artifacts.artifact_name("replan", job.target, job.specs, attempt)
            found = artifacts.in_run(gh, job.run_id, name)
            files = artifacts.read_files(gh, found, ("plan.json",)) if found else {}
            if "plan.json" in files:
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "plan.json").write_bytes(files["plan.json"])
                return _Found(folder / "plan.json", Source(name, attempt=attempt))
    if pull is None:
        where = f" into {job.branch}" if job.branch else ""
        return _Found(
            missing=f"no pull request merged commit {job.commit[:12]}{where}: "
            "a direct push has no reviewed plan"
        )
    name = artifacts.artifact_name("plan", job.target, job.specs, pull.number)
    found = artifacts.latest_for_commit(gh, name, pull.head_sha)
    files = artifacts.read_files(gh, found, ("plan.json",)) if found else {}
    if "plan.json" not in files:
        return _Found(
            missing=(
                f"no plan artifact {name} from the last commit of #{pull.number} "
                f"({pull.head_sha[:12]}): its last plan run failed or did not run, or the "
                "artifact expired"
            )
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.json").write_bytes(files["plan.json"])
    return _Found(folder / "plan.json", Source(name, pull.number, pull.head_sha))


def _plan_problem(path: Path, job: MergeJob, target: Target | None) -> str:
    """Why the downloaded plan is not one to hand the token to ("" when it is)."""
    try:
        saved = planfile.load(path)
        if artifacts.spec_dir(saved.specs) != artifacts.spec_dir(job.specs):
            return f"the plan was made from '{saved.specs}', not from '{job.specs}'"
        if target is None:
            return "" if saved.target.embedded else "the plan names a target the specs do not"
        trusted.check_plan_target(saved.target, target)
    except ReconcilerError as exc:
        return str(exc)
    return ""


def _tls_flags(target: Target | None) -> list[str]:
    """The trusted target's TLS settings, which a saved plan does not hold."""
    if target is None:
        return []
    flags = ["--ca-bundle", target.ca_bundle] if target.ca_bundle else []
    flags += ["--insecure"] if target.insecure else []
    return flags + (["--allow-http"] if target.allow_plain_http else [])


def _replan(
    job: MergeJob, target: Target | None, env: dict[str, str], cli: RunCli
) -> tuple[int, str, Path]:
    folder = job.out / "replan"
    folder.mkdir(parents=True, exist_ok=True)
    name = artifacts.artifact_name("replan", job.target, job.specs, job.attempt)
    args = ["plan", job.specs, *(["--target", target.name] if target else [])]
    args += ["--detailed-exitcode", "--out", str(folder / "plan.json"), "--format", "markdown"]
    args += ["--output", str(folder / "report.md"), "--json-report", str(folder / "report.json")]
    args += ["--max-length", str(PLAN_ROOM), *job.plan_args]
    code, stderr = cli(args, {**env, "RECONCILER_ARTIFACT": name})
    return code, stderr, folder


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= REASON_CHARS else "…" + text[-REASON_CHARS:]


def apply_merge(
    gh: GitHubClient,
    job: MergeJob,
    *,
    token: str | None,
    environ: Mapping[str, str],
    meta: Metadata,
    cli: RunCli = run_cli,
) -> MergeResult:
    """Apply the merged pull request's reviewed plan, or refuse and post a new one."""
    logs: list[str] = []

    def call(args: list[str], env: Mapping[str, str]) -> tuple[int, str]:
        code, stderr = cli(args, env)
        logs.append(stderr)
        return code, stderr

    def done(outcome: Outcome, report: ApplyReport, replan: Path | None = None) -> MergeResult:
        result = MergeResult(outcome, pull, replan, notes=[n.rstrip("\n") for n in logs if n])
        return _finish(gh, job, result, report)

    pull = merged_pull(gh, job.commit, job.branch)
    try:
        target = trusted.checked_target(Path(job.specs), job.target, job.base)
    except ReconcilerError as exc:
        changed = isinstance(exc, trusted.TargetChanged)
        outcome = Outcome.TARGET_CHANGED if changed else Outcome.NO_NEW_PLAN
        name = job.target or EMBEDDED_NAME
        report = ApplyReport(
            outcome, name, job.specs, meta, reason=str(exc), environment=job.environment
        )
        return done(outcome, report)
    name = target.name if target is not None else EMBEDDED_NAME
    env = child_env(environ, target, token)
    found = _reviewed_plan(gh, job, pull)
    why = found.missing or (_plan_problem(found.plan, job, target) if found.plan else "")
    base = ApplyReport(
        Outcome.APPLIED, name, job.specs, meta, source=found.source, environment=job.environment
    )
    if found.plan is not None and not why:
        apply_env = {**env, "RECONCILER_JOURNAL": str(job.out / "journal.jsonl")}
        args = ["apply", str(found.plan), "--auto-approve", *_tls_flags(target), *job.apply_args]
        code, stderr = call(args, apply_env)
        if code == 0:
            return done(Outcome.APPLIED, base)
        why = _tail(stderr) or f"reconciler apply exited {code}"
    code, stderr, folder = _replan(job, target, env, call)
    if code == 0:
        return done(Outcome.NOTHING_TO_DO, replace(base, outcome=Outcome.NOTHING_TO_DO, reason=why))
    if code == 2:
        report = replace(
            base,
            outcome=Outcome.REFUSED,
            reason=why,
            new_plan=without_report_markers((folder / "report.md").read_text(encoding="utf-8")),
            new_plan_artifact=artifacts.artifact_name("replan", job.target, job.specs, job.attempt),
        )
        return done(Outcome.REFUSED, report, folder)
    reason = f"{why}\n\nThe new plan failed too:\n{_tail(stderr)}"
    return done(Outcome.NO_NEW_PLAN, replace(base, outcome=Outcome.NO_NEW_PLAN, reason=reason))


def _finish(
    gh: GitHubClient, job: MergeJob, result: MergeResult, report: ApplyReport
) -> MergeResult:
    """Render the notice; post it on the merged pull request (an APPLIED one only over an
    earlier notice of this job, so a successful merge adds no comment)."""
    result.body = render(report)
    if result.pull is None:
        return result
    marker = find_marker(apply_marker(report.target, report.specs))
    assert isinstance(marker, Marker)  # apply_marker writes what find_marker reads
    try:
        number = result.pull.number
        if (
            report.outcome is Outcome.APPLIED
            and find_comment(gh, number, marker, job.author) is None
        ):
            return result
        post_report(gh, number, result.body, marker, job.author)
    except (GitHubError, ReconcilerError) as exc:
        result.notes.append(f"warning: could not post the notice on #{result.pull.number}: {exc}")
    return result

"""The harness of the hostile-identifier corpus (issue 10): no test functions here.

A *scenario* seeds one dialect's sandbox (its SQLite file, directly) with objects
whose server ids, keys and role names are hostile, then runs *steps* through the
CLI over real HTTP: each step writes specs and a prune policy, runs ``plan``,
``apply`` and a second ``plan``, and keeps what a test needs to judge it: the
outputs, the write journal, the sandbox's request log and a snapshot of every
table before and after.

The judgement (``test_hostile_ids.py``) is generic:

- every write the server logged is one the client journaled, on the very same
  (percent-encoded) path; decoded segment by segment, that path names exactly the
  object of the change that made it (``Scenario.targets``);
- no row changed that the changes of the step may not touch (``Scenario.rows``);
- the plan says "cannot be managed safely" for exactly the objects the step
  expects to be unaddressable (and those get no write);
- every apply succeeds and a second plan has nothing left to do (no flapping).
"""

from __future__ import annotations

import gc
import json
import sqlite3
import sys
import traceback
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import yaml
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.report.escape import inline
from reconciler.sandbox.app import load_dialect
from reconciler.sandbox.server import EmbeddedSandbox
from reconciler.sandbox.store import Store, dumps
from tests.conftest import SANDBOX_TOKEN

STAMP = "2024-01-02T03:04:05.000000Z"
UNSAFE = "cannot be managed safely"
HEADER = {"apiVersion": "reconciler.dev/v1"}


# ---- the corpus --------------------------------------------------------------------


def unaddressable(value: str) -> bool:
    """Whether no URL path segment can carry ``value`` (the rule of issue 10).

    Empty, a ``/`` or ``\\`` (servers and proxies decode or split on them), or a
    control character (C0, DEL, C1). Everything else is percent-encoded into
    exactly one segment: ``?``, ``#``, ``%``, spaces, ``.`` and ``..``, any Unicode.
    """
    return (
        value == ""
        or "/" in value
        or "\\" in value
        or any(unicodedata.category(c) == "Cc" for c in value)
    )


def good(corpus: Mapping[str, str]) -> dict[str, str]:
    """The entries a path can carry (encoded): these must be managed."""
    return {tag: v for tag, v in corpus.items() if not unaddressable(v)}


def bad(corpus: Mapping[str, str]) -> dict[str, str]:
    """The entries no path can carry: these must be left alone, and reported."""
    return {tag: v for tag, v in corpus.items() if unaddressable(v)}


def email(prefix: str, tag: str) -> str:
    """The address of a seeded user: ASCII, so a plan's note can be matched."""
    return f"{prefix}-{tag}@hostile.example"


def prune(**policies: str) -> str:
    """A ``reconciler.yaml`` with these prune policies (none: ignore everything)."""
    body = "".join(f"  {kind}: {policy}\n" for kind, policy in policies.items())
    return "apiVersion: reconciler.dev/v1\n" + (f"prune:\n{body}" if body else "")


def percent_first(victim: str) -> str:
    """``victim`` with its first character percent-encoded: ``sso`` → ``%73so``.

    Sent raw, a server decodes it back to ``victim`` (``%73so`` deleted ``sso``)."""
    return "".join(f"%{b:02X}" for b in victim[0].encode()) + victim[1:]


def id_corpus(victim: str, traversal: str) -> dict[str, str]:
    """Hostile values for one place a value goes into a path, by an ASCII tag.

    ``victim`` is another object's id or key in the same place: each
    ``victim``-based value, sent without encoding, would act on the victim
    (a fragment or query is cut off, ``%XX`` decoded). ``traversal`` climbs from
    that place to another object (``../../users/<admin id>``).
    """
    return {
        "traversal": traversal,
        "fragment": f"{victim}#frag",
        "query": f"{victim}?x=1",
        "encoded": percent_first(victim),
        "encoded-slash": "x%2Fy",
        "encoded-dots": "%2e%2e",
        "dotdot": "..",
        "dot": ".",
        "dots3": "...",
        "space": "a b",
        "e-acute": "é",
        "unicode": "日本語😀",
        "long": "L" * 300 + "é" * 60,
        "semicolon": f"{victim};x=1",
        "plus-amp": "a+b&c=d",
        "percent": "%",
        "bad-escape": "%zz",
        "bidi": "\u202eabc",
        "zero-width": f"{victim}\u200b",
        "backslash": f"..\\{victim}",
        "newline": f"{victim}\nx",
        "nul": f"{victim}\x00",
        "del": f"{victim}\x7f",
        "c1": f"{victim}\x85",
        "empty": "",
        "trailing-slash": f"{victim}/",
    }


SPEC_NAMES: dict[str, str] = {
    "space": "a b",
    "e-acute": "é",
    "hash": "#",
    "question": "?",
    "percent": "%",
    "encoded-slash": "x%2Fy",
    "encoded": "%73so",
    "fragment": "x#frag",
    "query": "x?y=1",
    "dots-prefix": "..x",
    "dots3": "...",
    "unicode": "日本語😀",
    "semicolon": "a;b=c",
    "plus-amp": "a+b&c=d",
    "tilde": "~",
    "long": "N" * 80 + "é" * 10,
}
"""Names a spec may give (no ``/``, no padding, no controls), each a path hazard."""

FLAGGED: tuple[str, ...] = ("a b", "%73so")
"""The spec-named tenants that also get every key of :data:`SPEC_FLAG_KEYS` (two
are enough to put both in paths; every tenant would only make the run slow)."""

SPEC_FLAG_KEYS: tuple[str, ...] = ("a.b", "...", ".x", "x.", "-", "_", ":", "a:b", "K" * 100)
"""Flag keys the spec language accepts that a path must still encode or keep whole."""

SPEC_EMAILS: tuple[str, ...] = (
    "a#b?c%25d@hostile.example",
    "..@hostile.example",
    "x%2Fy@hostile.example",
    "é@hostile.example",
    "a+b&c=d@hostile.example",
)
"""Operator emails the spec accepts that are hazards wherever an email is sent."""


def spec_files(*docs: Mapping[str, Any]) -> str:
    """YAML documents (each with the apiVersion header), quoted safely by the dumper."""
    return "---\n".join(
        yaml.safe_dump({**HEADER, **doc}, allow_unicode=True, sort_keys=False) for doc in docs
    )


# ---- seeding ----------------------------------------------------------------------


class Seed:
    """Rows written straight into a sandbox's SQLite file, ids and keys as given."""

    def __init__(self, db_path: Path, dialect: str) -> None:
        spec = load_dialect(dialect)
        assert spec is not None
        Store(db_path, spec.collections).close()  # the dialect's schema
        self.db = sqlite3.connect(db_path, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout=5000")

    def put(
        self,
        table: str,
        id_: str,
        fields: Mapping[str, Any],
        *,
        key: str | None = None,
        scope: str = "",
    ) -> None:
        """One row, its JSON holding ``id`` and the timestamps as the sandbox's do."""
        obj = {
            "id": id_,
            **fields,
            "created_at": STAMP,
            "updated_at": STAMP,
        }
        self.db.execute(
            f"INSERT INTO {table} (id, scope, key, data, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (id_, scope, key, dumps(obj), STAMP, STAMP),
        )

    def close(self) -> None:
        self.db.close()


# ---- what a sandbox holds ------------------------------------------------------------

RowKey = tuple[Any, ...]
"""(table, identity...) of one stored row."""


@dataclass(frozen=True)
class Row:
    id: str
    scope: str
    key: str | None
    data: dict[str, Any]


Snapshot = dict[RowKey, Row]


def snapshot(db_path: Path, identity: Callable[[str, Row], RowKey]) -> Snapshot:
    """Every row of every table but the request log, keyed by ``identity``."""
    with sqlite3.connect(db_path) as db:
        tables = [
            t
            for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if t not in ("request_log", "sqlite_sequence")
        ]
        out: Snapshot = {}
        for table in tables:
            for id_, scope, key, data in db.execute(
                f"SELECT id, scope, key, data FROM {table} ORDER BY seq"
            ):
                row = Row(id_, scope, key, json.loads(data))
                out[identity(table, row)] = row
    db.close()
    return out


def changed_rows(before: Snapshot, after: Snapshot) -> set[RowKey]:
    """Rows added, removed or different in any byte of their data."""
    return {
        k
        for k in before.keys() | after.keys()
        if k not in before or k not in after or before[k] != after[k]
    }


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    query: str
    status: int


def request_log(db_path: Path) -> list[Logged]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT method, path, query, status FROM request_log ORDER BY seq")
        found = [Logged(m, p, q, int(s)) for m, p, q, s in rows]
    db.close()
    return found


# ---- routes ----------------------------------------------------------------------------

Target = tuple[Any, ...]
"""What a call names, e.g. ``("flag", tenant_id, key)``, ``("tenants",)`` for a create."""


@dataclass(frozen=True)
class Route:
    """A write route of an API: ``/tenants/{tenant}/feature-flags/{flag}`` and what it names."""

    method: str
    template: str
    names: Callable[[Mapping[str, str]], Target]
    query: Callable[[Mapping[str, str], Mapping[str, list[str]], Snapshot], str | None] = (
        lambda params, query, before: None if not query else f"unexpected query {query}"
    )
    """Why the query string is wrong for this call, or None."""

    def match(self, method: str, segments: list[str]) -> dict[str, str] | None:
        """The decoded parameters when ``segments`` (decoded) fit this route."""
        if method != self.method:
            return None
        parts = self.template.strip("/").split("/") if self.template.strip("/") else []
        if len(parts) != len(segments):
            return None
        params: dict[str, str] = {}
        for part, segment in zip(parts, segments, strict=True):
            if part.startswith("{") and part.endswith("}"):
                params[part[1:-1]] = segment
            elif part != segment:
                return None
        return params


def decode_segments(raw_path: str) -> list[str] | None:
    """The path split on ``/``, each segment percent-decoded (None: not UTF-8 text)."""
    try:
        return [unquote(s, errors="strict") for s in raw_path.removeprefix("/").split("/")]
    except UnicodeDecodeError:
        return None


# ---- scenarios ---------------------------------------------------------------------------


@dataclass
class Step:
    """One round of specs through ``plan``, ``apply`` and a second ``plan``."""

    name: str
    files: Mapping[str, str]
    """File name → YAML text (``reconciler.yaml`` among them for a prune policy)."""
    unsafe: Iterable[str] = ()
    """Resource ids the plan must report as cannot be managed safely (and no others)."""
    before: Callable[[Path], None] | None = None
    """Runs first, on the database of the running sandbox (to add rows mid-scenario)."""
    group: str = "lifecycle"
    """``lifecycle``: create, update, prune. ``parent``: a change whose path needs the id
    of another object that no path can carry (a flag of such a tenant). ``read``:
    objects the provider reads one by one although no path can carry their id.
    These come after the lifecycle, so that one failing does not hide the others."""


@dataclass
class Scenario:
    """One dialect: how to seed it, target it, read its paths, and the steps to run."""

    dialect: str
    seed: Callable[[Seed], None]
    steps: Callable[[], list[Step]]
    routes: tuple[Route, ...]
    targets: Callable[[str, Snapshot, Snapshot], set[Target]]
    """(change resource id, before, after) → what that change's calls may name."""
    rows: Callable[[str, Snapshot, Snapshot], set[RowKey]]
    """(change resource id, before, after) → the rows that change may alter."""
    identity: Callable[[str, Row], RowKey] = lambda table, row: (table, row.id)
    url_path: str = ""
    """What the target URL adds to the sandbox's (``/api`` for iaas-v1)."""
    data: Mapping[str, Any] | None = None
    """The dialect's own seed data (``--data``), besides the rows put in directly."""
    side_rows: Callable[[RowKey], bool] = lambda key: False
    """Rows any write may touch: the server's bookkeeping (an id counter, an audit log)."""
    without: Mapping[str, str] = field(default_factory=dict)
    """Step groups this dialect has no case for, and why."""


@dataclass
class StepResult:
    step: Step
    plan: Result
    apply: Result
    replan: Result
    before: Snapshot
    after: Snapshot
    journal: list[dict[str, Any]]
    writes: list[Logged]


@dataclass
class ScenarioRun:
    scenario: Scenario
    sandbox: EmbeddedSandbox
    results: list[StepResult] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)
    """What the CLI runs left to the garbage collector: open sockets, tasks never awaited."""

    def of(self, group: str) -> ScenarioRun:
        """The same run, judged on the steps of one group only."""
        chosen = [r for r in self.results if r.step.group == group]
        return ScenarioRun(self.scenario, self.sandbox, chosen, self.left_behind)


def cli(run: ScenarioRun, args: list[str], **env: str) -> Result:
    """One CLI run; whatever it leaves unclosed is recorded on ``run``, not raised later.

    A socket or a coroutine the CLI drops warns when collected, possibly during
    another test; here such warnings and errors are caught as the run ends and
    kept, so a test can name them.
    """
    found: list[str] = []
    previous = sys.unraisablehook

    def keep(unraisable: Any) -> None:
        found.append(f"{unraisable.exc_type.__name__}: {unraisable.exc_value}")

    sys.unraisablehook = keep
    # Whatever the run leaves behind is made during the run: with everything older
    # frozen, the collection below looks at that alone, not at the whole heap.
    gc.freeze()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # an exception escaping the CLI is a failure of this run, not of the module
            result = CliRunner().invoke(main, args, env={**env, "RECONCILER_TOKEN": SANDBOX_TOKEN})
            gc.collect()
    finally:
        gc.unfreeze()
        sys.unraisablehook = previous
    found += [f"{w.category.__name__}: {w.message}" for w in caught]
    run.left_behind += [f"{args[0]} {Path(args[1]).name}: {f}" for f in found]
    return result


def run_scenario(scenario: Scenario, root: Path) -> Iterator[ScenarioRun]:
    """Seed, start the sandbox, run every step; yields the run, then stops the sandbox."""
    db_path = root / f"{scenario.dialect}.sqlite"
    seed = Seed(db_path, scenario.dialect)
    try:
        scenario.seed(seed)
    finally:
        seed.close()
    with EmbeddedSandbox(
        scenario.dialect, db_path=db_path, token=SANDBOX_TOKEN, seed=scenario.data
    ) as box:
        run = ScenarioRun(scenario, box)
        target = ["--api", scenario.dialect, "--url", box.url + scenario.url_path]
        for number, step in enumerate(scenario.steps()):
            if step.before is not None:
                step.before(db_path)
            specs = root / f"{number}-{step.name}"
            specs.mkdir()
            for name, text in step.files.items():
                (specs / name).write_text(text, encoding="utf-8")
            journal = root / f"{number}-{step.name}.journal.jsonl"
            env = {"RECONCILER_JOURNAL": str(journal)}
            before = snapshot(db_path, scenario.identity)
            logged = len(request_log(db_path))
            plan = cli(run, ["plan", str(specs), *target], **env)
            apply = ["apply", str(specs), *target, "--auto-approve", "--allow-mass-changes"]
            # writes in parallel, as an apply sends them; more than a few only adds the
            # client's connection-pool bookkeeping (its server shares this process's CPU)
            apply += ["--parallelism", "4"]
            applied = cli(run, apply, **env)
            after = snapshot(db_path, scenario.identity)
            writes = [r for r in request_log(db_path)[logged:] if r.method != "GET"]
            replan = cli(run, ["plan", str(specs), *target, "--detailed-exitcode"], **env)
            records = []
            if journal.exists():  # one outcome line per write (intents are written before)
                text = journal.read_text(encoding="utf-8")
                lines = [json.loads(line) for line in text.split("\n") if line.strip()]
                records = [r for r in lines if r.get("type", "outcome") == "outcome"]
            run.results.append(
                StepResult(step, plan, applied, replan, before, after, records, writes)
            )
        yield run


# ---- judging ------------------------------------------------------------------------------


def path_problems(run: ScenarioRun) -> list[str]:
    """Every write that did not hit exactly the path of the object its change names."""
    scenario = run.scenario
    prefix = scenario.url_path
    problems: list[str] = []
    for result in run.results:
        where = f"[{result.step.name}]"
        journaled = Counter((r["method"], prefix + r["path"]) for r in result.journal)
        served = Counter((w.method, w.path) for w in result.writes)
        if journaled != served:
            problems.append(
                f"{where} the server saw other writes than the client sent: "
                f"sent only {dict(journaled - served)}, served only {dict(served - journaled)}"
            )
        queries = {(w.method, w.path): w.query for w in result.writes}
        for record in result.journal:
            rid, method, path = record["change"], record["method"], prefix + record["path"]
            call = f"{where} {rid}: {method} {path}"
            segments = decode_segments(path)
            if segments is None:
                problems.append(f"{call}: a segment is not percent-encoded UTF-8")
                continue
            matches = [
                (r, p) for r in scenario.routes if (p := r.match(method, segments)) is not None
            ]
            if len(matches) != 1:
                problems.append(f"{call}: matches {len(matches)} write routes of the API")
                continue
            route, params = matches[0]
            named = route.names(params)
            allowed = scenario.targets(rid, result.before, result.after)
            if named not in allowed:
                problems.append(f"{call}: names {named!r}, the change names one of {allowed!r}")
            query = parse_qs(queries.get((method, path), ""), keep_blank_values=True)
            wrong = route.query(params, query, result.before)
            if wrong:
                problems.append(f"{call}: {wrong}")
    return problems


def collateral(run: ScenarioRun) -> list[str]:
    """Rows that changed although no change of the step may touch them."""
    scenario = run.scenario
    problems: list[str] = []
    for result in run.results:
        allowed: set[RowKey] = set()
        for rid in {r["change"] for r in result.journal}:
            allowed |= scenario.rows(rid, result.before, result.after)
        for key in sorted(changed_rows(result.before, result.after) - allowed, key=repr):
            if scenario.side_rows(key):
                continue
            was, now = result.before.get(key), result.after.get(key)
            problems.append(
                f"[{result.step.name}] {key!r} changed: {was.data if was else None!r}"
                f" -> {now.data if now else None!r}"
            )
    return problems


def unsafe_notes(output: str) -> list[str]:
    """The resource ids (as printed) the plan reports as cannot be managed safely."""
    found = []
    for line in output.splitlines():
        head, sep, _ = line.partition(f": {UNSAFE}")
        if sep:
            found.append(head.strip())
    return found


def note_problems(run: ScenarioRun) -> list[str]:
    """Objects reported unsafe that should be managed, and the reverse; writes to them."""
    problems: list[str] = []
    for result in run.results:
        where = f"[{result.step.name}]"
        expected = {inline(rid): rid for rid in result.step.unsafe}  # as the plan prints them
        notes = unsafe_notes(result.plan.output)
        problems += [
            f"{where} no '{UNSAFE}' note for {shown}" for shown in expected if shown not in notes
        ]
        problems += [
            f"{where} {note} was reported unsafe; it can be managed"
            for note in notes
            if note not in expected
        ]
        written = {r["change"] for r in result.journal}
        problems += [
            f"{where} {shown} cannot be addressed, yet it was written"
            for shown, rid in expected.items()
            if rid in written
        ]
    return problems


def _output(result: Result) -> str:
    """What a run printed, and the traceback of an exception that escaped it."""
    escaped = result.exception
    if escaped is None or isinstance(escaped, SystemExit):
        return result.output
    trace = "".join(traceback.format_exception(escaped))
    return f"{result.output}\n{trace}"


def outcome_problems(run: ScenarioRun) -> list[str]:
    """Applies that did not exit as expected, second plans that still had changes."""
    problems: list[str] = []
    for result in run.results:
        where = f"[{result.step.name}]"
        if result.plan.exit_code != 0:
            problems.append(f"{where} plan exited {result.plan.exit_code}:\n{_output(result.plan)}")
        if result.apply.exit_code != 0:
            problems.append(
                f"{where} apply exited {result.apply.exit_code}:\n{_output(result.apply)}"
            )
        if result.replan.exit_code != 0:
            problems.append(
                f"{where} a second plan exited {result.replan.exit_code} (0: nothing to do):\n"
                f"{_output(result.replan)}"
            )
    return problems


def report(problems: list[str], limit: int = 40, lines: int = 12) -> str:
    """The problems, each cut to a few lines (a whole plan output is long)."""

    def cut(problem: str) -> str:
        rows = problem.splitlines()
        if len(rows) <= lines:
            return problem
        half = lines // 2
        skipped = f"  ... ({len(rows) - 2 * half} lines)"
        return "\n".join([*rows[:half], skipped, *rows[-half:]])

    shown = [cut(p) for p in problems[:limit]]
    more = f"\n... and {len(problems) - limit} more" if len(problems) > limit else ""
    return "\n".join(shown) + more


# ---- lookups the scenarios share ------------------------------------------------------------


def rows_where(snaps: Iterable[Snapshot], table: str, **match: Any) -> Iterator[tuple[RowKey, Row]]:
    """Rows of ``table`` whose JSON fields equal ``match``, from any of ``snaps``."""
    for snap in snaps:
        for key, row in snap.items():
            if key[0] == table and all(row.data.get(k) == v for k, v in match.items()):
                yield key, row


def split_rid(rid: str) -> tuple[str, str]:
    kind, _, key = rid.partition("/")
    return kind, key


def splits(key: str) -> Iterator[tuple[str, str]]:
    """Every (head, tail) split of ``key`` at a ``/``: a tenant name may hold one."""
    at = key.find("/")
    while at != -1:
        yield key[:at], key[at + 1 :]
        at = key.find("/", at + 1)

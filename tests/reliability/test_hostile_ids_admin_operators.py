"""The hostile-identifier scenario of ``admin-operators`` (judged in test_hostile_ids.py).

Where ``admin-operators`` puts a value into a path: the operator's id, in
``PATCH /admin/operators/{id}/status`` and ``DELETE /admin/operators/{id}``.
The document's ids are numbers; a server answering text ids is what the corpus
tries (the sandbox stores them as given and finds an account by its id as text).
The victim is the operator with id 2: ``2#frag``, ``2?x=1``, ``%32`` and
``../operators/2`` all name it when sent raw. Deactivated operators are no longer
listed, so before each prune the ``o-<tag>`` accounts are made operators again by
hand (in the database), as an admin re-inviting them would.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.reliability.test_hostile_ids_harness import (
    SPEC_EMAILS,
    Route,
    Row,
    RowKey,
    Scenario,
    Seed,
    Snapshot,
    Step,
    Target,
    bad,
    email,
    id_corpus,
    prune,
    rows_where,
    spec_files,
    split_rid,
)

B = "/admin/operators"
VICTIM = "victim@hostile.example"
OPERATOR_IDS = id_corpus("2", "../operators/2")


def account(num: Any, address: str, role: str = "operator", **extra: Any) -> dict[str, Any]:
    return {
        "num": num,
        "name": address.split("@")[0],
        "email": address,
        "role": role,
        "is_active": True,
        "email_verified": True,
        **extra,
    }


def seed(s: Seed) -> None:
    s.put("settings", "next-id", {"next": 100}, key="next_id")  # the API numbers from 100
    s.put(
        "accounts",
        "admin",
        account(1, "admin@hostile.example", "admin", current=True),
        key="admin@hostile.example",
    )
    s.put("accounts", "victim", account(2, VICTIM), key=VICTIM)
    for tag, value in OPERATOR_IDS.items():
        s.put("accounts", f"o-{tag}", account(value, email("o", tag)), key=email("o", tag))


def promote_again(db_path: Path) -> None:
    """By hand: every ``o-<tag>`` account an active operator again (as re-invited)."""
    with sqlite3.connect(db_path) as db:
        for id_, data in db.execute("SELECT id, data FROM accounts WHERE id LIKE 'o-%'").fetchall():
            obj = {**json.loads(data), "role": "operator", "is_active": True}
            db.execute("UPDATE accounts SET data = ? WHERE id = ?", (json.dumps(obj), id_))
    db.close()


def base_docs() -> list[dict[str, Any]]:
    return [{"kind": "Operator", "email": VICTIM, "status": "active"}]


def operators(status: str) -> list[dict[str, Any]]:
    return [
        {"kind": "Operator", "email": email("o", tag), "status": status} for tag in OPERATOR_IDS
    ]


def invited() -> list[dict[str, Any]]:
    return [{"kind": "Operator", "email": address, "status": "active"} for address in SPEC_EMAILS]


UNSAFE = [f"Operator/{email('o', tag)}" for tag in bad(OPERATOR_IDS)]


def steps() -> list[Step]:
    return [
        Step(
            "create",
            {
                "all.yaml": spec_files(*base_docs(), *operators("active"), *invited()),
                "reconciler.yaml": prune(),
            },
        ),
        Step(
            "update-disable",
            {
                "all.yaml": spec_files(*base_docs(), *operators("disabled"), *invited()),
                "reconciler.yaml": prune(),
            },
            unsafe=UNSAFE,
        ),
        Step(
            "prune-suspend",
            {"all.yaml": spec_files(*base_docs()), "reconciler.yaml": prune(Operator="suspend")},
            unsafe=UNSAFE,
            before=promote_again,
        ),
        Step(
            "prune-delete",
            {"all.yaml": spec_files(*base_docs()), "reconciler.yaml": prune(Operator="delete")},
            unsafe=UNSAFE,
            before=promote_again,
        ),
    ]


def _routes() -> tuple[Route, ...]:
    return (
        Route("POST", B, lambda p: ("accounts",)),
        Route("PATCH", f"{B}/{{id}}/status", lambda p: ("account", p["id"])),
        Route("DELETE", f"{B}/{{id}}", lambda p: ("account", p["id"])),
    )


def _found(rid: str, before: Snapshot, after: Snapshot) -> list[Row]:
    _, key = split_rid(rid)
    return [r for _, r in rows_where((before, after), "accounts") if r.data["email"].lower() == key]


def targets(rid: str, before: Snapshot, after: Snapshot) -> set[Target]:
    return {("accounts",), *(("account", str(r.data["num"])) for r in _found(rid, before, after))}


def rows(rid: str, before: Snapshot, after: Snapshot) -> set[RowKey]:
    return {("accounts", r.id) for r in _found(rid, before, after)}


SCENARIO = Scenario(
    dialect="admin-operators",
    seed=seed,
    steps=steps,
    routes=_routes(),
    targets=targets,
    rows=rows,
    side_rows=lambda key: key[0] == "settings",  # the id counter of invitations
    without={
        "read": "operators are read from one listing; no id goes into a read's path",
        "parent": "an operator's path holds its own id only",
    },
)

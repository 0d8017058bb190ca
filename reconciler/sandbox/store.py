"""SQLite storage shared by every sandbox dialect.

One table per collection, each row one JSON object. The row keeps a few columns
beside the JSON so lookups stay indexed: ``seq`` (creation order, for stable
paging), ``id``, and an optional natural ``key`` unique within a ``scope`` (a
plan's name; a flag's key within its tenant). Fields other code filters on get a
JSON expression index, declared per collection.

The stored JSON is the object exactly as the API shows it, server-managed fields
(``id``, ``created_at``, ``updated_at``) included, so a list endpoint can splice
rows into its answer without decoding them.

One connection serves the whole server; endpoints run on the event loop and call
it synchronously, which keeps per-request cost at a few microseconds and means
no two requests ever interleave inside a handler. WAL lets tests read the
database (the request log) while the server writes.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Obj = dict[str, Any]
"""One stored object, decoded."""

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class Conflict(Exception):
    """A natural key is already taken in its scope."""


def now() -> str:
    """The current time as ISO 8601 UTC with a ``Z``, to the microsecond."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Collection:
    """A table of objects; ``indexed`` names the JSON fields other code filters on."""

    name: str
    indexed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Names are interpolated into SQL, so they must be plain identifiers.
        for part in (self.name, *self.indexed):
            if not _NAME.match(part):
                raise ValueError(f"not a valid collection or field name: {part!r}")


class Store:
    """The sandbox's state: its collections plus the request log."""

    def __init__(self, path: str | Path, collections: Iterable[Collection]) -> None:
        self.path = Path(path)
        self.collections = {c.name: c for c in collections}
        # The server thread is not the thread that builds the app, hence
        # check_same_thread=False; only the event loop ever uses it.
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self._in_transaction = False
        self._create_schema()

    def _create_schema(self) -> None:
        statements = [
            "CREATE TABLE IF NOT EXISTS request_log ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL, path TEXT NOT NULL,"
            " query TEXT NOT NULL DEFAULT '', status INTEGER NOT NULL, at TEXT NOT NULL)"
        ]
        for c in self.collections.values():
            statements.append(
                f"CREATE TABLE IF NOT EXISTS {c.name} ("
                " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
                " scope TEXT NOT NULL DEFAULT '', key TEXT, data TEXT NOT NULL,"
                " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (scope, key))"
            )
            for field in c.indexed:
                statements.append(
                    f"CREATE INDEX IF NOT EXISTS ix_{c.name}_{field}"
                    f" ON {c.name} (json_extract(data, '$.{field}'))"
                )
        with self.transaction():
            for sql in statements:
                self.db.execute(sql)

    def close(self) -> None:
        self.db.close()

    def _table(self, collection: str) -> str:
        if collection not in self.collections:
            raise KeyError(f"unknown collection {collection!r}")
        return collection

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one; nested use joins the outer transaction."""
        if self._in_transaction:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._in_transaction = False

    # ---- request log -------------------------------------------------------

    def log_request(self, method: str, path: str, query: str, status: int) -> None:
        self.db.execute(
            "INSERT INTO request_log (method, path, query, status, at) VALUES (?, ?, ?, ?, ?)",
            (method, path, query, status, now()),
        )

    def requests(self) -> list[tuple[str, str, int]]:
        """Every request served, in order: (method, path, status)."""
        rows = self.db.execute("SELECT method, path, status FROM request_log ORDER BY seq")
        return [(m, p, int(s)) for m, p, s in rows]

    # ---- objects -----------------------------------------------------------

    def insert(
        self, collection: str, fields: Obj, *, key: str | None = None, scope: str = ""
    ) -> Obj:
        """Store a new object, giving it ``id``, ``created_at`` and ``updated_at``.

        Raises Conflict if ``key`` is already taken within ``scope``.
        """
        stamp = now()
        obj = {"id": str(uuid.uuid4()), **fields, "created_at": stamp, "updated_at": stamp}
        try:
            self.db.execute(
                f"INSERT INTO {self._table(collection)}"
                " (id, scope, key, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (obj["id"], scope, key, dumps(obj), stamp, stamp),
            )
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc
        return obj

    def get(self, collection: str, id_: str) -> Obj | None:
        row = self.db.execute(
            f"SELECT data FROM {self._table(collection)} WHERE id = ?", (id_,)
        ).fetchone()
        return _load(row)

    def find(self, collection: str, key: str, scope: str = "") -> Obj | None:
        """The object with natural ``key`` in ``scope``, if any."""
        row = self.db.execute(
            f"SELECT data FROM {self._table(collection)} WHERE scope = ? AND key = ?",
            (scope, key),
        ).fetchone()
        return _load(row)

    def exists(self, collection: str, id_: str) -> bool:
        row = self.db.execute(
            f"SELECT 1 FROM {self._table(collection)} WHERE id = ?", (id_,)
        ).fetchone()
        return row is not None

    def any_with(self, collection: str, field: str, value: Any) -> bool:
        """Whether any object's ``field`` equals ``value`` (uses the field's index)."""
        if field not in self.collections[self._table(collection)].indexed:
            raise KeyError(f"{collection}.{field} is not indexed")
        row = self.db.execute(
            f"SELECT 1 FROM {collection} WHERE json_extract(data, '$.{field}') = ? LIMIT 1",
            (value,),
        ).fetchone()
        return row is not None

    def page(self, collection: str, limit: int, offset: int) -> tuple[list[str], int]:
        """One page as raw JSON strings in creation order, and the total count."""
        table = self._table(collection)
        rows = self.db.execute(
            f"SELECT data FROM {table} ORDER BY seq LIMIT ? OFFSET ?", (limit, offset)
        ).fetchall()
        (total,) = self.db.execute(f"SELECT count(*) FROM {table}").fetchone()
        return [r[0] for r in rows], int(total)

    def in_scope(self, collection: str, scope: str) -> list[str]:
        """Every object of ``scope`` as raw JSON strings, in creation order."""
        rows = self.db.execute(
            f"SELECT data FROM {self._table(collection)} WHERE scope = ? ORDER BY seq", (scope,)
        ).fetchall()
        return [r[0] for r in rows]

    def update(
        self, collection: str, obj: Obj, *, key: str | None = None, at: str | None = None
    ) -> Obj:
        """Write ``obj`` (which holds its ``id``) back with ``updated_at`` = ``at`` or now.

        ``key`` changes the natural key too (Conflict if taken); None keeps it.
        """
        obj = {**obj, "updated_at": at or now()}
        table = self._table(collection)
        try:
            if key is None:
                sql = f"UPDATE {table} SET data = ?, updated_at = ? WHERE id = ?"
                args: tuple[Any, ...] = (dumps(obj), obj["updated_at"], obj["id"])
            else:
                sql = f"UPDATE {table} SET data = ?, updated_at = ?, key = ? WHERE id = ?"
                args = (dumps(obj), obj["updated_at"], key, obj["id"])
            self.db.execute(sql, args)
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc
        return obj

    def delete(self, collection: str, id_: str) -> bool:
        cur = self.db.execute(f"DELETE FROM {self._table(collection)} WHERE id = ?", (id_,))
        return cur.rowcount > 0

    def delete_scope(self, collection: str, scope: str) -> int:
        cur = self.db.execute(f"DELETE FROM {self._table(collection)} WHERE scope = ?", (scope,))
        return cur.rowcount


def _load(row: tuple[str] | None) -> Obj | None:
    if row is None:
        return None
    obj: Obj = json.loads(row[0])
    return obj

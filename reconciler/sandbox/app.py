"""The sandbox's ASGI app: one API dialect over one SQLite file, behind a bearer token.

``create_app`` is the only way in; the server module runs what it returns.
Which dialects exist is the registry's business (:mod:`reconciler.dialects`,
the same list the providers read): each line names the module in ``dialects/``
whose ``DIALECT`` this app serves, imported when it is served.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.responses import Response

from reconciler import __version__
from reconciler import dialects as registry
from reconciler.sandbox.common import RequestLogMiddleware, check_segment_routes, json_response
from reconciler.sandbox.dialect import Dialect
from reconciler.sandbox.faults import FaultConfig, FaultMiddleware
from reconciler.sandbox.store import Store


def load_dialect(name: str) -> Dialect | None:
    """The emulation of ``name``, or None when the registry has no such dialect."""
    entry = registry.entry(name)
    if entry is None:
        return None
    dialect = registry.load(entry.sandbox)
    if not isinstance(dialect, Dialect):
        raise TypeError(f"{entry.sandbox} is not a sandbox Dialect")
    return dialect


def available_dialects() -> list[str]:
    """Every dialect the sandbox can serve: every registered one."""
    return registry.names()


def create_app(
    dialect: str = "reference",
    *,
    db_path: str | Path,
    token: str,
    seed: Mapping[str, Any] | None = None,
    faults: FaultConfig | None = None,
) -> FastAPI:
    """An app serving ``dialect`` with state in ``db_path``; every API call needs ``token``.

    The database is opened (and its schema created) here, so a bad path fails
    before the server starts; it is closed when the app shuts down. ``seed``
    holds what the API cannot create itself, in the dialect's own format.
    """
    spec = load_dialect(dialect)
    if spec is None:
        raise ValueError(f"unknown dialect '{dialect}' (known: {', '.join(available_dialects())})")
    if not token:
        raise ValueError("the sandbox needs a non-empty bearer token")
    store = Store(db_path, spec.collections)
    if seed:
        if spec.seed is None:
            store.close()
            raise ValueError(f"the {dialect} sandbox takes no seed data")
        spec.seed(store, seed)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    app = FastAPI(
        title=f"reconciler sandbox: {spec.title}",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.dialect = dialect

    @app.get("/healthz", tags=["health"])
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    spec.install(app, store, token)
    check_segment_routes(app)
    if faults is not None and faults.active:
        app.add_middleware(FaultMiddleware, config=faults)  # inside the log: faults are logged
    app.add_middleware(RequestLogMiddleware, store=store)
    return app

"""``python -m bench.sandbox_server``: the sandbox app (any dialect, SQLite) for the bench.

The same app ``reconciler sandbox serve`` runs (``create_app``: routes,
validation, SQLite store, request log, ``--latency-ms``), served by uvicorn on a
host and port it binds itself. ``sandbox serve`` binds its socket first with
``socket.socket()`` (protocol 0), and asyncio sets ``TCP_NODELAY`` only on
sockets whose protocol is TCP: every answer then waits ~40 ms for the client's
delayed ACK (Nagle), which is all a sequential client would measure. Reported;
until the sandbox creates its socket with ``IPPROTO_TCP``, the bench serves it
this way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn

from reconciler.sandbox.app import create_app
from reconciler.sandbox.faults import FaultConfig


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_server", description=__doc__)
    parser.add_argument("--api", default="reference")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--data", type=Path, help="seed (JSON), as sandbox serve's --data")
    args = parser.parse_args()
    seed = json.loads(args.data.read_text()) if args.data else None
    app = create_app(
        args.api,
        db_path=args.db,
        token=args.token,
        seed=seed,
        faults=FaultConfig(latency_ms=args.latency_ms),
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

"""``python -m bench.fast_server``: the bench's fast server mode (``reference`` only).

The in-memory API of :mod:`bench.fast_api` on :mod:`bench.fast_http`, in a
process of its own as the sandbox is. Besides the API it answers the bench:
``GET /_bench/log?since=N`` (the requests served, ``METHOD path`` each, from the
N-th) and ``POST /_bench/save`` (``{"path": ...}``: the state as JSON, which
``--load`` starts another server from).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path

from bench.fast_api import ReferenceApi
from bench.fast_http import Answer, Request, serve


class FastServer:
    """The API behind a bearer token, plus the bench's own routes."""

    def __init__(self, token: str, api: ReferenceApi) -> None:
        self.expected = f"Bearer {token}"
        self.api = api
        self.log: list[str] = []

    def __call__(self, request: Request) -> Answer:
        path = request.path
        if path == "/healthz":
            return 200, b'{"status":"ok"}'
        if path.startswith("/_bench/"):
            return self._bench(request)
        self.log.append(f"{request.method} {path}")
        if request.authorization != self.expected:
            return 401, b'{"error":"unauthorized","message":"missing or wrong bearer token"}'
        return self.api.handle(request)

    def _bench(self, request: Request) -> Answer:
        if request.path == "/_bench/log":
            since = int(request.query.get("since", "0"))
            return 200, json.dumps({"size": len(self.log), "lines": self.log[since:]}).encode()
        if request.path == "/_bench/save" and request.method == "POST":
            target = Path(json.loads(request.body)["path"])
            target.write_text(json.dumps(self.api.dump()))
            return 200, b"{}"
        return 404, b'{"error":"not_found","message":"no such bench route"}'


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fast_server", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", required=True)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--load", type=Path, help="start from a state saved by /_bench/save")
    args = parser.parse_args()
    api = ReferenceApi()
    if args.load is not None:
        api.load(json.loads(args.load.read_text()))
    server = FastServer(args.token, api)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(server, args.host, args.port, args.latency_ms))


if __name__ == "__main__":
    main()

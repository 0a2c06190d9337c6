"""The local Smooth server with a request counter, for benchmarks that compare clients.

Run as a subprocess by bench/client_vs_sdk.py: serves the API on the given port and answers
GET /bench/requests with the number of API requests seen so far (POST /bench/reset zeroes it).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from smooth_agents.local import LocalServerSettings, create_app


class Counter:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/bench/"):
            if scope["method"] == "POST":
                self.count = 0
            body = str(self.count).encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/api/v1/")
            and "telemetry" not in scope["path"]
        ):
            self.count += 1
        await self.app(scope, receive, send)


def main() -> None:
    port, key = int(sys.argv[1]), sys.argv[2]
    settings = LocalServerSettings(
        api_keys=frozenset({key}),
        port=port,
        data_dir=Path(tempfile.mkdtemp(prefix="smooth-bench-")),
        max_concurrent_sessions=64,
    )
    uvicorn.run(Counter(create_app(settings)), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()

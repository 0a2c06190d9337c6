"""An OpenAI-compatible chat completions server on loopback, for the real provider package
(langchain-openai) to talk to: its replies are worked out by a function of the request's
messages, so a test plays the model while the provider's own client does the wire."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.helpers import AppServer

# From the request's messages to the next call: (tool name, arguments).
Turn = Callable[[list[dict[str, Any]]], tuple[str, dict[str, Any]]]


class FakeOpenAI:
    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []

        async def completions(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append(body)
            self.authorizations.append(request.headers.get("authorization", ""))
            name, arguments = self.turn(body["messages"])
            call = {
                "id": f"call_{len(self.requests)}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            return JSONResponse(
                {
                    "id": f"chatcmpl-{len(self.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                            "finish_reason": "tool_calls",
                        }
                    ],
                    "usage": {"prompt_tokens": 1000, "completion_tokens": 20, "total_tokens": 1020},
                }
            )

        self._served = AppServer(
            Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._served.port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._served.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._served.__exit__(*exc)

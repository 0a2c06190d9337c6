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

# From the request's messages to the next reply: (tool name, arguments) for a call, arguments as
# text sent verbatim (malformed JSON); ("", text) for a reply in words, no call.
Turn = Callable[[list[dict[str, Any]]], tuple[str, dict[str, Any] | str]]


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
            if name:
                # Arguments given as text are sent as they are (a model's malformed JSON).
                raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
                call = {
                    "id": f"call_{len(self.requests)}",
                    "type": "function",
                    "function": {"name": name, "arguments": raw},
                }
                message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
                finish = "tool_calls"
            else:  # no call: the model answers in words (``arguments`` is the text)
                message = {"role": "assistant", "content": str(arguments)}
                finish = "stop"
            return JSONResponse(
                {
                    "id": f"chatcmpl-{len(self.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
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

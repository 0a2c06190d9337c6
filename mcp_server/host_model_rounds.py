"""Protocol 2026-07-28: the host's model asked through the calls in flight (``HostModelRounds``).

A server asks a 2026-07-28 client only by answering one of its calls "input required" (see
``rounds``). The channel to the host's model is the caller's (its credential, see ``callers``) and
its turns wait in a queue; ``HostModelRounds``, the server's ``CallRounds`` middleware, lets
whichever call of that caller is in flight carry them: the call's handler runs on in the
background while the call answers "input required", and the call picks up again when the client
sends it back. ``smooth_task_status`` of a task still running stays open while the task runs (up
to the wait budget), so that the task goes on. Calls of clients that lend no model still carry
their own requests (smooth_session_handoff's elicitations).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.validation import check_sampling_tools_capability
from mcp_types import (
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResultWithTools,
    ToolChoice,
)
from pydantic import ValidationError

from smooth_agents.agent_tools import ToolRuntime
from smooth_agents.agent_tools.tasks import TASK_STATUS
from smooth_agents.host_models import HostModels
from smooth_agents.protocol import ACTIVE_STATUSES

from .rounds import AskQueue, CallRounds
from .sampling import LoopSampler, answer_of, sampling_message, tools_of

# A turn that no call of its client carries for this long fails its task: the client stopped
# calling (under 2026-07-28 nothing else reaches it).
UNCARRIED_SECONDS = 900.0
# Said to the task (and so to whoever reads its status): no word there may look like a key, which
# the agent redacts from a failure's message.
UNCARRIED = (
    "The MCP host's model was not asked for {minutes:g} minutes: no tool call of the client was in "
    "flight to carry the question (under protocol 2026-07-28 the server asks its client only while "
    "one of its calls runs). Read a running task with the task status tool to let it go on."
)


def _sampled(wire: Any) -> CreateMessageResultWithTools:
    try:
        return CreateMessageResultWithTools.model_validate(wire, by_name=False)
    except ValidationError:
        raise ValueError("The MCP host's model answered with no sampling result") from None


class QueuedSampler(LoopSampler, AskQueue):
    """``Sampler`` of one caller under protocol 2026-07-28: its turns wait for a call of that
    caller to carry them (``HostModelRounds``)."""

    def __init__(self) -> None:
        LoopSampler.__init__(self)
        AskQueue.__init__(self)

    async def ask(
        self,
        messages: list[dict[str, Any]],
        *,
        system: str,
        tools: list[dict[str, Any]],
        max_tokens: int,
    ) -> dict[str, Any]:
        params = CreateMessageRequestParams(
            messages=[sampling_message(m) for m in messages],
            max_tokens=max_tokens,
            system_prompt=system or None,
            tools=tools_of(tools),
            tool_choice=ToolChoice(mode="auto"),
        )
        request = CreateMessageRequest(params=params).model_dump(
            by_alias=True, mode="json", exclude_none=True
        )
        turn = self.put(request, _sampled)
        try:
            while not turn.answer.done():
                left = UNCARRIED_SECONDS - (time.monotonic() - turn.free_since)
                if turn.holder is None and left <= 0:
                    raise RuntimeError(UNCARRIED.format(minutes=UNCARRIED_SECONDS / 60))
                await asyncio.wait([turn.answer], timeout=left if turn.holder is None else UNCARRIED_SECONDS)
            return answer_of(turn.answer.result())
        finally:
            self.drop(turn)


class HostModelRounds(CallRounds):
    """``CallRounds`` that also carries the model turns of clients on protocol 2026-07-28 that
    lend their model (``models``: None when the server lends none)."""

    def __init__(self, models: HostModels | None, runtime: ToolRuntime) -> None:
        super().__init__(runtime)
        self.models = models
        self._channels: dict[str, tuple[str, QueuedSampler]] = {}

    def __repr__(self) -> str:
        return f"HostModelRounds({len(self._channels)} callers, {len(self.held)} calls held)"

    def queue(self, owner: str) -> tuple[str, QueuedSampler]:
        """The channel of one caller: its token and its queue (made on the loop that serves)."""
        assert self.models is not None, "no host model is lent on this server"
        known = self._channels.get(owner)
        if known is None or known[1].loop is not asyncio.get_running_loop():
            if known is not None:
                self.models.close(known[0])
            queue = QueuedSampler()
            known = (self.models.open(queue), queue)
            self._channels[owner] = known
        return known

    def caller_queue(self, ctx: ServerRequestContext[Any, Any], owner: str) -> AskQueue | None:
        if self.models is None or not check_sampling_tools_capability(ctx.session.client_capabilities):
            return None
        return self.queue(owner)[1]

    def follows(self, params: Mapping[str, Any]) -> bool:
        """Whether a call reads a task that needs the model (smooth_task_status of a task, not of a
        session or one action's result), and so stays open while the task runs."""
        arguments = params.get("arguments")
        if params.get("name") != TASK_STATUS.name or not isinstance(arguments, Mapping):
            return False
        task_id = arguments.get("task_id")
        return (
            isinstance(task_id, str)
            and not arguments.get("event_id")
            and not self.runtime.sessions.is_session(task_id)
        )

    def still_running(self, structured: Mapping[str, Any]) -> bool:
        return structured.get("status") in ACTIVE_STATUSES

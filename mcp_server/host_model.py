"""The MCP host's own model, lent to the embedded browser agent (``smooth-mcp --local-model host``).

A client that declares sampling with tools (``sampling.tools``) gets a channel when it first calls
a tool; the tasks it starts carry the channel's token (``smooth_agents.host_models``), and each
turn of the browser agent's model becomes a ``sampling/createMessage`` request to that client. How
a request reaches the client depends on the protocol the client speaks:

- With the initialize handshake (2025-11-25 or earlier) the channel is the connection: a request
  goes on it whenever a turn comes, and the channel closes with the connection. Not on the tool
  call that started the task: a task outlives its call when the call answers "running", and a
  request tied to a finished call has nowhere to go.
- Under 2026-07-28 a server asks a client only by answering one of its calls "input required":
  the channel is the caller's (its credential) and its turns ride whichever of its calls is in
  flight (``host_model_rounds.HostModelRounds``, a server middleware ``build_server`` lists;
  without it such clients lend no model).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.session import ServerSession
from mcp.server.validation import check_sampling_tools_capability
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import (
    CreateMessageResultWithTools,
    ToolChoice,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from smooth_agents.host_models import HOST_MODEL_CHANNEL, HostModels

from .callers import credential_owner
from .host_model_rounds import HostModelRounds
from .sampling import LoopSampler, answer_of, sampling_message, tools_of

CHANNEL_KEY = "smooth_agents.host_model"
log = logging.getLogger("smooth_agents.mcp")


class SessionSampler(LoopSampler):
    """``Sampler`` over one client connection: each turn is a ``sampling/createMessage`` request."""

    def __init__(self, session: ServerSession) -> None:
        super().__init__()
        self._session = session

    async def ask(
        self,
        messages: list[dict[str, Any]],
        *,
        system: str,
        tools: list[dict[str, Any]],
        max_tokens: int,
    ) -> dict[str, Any]:
        with warnings.catch_warnings():
            # Sampling is deprecated from protocol 2026-07-28, and this channel is only opened for
            # clients on earlier versions, where it is the protocol's way; the warning is raised
            # when the call is made, so only the call is covered.
            warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
            request = self._session.create_message(
                [sampling_message(m) for m in messages],
                max_tokens=max_tokens,
                system_prompt=system or None,
                tools=tools_of(tools),
                tool_choice=ToolChoice(mode="auto"),
            )
        answer: CreateMessageResultWithTools = await request
        return answer_of(answer)


def host_channel(ctx: Context, models: HostModels) -> dict[str, str]:
    """Task metadata naming this caller's channel, opened on its first call; empty when the caller
    lends no model (no ``sampling.tools``, or nothing to send requests on)."""
    session = ctx.request_context.session
    if not check_sampling_tools_capability(session.client_capabilities):
        return {}
    if ctx.protocol_version not in HANDSHAKE_PROTOCOL_VERSIONS:
        rounds = next(
            (m for m in ctx.mcp_server.middleware if isinstance(m, HostModelRounds) and m.models is models),
            None,
        )
        if rounds is None:
            log.warning("HostModelRounds is not among the server's middleware: the host's model is not used")
            return {}
        token, _queue = rounds.queue(credential_owner(ctx.headers))
        return {HOST_MODEL_CHANNEL: token}
    connection = getattr(session, "_connection", None)  # see callers.caller_of
    if connection is None:
        log.warning("the MCP connection is not reachable: the host's model is not used")
        return {}
    token = connection.state.get(CHANNEL_KEY)
    if not isinstance(token, str):
        token = models.open(SessionSampler(session))
        connection.state[CHANNEL_KEY] = token
        connection.exit_stack.callback(models.close, token)
    return {HOST_MODEL_CHANNEL: token}

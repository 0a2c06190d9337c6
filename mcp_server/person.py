"""The person behind an MCP client, reached by elicitation (the core's ``Person`` for MCP).

- A client with the initialize handshake is asked on its connection: ``elicitation/create`` in URL
  mode with the live view's link (``ctx.elicit_url``), form mode to confirm the person is done
  (``ctx.elicit``), and ``notifications/elicitation/complete`` once the hand-over has ended.
- A client on protocol 2026-07-28 is asked through "input required" answers to the call itself
  (``rounds.ask_in_call``); that protocol has no completion notice: the call's answer is it.

A client that declared no elicitation of the kind needed, or has no way back to it (stateless
HTTP with the handshake), is answered "unsupported": the tool then gives the model the link to
pass on. What the person types in the live view never passes through here.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.elicitation import AcceptedElicitation, render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp_types import (
    ClientCapabilities,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitRequestURLParams,
    ElicitResult,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field

from smooth_agents.person import AskAnswer, HandOverAnswer

from .rounds import RoundTripUnavailable, ask_in_call

log = logging.getLogger("smooth_agents.mcp")

ANSWERS: dict[str, HandOverAnswer] = {"accept": "accepted", "decline": "declined", "cancel": "cancelled"}


class AnswerForm(BaseModel):
    """The form that asks the person a question from the task's agent."""

    answer: str = Field(description="Your answer.")


class DoneForm(BaseModel):
    """The form that asks the person whether they are done."""

    done: bool = Field(description="Yes once you have finished in the browser.")


def takes_url(capabilities: ClientCapabilities | None) -> bool:
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and elicitation.url is not None


def takes_form(capabilities: ClientCapabilities | None) -> bool:
    # A bare ``elicitation: {}`` (from before modes existed) means form.
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


class McpPerson:
    """The person behind one tool call's client."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    @property
    def _handshake(self) -> bool:
        return self._ctx.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS

    @property
    def _capabilities(self) -> ClientCapabilities | None:
        return self._ctx.request_context.session.client_capabilities

    @property
    def can_ask(self) -> bool:
        return takes_form(self._capabilities)

    @property
    def can_hand_over(self) -> bool:
        return takes_url(self._capabilities)

    async def ask(self, question: str) -> tuple[AskAnswer, str]:
        """A form with one text field (the spec forbids asking secrets by form: the question's
        tool says so to the agent)."""
        if not takes_form(self._capabilities):
            return "unsupported", ""
        try:
            if self._handshake:
                answer = await self._ctx.elicit(question, AnswerForm)
                if isinstance(answer, AcceptedElicitation):
                    return "answered", answer.data.answer
                return ("declined" if answer.action == "decline" else "cancelled"), ""
            schema = render_elicitation_schema(AnswerForm)
            params = ElicitRequestFormParams(message=question, requested_schema=schema)
            result: ElicitResult = await ask_in_call(_wire(ElicitRequest(params=params)), _elicited)
        except (MCPError, RoundTripUnavailable, ValueError) as exc:
            log.info("the client could not be asked the agent's question: %s", exc)
            return "unsupported", ""
        if result.action != "accept":
            return ("declined" if result.action == "decline" else "cancelled"), ""
        return "answered", AnswerForm.model_validate(result.content or {}).answer

    async def hand_over(self, link: str, message: str, handoff_id: str) -> HandOverAnswer:
        if not takes_url(self._capabilities):
            return "unsupported"
        try:
            if self._handshake:
                answer = await self._ctx.elicit_url(message, link, handoff_id)
                return ANSWERS[answer.action]
            params = ElicitRequestURLParams(message=message, url=link, elicitation_id=handoff_id)
            result: ElicitResult = await ask_in_call(_wire(ElicitRequest(params=params)), _elicited)
        except (MCPError, RoundTripUnavailable, ValueError) as exc:
            log.info("the client could not be asked to open the live view: %s", exc)
            return "unsupported"
        return ANSWERS[result.action]

    async def confirm_done(self, message: str) -> bool | None:
        if not takes_form(self._capabilities):
            return None
        try:
            if self._handshake:
                answer = await self._ctx.elicit(message, DoneForm)
                return isinstance(answer, AcceptedElicitation) and answer.data.done
            schema = render_elicitation_schema(DoneForm)
            params = ElicitRequestFormParams(message=message, requested_schema=schema)
            result: ElicitResult = await ask_in_call(_wire(ElicitRequest(params=params)), _elicited)
        except (MCPError, RoundTripUnavailable, ValueError) as exc:
            log.info("the client could not be asked whether the person is done: %s", exc)
            return None
        if result.action != "accept":
            return False
        return DoneForm.model_validate(result.content or {}).done

    async def done(self, handoff_id: str) -> None:
        if not (self._handshake and takes_url(self._capabilities)):
            return  # under 2026-07-28 the call's own answer says it
        try:
            await self._ctx.request_context.session.send_elicit_complete(
                handoff_id, related_request_id=self._ctx.request_id
            )
        except Exception as exc:  # the connection went away: nothing left to tell
            log.info("elicitation complete not delivered: %s", exc)


def _wire(request: ElicitRequest) -> dict[str, Any]:
    return request.model_dump(by_alias=True, mode="json", exclude_none=True)


def _elicited(wire: Any) -> ElicitResult:
    return ElicitResult.model_validate(wire, by_name=False)

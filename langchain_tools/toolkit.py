"""``SmoothToolkit``: the Smooth tools sharing one client and one session registry."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from langchain_core.tools import BaseTool, BaseToolkit
from langchain_core.utils import secret_from_env
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr

from smooth_agents import SmoothClient
from smooth_agents.agent_tools import BlockingToolRuntime, ToolSettings

from .person import HandoffCallback, QuestionCallback
from .tools import WORK_TOOL_CLASSES


class SmoothToolkit(BaseToolkit):
    """``get_tools()`` gives smooth_browse, smooth_extract, smooth_map, smooth_crawl, the session
    tools (smooth_session_handoff among them: ``on_handoff`` tells the person; given, a task's agent
    may hand over too, and with ``on_question`` ask the person) and task status and cancel, all
    sharing one client: a session one tool opens, the next uses; a crawl one call starts, the next
    reads. ``close()`` (or the ``with`` block's end)
    closes the sessions they opened; abandoned ones expire after ``session_ttl`` seconds."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: SmoothClient | None = Field(default=None, exclude=True)
    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(["SMOOTH_API_KEY", "CIRCLEMIND_API_KEY"], default=None)
    )
    base_url: str | None = None
    custom_tools: list[BaseTool] = Field(
        default_factory=list, description="LangChain tools the remote agent may call (run here)."
    )
    wait_seconds: float = 120.0
    handoff_timeout: float = 600.0
    on_handoff: HandoffCallback | None = Field(
        default=None,
        exclude=True,
        description="Called as on_handoff(link, message) when smooth_session_handoff gives the browser "
        "to a person: tell them (default: the link on stderr), or pause (LangGraph's interrupt). "
        "Given, the agent of a task smooth_browse starts may hand its browser to the person too.",
    )
    on_question: QuestionCallback | None = Field(
        default=None,
        exclude=True,
        description="Called as on_question(question) when the agent of a task smooth_browse starts asks "
        "the person something (ask_person): return the answer, or None to decline.",
    )
    content_budget: int = 20_000
    session_ttl: float = 900.0
    max_sessions: int = 8
    local_model: Any = Field(
        default=None,
        exclude=True,
        repr=False,
        description=(
            "With no Smooth key: the model the embedded local server's browser agent uses for "
            "plain-language tasks, a LangChain chat model or 'provider:model'."
        ),
    )
    _runtime: BlockingToolRuntime | None = PrivateAttr(default=None)

    @property
    def runtime(self) -> BlockingToolRuntime:
        if self._runtime is None:
            self._runtime = BlockingToolRuntime(
                self.client,
                api_key=self.api_key,
                base_url=self.base_url,
                settings=ToolSettings(
                    wait_seconds=self.wait_seconds,
                    content_budget=self.content_budget,
                    handoff_timeout=self.handoff_timeout,
                ),
                session_ttl=self.session_ttl,
                max_sessions=self.max_sessions,
                local_model=self.local_model,
            )
        return self._runtime

    def get_tools(self) -> list[BaseTool]:
        shared: dict[str, Any] = {
            "runtime": self.runtime,
            "custom_tools": self.custom_tools,
            "on_handoff": self.on_handoff,
            "on_question": self.on_question,
        }
        return [cls(**shared) for cls in WORK_TOOL_CLASSES]

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()

    def __enter__(self) -> SmoothToolkit:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

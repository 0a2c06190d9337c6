"""``SmoothTool``: a LangChain ``BaseTool`` over one core tool definition, and nothing more.

Name, description, argument schema and behaviour all come from the definition in
``smooth_agents.agent_tools``; this class only connects LangChain's calling conventions to it.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from langchain_core.utils import secret_from_env
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr

from smooth_agents.agent_tools import BlockingToolRuntime, ToolDefinition, ToolFailure
from smooth_agents.agent_tools.errors import validate_input
from smooth_agents.custom_tools import CustomTool

from .bridge import as_custom_tool
from .person import CallbackPerson, HandoffCallback, QuestionCallback
from .progress import async_sink, sync_sink


class SmoothTool(BaseTool):
    """Base of the Smooth tools. Give ``api_key`` (else ``SMOOTH_API_KEY``), or a shared
    ``runtime`` (what ``SmoothToolkit`` does); with no key the embedded local server is used."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    definition: ClassVar[ToolDefinition[Any, Any]]

    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(["SMOOTH_API_KEY", "CIRCLEMIND_API_KEY"], default=None)
    )
    base_url: str | None = Field(default_factory=lambda: None)
    runtime: BlockingToolRuntime | None = Field(default=None, exclude=True)
    custom_tools: list[BaseTool] = Field(
        default_factory=list,
        description="LangChain tools the remote agent may call; they run here, once per call.",
    )
    on_handoff: HandoffCallback | None = Field(
        default=None,
        exclude=True,
        description="Called as on_handoff(link, message) when smooth_session_handoff gives the browser "
        "to a person (default: the link on stderr); it may raise LangGraph's interrupt to pause. "
        "Given, the agent of a task these tools start may hand its browser over too (hand_over).",
    )
    on_question: QuestionCallback | None = Field(
        default=None,
        exclude=True,
        description="Called as on_question(question) when the agent of a task these tools start asks "
        "the person (ask_person): returns the answer (None: declined). Not given: nobody is asked.",
    )
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool | str | Any = True
    handle_validation_error: bool | str | Any = True
    _bridged: list[CustomTool] | None = PrivateAttr(default=None)
    _owns_runtime: bool = PrivateAttr(default=False)

    def __init__(self, **kwargs: Any) -> None:
        definition = type(self).definition
        kwargs.setdefault("name", definition.name)
        kwargs.setdefault("description", definition.description)
        # The published schema (every provider accepts it); LangChain passes the arguments through
        # untouched, and the core validates them once, refusing unknown names.
        kwargs.setdefault("args_schema", definition.input_schema())
        super().__init__(**kwargs)

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        if self.runtime is not None:
            self.description = self.definition.describe(self.runtime.settings)

    def close(self) -> None:
        """Close what this tool opened on its own (not a runtime it was given by a toolkit)."""
        if self.runtime is not None and self._owns_runtime:
            self.runtime.close()

    def __enter__(self) -> SmoothTool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _runtime(self) -> BlockingToolRuntime:
        if self.runtime is None:
            # Made on first use, so building a tool never starts a browser or a thread.
            self.runtime = BlockingToolRuntime(api_key=self.api_key, base_url=self.base_url)
            self._owns_runtime = True
        return self.runtime

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """The core's input model (what the arguments are validated against)."""
        model: type[BaseModel] = self.definition.input_model
        return model

    def _parsed(self, arguments: dict[str, Any]) -> BaseModel:
        # The one validation of the arguments (a ToolFailure naming the field and the reason).
        parsed: BaseModel = validate_input(self.definition, arguments)
        return parsed

    def _bridge(self) -> list[CustomTool]:
        if self._bridged is None:
            self._bridged = [as_custom_tool(t) for t in self.custom_tools]
        return self._bridged

    def _answer(self, output: BaseModel) -> tuple[str, dict[str, Any]]:
        rendered = self.definition.render(output, self._runtime().settings.content_budget)
        return rendered.text, rendered.structured

    def _run(
        self, *, run_manager: CallbackManagerForToolRun | None = None, **arguments: Any
    ) -> tuple[str, dict[str, Any]]:
        try:
            output = self._runtime().run(
                self.definition,
                self._parsed(arguments),
                sync_sink(self.name, run_manager),
                self._bridge(),
                person=CallbackPerson(self.on_handoff, None, self.on_question),
            )
        except ToolFailure as failure:
            raise ToolException(str(failure)) from None
        return self._answer(output)

    async def _arun(
        self, *, run_manager: AsyncCallbackManagerForToolRun | None = None, **arguments: Any
    ) -> tuple[str, dict[str, Any]]:
        try:
            output = await self._runtime().arun(
                self.definition,
                self._parsed(arguments),
                async_sink(self.name, run_manager),
                self._bridge(),
                person=CallbackPerson(self.on_handoff, asyncio.get_running_loop(), self.on_question),
            )
        except ToolFailure as failure:
            raise ToolException(str(failure)) from None
        return self._answer(output)

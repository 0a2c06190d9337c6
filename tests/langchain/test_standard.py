"""LangChain's standard tool suites (ToolsUnitTests, ToolsIntegrationTests) for every tool.

Unit suites build each tool from the environment alone; integration suites invoke each tool
(sync and async, with and without a ToolCall) against the local server and a real Chromium.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_tools import ALL_TOOL_CLASSES, SmoothTool
from smooth_agents.agent_tools import BlockingToolRuntime
from tests.helpers import SiteServer
from tests.person import done_over_the_socket

PRODUCT = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}


class World:
    """What an example call needs: a live session, a finished and a running task, a profile."""

    def __init__(self, runtime: BlockingToolRuntime, site: SiteServer, upload_root: Path) -> None:
        self.runtime = runtime
        self.site = site
        self.upload_root = upload_root
        self.session_id = ""
        self.task_id = ""
        self.profile_id = ""

    def prepare(self, tool: str) -> None:
        client = self.runtime.client
        if tool.startswith("smooth_session") and tool != "smooth_session_open":
            session = self.runtime.call(self.runtime.sessions.open, url=self.site.url("demo/product.html"))
            self.session_id = session.id
        if tool == "smooth_task_status":
            handle = client.run("read", url=self.site.url("demo/article.html"))
            handle.result(timeout=30)
            self.task_id = handle.id
        if tool == "smooth_task_cancel":
            self.task_id = client.run('script:[{"action": "sleep", "seconds": 60}]').id
        if tool == "smooth_profile_delete":
            self.profile_id = client.create_profile().id

    def example(self, tool: str) -> dict[str, Any]:
        site = self.site
        examples: dict[str, dict[str, Any]] = {
            "smooth_browse": {"task": "read the article", "url": site.url("demo/article.html")},
            "smooth_extract": {"url": site.url("demo/product.html"), "json_schema": PRODUCT},
            "smooth_map": {"url": site.url("demo/index.html"), "include": ["**/demo/**"], "limit": 3},
            "smooth_crawl": {"url": site.url("demo/index.html"), "include": ["**/demo/**"], "limit": 2},
            "smooth_session_open": {"url": site.url("demo/index.html")},
            "smooth_session_goto": {"session_id": self.session_id, "url": site.url("demo/table.html")},
            "smooth_session_extract": {"session_id": self.session_id, "json_schema": PRODUCT},
            "smooth_session_evaluate_js": {"session_id": self.session_id, "code": "document.title"},
            "smooth_session_run_task": {"session_id": self.session_id, "task": "read the page"},
            "smooth_session_handoff": {"session_id": self.session_id, "message": "Press Done"},
            "smooth_session_close": {"session_id": self.session_id},
            "smooth_session_list": {},
            "smooth_task_status": {"task_id": self.task_id},
            "smooth_task_cancel": {"task_id": self.task_id},
            "smooth_profile_create": {"profile_id": ""},
            "smooth_profile_list": {},
            "smooth_profile_delete": {"profile_id": self.profile_id},
            "smooth_file_upload": {"path": str(self.upload_root / "notes.txt")},
        }
        return examples[tool]


class _OfflineSite:
    def url(self, path: str) -> str:
        return f"https://shop.example/{path}"


UNIT_WORLD = World(None, _OfflineSite(), Path("/tmp"))  # type: ignore[arg-type]
UNIT_WORLD.session_id, UNIT_WORLD.task_id, UNIT_WORLD.profile_id = "task_s", "task_t", "profile_p"


def press_done(link: str, message: str) -> None:
    asyncio.run(done_over_the_socket(link))


def unit_suite(tool_class: type[SmoothTool]) -> type:
    class Unit(ToolsUnitTests):
        @property
        def tool_constructor(self) -> type[SmoothTool]:
            return tool_class

        @property
        def tool_constructor_params(self) -> dict[str, Any]:
            return {}

        @property
        def tool_invoke_params_example(self) -> dict[str, Any]:
            # Only checked against the input schema here; no call is made.
            return UNIT_WORLD.example(tool_class.definition.name)

        @property
        def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
            return {"SMOOTH_API_KEY": "sk-from-the-env"}, {}, {"api_key": "sk-from-the-env"}

    Unit.__name__ = f"Test{tool_class.__name__}Unit"
    return Unit


def integration_suite(tool_class: type[SmoothTool]) -> type:
    class Integration(ToolsIntegrationTests):
        world: World

        @pytest.fixture(autouse=True)
        def _world(
            self, lc_runtime: BlockingToolRuntime, site: SiteServer, upload_root: Path
        ) -> Iterator[None]:
            self.world = World(lc_runtime, site, upload_root)
            self.world.prepare(tool_class.definition.name)
            yield
            for tracked in lc_runtime.sessions.open_sessions():
                lc_runtime.call(lc_runtime.sessions.close, tracked.session.id)

        @property
        def tool_constructor(self) -> type[SmoothTool]:
            return tool_class

        @property
        def tool_constructor_params(self) -> dict[str, Any]:
            # The person at the live view presses Done as soon as the hand-over shows.
            return {"runtime": self.world.runtime, "on_handoff": press_done}

        @property
        def tool_invoke_params_example(self) -> dict[str, Any]:
            return self.world.example(tool_class.definition.name)

    Integration.__name__ = f"Test{tool_class.__name__}Integration"
    return Integration


for _tool_class in ALL_TOOL_CLASSES:
    for _suite in (unit_suite(_tool_class), integration_suite(_tool_class)):
        globals()[_suite.__name__] = _suite

"""Core progress as LangChain custom events (``smooth_progress``), silent when nobody listens."""

from __future__ import annotations

import asyncio
import logging

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun

from smooth_agents.agent_tools import ProgressSink, no_progress

EVENT = "smooth_progress"
log = logging.getLogger("smooth_agents.langchain")


def sync_sink(tool: str, run_manager: CallbackManagerForToolRun | None) -> ProgressSink:
    if run_manager is None:
        return no_progress

    def deliver(message: str, progress: float | None) -> None:
        try:
            run_manager.get_child().on_custom_event(
                EVENT, {"tool": tool, "message": message, "progress": progress}, run_id=run_manager.run_id
            )
        except Exception:  # progress is best effort: a listener's failure must not fail the tool
            log.debug("progress event not delivered", exc_info=True)

    async def report(message: str, progress: float | None = None, total: float | None = None) -> None:
        # Sync handlers are the caller's code: run them off the client's loop, which serves
        # every other call and poll meanwhile.
        await asyncio.to_thread(deliver, message, progress)

    return report


def async_sink(tool: str, run_manager: AsyncCallbackManagerForToolRun | None) -> ProgressSink:
    if run_manager is None:
        return no_progress
    caller_loop = asyncio.get_running_loop()

    async def report(message: str, progress: float | None = None, total: float | None = None) -> None:
        # This runs on the client's loop; the callbacks belong to the caller's loop.
        event = run_manager.get_child().on_custom_event(
            EVENT, {"tool": tool, "message": message, "progress": progress}, run_id=run_manager.run_id
        )
        try:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(event, caller_loop))
        except Exception:
            log.debug("progress event not delivered", exc_info=True)

    return report

"""Finding the model agent for a configured model.

The model agent is LangChain's (``langchain_tools.browser_agent``); the local server imports no
LangChain, so it finds the agent through the ``smooth_agents.model_agents`` entry point, which
installing ``smooth-agents[langchain]`` provides.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from .seam import Agent

MODEL_AGENTS_GROUP = "smooth_agents.model_agents"


def load_model_agent(model: Any) -> Agent:
    """The agent for ``model`` (``provider:model`` or a LangChain chat model object)."""
    found = sorted(entry_points(group=MODEL_AGENTS_GROUP), key=lambda e: e.name)
    if not found:
        raise ValueError(
            "A local model needs the model agent: pip install 'smooth-agents[local,langchain]' "
            "(and the model's provider package, langchain-openai for instance)."
        )
    make = found[0].load()
    agent: Agent = make(model)
    return agent

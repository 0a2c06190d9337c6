"""smooth-agents: delegate web work from any LLM agent to Smooth.

The core (this package) holds the client, the tool definitions and the CLI; ``mcp_server`` and
``langchain_tools`` expose them. ``smooth_agents.local`` is the self-hosted Smooth-compatible
server, imported only when it is used.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

"""A bare MCPServer with one trivial tool: the cold-start baseline for bench/mcp_server.py."""

from mcp.server.mcpserver import MCPServer

server: MCPServer = MCPServer("bare")


@server.tool()
def echo(text: str) -> str:
    """Say it back."""
    return text


if __name__ == "__main__":
    server.run("stdio")

"""``python -m mcp_server``: the same as ``smooth-mcp``."""

from mcp_server.cli import main

raise SystemExit(main())

"""Who is calling: each MCP client owns the Smooth sessions it opens.

Over HTTP one server serves many clients, and each must list, use and close only its own sessions
(see ``SessionRegistry``). Who a client is depends on what the protocol gives:
- A connection that outlives its requests (the initialize handshake of protocol versions up to
  2025: stdio, SSE, stateful streamable HTTP) owns the sessions opened over it; they are closed
  when it ends (the client's DELETE, the transport's idle timeout, a dropped stream), or earlier
  by the idle TTL.
- Without one (protocol 2026-07-28, where every request stands alone, and ``--stateless``), the
  credential is the owner: each bearer token accepted by ``--auth-token`` owns its sessions, and
  only the TTL closes them. Clients sharing a token, or a server without one, share sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping

from mcp.server.mcpserver import Context
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from smooth_agents.agent_tools import ToolRuntime

OWNER_KEY = "smooth_agents.owner"
# Owners are keyed digests of tokens: a digest seen in a repr or a log cannot be tested against
# guessed tokens without this process's key.
_DIGEST_KEY = secrets.token_bytes(32)

log = logging.getLogger("smooth_agents.mcp")


def caller_of(ctx: Context, runtime: ToolRuntime, stateless: bool) -> str:
    """The owner for this call; for a lasting connection, the close of its sessions is registered
    to run when it ends."""
    if stateless or ctx.protocol_version not in HANDSHAKE_PROTOCOL_VERSIONS:
        return credential_owner(ctx.headers)
    # The connection unwinds its exit stack when it closes. mcp 2.x hands tool handlers the
    # request's ServerSession, which holds the connection privately (the SDK's newer Context
    # exposes it as ``connection``, but handlers do not receive that Context yet).
    connection = getattr(ctx.request_context.session, "_connection", None)
    if connection is None:  # an SDK that moved it: sessions stay the token's, not lost
        log.warning("the MCP connection is not reachable: sessions are owned by the bearer token")
        return credential_owner(ctx.headers)
    owner = connection.state.get(OWNER_KEY)
    if not isinstance(owner, str):
        owner = "connection:" + secrets.token_hex(16)
        connection.state[OWNER_KEY] = owner
        connection.exit_stack.push_async_callback(runtime.sessions.close_owned, owner)
    return owner


def credential_owner(headers: Mapping[str, str] | None) -> str:
    """The owner of requests made with one bearer token (a digest: the token is never kept)."""
    scheme, _, token = ((headers or {}).get("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return ""
    return "token:" + hmac.new(_DIGEST_KEY, token.encode(), hashlib.sha256).hexdigest()[:32]

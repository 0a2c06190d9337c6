"""Who is calling: the owner of the Smooth sessions and tasks a tool call starts.

Ownership follows the caller's credential, never the MCP connection: hosts connect in many ways
(langchain-mcp-adapters opens a connection per tool call by default; protocol 2026-07-28 has no
connection at all; ``--stateless`` keeps no MCP sessions), and a session opened by one call must be
driven by the next whatever the pattern.
- Over HTTP (SSE, streamable HTTP stateful or stateless), each bearer token accepted by
  ``--auth-token`` owns its sessions and tasks; another token's ids are answered as unknown.
  Without tokens (a loopback server) every caller is one owner.
- Over stdio the process is the client: one owner. With ``--shared-browser`` the sessions live in
  this user's shared local server instead, where every process of the user (each holding the key
  only the user can read) is that one owner: a session opened by one process is driven by the next.
Nothing is closed when a connection ends (the next call may come on a new one): the idle TTL
closes what a gone caller left, and shutdown closes everything (but sessions in a shared local
server, which its own idle timeout closes, and those of replicas sharing a ``--state-url``, which
any replica's idle TTL closes). Replicas sharing one digest their callers' tokens with the key
kept there, so that every replica names a caller alike.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

from mcp.server.mcpserver import Context

# Owners are keyed digests of tokens: a digest seen in a repr or a log cannot be tested against
# guessed tokens without this process's key.
_DIGEST_KEY = secrets.token_bytes(32)


def caller_of(ctx: Context, key: bytes | None = None) -> str:
    """The owner for this call."""
    return credential_owner(ctx.headers, key)


def credential_owner(headers: Mapping[str, str] | None, key: bytes | None = None) -> str:
    """The owner of requests made with one bearer token (a digest: the token is never kept); the
    one owner of a caller without a token. ``key``: the digest key replicas sharing state read
    alike (``ToolRuntime.owner_key``), so each names the caller alike; else this process's."""
    scheme, _, token = ((headers or {}).get("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return ""
    return "token:" + hmac.new(key or _DIGEST_KEY, token.encode(), hashlib.sha256).hexdigest()[:32]

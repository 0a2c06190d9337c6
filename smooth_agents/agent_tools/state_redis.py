"""The shared state of replicas in Redis (redis-py's asyncio client).

Keys, under one prefix:
- ``claim:<id>``: ``<L|E><s|t>:<owner>``: live or ended, session or task, and its owner. A live
  session's claim never expires (the idle reaping below ends it); a live task's is kept
  ``TASK_CLAIM_SECONDS`` (a task runs minutes: this only clears tasks nobody saw end); an ended
  id's is kept the idle TTL from its end, then forgotten.
- ``idle``: a sorted set of the live sessions, scored by when each was last used.
- ``sessions-of:<owner>``: the ids of each owner's live sessions (for smooth_session_list).
- ``owner-key``: the secret callers' credentials are digested with.
Each step is one Lua script (one round trip; atomic where it reads and writes; its time the Redis
server's clock). (The scripts name the owner's key themselves: one Redis server, not a cluster.)
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from .registry import Claim
from .state_store import StateUnreachable

log = logging.getLogger("smooth_agents.state")

# How long a live task's claim is kept without a word of its end.
TASK_CLAIM_SECONDS = 24 * 3600
# Idle sessions taken per round of reaping (the next round takes the rest).
IDLE_BATCH = 100
# Seconds a call waits on the store before it fails (a dead store must not hang the tools).
STORE_TIMEOUT = 5.0

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "

_REMEMBER = (
    _NOW
    + """
local standing = redis.call('GET', KEYS[1])
if ARGV[2] == '1' and standing then return standing end
if string.sub(ARGV[1], 2, 2) == 's' then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[2], 'NX', now, ARGV[4])
  redis.call('SADD', ARGV[5] .. string.sub(ARGV[1], 4), ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
end
return ARGV[1]
"""
)

_RECALL = "return redis.call('GET', KEYS[1])"

_ENDED = """
redis.call('ZREM', KEYS[2], ARGV[2])
local standing = redis.call('GET', KEYS[1])
if not standing then return 0 end
redis.call('SET', KEYS[1], 'E' .. string.sub(standing, 2), 'EX', ARGV[1])
redis.call('SREM', ARGV[3] .. string.sub(standing, 4), ARGV[2])
return 1
"""

# An owner's live sessions and the seconds since each was used; ids no longer live are dropped.
_SESSIONS_OF = (
    _NOW
    + """
local found = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local used = redis.call('ZSCORE', KEYS[2], id)
  if used then
    table.insert(found, id)
    table.insert(found, tostring(now - tonumber(used)))
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return found
"""
)

_TOUCH = (
    _NOW
    + """
for _, id in ipairs(ARGV) do redis.call('ZADD', KEYS[1], 'XX', now, id) end
return 1
"""
)

_IDLE = (
    _NOW
    + """
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, ARGV[2])
"""
)

_TAKE_IDLE = (
    _NOW
    + """
local used = redis.call('ZSCORE', KEYS[1], ARGV[1])
if used and tonumber(used) <= now - tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
"""
)


@contextlib.contextmanager
def _reached() -> Iterator[None]:
    """A store that does not answer fails the call in words the model can act on; the log gets
    the kind of failure only (a Redis error may quote the URL, password included)."""
    try:
        yield
    except (RedisError, OSError) as exc:
        log.warning("the shared state store did not answer: %s", type(exc).__name__)
        raise StateUnreachable from None


def _encode(claim: Claim) -> str:
    return "L" + ("s" if claim.session else "t") + ":" + claim.owner


def _decode(value: str) -> Claim:
    return Claim(owner=value[3:], session=value[1] == "s")


class RedisState:
    """``SharedState`` in Redis; ``ttl`` is the idle TTL (ended ids are kept that long)."""

    def __init__(self, url: str, *, ttl: float, prefix: str = "smooth-agents:") -> None:
        self.ttl = ttl
        self._prefix = prefix
        self._redis: Any = redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=STORE_TIMEOUT,
            socket_connect_timeout=STORE_TIMEOUT,
        )
        self._remember = self._redis.register_script(_REMEMBER)
        self._recall = self._redis.register_script(_RECALL)
        self._ended = self._redis.register_script(_ENDED)
        self._touch = self._redis.register_script(_TOUCH)
        self._idle = self._redis.register_script(_IDLE)
        self._take_idle = self._redis.register_script(_TAKE_IDLE)
        self._sessions_of = self._redis.register_script(_SESSIONS_OF)
        self._owner_key: bytes | None = None

    def __repr__(self) -> str:  # the URL may hold a password: never shown
        return f"{type(self).__name__}(prefix={self._prefix!r})"

    def _claim_key(self, task_id: str) -> str:
        return f"{self._prefix}claim:{task_id}"

    @property
    def _idle_key(self) -> str:
        return f"{self._prefix}idle"

    @property
    def _owned_prefix(self) -> str:
        return f"{self._prefix}sessions-of:"

    async def remember(self, task_id: str, claim: Claim, *, first: bool = False) -> Claim:
        with _reached():
            standing = await self._remember(
                keys=[self._claim_key(task_id), self._idle_key],
                args=[
                    _encode(claim),
                    "1" if first else "0",
                    TASK_CLAIM_SECONDS,
                    task_id,
                    self._owned_prefix,
                ],
            )
        return _decode(str(standing))

    async def recall(self, task_id: str) -> Claim | None:
        with _reached():
            value = await self._recall(keys=[self._claim_key(task_id)])
        return None if value is None else _decode(str(value))

    async def ended(self, task_id: str) -> None:
        with _reached():
            await self._ended(
                keys=[self._claim_key(task_id), self._idle_key],
                args=[max(1, round(self.ttl)), task_id, self._owned_prefix],
            )

    async def touch(self, session_ids: list[str]) -> None:
        if session_ids:
            with _reached():
                await self._touch(keys=[self._idle_key], args=session_ids)

    async def idle_sessions(self, idle_for: float) -> list[str]:
        with _reached():
            found = await self._idle(keys=[self._idle_key], args=[idle_for, IDLE_BATCH])
        return [str(session_id) for session_id in found]

    async def take_idle(self, session_id: str, idle_for: float) -> bool:
        with _reached():
            return bool(await self._take_idle(keys=[self._idle_key], args=[session_id, idle_for]))

    async def sessions_of(self, owner: str) -> dict[str, float]:
        with _reached():
            found = await self._sessions_of(keys=[self._owned_prefix + owner, self._idle_key])
        return {str(found[i]): float(found[i + 1]) for i in range(0, len(found), 2)}

    async def owner_key(self) -> bytes:
        if self._owner_key is None:
            key = self._prefix + "owner-key"
            with _reached():
                await self._redis.set(key, secrets.token_hex(32), nx=True)
                self._owner_key = bytes.fromhex(str(await self._redis.get(key)))
        return self._owner_key

    def _hand_over_key(self, session_id: str) -> str:
        return f"{self._prefix}hand-over:{session_id}"

    async def note_hand_over(self, session_id: str, event_id: str | None, keep_for: float) -> None:
        with _reached():
            if event_id is None:
                await self._redis.delete(self._hand_over_key(session_id))
            else:
                await self._redis.set(self._hand_over_key(session_id), event_id, ex=max(1, round(keep_for)))

    async def noted_hand_over(self, session_id: str) -> str | None:
        with _reached():
            value = await self._redis.get(self._hand_over_key(session_id))
        return None if value is None else str(value)

    async def aclose(self) -> None:
        await self._redis.aclose()

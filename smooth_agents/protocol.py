"""What the client and the self-hosted server agree on: task statuses and devices as the Smooth
API names them, how event ids are made, the long-poll header, the reader option carried in task
metadata, the hand-over actions, the live view link's options and how a local server process
proves it holds its key. (The JSON-schema check both apply is ``json_schemas``.)

One of the few modules of the core the local server imports (checked by
tests/core/test_architecture.py), so a rule here cannot drift between the two ends.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TaskStatus = Literal["waiting", "running", "done", "failed", "cancelled"]
# A task in one of these is still going; the others are final.
ACTIVE_STATUSES: frozenset[str] = frozenset({"waiting", "running"})
Device = Literal["desktop", "mobile", "desktop-lg"]

# GET /task/{id} on the local server accepts ``wait_ms`` (and ``known_status``, the status the
# caller last saw) and says so in this header; clients that see it may long-poll instead of
# polling on a timer. Other servers ignore the parameters and send no such header.
LONG_POLL_HEADER = "x-smooth-long-poll-max-ms"


def new_event_id() -> str:
    """An id for an event the caller sends (a session action, a tool answer): "evt_" and 16 hex."""
    return "evt_" + secrets.token_hex(8)


# Browser actions of the local server beyond the documented ones, sent as every action is
# (``browser_action`` events). ``hand_over`` (input: ``message``, ``timeout`` in seconds) gives
# the browser to a person at the interactive live view; it is answered once they hand it back
# ({"handed_back": true, "url", "title", "text"}), or when it ends otherwise ({"handed_back":
# false, "reason": "timeout" | "cancelled" | "closed", ...the page}). ``cancel_hand_over`` ends
# a pending one (its answer: {"cancelled": true} when there was one).
HAND_OVER = "hand_over"
CANCEL_HAND_OVER = "cancel_hand_over"
# The custom tools through which a task's agent reaches the caller's person (``person.py``): the
# self-hosted server's model agent takes the second as its cue to hand its browser over.
ASK_PERSON_TOOL = "ask_person"
HAND_OVER_TOOL = "hand_over"

# Query parameters of a live view link, as the official SDK writes them: ``interactive=true``
# lets the person use the page (mouse and keyboard), ``embed=true`` shows the picture alone, for
# an iframe. The link's ``token`` is what opens it.
LIVE_INTERACTIVE = "interactive"
LIVE_EMBED = "embed"


def live_view_link(live_url: str, *, interactive: bool = True, embed: bool = False) -> str:
    """``live_url`` with its view options set (others in its query, such as the token, kept)."""
    parts = urlsplit(live_url)
    kept = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in kept if k not in (LIVE_INTERACTIVE, LIVE_EMBED)]
    query += [(LIVE_INTERACTIVE, str(interactive).lower()), (LIVE_EMBED, str(embed).lower())]
    return urlunsplit(parts._replace(query=urlencode(query)))


# A message the server writes for whoever reads a failure (a failed task's output, a failed
# action's reason) names the contract's own fields and actions in backticks (`response_model`,
# `goto`), as a Python client calls them too; a surface that calls them otherwise (the agent
# tools: `response_schema`, `smooth_session_goto`) puts its own names in their place.
_CONTRACT_NAME = re.compile(r"`([a-z][a-z_]*)`")


def renamed(message: str, names: Mapping[str, str]) -> str:
    """``message`` with each backticked contract name that ``names`` maps written as mapped."""
    return _CONTRACT_NAME.sub(lambda found: f"`{names.get(found[1], found[1])}`", message)


# Task metadata key the self-hosted reader honours: false reads the whole visible page (navigation,
# sidebars and footers included) instead of only its main content. A Smooth cloud agent receives
# it as one more task variable.
MAIN_CONTENT_ONLY = "main_content_only"
# A task's metadata may bound the tokens its model spends (the self-hosted server's model agent).
MAX_TOKENS = "max_tokens"


def reads_main_content_only(metadata: object) -> bool:
    """The reader's mode from a task's metadata: main content unless the key says false."""
    if not isinstance(metadata, dict):
        return True
    value = metadata.get(MAIN_CONTENT_ONLY, True)
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off")
    return bool(value)


# A local server in a process of its own proves that it holds its API key before a client sends
# the key: GET this path with ``?nonce=`` (hex the client chose) answers {"proof": key_proof(...)}.
# A process that took over the port of a server that ended cannot answer it, and learns nothing
# of the key from the question.
KEY_PROOF_PATH = "/local/key-proof"


def key_proof(api_key: str, nonce: str) -> str:
    """The answer to a key-proof question: an HMAC-SHA256 of the nonce under the key, in hex."""
    return hmac.new(api_key.encode(), b"smooth-key-proof:" + nonce.encode(), hashlib.sha256).hexdigest()

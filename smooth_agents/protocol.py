"""What the client and the self-hosted server agree on: task statuses and devices as the Smooth
API names them, how event ids are made, the long-poll header, the JSON-schema check both apply,
and the reader option carried in task metadata.

The one module of the core the local server imports (checked by tests/core/test_architecture.py),
so a rule here cannot drift between the two ends.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

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


# Task metadata key the self-hosted reader honours: false reads the whole visible page (navigation,
# sidebars and footers included) instead of only its main content. A Smooth cloud agent receives
# it as one more task variable.
MAIN_CONTENT_ONLY = "main_content_only"


def reads_main_content_only(metadata: object) -> bool:
    """The reader's mode from a task's metadata: main content unless the key says false."""
    if not isinstance(metadata, dict):
        return True
    value = metadata.get(MAIN_CONTENT_ONLY, True)
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off")
    return bool(value)


def json_schema_problem(schema: dict[str, Any]) -> tuple[str, str] | None:
    """Where a JSON schema is broken and why ("" for the top level), or None when it is valid.

    The one schema check of the project; callers word the error for their own audience."""
    import jsonschema  # loaded on first use: most programs never pass a raw schema

    if _depth(schema) > MAX_SCHEMA_DEPTH:
        return "", f"it is nested deeper than {MAX_SCHEMA_DEPTH} levels"
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        return "/".join(str(p) for p in exc.absolute_path), exc.message
    return None


# Deeper schemas are refused: no real one comes near, and checking one recurses per level.
MAX_SCHEMA_DEPTH = 64


def _depth(value: Any) -> int:
    """How deeply dicts and lists nest in ``value`` (iteratively: the value may be very deep)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest

"""Every value that crosses the wire, made JSON-safe in one place.

A script's value (Playwright turns a ``Date`` into a ``datetime``, a ``RegExp`` into a pattern,
and a circular structure into a Python structure that refers to itself), a page's string with a
lone surrogate, or a client's deeply nested JSON must never make an answer fail: once one had,
every later ``GET /task/{id}`` of that task answered 500.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

# Deeper values become this text: JSON encoders and the client's parser recurse.
MAX_DEPTH = 200
TOO_DEEP = "[nested too deeply]"
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data: NaN and the infinities become null (as JSON.stringify does),
    dates their ISO text, a circular reference null, lone surrogates U+FFFD, keys strings, and
    anything else its text."""
    return _safe(value, 0, set())


def _safe(value: Any, depth: int, parents: set[int]) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, re.Pattern):
        return f"/{value.pattern}/"
    if isinstance(value, dict | list | tuple):
        if depth >= MAX_DEPTH:
            return TOO_DEEP
        if id(value) in parents:  # a value that contains itself: JSON has no form for it
            return None
        parents.add(id(value))
        try:
            if isinstance(value, dict):
                return {_safe(str(k), depth, parents): _safe(v, depth + 1, parents) for k, v in value.items()}
            return [_safe(v, depth + 1, parents) for v in value]
        finally:
            parents.discard(id(value))
    return _safe(str(value), depth, parents)

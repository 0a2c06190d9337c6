"""Values made safe for JSON answers."""

from __future__ import annotations

import math
from typing import Any


def json_safe(value: Any) -> Any:
    """A script's result made JSON-safe: NaN and the infinities have no JSON form, so they
    become null (as JSON.stringify does in the page)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value

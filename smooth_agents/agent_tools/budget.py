"""Long text cut to a budget, with a continuation index (as the MCP fetch server does)."""

from __future__ import annotations

from typing import Any


def cut(output: Any, start_index: int, max_length: int) -> tuple[Any, bool, int | None]:
    """(the part to return, more to come?, next start index). Only text is cut; data stays whole."""
    if not isinstance(output, str):
        return output, False, None
    if start_index >= len(output) and output:
        return "", False, None
    end = start_index + max_length
    part = output[start_index:end]
    if end < len(output):
        return part, True, end
    return part, False, None

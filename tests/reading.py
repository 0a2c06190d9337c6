"""How a model that reads only text goes through a long result: the part, and the call to read on."""

from __future__ import annotations

import json
import re
from typing import Any

_READ_ON = re.compile(r"read on with smooth_task_status\((?P<args>[^)]*)\)\.\]$")


def part_in_text(text: str) -> str:
    """The value's part inside a result's text: after the lead line, before a closing note."""
    body = text.split("\n", 1)[1]
    for marker in ("\n[Part: ", "\n[Last part: "):
        if marker in body:
            body = body[: body.rindex(marker)]
    return body


def read_on_arguments(text: str) -> dict[str, Any] | None:
    """The arguments of the call the text says reads on (None on the last part)."""
    found = _READ_ON.search(text)
    if found is None:
        return None
    arguments: dict[str, Any] = {}
    for pair in found.group("args").split(", "):
        name, _, value = pair.partition("=")
        arguments[name] = json.loads(value)
    return arguments

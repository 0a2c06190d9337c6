"""Cutting a long value to a budget so that the parts, read in order, give back the whole.

A value's *text form* is the string itself, or its compact JSON. Parts are slices of that text
form by character index (so a multi-byte character is never split): part ``k`` ends exactly where
part ``k + 1`` starts. The first part of data also comes as a *valid value* (containers closed,
the last string shortened) whose compact JSON is that same prefix plus closing brackets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

# Where a text part may end early to land on a line (or word) boundary, in characters (and at
# most a tenth of the part).
_LINE_SLACK = 2_000
_WORD_SLACK = 200


def text_form(value: Any) -> str:
    """The text a model reads for a value: a string as it is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return compact_json(value)


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def escaped_length(text: str) -> int:
    """Characters ``text`` takes inside a JSON string (without the quotes)."""
    return len(json.dumps(text, ensure_ascii=False)) - 2


def cut_text(text: str, start: int, room: int) -> int:
    """The end index of the part of ``text`` that starts at ``start`` and fits ``room``.

    ``room`` bounds the part both as it is and escaped inside JSON (the structured result
    carries it as a JSON string), and the part ends on a line or word boundary when one is near.
    """
    if start >= len(text):
        return len(text)
    end = min(len(text), start + room)
    # Shrink until the escaped form fits: each character takes at least one escaped character,
    # so removing the excess always converges, in a few rounds at most.
    while end > start and (excess := escaped_length(text[start:end]) - room) > 0:
        end -= max(1, excess)
    if end <= start:  # not one character fits: still advance, so reading on always ends
        return min(len(text), start + 1)
    if end == len(text):
        return end
    line = text.rfind("\n", max(start + 1, end - min(_LINE_SLACK, room // 10)), end)
    if line != -1:
        return line + 1
    space = text.rfind(" ", max(start + 1, end - min(_WORD_SLACK, room // 10)), end)
    return space + 1 if space != -1 else end


class _Missing:
    """No value could be placed at all."""


MISSING = _Missing()


class _Writer:
    """Counts the prefix taken, keeping room for the closing brackets and quote still owed, so
    the value shown (the prefix closed) fits too."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.used = 0
        self.owed = 0  # closing brackets of the containers open in the prefix

    def left(self) -> int:
        return self.room - self.used - self.owed

    def take(self, piece: str) -> bool:
        if len(piece) > self.left():
            return False
        self.used += len(piece)
        return True


def cut_json(value: Any, room: int) -> tuple[Any, int]:
    """The longest prefix of ``value``'s compact JSON that ends with a value (or inside a string)
    and whose value, closed, fits ``room`` characters: (that value; the prefix's length).

    The prefix is exactly ``compact_json(value)[:length]``, and ``compact_json`` of the value shown
    is that prefix followed by closing quotes and brackets only; the next part starts there.
    ``value`` must be JSON data (dicts with string keys, lists, strings, numbers, booleans, None).
    A length of 0 means no value fits (the caller reads the JSON on as text).
    """
    writer = _Writer(room)
    try:
        kept, _ = _walk(value, writer)
    except RecursionError:  # nested deeper than Python walks: nothing shown as a value
        return None, 0
    return (None if kept is MISSING else kept), writer.used


def _walk(value: Any, writer: _Writer) -> tuple[Any, bool]:
    """(what of ``value`` fits, whether all of it did)."""
    # A value that fits is taken whole: only the one value across the boundary is walked into,
    # so the cost stays near one serialisation of the data.
    if writer.take(compact_json(value)):
        return value, True
    if isinstance(value, dict | list):
        return _walk_container(value, writer)
    if isinstance(value, str):
        return _cut_string(value, writer)
    return MISSING, False


def _walk_container(value: dict[str, Any] | list[Any], writer: _Writer) -> tuple[Any, bool]:
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    if not writer.take(opening):
        return MISSING, False
    writer.owed += 1
    kept: Any = {} if isinstance(value, dict) else []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    complete = True
    for index, (key, item) in enumerate(items):
        head = ("," if index else "") + (compact_json(key) + ":" if isinstance(value, dict) else "")
        if not writer.take(head):
            complete = False
            break
        sub, whole = _walk(item, writer)
        if sub is MISSING:  # the prefix ends with the last value shown: no dangling comma or key
            writer.used -= len(head)
            complete = False
            break
        if isinstance(kept, dict):
            kept[key] = sub
        else:
            kept.append(sub)
        if not whole:
            complete = False
            break
    writer.owed -= 1
    if complete:
        writer.take(closing)  # its room was kept
    return kept, complete


def _cut_string(value: str, writer: _Writer) -> tuple[Any, bool]:
    """The longest start of ``value`` whose JSON (opening quote, no closing one) fits, with room
    kept for the closing quote of the value shown."""
    left = writer.left() - 2  # the opening quote, and the closing one owed
    if left < 0:
        return MISSING, False
    low, high = 0, min(len(value), left)
    while low < high:  # the largest k with escaped_length(value[:k]) <= left
        middle = (low + high + 1) // 2
        if escaped_length(value[:middle]) <= left:
            low = middle
        else:
            high = middle - 1
    writer.take('"' + json.dumps(value[:low], ensure_ascii=False)[1:-1])
    return value[:low], False


# What marks a string shortened by shrink().
CUT_MARK = "…"


def shrink(value: Any, room: int) -> tuple[Any, bool]:
    """``value`` with its longest strings shortened (then its longest lists halved) until its
    compact JSON fits ``room``; the shape stays (every key kept), so it still matches its schema.
    Returns (the value, whether anything was cut)."""
    data = json.loads(compact_json(value))
    cut = False
    while len(compact_json(data)) > room:
        leaves = list(_leaves(data))
        strings = [(len(v), p) for p, v in leaves if isinstance(v, str) and len(v) > _SHORTEST_CUT]
        lists = [(len(compact_json(v)), p) for p, v in leaves if isinstance(v, list) and v]
        if strings:
            _, path = max(strings)
            text = _get(data, path)
            _set(data, path, text[: len(text) // 2] + CUT_MARK)
        elif lists:
            _, path = max(lists)
            items = _get(data, path)
            _set(data, path, items[: len(items) // 2])
        else:
            break  # nothing left to shorten: the keys alone are longer than the room
        cut = True
    return data, cut


# Strings this short are left whole (ids, statuses); longer ones may be halved.
_SHORTEST_CUT = 64


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every string and list inside ``data`` (not ``data`` itself), with its path."""
    children = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, child in children:
        if isinstance(child, str | list):
            yield (*path, key), child
        yield from _leaves(child, (*path, key))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value

"""The one renderer of tool results: what the delegating model reads, within one budget.

Many hosts give the model only the text of a result (langchain-mcp-adapters; a LangChain
``ToolMessage``'s content), so the text carries the whole result: a one-line lead, then the
markdown of a page or the compact JSON of data. The structured form (MCP ``structuredContent``,
the LangChain artifact) rides along under the same budget.

A result with one long part (``LongOutput``) is cut when that part does not fit: the text carries
characters ``[start_index, next_start_index)`` of the part's text form and names the exact call
that reads on; the structured form carries the same part (for the first part of data: the data
cut to a valid value). Reading on continues where the last part ended, with no gap and no overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from .base import MIN_CONTENT_BUDGET, ToolOutput
from .cutting import CUT_MARK, compact_json, cut_json, cut_text, shrink, text_form

# Characters kept for the line that says where to read on, and the most a lead line may take.
_TRAILER_ROOM = 320
_LEAD_ROOM = 400
READER_TOOL = "smooth_task_status"


class LongOutput(ToolOutput):
    """An output with one part that may be long (a page, extracted data, a script's value)."""

    long_field: ClassVar[str] = "output"

    start_index: int = Field(default=0, description="Where this part begins, in characters.")
    total_chars: int = Field(default=0, description="Length of the whole value, in characters.")
    truncated: bool = Field(default=False, description="True when only a part of the value is here.")
    next_start_index: int | None = Field(
        default=None, description="Where the next part begins; null at the end."
    )
    read_more: str = Field(default="", description="The call that returns the next part.")

    def reader_arguments(self) -> dict[str, Any] | None:
        """Arguments of smooth_task_status that read this value again (None: it cannot be)."""
        return None

    def continued_lead(self) -> str:
        """The lead of a later part: what it continues, short (the first part's lead carried the
        links and notes)."""
        return "The value, continued:"


def kind_of(value: Any) -> str:
    """How a value's text form reads: a string as text, anything else as JSON."""
    return "text" if isinstance(value, str) else "JSON"


# What a lead says of a value that is null: the value itself (a null has no text to follow the
# lead). JSON has no undefined, so the wire gives a script's undefined as null too.
NULL_VALUE = "is null (the script returned null or undefined: the two arrive alike)."


def value_kind(value: Any) -> str:
    """The end of a lead that a script's value follows: its kind, or the value when it is null."""
    return NULL_VALUE if value is None else f"({kind_of(value)}):"


@dataclass(frozen=True)
class Rendered:
    """A tool result as the adapters send it: the text for the model, and the structured form."""

    text: str
    structured: dict[str, Any]


def render(lead: str, output: BaseModel, budget: int) -> Rendered:
    """The text and structured form of ``output``, each within ``budget`` characters (the
    structured form counted as compact JSON)."""
    budget = max(budget, MIN_CONTENT_BUDGET)
    lead = _one_line(lead)
    if isinstance(output, LongOutput):
        return _render_long(lead, output, budget)
    structured = output.model_dump(mode="json", by_alias=True)
    body = compact_json(structured)
    room = budget - len(lead) - _TRAILER_ROOM
    if len(body) <= room:
        return Rendered(f"{lead}\n{body}", structured)
    # A short result made long by a hostile value (a page title of 100,000 characters, thousands
    # of profiles): its longest values are shortened, every field kept.
    shrunk, _ = shrink(structured, room)
    note = f"[Values marked {CUT_MARK} were cut: the whole result has {len(body):,} characters.]"
    return Rendered(f"{lead}\n{compact_json(shrunk)}\n{note}", shrunk)


def _one_line(lead: str) -> str:
    """The lead as one bounded line (it may quote a page's title)."""
    line = " ".join(lead.split())
    return line if len(line) <= _LEAD_ROOM else line[: _LEAD_ROOM - 1] + CUT_MARK


def _read_more(output: LongOutput, end: int) -> str:
    """The exact call that returns the part starting at ``end`` ("" when none can)."""
    reader = output.reader_arguments()
    if reader is None:
        return ""
    arguments = ", ".join(f"{k}={compact_json(v)}" for k, v in {**reader, "start_index": end}.items())
    return f"{READER_TOOL}({arguments})"


def _render_long(lead: str, output: LongOutput, budget: int) -> Rendered:
    field = output.long_field
    value = getattr(output, field)
    whole = "" if value is None else text_form(value)  # no answer yet (a running task): lead only
    start = min(max(output.start_index, 0), len(whole))
    if start > 0:
        lead = _one_line(output.continued_lead())
    rest = output.model_dump(mode="json", by_alias=True, exclude={field})
    if len(compact_json(rest)) > budget // 4:  # a hostile URL or message: the value keeps its room
        rest, _ = shrink(rest, budget // 4)
    # The read-on call is as long as it will ever be with the largest index.
    trailer = _TRAILER_ROOM + len(_read_more(output, len(whole)))
    room = budget - max(len(lead), len(compact_json(rest))) - trailer
    is_data = not isinstance(value, str)

    part_value: Any
    if not whole:
        part_value, part_text, end = value, "", 0
    elif start == 0 and is_data and len(whole) <= room:
        part_value, part_text, end = value, whole, len(whole)
    else:
        end = 0
        if start == 0 and is_data:
            part_value, end = cut_json(value, room)
            part_text = whole[:end]
        if end == 0:
            # A later part, a string, or data no value of which fits (one very long number):
            # text, which always moves on by at least one character. A later part of data is a
            # piece of its JSON text.
            end = cut_text(whole, start, room)
            part_text = whole[start:end]
            part_value = value if (start == 0 and end == len(whole)) else part_text

    more = end < len(whole)
    read_more = _read_more(output, end) if more else ""
    structured = {
        **rest,
        field: part_value,
        "start_index": start,
        "total_chars": len(whole),
        "truncated": start > 0 or more,
        "next_start_index": end if more else None,
        "read_more": read_more,
    }
    text = f"{lead}\n{part_text}" if part_text else lead
    if start > 0 or more:
        kind = "JSON text" if is_data else "text"
        span = f"characters {start:,}-{end:,} of {len(whole):,} of the {kind}"
        if more:
            after = f"read on with {read_more}" if read_more else "the rest cannot be read again"
            text += f"\n[Part: {span}; {after}.]"
        else:
            text += f"\n[Last part: {span}.]"
    return Rendered(text, structured)

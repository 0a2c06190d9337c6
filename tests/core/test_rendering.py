"""The result renderer, as pure functions: cutting keeps every character once, within the budget."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

from smooth_agents.agent_tools.base import MIN_CONTENT_BUDGET
from smooth_agents.agent_tools.browse import TaskOutput
from smooth_agents.agent_tools.cutting import compact_json, cut_json, cut_text, shrink, text_form
from smooth_agents.agent_tools.extract import ExtractOutput
from smooth_agents.agent_tools.render import render
from smooth_agents.agent_tools.sessions import SessionInfo, SessionListOutput

ALPHABET = ["a", "é", "東", "🚀", "\n", '"', "\\", " ", "\t", "z"]


def random_text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(size))


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.choice(["str", "num", "list", "dict", "bool", "null"] if depth < 4 else ["str", "num"])
    if kind == "str":
        return random_text(rng, rng.randint(0, 300))
    if kind == "num":
        return rng.choice([0, -3, 12.5, 10**12, 1e-7])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 8))]
    return {f"k{i}{random_text(rng, 2)}": random_json(rng, depth + 1) for i in range(rng.randint(0, 8))}


def test_deep_nesting_keeps_room_for_its_closing_brackets() -> None:
    deep: Any = "x" * 50
    for _ in range(400):
        deep = [deep]
    kept, length = cut_json(deep, 600)  # the whole is 852 characters
    assert len(compact_json(kept)) <= 600
    assert compact_json(deep).startswith(compact_json(kept)[:length])


@pytest.mark.parametrize("seed", range(40))
def test_cut_json_gives_an_exact_prefix_and_a_valid_value(seed: int) -> None:
    rng = random.Random(seed)
    value = {"rows": [random_json(rng) for _ in range(10)]}
    whole = compact_json(value)
    room = rng.randint(1, len(whole))
    kept, length = cut_json(value, room)
    prefix = whole[:length]
    shown = compact_json(kept)
    assert len(shown) <= room  # the value shown, closed, fits too (deep nesting included)
    # The value shown is the prefix closed: same characters, then only closing brackets and quotes.
    assert shown.startswith(prefix)
    assert set(shown[length:]) <= set('"]}')
    assert json.loads(shown) == kept


@pytest.mark.parametrize("seed", range(20))
def test_text_parts_join_to_the_whole_and_each_fits_escaped(seed: int) -> None:
    rng = random.Random(seed)
    text = random_text(rng, rng.randint(1, 40_000))
    room = rng.randint(50, 5_000)
    start, parts = 0, []
    while start < len(text):
        end = cut_text(text, start, room)
        assert end > start
        part = text[start:end]
        assert len(json.dumps(part, ensure_ascii=False)) - 2 <= room
        parts.append(part)
        start = end
    assert "".join(parts) == text


def test_cut_text_prefers_a_line_end() -> None:
    text = ("word " * 9 + "\n") * 500
    end = cut_text(text, 0, 1_000)
    assert text[end - 1] == "\n"


def reading(output: TaskOutput, budget: int) -> tuple[str, list[str]]:
    """Render from every start index a reader would be told to use: (joined parts, texts)."""
    parts, texts = [], []
    start: int | None = 0
    while start is not None:
        output.start_index = start
        rendered = render("Lead line.", output, budget)
        assert len(rendered.text) <= budget
        assert len(compact_json(rendered.structured)) <= budget
        texts.append(rendered.text)
        value = rendered.structured["output"]
        parts.append(value if isinstance(value, str) else text_form(value))
        start = rendered.structured["next_start_index"]
        if start is not None:
            assert f"start_index={start}" in rendered.structured["read_more"]
            assert rendered.structured["read_more"] in rendered.text
    return "".join(parts), texts


def test_a_long_page_is_read_whole_through_parts() -> None:
    page = random_text(random.Random(1), 100_000)
    joined, texts = reading(TaskOutput(task_id="t1", status="done", output=page), 10_000)
    assert joined == page
    assert len(texts) >= 10
    assert texts[0].startswith("Lead line.\n")
    assert "[Last part: " in texts[-1]


def test_long_data_first_part_is_data_then_its_json_text() -> None:
    rows = [{"name": f"row {i}", "price": i * 1.5} for i in range(2_000)]
    whole = compact_json(rows)
    output = TaskOutput(task_id="t1", status="done", output=rows)
    first = render("Lead.", output, 5_000)
    shown = first.structured["output"]
    assert isinstance(shown, list)
    assert 0 < len(shown) < 2_000
    assert shown[:-1] == rows[: len(shown) - 1]  # whole rows, the last maybe cut
    assert first.structured["total_chars"] == len(whole)
    # The text parts (the first one's prefix, then pieces of the JSON text) join to the whole.
    texts = [whole[: first.structured["next_start_index"]]]
    assert texts[0] in first.text
    start = first.structured["next_start_index"]
    while start is not None:
        output.start_index = start
        part = render("Lead.", output, 5_000).structured
        texts.append(part["output"])
        start = part["next_start_index"]
    assert "".join(texts) == whole


def test_small_results_are_whole_and_say_nothing_of_parts() -> None:
    rendered = render("Answer:", TaskOutput(task_id="t1", status="done", output={"price": 3}), 20_000)
    assert rendered.text == 'Answer:\n{"price":3}'
    assert rendered.structured["output"] == {"price": 3}
    assert rendered.structured["truncated"] is False
    assert rendered.structured["read_more"] == ""


def test_other_results_carry_their_whole_json() -> None:
    listing = SessionListOutput(
        sessions=[SessionInfo(session_id="s1", live_url="http://x/", idle_seconds=2.0)]
    )
    rendered = render("1 open session(s):", listing, 20_000)
    assert json.loads(rendered.text.split("\n", 1)[1]) == rendered.structured


def test_budget_has_a_floor() -> None:
    rendered = render("Lead.", TaskOutput(task_id="t", status="done", output="x" * 50_000), 10)
    assert MIN_CONTENT_BUDGET // 2 < len(rendered.text) <= MIN_CONTENT_BUDGET


def test_rendering_a_20kb_result_is_fast() -> None:
    # Not a timing assert on speed (bench/result_rendering.py measures it): a sanity bound that
    # catches an accidental quadratic walk, with a wide margin for a loaded machine.
    rows = [{"name": f"row {i}", "price": i} for i in range(700)]
    started = time.perf_counter()
    render("Lead.", TaskOutput(task_id="t", status="done", output=rows), 20_000)
    assert time.perf_counter() - started < 1.0


def test_short_results_made_long_keep_every_field_and_fit() -> None:
    listing = SessionListOutput(
        sessions=[
            SessionInfo(session_id=f"s{i}", live_url="http://x/" + "v" * 5_000, idle_seconds=1.0)
            for i in range(9)
        ]
    )
    rendered = render("A lead\nwith a line break " + "t" * 5_000, listing, 3_000)
    assert len(rendered.text) <= 3_000
    lead = rendered.text.split("\n")[0]
    assert lead.startswith("A lead with a line break ttt")  # one line, bounded
    assert len(lead) <= 400
    assert SessionListOutput.model_validate(rendered.structured)  # still the output schema
    assert all(s["live_url"].endswith("…") for s in rendered.structured["sessions"])
    assert "were cut" in rendered.text
    many = {"profile_ids": [f"profile-{i}" for i in range(5_000)]}
    shrunk, cut = shrink(many, 2_000)
    assert cut
    assert len(compact_json(shrunk)) <= 2_000
    assert shrunk["profile_ids"] == many["profile_ids"][: len(shrunk["profile_ids"])]


def test_a_running_task_is_its_lead() -> None:
    running = TaskOutput(task_id="t1", status="running", message="Still running.", live_url="http://x/")
    rendered = render("Task t1 is running. Still running.", running, 20_000)
    assert rendered.text == "Task t1 is running. Still running."
    assert rendered.structured["output"] is None
    assert rendered.structured["live_url"] == "http://x/"


def test_hostile_fields_beside_a_long_value_leave_it_room_and_reading_moves_on() -> None:
    output = ExtractOutput(
        url="http://x/" + "u" * 1_800, session_id="s1", event_id="e1", data={"text": "y" * 10_000}
    )
    start: int | None = 0
    seen = 0
    while start is not None:
        output.start_index = start
        rendered = render("Data:", output, 2_000)
        assert len(rendered.text) <= 2_000
        assert len(compact_json(rendered.structured)) <= 2_000
        following = rendered.structured["next_start_index"]
        assert following is None or following > start
        start = following
        seen += 1
    assert seen > 5
    number = TaskOutput(task_id="t", status="done", output=10**3000)  # one value longer than a part
    first = render("Lead.", number, 2_000).structured
    assert first["next_start_index"] > 0

"""What users import is one visible surface: the ``__all__`` of a few public modules. Everything
the README, the docs and the examples import comes from there (other modules are internal and may
change)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"smooth_agents", "mcp_server", "langchain_tools"}
PUBLIC_MODULES = {
    "smooth_agents",
    "smooth_agents.local",
    "mcp_server",
    "langchain_tools",
    "langchain_tools.scripted",
}


def python_shown_to_users() -> dict[str, str]:
    """The Python blocks of the README and the docs, and the examples, by where they come from."""
    sources = {f"examples/{p.name}": p.read_text(encoding="utf-8") for p in (ROOT / "examples").glob("*.py")}
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for number, block in enumerate(re.findall(r"```python\n(.*?)```", text, re.DOTALL)):
            sources[f"{page.relative_to(ROOT)} python block {number + 1}"] = block
    return sources


def imports_of_ours(source: str) -> list[tuple[str, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in OURS:
            found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, "") for alias in node.names if alias.name.split(".")[0] in OURS)
    return found


@pytest.mark.parametrize(("where", "source"), python_shown_to_users().items())
def test_users_are_shown_only_public_imports(where: str, source: str) -> None:
    for module, name in imports_of_ours(source):
        assert module in PUBLIC_MODULES, f"{where} imports the internal module {module}"
        if name:
            assert name in importlib.import_module(module).__all__, f"{where} imports {module}.{name}"


@pytest.mark.parametrize("module", sorted(PUBLIC_MODULES))
def test_every_public_name_resolves(module: str) -> None:
    loaded = importlib.import_module(module)
    assert loaded.__all__
    for name in loaded.__all__:
        assert getattr(loaded, name) is not None, f"{module}.{name}"


def test_the_docs_say_what_is_public() -> None:
    layout = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    for module in PUBLIC_MODULES:
        assert f"`{module}`" in layout, module

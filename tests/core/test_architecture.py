"""The dependency direction of the design card, checked on the source and on real imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def modules_imported_by(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved to absolute names ("from .. import
    protocol" names the module; "from ..protocol import x" names ``..protocol``)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if node.module is None:
                found.update(f"{module}.{alias.name}" for alias in node.names)
            else:
                found.add(module)
    return found


def imported_modules(package: str) -> dict[Path, set[str]]:
    return {path: modules_imported_by(path) for path in (ROOT / package).rglob("*.py")}


def top(name: str) -> str:
    return name.split(".")[0]


# The dependency direction of the design card, as a table: what each part must never import.
FORBIDDEN = {
    "smooth_agents": {"mcp", "langchain_core", "langchain", "mcp_server", "langchain_tools"},
    "mcp_server": {"langchain_core", "langchain", "langchain_tools"},
    "langchain_tools": {"mcp", "mcp_server"},
}


@pytest.mark.parametrize(("package", "forbidden"), FORBIDDEN.items())
def test_packages_import_only_in_the_allowed_direction(package: str, forbidden: set[str]) -> None:
    for path, names in imported_modules(package).items():
        bad = {n for n in names if top(n) in forbidden}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def core_modules_imported_by(path: Path) -> set[str]:
    """The ``smooth_agents`` modules a file imports, relative imports resolved."""
    return {name for name in modules_imported_by(path) if top(name) == "smooth_agents"}


# What the self-hosted server shares with the client: the wire contract both ends agree on, the
# one JSON-schema check, the one way of stopping a background task, the one reading of URL globs
# (allowed_urls, a crawl's include/exclude), and the one check that a folder is this user's alone
# (modules that import nothing else of the package).
LOCAL_MAY_IMPORT = {
    "smooth_agents.protocol",
    "smooth_agents.json_schemas",
    "smooth_agents.cancellation",
    "smooth_agents.url_globs",
    "smooth_agents.private_folder",
}
# And the reader (a page as markdown), a package that imports nothing of smooth_agents outside it:
# the local server's tasks and the client's crawl read pages the same way.
LOCAL_MAY_IMPORT_PACKAGES = ("smooth_agents.reading",)


def shared_with_local(module: str) -> bool:
    return module in LOCAL_MAY_IMPORT or any(
        module == package or module.startswith(package + ".") for package in LOCAL_MAY_IMPORT_PACKAGES
    )


def test_the_local_server_imports_from_the_core_only_the_shared_protocol() -> None:
    # The self-hosted server must not load the client (handles, polling, http, retry).
    local = ROOT / "smooth_agents" / "local"
    for path in local.rglob("*.py"):
        outside = {m for m in core_modules_imported_by(path) if not m.startswith("smooth_agents.local")}
        bad = {m for m in outside if not shared_with_local(m)}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
    for name in LOCAL_MAY_IMPORT:
        shared = ROOT / (name.replace(".", "/") + ".py")
        assert core_modules_imported_by(shared) == set(), f"{name} must stand alone"
    for package in LOCAL_MAY_IMPORT_PACKAGES:
        for path in (ROOT / package.replace(".", "/")).rglob("*.py"):
            outside = {m for m in core_modules_imported_by(path) if not m.startswith(package)}
            where = path.relative_to(ROOT)
            assert outside == set(), f"{where} imports {sorted(outside)} ({package} stands alone)"


# The local server's rooms, lowest first, and the rooms each may import besides the modules every
# room shares; the surface (app.py, server.py, shared.py, the package's __init__) may import all.
# docs/layout.md shows this table to readers.
LOCAL_SHARED = {"errors", "jsonsafe", "schemas", "settings"}
LOCAL_SURFACE = {"__init__", "app", "server", "shared"}
LOCAL_ROOMS: dict[str, set[str]] = {
    "extraction": set(),
    "browser": set(),
    "files": set(),
    "agents": {"extraction", "browser", "files"},
    "tasks": {"extraction", "browser", "files", "agents"},
    "live": {"browser", "files", "tasks"},
}


def local_part(module: str) -> str | None:
    """The room or top-level module of the local server a module name falls in."""
    prefix = "smooth_agents.local."
    return module[len(prefix) :].split(".")[0] if module.startswith(prefix) else None


def test_the_local_server_is_laid_out_in_rooms_and_shared_modules() -> None:
    local = ROOT / "smooth_agents" / "local"
    rooms = {p.name for p in local.iterdir() if (p / "__init__.py").exists()}
    top_level = {p.stem for p in local.glob("*.py")}
    assert rooms == set(LOCAL_ROOMS), "a room of smooth_agents/local is missing from LOCAL_ROOMS"
    assert top_level == LOCAL_SHARED | LOCAL_SURFACE, "a module joined local/ outside every room"
    for room in rooms:
        docstring = ast.get_docstring(ast.parse((local / room / "__init__.py").read_text(encoding="utf-8")))
        assert docstring, f"local/{room}/__init__.py must say what the room owns"
    layout = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    for room in rooms:
        assert f"| `{room}/` |" in layout, f"docs/layout.md's table of rooms lacks {room}/"


@pytest.mark.parametrize("room", LOCAL_ROOMS)
def test_each_room_of_the_local_server_imports_only_the_rooms_below_it(room: str) -> None:
    allowed = LOCAL_ROOMS[room] | LOCAL_SHARED | {room}
    for path in (ROOT / "smooth_agents" / "local" / room).rglob("*.py"):
        reached = {part for m in core_modules_imported_by(path) if (part := local_part(m)) is not None}
        bad = reached - allowed
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)} of the local server"


def test_the_modules_every_room_shares_import_no_room() -> None:
    for name in LOCAL_SHARED:
        path = ROOT / "smooth_agents" / "local" / f"{name}.py"
        reached = {part for m in core_modules_imported_by(path) if (part := local_part(m)) is not None}
        assert reached <= LOCAL_SHARED, f"{path.relative_to(ROOT)} imports {sorted(reached - LOCAL_SHARED)}"


WIRE_CONTRACT = {"TaskStatus", "ACTIVE_STATUSES", "Device", "LONG_POLL_HEADER", "new_event_id"}


def test_the_wire_contract_is_declared_once() -> None:
    # Both ends import these from smooth_agents.protocol; a second copy could drift unnoticed.
    for path in (ROOT / "smooth_agents").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        declared = set()
        for node in tree.body:
            if isinstance(node, ast.Assign):
                declared |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                declared.add(node.target.id)
            elif isinstance(node, ast.FunctionDef):
                declared.add(node.name)
        copies = declared & WIRE_CONTRACT
        if path != ROOT / "smooth_agents" / "protocol.py":
            assert not copies, f"{path.relative_to(ROOT)} declares {sorted(copies)} again"


def printed_by(probe: str) -> str:
    """What a fresh interpreter running ``probe`` prints: imports measured without this process's."""
    return subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_importing_the_local_server_loads_none_of_the_client() -> None:
    probe = (
        # The whole server: its package loads names on first use.
        "import sys, smooth_agents.local.shared; from smooth_agents.local import *; "
        "print(sorted(m for m in sys.modules if m.startswith('smooth_agents.') "
        "and not m.startswith('smooth_agents.local')))"
    )
    assert printed_by(probe) == (
        "['smooth_agents._version', 'smooth_agents.cancellation', 'smooth_agents.json_schemas', "
        "'smooth_agents.private_folder', 'smooth_agents.protocol', 'smooth_agents.reading', "
        "'smooth_agents.reading.html_markdown', 'smooth_agents.reading.main_content', "
        "'smooth_agents.reading.readable', 'smooth_agents.url_globs']"
    )


def test_playwright_is_imported_only_by_the_local_server() -> None:
    for package in ("smooth_agents", "mcp_server", "langchain_tools"):
        for path, names in imported_modules(package).items():
            if "playwright" in {top(n) for n in names}:
                assert (ROOT / "smooth_agents" / "local") in path.parents, path


def test_importing_the_core_loads_no_browser_and_no_adapter() -> None:
    probe = (
        "import sys, smooth_agents, smooth_agents.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'playwright', 'mcp', 'langchain_core', 'starlette', 'uvicorn'}))"
    )
    assert printed_by(probe) == "[]"


def test_local_package_exports_what_it_declares() -> None:
    import smooth_agents.local as local

    assert sorted(local.__all__) == local.__all__
    for name in local.__all__:
        assert getattr(local, name) is not None


def test_every_public_name_of_the_core_resolves() -> None:
    import smooth_agents

    assert sorted(smooth_agents.__all__) == smooth_agents.__all__
    assert dir(smooth_agents) == smooth_agents.__all__
    for name in smooth_agents.__all__:
        assert getattr(smooth_agents, name) is not None, name
    with pytest.raises(AttributeError):
        _ = smooth_agents.NoSuchThing  # type: ignore[attr-defined]


def test_importing_the_core_loads_no_http_stack_until_a_client_is_used() -> None:
    probe = (
        "import sys, smooth_agents; before = {'httpx2', 'pydantic'} & set(sys.modules); "
        "smooth_agents.SmoothClient; after = {'httpx2', 'pydantic'} <= set(sys.modules); "
        "print(sorted(before), after)"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[] True"


def test_the_core_imports_no_other_package_by_name() -> None:
    # An import by name (importlib, __import__) escapes the import checks above. The core may
    # load its own modules that way (relative names: the lazy exports of smooth_agents); adapter
    # commands are found through entry points (smooth_agents.cli.COMMANDS_GROUP).
    for path in (ROOT / "smooth_agents").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called not in ("import_module", "__import__"):
                continue
            name = node.args[0] if node.args else None
            if isinstance(name, ast.JoinedStr):
                name = name.values[0] if name.values else None
            relative = isinstance(name, ast.Constant) and str(name.value).startswith(".")
            assert relative, f"{path.relative_to(ROOT)}:{node.lineno} imports by name"

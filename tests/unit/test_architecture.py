"""Layering rules from ARCHITECTURE.md, checked on the source: domain, data and services never import streamlit;
nothing loads pickles; DataFrame.to_sql never gets an engine (it would commit partial ingests)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PURE_LAYERS = ("models", "data", "services")


def _python_files(*parts: str) -> list[Path]:
    return sorted(p for part in parts for p in (SRC / part).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", _python_files(*PURE_LAYERS), ids=lambda p: str(p.relative_to(SRC)))
def test_pure_layers_do_not_import_ui_frameworks(path):
    bad = _imports(path) & {"streamlit", "streamlit_authenticator", "fastapi"}
    assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize("path", _python_files("models"), ids=lambda p: str(p.relative_to(SRC)))
def test_domain_does_not_touch_the_database(path):
    assert not (_imports(path) & {"sqlalchemy", "psycopg", "sqlite3"}), path


def test_no_pickle_loading_anywhere():
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("pickle.load", "joblib.load", "cloudpickle", "pd.read_pickle", "dill.load"):
            assert needle not in text, f"{path} uses {needle}"


def test_to_sql_never_gets_an_engine():
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "to_sql":
                con = next((k.value for k in node.keywords if k.arg == "con"), None)
                assert isinstance(con, ast.Name) and con.id == "conn", f"{path}:{node.lineno} to_sql without conn"


def test_pages_do_not_open_database_sessions():
    for path in _python_files("pages"):
        assert not (_imports(path) & {"sqlalchemy"}), path
        assert "src.data.store" not in path.read_text(encoding="utf-8"), path


def _first_page_statement(path: Path) -> ast.stmt:
    """The first top-level statement of a page file that does something: not the docstring, an import, a
    function definition or the module logger."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.Assign) and "getLogger" in ast.unparse(node.value):
            continue
        return node
    raise AssertionError(f"{path} has no statements")


@pytest.mark.parametrize("path", sorted((SRC / "pages").glob("*.py")), ids=lambda p: p.name)
def test_every_page_starts_with_the_router_guard(path):
    """A page file run outside the router (Streamlit's legacy page-folder mode serves a fresh server's first deep
    link by running the file directly) must hand over to the router before any of its own code runs; the guard
    is ``require_page_role``, which does that (browser test: tests/e2e/test_deep_links.py)."""
    first = _first_page_statement(path)
    assert "require_page_role(" in ast.unparse(first), f"{path.name} starts with: {ast.unparse(first)[:80]}"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """Module → the src modules it imports anywhere in the file (function-level imports count: an import moved
    into a function to dodge a circle is still a circle)."""
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                # 'from pkg import mod' imports the module mod; 'from mod import name' imports mod
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                # the longest prefix that is a module of ours: 'src.data.store.write_tx' -> 'src.data.store'
                parts = target.split(".")
                for i in range(len(parts), 0, -1):
                    candidate = ".".join(parts[:i])
                    if candidate in modules:
                        if candidate != name:
                            edges.add(candidate)
                        break
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    """Circles make import order matter and hide layering mistakes (issue #14); a package's ``__init__`` is a
    module like any other."""
    circles = _cycles(_import_graph())
    assert circles == [], circles

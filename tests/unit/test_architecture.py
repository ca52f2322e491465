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

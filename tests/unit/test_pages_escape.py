"""Pages never hand a service message or a stored value to Markdown unescaped (issue 13.10).

``st.success(outcome.message)`` / ``st.error(str(exc))`` put text that names queues, sites, units, people and files
into Markdown: a queue named =HYPERLINK("http://x","y") became a live link. Every such argument goes through
``md()`` (src/ui/text.py). A line may say ``# escaped: why`` (text built with md() elsewhere, or the app's own
words). This scan flags a message call whose text is a bare variable, attribute, subscript,
``str(...)`` or method result instead of a literal, an f-string or ``md(...)``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PAGES = Path(__file__).resolve().parents[2] / "src" / "pages"
#: every page and every shared UI module (the router, the login form, the overtime widgets)
CHECKED = sorted([*PAGES.glob("*.py"), *(PAGES.parent / "ui").glob("*.py")])
MESSAGES = {"markdown", "success", "error", "warning", "info", "caption", "toast", "write", "subheader", "header",
            "title"}
SAFE_CALLS = {"md", "md_list"}


def _raw_arguments(path: Path) -> list[str]:
    found = []
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
            continue
        if node.func.attr not in MESSAGES:
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Constant | ast.JoinedStr | ast.BinOp | ast.IfExp):
            continue
        if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id in SAFE_CALLS:
            continue
        if "# escaped:" in lines[node.lineno - 1]:  # text escaped where it was built, or the app's own words
            continue
        found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)[:90]}")
    return found


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_messages_do_not_interpolate_raw_text(path):
    assert _raw_arguments(path) == []


def test_the_scan_finds_a_raw_message(tmp_path):
    page = tmp_path / "p.py"
    page.write_text("import streamlit as st\nst.error(str(exc))\nst.success(outcome.message)\nst.info(md(x))\n")
    assert len(_raw_arguments(page)) == 2


# ----------------------------------------------------------------------------- one date format (issue 13.14)

def _date_inputs_without_the_shared_format(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "date_input":
            fmt = next((k.value for k in node.keywords if k.arg == "format"), None)
            if not (isinstance(fmt, ast.Name) and fmt.id == "DATE_INPUT_FORMAT"):
                found.append(f"{path.name}:{node.lineno}")
    return found


@pytest.mark.parametrize("path", sorted([*PAGES.glob("*.py"), *(PAGES.parent / "ui").glob("*.py")]),
                         ids=lambda p: p.name)
def test_every_date_input_uses_the_shared_format(path):
    assert _date_inputs_without_the_shared_format(path) == []


def test_the_date_input_scan_finds_a_browser_default(tmp_path):
    page = tmp_path / "p.py"
    page.write_text("st.date_input('Day')\nst.date_input('Day', format=DATE_INPUT_FORMAT)\n")
    assert _date_inputs_without_the_shared_format(page) == ["p.py:1"]

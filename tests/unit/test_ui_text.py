"""User text in Markdown is shown literally: no links, formatting, directives or LaTeX from an uploaded name."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.ui.text import md, md_list


@pytest.mark.parametrize("raw, shown", [
    ('=HYPERLINK("http://x","y")', '=HYPERLINK("http\\://x","y")'),
    ("[click](http://evil)", "\\[click\\](http\\://evil)"),
    ("calls_1 *x* **y**", "calls\\_1 \\*x\\* \\*\\*y\\*\\*"),
    (":red[alarm] :material/home:", "\\:red\\[alarm\\] \\:material/home:"),
    ("$x^2$", "\\$x^2\\$"),
    ("<b>x</b>", "\\<b\\>x\\</b\\>"),
    ("see www.example.org", "see www\\.example.org"),
    ("Haus Lindenhof, 1,234 rows (ok).", "Haus Lindenhof, 1,234 rows (ok)."),  # ordinary text unchanged
    ("two\nlines", "two lines"),
    (None, ""),
])
def test_md_escapes_markup(raw, shown):
    assert md(raw) == shown


@given(st.text(max_size=60))
def test_md_leaves_no_unescaped_markup_character(text):
    out = md(text)
    # every markup character is preceded by a backslash that is itself not escaped
    for m in re.finditer(r"[`*_\[\]<>$~|#]", out):
        backslashes = len(out[:m.start()]) - len(out[:m.start()].rstrip("\\"))
        assert backslashes % 2 == 1, (text, out)
    assert "\n" not in out


def test_md_list_escapes_each_name():
    assert md_list(["a_b", "[c]"]) == "a\\_b, \\[c\\]"

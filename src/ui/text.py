"""User-supplied text inside Streamlit Markdown: shown as typed, never interpreted.

``st.markdown``, ``st.success``/``st.error``/…, ``st.caption``, ``st.metric`` and widget labels all render Markdown
(plus Streamlit's extensions: ``:red[…]`` colours, ``:material/…:`` icons, ``$…$`` LaTeX, bare-URL autolinks). A
queue, site or staff name from an upload such as ``=HYPERLINK("http://x","y")`` or ``[click](http://evil)`` would
become a live link or formatting. Every such value goes through :func:`md` before it is put into Markdown.
"""

from __future__ import annotations

import html
import re

# The characters that start markup inside a line: emphasis, code, links/images, HTML, LaTeX, strike-through,
# tables and headings. Ordinary punctuation (.,;()=") stays as it is, so messages read (and compare) unchanged.
_SPECIAL = re.compile(r"([\\`*_\[\]<>$~|#])")
# ':' before a letter or '/' starts Streamlit's :red[…] / :material/…: directives, emoji and http:// autolinks;
# 'www.' starts a bare-domain autolink.
_COLON = re.compile(r":(?=[A-Za-z/])")
_WWW = re.compile(r"(?i)\b(www)\.")


def md(value: object) -> str:
    """``value`` as text that Markdown shows literally (line breaks become spaces: a name is one line)."""
    text = "" if value is None else str(value)
    text = " ".join(text.splitlines())
    text = _SPECIAL.sub(r"\\\1", text)
    text = _COLON.sub(r"\\:", text)
    return _WWW.sub(r"\1\\.", text)


def md_list(values: object, sep: str = ", ") -> str:
    """Several user-supplied names joined for a Markdown sentence, each escaped."""
    return sep.join(md(v) for v in values)  # type: ignore[union-attr]


def plain(value: object) -> str:
    """User text for plotly titles, tick labels, legend and hover text: plotly renders a subset of HTML there
    (``<a href>``, ``<b>``, ``<br>``), so a staff or site name from an upload must not become a link or markup."""
    return html.escape("" if value is None else str(value), quote=False)

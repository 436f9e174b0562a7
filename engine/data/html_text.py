"""HTML to plain text: the one place every text field of every format loses its markup.

Shop exports and product feeds carry descriptions (and sometimes titles or brands) as HTML:
tags, comments such as `<!--StartFragment -->`, entities such as `&amp;` or `&nbsp;`. The
visible text is what a shopper reads and what the text encoder should read, so every import
keeps only that: tags and comments dropped (with the contents of `<script>` and `<style>`),
entities decoded, a block tag (`<p>`, `<br>`, `<li>` ...) read as a space, runs of whitespace
collapsed. Text without markup is only stripped at its ends.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd

# a tag, a comment, a declaration or an entity: only then is the text parsed as HTML
_MARKUP = re.compile(r"<[A-Za-z!/?]|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});")
_SPACES = re.compile(r"\s+")
_BLOCK = frozenset({"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
                    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
                    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
                    "td", "th", "tr", "ul"})
_HIDDEN = frozenset({"script", "style", "template"})


class _TextCollector(HTMLParser):
    """Collects the visible text nodes of an HTML fragment (comments are never collected)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA["):  # a CDATA section is text
            self.handle_data(data.removeprefix("CDATA["))


def html_to_text(fragment: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed (text without markup is only
    stripped)."""
    if not _MARKUP.search(fragment):
        return fragment.strip()
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    return _SPACES.sub(" ", "".join(collector.parts)).strip()


def strip_html(values: pd.Series) -> tuple[pd.Series, int]:
    """`html_to_text` over a text column, and how many cells held markup or entities."""
    text = values.fillna("").astype(str)
    marked = text.str.contains(_MARKUP, regex=True)
    cleaned = text.str.strip()
    if marked.any():
        cleaned[marked] = text[marked].map(html_to_text)
    return cleaned, int(marked.sum())


def html_column(values: pd.Series) -> pd.Series:
    """A text column without its markup (`strip_html` without the count)."""
    return strip_html(values)[0]

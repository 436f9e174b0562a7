"""Small HTML building blocks shared by pages: ranked-list cards, rank-change badges, CSS.

Pure string builders (no `st.*` widgets; labels from `t()`): a page passes the HTML to
`st.markdown(..., unsafe_allow_html=True)`. Every value that comes from data is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from dashboard.charts import category_colors
from dashboard.i18n import say, t

CSS = """
<style>
.block-container {padding-top: 2.2rem; padding-bottom: 2rem; max-width: 1400px;}
.prism-list {display: flex; flex-direction: column; gap: 6px;}
.prism-card {display: flex; gap: 10px; align-items: flex-start; padding: 8px 10px;
  border: 1px solid #ECE9F6; border-radius: 10px; background: #FFFFFF;}
.prism-card:hover {border-color: #CFC5F7;}
.prism-rank {min-width: 26px; height: 26px; border-radius: 8px; background: #F1EDFD;
  color: #4B2FC2; font-weight: 700; font-size: 0.85rem; display: flex;
  align-items: center; justify-content: center;}
.prism-body {flex: 1; min-width: 0;}
.prism-title {font-weight: 600; font-size: 0.92rem; line-height: 1.25; color: #1E1B2E;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap;}
.prism-meta {font-size: 0.78rem; color: #6B6F80; margin-top: 2px;}
.prism-chip {display: inline-block; padding: 0 7px; border-radius: 999px; font-size: 0.72rem;
  color: #fff; margin-right: 6px; line-height: 1.5;}
.prism-why {font-size: 0.76rem; color: #55586A; margin-top: 3px; font-style: italic;}
.prism-move {min-width: 44px; text-align: right; font-weight: 700; font-size: 0.8rem;}
.prism-up {color: #17956F;} .prism-down {color: #D2455B;} .prism-same {color: #A0A3B1;}
.prism-new {color: #6C4AE0;}
.prism-head {font-weight: 700; font-size: 1rem; margin: 0 0 6px 2px; color: #1E1B2E;}
.prism-sub {font-weight: 400; color: #6B6F80; font-size: 0.82rem;}
div[data-testid="stMetric"] {background: #F8F6FE; border: 1px solid #ECE9F6;
  border-radius: 12px; padding: 10px 14px;}
</style>
"""
# Streamlit draws its file uploader's own words (the "Upload" button, "200MB per file • CSV…",
# "Drag and drop files here") in English and has no setting for them: the studio writes its
# words over them with CSS, keyed on the uploader's test ids (the drop overlay is the
# dropzone's one child div without one). The limit and the formats are in the page's caption
# and the label's help, so the instructions line is hidden.
UPLOADER_CSS = """<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {{
  font-size: 0;}}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {{
  content: {button}; font-size: 0.875rem;}}
[data-testid="stFileUploaderDropzoneInstructions"] {{display: none;}}
[data-testid="stFileUploaderDropzone"] > div:not([data-testid]) > span {{font-size: 0;}}
[data-testid="stFileUploaderDropzone"] > div:not([data-testid]) > span::after {{
  content: {drop}; font-size: 0.875rem;}}
</style>"""


def uploader_css() -> str:
    """The CSS that gives Streamlit's file uploader the studio's words (see UPLOADER_CSS)."""
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return UPLOADER_CSS.format(button=quoted(t("import.browse")),
                               drop=quoted(t("import.drop_here")))


def rank_changes(before: Sequence[str], after: Sequence[str]) -> list[str]:
    """Per item of `after`, its move relative to `before`: '↑2', '↓1', '=' or 'added'
    (an item the relevance-only list does not hold)."""
    position = {item: index for index, item in enumerate(before)}
    moves = []
    for index, item in enumerate(after):
        if item not in position:
            moves.append(ADDED)
            continue
        delta = position[item] - index
        moves.append(f"↑{delta}" if delta > 0 else f"↓{-delta}" if delta < 0 else "=")
    return moves


ADDED = "added"  # the move's value; shown as `components.added` in the active language


def _move_class(move: str) -> str:
    if move == ADDED:
        return "prism-new"
    if move.startswith("↑"):
        return "prism-up"
    return "prism-down" if move.startswith("↓") else "prism-same"


def _move_tip(move: str) -> str:
    return html.escape(t("components.added_tip" if move == ADDED else "components.move_tip"))


def _move_text(move: str) -> str:
    return html.escape(t("components.added")) if move == ADDED else move


def _price(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return "" if number != number else f" · ${number:,.2f}"


def ranked_list_html(table: pd.DataFrame, heading: str, subheading: str = "",
                     moves: Sequence[str] | None = None, explain: bool = False,
                     list_id: str = "", categories: Sequence[str] | None = None) -> str:
    """A ranked list as cards: rank, title, category chip, price, move badge, explanation.

    `categories` (all the run's categories) keeps a category's chip colour the same in every
    list, and different from every other category's."""
    colors = (category_colors(table["category"].astype(str).unique(), categories)
              if len(table) else {})
    cards = []
    for row_number, row in enumerate(table.itertuples(index=False)):
        category = str(row.category)
        move = moves[row_number] if moves is not None else ""
        why = say(getattr(row, "explanation", "")) if explain else ""
        cards.append(
            '<div class="prism-card">'
            f'<div class="prism-rank">{int(row.rank)}</div>'
            '<div class="prism-body">'
            f'<div class="prism-title" title="{html.escape(str(row.title))}">'
            f"{html.escape(str(row.title))}</div>"
            f'<div class="prism-meta"><span class="prism-chip" '
            f'style="background:{colors.get(category, "#888")}">{html.escape(category)}</span>'
            f"{html.escape(str(row.item_id))}{_price(getattr(row, 'price', None))}</div>"
            + (f'<div class="prism-why">{html.escape(str(why))}</div>' if why else "")
            + "</div>"
            + (f'<div class="prism-move {_move_class(move)}" title="{_move_tip(move)}">'
               f"{_move_text(move)}</div>" if move else "")
            + "</div>"
        )
    sub = f' <span class="prism-sub">{html.escape(subheading)}</span>' if subheading else ""
    empty = html.escape(t("components.no_items"))
    body = "".join(cards) or f'<div class="prism-meta">{empty}</div>'
    return (f'<div id="{html.escape(list_id)}"><div class="prism-head">{html.escape(heading)}'
            f'{sub}</div><div class="prism-list">{body}</div></div>')

"""Pickers over many shoppers or items: a find box, then only the best matches go to the browser.

A selectbox sends every option to the browser on each rerun; a large run has hundreds of
thousands of shoppers or items. These pickers send the current choice plus up to
`engine.serving.lookup.PICK_LIMIT` matches of what was typed in the find box, searched here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from dashboard.i18n import t
from engine.serving.lookup import IdFinder, find_ids


def find_box(container: Any, key: str, what: str) -> str:
    """The find box above a picker; `what` is "shopper" or "item"."""
    return container.text_input(t(f"pickers.find_{what}"), key=key,
                                placeholder=t("pickers.placeholder"))


def options(ids: Sequence[str] | IdFinder, query: str, keep: Sequence[str] = (),
            titles: Sequence[str] | None = None) -> list[str]:
    """`keep` (the current choice) first, then the matches of `query` (from the finder's
    index when `ids` is a catalogue's `IdFinder`)."""
    return _kept_first(keep, find_ids(ids, query, titles))


def _kept_first(keep: Sequence[str], found: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*(str(k) for k in keep if k), *found]))


def matching(ids: Sequence[str] | IdFinder, key: str, container: Any = st, what: str = "shopper",
             keep: Sequence[str] = (), titles: Sequence[str] | None = None) -> list[str]:
    """A find box in `container` and the options it leaves; a query that matches nothing is
    said under the box (the picker then offers only the current choice)."""
    query = find_box(container, key, what)
    found = find_ids(ids, query, titles)
    if query.strip() and not found:
        container.caption(t(f"pickers.no_{what}", query=query.strip()))
    return _kept_first(keep, found)


def titles_of(catalogue: Any, ids: Sequence[str]) -> dict[str, str]:
    """id → title for just these item ids (those shown), never for the whole catalogue."""
    ids = [str(i) for i in ids]
    return {i: str(catalogue.columns.titles[p]) for i, p in zip(
        ids, catalogue.item_index.get_indexer(ids), strict=True) if p >= 0}

"""Answers for a shopper's question: the FAQ entries that answer it and the products it asks
about, side by side, each with why it matched.

Products come from the Recommender's own search (matched by meaning and words, blended with
the shopper's affinity, diversified by the chosen method); a product linked by a shown FAQ
entry says so. FAQ entries rank by their match to the question (`engine.text.faq_match`),
blended with the shopper's affinity when the shopper is known: the share of the shopper's
history among the entry's linked products and categories, by the same weight as search.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.core.columns import CATEGORY, ITEM_ID
from engine.core.errors import RequestError
from engine.core.limits import MAX_K, MAX_QUESTION_CHARS
from engine.core.messages import Explanation, Message
from engine.data.faq import (
    ANSWER,
    FAQ_CATEGORIES,
    FAQ_ID,
    FAQ_ITEMS,
    QUESTION,
    load_faq,
    split_list,
)
from engine.rerank.scaling import min_max
from engine.runs.data import run_data_path
from engine.serving.recommender import SEARCH_USER_BLEND, Recommender
from engine.serving.results import Recommendations, object_column
from engine.text.faq_match import FaqIndex

FAQ_COLUMNS = ["rank", FAQ_ID, QUESTION, ANSWER, "relevance", "text_match", "affinity",
               FAQ_ITEMS, FAQ_CATEGORIES, "explanation"]


@dataclass(frozen=True)
class Answer:
    """The FAQ entries (a table, best first) and the products answering one question."""

    faq: pd.DataFrame
    products: Recommendations
    notice: str | None
    good_faq_match: bool

    def records(self) -> dict:
        """JSON-able: {"faq": [...], "products": [...], "notice": ...}."""
        faq = json.loads(self.faq.to_json(orient="records", force_ascii=False))
        for row in faq:
            row[FAQ_ITEMS], row[FAQ_CATEGORIES] = (split_list(row[FAQ_ITEMS]),
                                                   split_list(row[FAQ_CATEGORIES]))
        return {"faq": faq, "products": self.products.records(), "notice": self.notice,
                "products_notice": self.products.notice, "good_faq_match": self.good_faq_match}


def check_question(question: object) -> str:
    """The question stripped; RequestError when it is empty or too long."""
    if not isinstance(question, str) or not question.strip():
        raise RequestError(Message("empty_question"))
    if len(question) > MAX_QUESTION_CHARS:
        raise RequestError(Message("long_question", n=len(question), most=MAX_QUESTION_CHARS))
    return question.strip()


class Asker:
    """Answer questions from one run's catalogue and its data's FAQ (None: products only)."""

    def __init__(self, recommender: Recommender, faq: pd.DataFrame | None = None) -> None:
        self.recommender = recommender
        if faq is None:
            faq = run_faq(recommender)
        self.index = None if faq is None or faq.empty else FaqIndex(
            faq, recommender._text, cache_dir=recommender.run.path)

    def ask(self, question: str, n_faq: int = 3, **fields: Any) -> Answer:
        """The top `n_faq` FAQ entries and the top-`k` products for `question`; the fields
        (user_id, k, method, diversity_weight, include_unavailable) are the search's."""
        question = check_question(question)
        n_faq = _check_n(n_faq)
        products = self.recommender.search(question, **fields)
        if self.index is None:
            return Answer(pd.DataFrame(columns=FAQ_COLUMNS), products, Message("no_faq"), False)
        faq, found = self._faq_table(question, fields.get("user_id"), n_faq)
        notice = None if found.good else Message(
            "no_good_faq", query=repr(question), best=found.best, ceiling=found.ceiling)
        return Answer(faq, _with_faq_links(products, faq), notice, found.good)

    def _faq_table(self, question: str, user_id: str | None, n: int):  # noqa: ANN202
        assert self.index is not None
        found = self.index.match(question)
        relevance = min_max(found.similarity)
        affinity = self._affinity(user_id)
        if affinity is not None:
            relevance = (1 - SEARCH_USER_BLEND) * relevance + SEARCH_USER_BLEND * affinity
        order = np.lexsort((np.arange(len(relevance)), -relevance))[:n]
        faq = self.index.faq.iloc[order].reset_index(drop=True)
        table = pd.DataFrame({
            "rank": np.arange(1, len(order) + 1), FAQ_ID: faq[FAQ_ID], QUESTION: faq[QUESTION],
            ANSWER: faq[ANSWER], "relevance": relevance[order],
            "text_match": found.similarity[order],
            "affinity": np.zeros(len(order)) if affinity is None else affinity[order],
            FAQ_ITEMS: faq[FAQ_ITEMS], FAQ_CATEGORIES: faq[FAQ_CATEGORIES]})
        table["explanation"] = [_faq_reason(row, affinity is not None)
                                for row in table.itertuples(index=False)]
        return table, found

    def _affinity(self, user_id: str | None) -> np.ndarray | None:
        """Per entry, the share of the shopper's history among its linked products or
        categories; None when the shopper is unknown (or none is given)."""
        catalogue = self.recommender.catalogue
        user = catalogue.user_position(user_id)
        past = catalogue.user_items[user] if user >= 0 else ()
        if not len(past):
            return None
        ids = catalogue.columns.ids[past]
        paths = catalogue.items[CATEGORY].fillna("").astype(str).to_numpy()[past] \
            if CATEGORY in catalogue.items else np.array([""] * len(past))
        return np.array([_linked_share(ids, paths, items, categories) for items, categories
                         in zip(self.index.faq[FAQ_ITEMS], self.index.faq[FAQ_CATEGORIES],
                                strict=True)])


def _linked_share(ids: np.ndarray, paths: np.ndarray, items: str, categories: str) -> float:
    linked, prefixes = set(split_list(items)), split_list(categories)
    hits = [i in linked or any(prefix in path for prefix in prefixes)
            for i, path in zip(ids, paths, strict=True)]
    return float(np.mean(hits)) if hits else 0.0


def _faq_reason(row, personal: bool) -> Explanation:  # noqa: ANN001 - a table row
    parts = [Message("text_match", score=row.text_match)]
    if row.item_ids:
        parts.append(Message("faq_products", items=", ".join(split_list(row.item_ids)[:3])))
    if row.categories:
        parts.append(Message("faq_categories", labels=", ".join(split_list(row.categories))))
    if personal and row.affinity > 0:
        parts.append(Message("faq_affinity", share=row.affinity))
    return Explanation(parts)


def _with_faq_links(products: Recommendations, faq: pd.DataFrame) -> Recommendations:
    """Products linked by a shown FAQ entry say which one, after their own reasons."""
    links: dict[str, str] = {}
    for faq_id, items in zip(faq[FAQ_ID], faq[FAQ_ITEMS], strict=True):
        for item in split_list(items):
            links.setdefault(item, str(faq_id))
    columns = products.columns
    if not links or not len(columns[ITEM_ID]):
        return products
    texts = object_column([
        Explanation([*getattr(text, "parts", [text]), Message("faq_links", faq=links[item])])
        if item in links else text
        for item, text in zip(columns[ITEM_ID].astype(str), columns["explanation"], strict=True)])
    return dataclasses.replace(products, columns={**columns, "explanation": texts})


def _check_n(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_K:
        raise RequestError(f"n_faq must be a whole number from 1 to {MAX_K}, got {n!r}")
    return n


def run_faq(recommender: Recommender) -> pd.DataFrame | None:
    """The FAQ imported with the data the run was trained on, if any."""
    folder = run_data_path(recommender.run.meta)
    return None if folder is None else load_faq(folder)

"""The synthetic shop's FAQ: shop-wide questions, one per department, one per category.

Written from the shop's own vocabulary (`engine.data.synthetic_vocab`), so the entries talk
about the products the shop sells: a department's entry states its selling points, a
category's entry names what the category is for and links its three best-sellers (most
bought, ties by id). The table has the raw column names an exported FAQ has (`id`,
`question`, `answer`, `product_ids`, `categories`) and goes through the same cleaning as an
imported one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engine.core.columns import CATEGORY, CATEGORY_SEP, EVENT, ITEM_ID
from engine.data.faq import clean_faq, write_faq
from engine.data.synthetic_vocab import DEPARTMENTS

LINKED = 3  # best-sellers linked from a category's entry
SHOP_WIDE = (
    ("How long does delivery take?",
     "Orders placed before 2 pm ship the same working day; standard delivery takes 2-4 "
     "working days and express delivery arrives the next working day."),
    ("How do I return an item?",
     "Unused items can be sent back within 30 days for a full refund, including ones that do "
     "not fit; start a return from your orders page and print the free returns label."),
    ("Which payment methods do you accept?",
     "We accept credit and debit cards, PayPal and gift cards; you are charged when your "
     "order ships."),
    ("Can I change or cancel my order?",
     "You can change or cancel an order until it ships: open it from your orders page, or "
     "contact us with the order number."),
    ("Do you offer gift wrapping?",
     "Yes: choose gift wrapping at checkout and add a message; prices are left off the "
     "packing slip."),
)


def _words(text: object) -> list[str]:
    return str(text).split("|")


def _listed(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


def _best_sellers(items: pd.DataFrame, events: pd.DataFrame | None) -> dict[str, list[str]]:
    """Per category path, its LINKED most-bought item ids (ties and no events: by id)."""
    bought = pd.Series(dtype="int64")
    if events is not None and len(events):
        bought = events.loc[events[EVENT] == "purchase", ITEM_ID].value_counts()
    ranked = items[[ITEM_ID, CATEGORY]].assign(
        sold=items[ITEM_ID].map(bought).fillna(0)).sort_values(
        ["sold", ITEM_ID], ascending=[False, True])
    return {str(path): [str(i) for i in group[ITEM_ID].head(LINKED)]
            for path, group in ranked.groupby(CATEGORY, sort=False)}


def synthetic_faq(items: pd.DataFrame, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """The FAQ of the synthetic shop whose items (and events, for best-sellers) are given."""
    best = _best_sellers(items, events)
    rows = [(f"S{n + 1}", question, answer, "", "")
            for n, (question, answer) in enumerate(SHOP_WIDE)]
    for d, (department, info) in enumerate(DEPARTMENTS.items()):
        leaves = info["leaves"]
        assert isinstance(leaves, dict)
        features = _words(info["features"])
        rows.append((f"D{d + 1}", f"What should I know about your {department.lower()} range?",
                     f"Our {department.lower()} range covers {_listed(list(leaves))}, from "
                     f"brands such as {_listed(_words(info['brands'])[:3])}. Highlights: "
                     f"{'; '.join(features)}.", "", department))
        for c, (leaf, (nouns, uses, price)) in enumerate(leaves.items()):
            path = f"{department}{CATEGORY_SEP}{leaf}"
            rows.append((f"D{d + 1}C{c + 1}", f"Which {leaf.lower()} do you recommend for "
                         f"{_words(uses)[0]}?",
                         f"For {_listed(_words(uses))}, shoppers choose our "
                         f"{_listed(_words(nouns))}. Most cost around ${price:.0f}; the linked "
                         "products are this category's best-sellers.",
                         "|".join(best.get(path, [])), path))
    return pd.DataFrame(rows, columns=["id", "question", "answer", "product_ids", "categories"])


def write_synthetic_faq(folder: Path, items: pd.DataFrame,
                        events: pd.DataFrame | None = None) -> Path:
    """Clean the synthetic shop's FAQ like an imported one and write it into `folder`."""
    faq, count = clean_faq(synthetic_faq(items, events), "synthetic shop FAQ")
    return write_faq(folder, faq, count)

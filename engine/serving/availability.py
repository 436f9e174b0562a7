"""What can be bought now: items out of stock or not on sale (draft, archived) are left out.

Every importer keeps the shop's own words in two item columns: `availability` (Merchant
Center's `in_stock`, `out_of_stock`, `preorder`, `backorder`; Shopify and WooCommerce stock)
and `status` (Shopify's `active`, `draft`, `archived`; WooCommerce's `published`, `private`,
`draft`). Serving leaves out the items these columns say cannot be bought, unless a request
or a policy asks for them (`include_unavailable`). Pre-orders and back-orders can be bought.
A catalogue without these columns has every item available.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.messages import render

AVAILABILITY = "availability"
STATUS = "status"
NOT_IN_STOCK = frozenset({"out_of_stock", "out of stock", "outofstock", "sold_out", "sold out",
                          "discontinued"})
NOT_ON_SALE = frozenset({"draft", "archived", "private", "unpublished", "inactive", "trash"})
WHY = "out of stock, draft or archived"


def _words(items: pd.DataFrame, column: str) -> pd.Series:
    if column not in items.columns:
        return pd.Series("", index=items.index)
    return items[column].fillna("").astype(str).str.strip().str.lower()


def unavailable_mask(items: pd.DataFrame) -> np.ndarray:
    """(n_items,) True where `availability` or `status` says the item cannot be bought now."""
    out = _words(items, AVAILABILITY).isin(NOT_IN_STOCK) | _words(items, STATUS).isin(NOT_ON_SALE)
    return out.to_numpy(dtype=bool)


def left_out_note(n_left_out: int) -> str:
    """The line the CLI prints when unavailable products were left out."""
    return render("left out {n:,} {n:product|products} that cannot be bought now ({why}); "
                  "--include-unavailable shows them", n=n_left_out, why=WHY)


def left_out_positions(unavailable: np.ndarray, include_unavailable: bool) -> np.ndarray:
    """The positions of unavailable items a list leaves out: all of them, or none when
    the request or policy (their models check the flag) includes them."""
    return np.empty(0, dtype=np.int64) if include_unavailable else unavailable

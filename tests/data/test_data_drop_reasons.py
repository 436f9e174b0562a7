"""Every reason a reader in engine.data drops rows for carries a message code, so the studio
says it in its own language, while the English the CLI prints stays word for word."""

from __future__ import annotations

from engine.core.messages import Message
from engine.data import loading, order_exports, order_lines, shopify, sources, woocommerce
from engine.data.reconcile import UNACCOUNTED, TableCount

READER_REASONS = [
    *sources.FOLDED.values(), "rows folded", "lines of a product already listed",
    order_exports.REPEATED, "cancelled orders", *shopify.NOT_PURCHASES.values(),
    *woocommerce.NOT_PURCHASES.values(), *loading.ITEM_DROPS.values(),
    *loading.EVENT_DROPS.values(), UNACCOUNTED,
    *(getattr(order_lines, name) for name in ("CANCELLED", "RETURNS", "SERVICE", "NO_CUSTOMER",
                                              "NO_QUANTITY", "REPEATED", "IN_ANOTHER_FILE")),
]


def test_every_drop_reason_keeps_a_code_and_its_english() -> None:
    count = TableCount("events", "orders.csv", read=10 * len(READER_REASONS))
    for reason in READER_REASONS:
        count.drop(reason, 1)
    assert len(count.dropped) == len(set(READER_REASONS))
    for reason in count.dropped:
        assert isinstance(reason, Message) and reason.code.startswith("drop_"), reason
    assert set(count.dropped) == set(READER_REASONS)  # the same English words


def test_the_cli_line_reads_as_before() -> None:
    count = TableCount("events", "orders.csv", read=10)
    count.drop("cancelled orders", 2)
    count.drop(order_lines.REPEATED, 1)
    count.settle(6)
    assert str(count.line()) == (
        "events (orders.csv): 10 read = 6 kept + 2 cancelled orders + 1 repeated lines of a "
        "product in one order (quantities added) + 1 unaccounted")
    assert count.dropped["cancelled orders"] == 2  # plain English still finds the reason

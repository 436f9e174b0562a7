"""One function removes HTML (tags, comments, entities) from every text field of every format."""

from __future__ import annotations

import pandas as pd
import shop_exports as shops

from engine.data import build_dataset
from engine.data.html_text import html_to_text, strip_html
from engine.data.sources import read_source

FRAGMENT = ("<!--StartFragment --><p>Pamuklu <b>tişört</b>&nbsp;&amp; şort</p>"
            "<ul><li>Yıkama 30°</li></ul><!--EndFragment-->")
PLAIN = "Pamuklu tişört & şort Yıkama 30°"


def test_tags_comments_entities_and_hidden_text_go():
    assert html_to_text(FRAGMENT) == PLAIN
    assert html_to_text("<style>p{}</style>x<br>y<script>z()</script>") == "x y"
    assert html_to_text("Cr<b>è</b>me") == "Crème"  # an inline tag splits no word
    assert html_to_text("a &lt; b") == "a < b"


def test_text_without_markup_is_left_as_it_is():
    for text in ("AT&T phone", "5 < 6 and 7 > 2", "Tom  and   Jerry", "100% <-> 50%"):
        assert html_to_text(text) == text
    cleaned, changed = strip_html(pd.Series(["plain", "<b>bold</b>", None]))
    assert cleaned.tolist() == ["plain", "bold", ""] and changed == 1


def test_every_text_field_of_a_feed_is_plain(tmp_path):
    rows = [list(r) for r in shops.FEED_ROWS]
    rows[0][1] = "<b>Trail</b> Shoe"
    rows[0][2] = FRAGMENT
    rows[1][8] = "Peak &amp; Co"
    folder = tmp_path / "feed"
    folder.mkdir()
    feed = shops._write_csv(folder / "products.tsv", shops.FEED_HEADER, rows, sep="\t")
    events = shops._write_csv(folder / "events.csv", shops.EVENTS_HEADER, shops.EVENTS_ROWS)
    source = read_source([feed, events])
    dataset = build_dataset(source.raw.items, source.raw.events)
    items = dataset.items.set_index("item_id")
    assert items.loc["SKU-1", "title"] == "Trail Shoe"
    assert items.loc["SKU-1", "description"] == PLAIN
    assert items.loc["SKU-2", "brand"] == "Peak & Co"
    assert dataset.report.html_removed == 3


def test_shop_exports_use_the_same_function(tmp_path):
    for writer in (shops.write_shopify, shops.write_woocommerce):
        source = read_source(writer(tmp_path / writer.__name__))
        described = source.raw.items["description"]
        assert not described.str.contains("<|&amp;", regex=True).any()
        assert described.tolist() == [html_to_text(d) for d in described]

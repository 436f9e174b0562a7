"""The synthetic shop's FAQ: written with the shop (CLI and starter), cleaned like an imported
one, its category entries linking that category's best-sellers, and answering paraphrased
questions through Ask."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.cli.main import main
from engine.core.columns import CATEGORY, EVENT, ITEM_ID
from engine.data import generate_shop
from engine.data.faq import FAQ_FILE, clean_faq, load_faq, split_list
from engine.data.synthetic_faq import synthetic_faq
from engine.serving.ask import Asker
from engine.training.presets import ensure_synthetic_shop

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def shop() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_shop(n_items=300, n_users=200, seed=3)


def test_every_entry_survives_cleaning_and_ids_are_unique(shop) -> None:  # noqa: ANN001
    faq, count = clean_faq(synthetic_faq(*shop), "synthetic")
    assert len(faq) == count.read == count.kept and not count.dropped
    assert faq["faq_id"].is_unique
    assert (faq["question"].str.len() > 10).all() and (faq["answer"].str.len() > 40).all()


def test_a_category_entry_links_its_three_most_bought_products(shop) -> None:  # noqa: ANN001
    items, events = shop
    bought = events.loc[events[EVENT] == "purchase", ITEM_ID].value_counts()
    faq = synthetic_faq(items, events)
    linked = faq[faq["product_ids"] != ""]
    assert len(linked) >= 30
    for _, entry in linked.iterrows():
        ids = split_list(entry["product_ids"])
        in_category = items.loc[items[CATEGORY] == entry["categories"], ITEM_ID]
        assert 1 <= len(ids) <= 3 and set(ids) <= set(in_category)
        sold = [int(bought.get(i, 0)) for i in ids]
        assert sold == sorted(sold, reverse=True)
        others = set(in_category) - set(ids)
        assert all(bought.get(i, 0) <= sold[-1] for i in others)


def test_the_starter_shop_and_the_cli_write_the_faq(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    folder = ensure_synthetic_shop(n_items=60, n_users=30, seed=1)
    written = load_faq(folder)
    assert written is not None and len(written) > 40
    (folder / FAQ_FILE).unlink()  # a shop made before the FAQ gets one from its own tables
    ensure_synthetic_shop(n_items=60, n_users=30, seed=1)
    again = load_faq(folder)
    assert again is not None
    pd.testing.assert_frame_equal(again, written)

    assert main(["data", "generate", "--out", str(tmp_path / "cli"), "--items", "60",
                 "--users", "30", "--seed", "1"]) == 0
    assert "FAQ" in capsys.readouterr().out
    cli = load_faq(tmp_path / "cli")
    assert cli is not None
    pd.testing.assert_frame_equal(cli, written)


@pytest.mark.parametrize(("question", "expected"), [
    ("when will my parcel arrive", "S1"),
    ("can I send something back and get my money back", "S2"),
    ("what frying pan should I buy to sear a steak", "D1C1"),
])
def test_ask_answers_from_the_synthetic_faq(twotower_service, encoder_cache,  # noqa: ANN001
                                            shop, question, expected) -> None:
    items = twotower_service.catalogue.items
    answer = Asker(twotower_service, clean_faq(synthetic_faq(items), "synthetic")[0]).ask(
        question, k=3, n_faq=3)
    assert answer.faq.loc[0, "faq_id"] == expected

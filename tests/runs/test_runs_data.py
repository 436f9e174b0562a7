"""A run's data read back: its dataset with its data settings and cold-start items, its split."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.core.columns import ITEM_ID, TITLE
from engine.core.errors import DataError
from engine.runs.data import load_run_dataset, load_run_split, run_data_path, with_added_items

N_ITEMS, N_USERS = 60, 40


@pytest.fixture(scope="module")
def shop_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A popularity run on a small synthetic shop, trained on a random split with seed 7,
    its run.json naming its data folder and data settings as `prism train` writes them."""
    from engine.core.config import DataConfig
    from engine.data import build_dataset, generate_shop, write_tables
    from engine.models.registry import get_model_class
    from engine.runs.data import prepare_data
    from engine.runs.store import save_run

    root = tmp_path_factory.mktemp("run_data")
    items, events = generate_shop(n_items=N_ITEMS, n_users=N_USERS, seed=3)
    write_tables(items, events, root / "shop")
    config = DataConfig(category_depth=1)
    dataset = build_dataset(items, events, name="shop", config=config)
    _, data = prepare_data(dataset, "random", seed=7)
    model = get_model_class("pop")().fit(data)
    meta = {"dataset": "shop", "data_path": str(root / "shop"), "split": "random", "seed": 7,
            "data_config": config.to_dict()}
    run = save_run(root / "run", model=model, data=data, items=dataset.items, meta=meta)
    return run, root / "shop"


def _meta(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def test_the_split_is_the_one_the_run_was_trained_on(shop_run: tuple[Path, Path]) -> None:
    from engine.data import load_dataset
    from engine.runs.data import prepare_data
    from engine.runs.store import load_run

    run_dir, shop = shop_run
    split, data = load_run_split(_meta(run_dir), run_dir)
    run = load_run(run_dir)
    assert data.item_ids == run.item_ids and data.user_ids == run.user_ids
    assert data.item_categories.shape[1] == len(run.category_names)  # the run's depth, not 2
    other, _ = prepare_data(load_dataset(shop), "random", seed=8)
    assert not split.test.equals(other.test)  # the seed matters, and the run's was used
    again, _ = load_run_split(_meta(run_dir), run_dir)
    pd.testing.assert_frame_equal(split.test, again.test)


def test_a_protocol_override_and_another_folder(shop_run: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    run_dir, shop = shop_run
    split, _ = load_run_split(_meta(run_dir), run_dir, protocol="leave-last-out")
    last = split.test.groupby("user_id").size()
    assert (last == 1).all()  # leave-last-out holds out one item per shopper
    moved = tmp_path / "moved"
    shutil.copytree(shop, moved)
    meta = {**_meta(run_dir), "data_path": str(tmp_path / "deleted")}
    assert run_data_path(meta) is None and load_run_split(meta, run_dir) is None
    assert load_run_split(meta, run_dir, data_path=moved) is not None
    with pytest.raises(DataError):
        load_run_dataset(meta, data_path=tmp_path / "nowhere")


def test_cold_start_items_join_the_catalogue_in_the_run_order(shop_run: tuple[Path, Path],
                                                              tmp_path: Path) -> None:
    run_dir, _ = shop_run
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    items = pd.read_parquet(copy / "items.parquet")
    added = pd.DataFrame({ITEM_ID: ["new-1", "new-2"], TITLE: ["Lamp", "Desk"],
                          "not_in_data": [1, 2]})
    pd.concat([items, added], ignore_index=True).to_parquet(copy / "items.parquet")
    dataset = load_run_dataset(_meta(copy), copy)
    assert dataset.items[ITEM_ID].tolist()[-2:] == ["new-1", "new-2"]
    assert "not_in_data" not in dataset.items.columns
    _, data = load_run_split(_meta(copy), copy)
    assert data.n_items == N_ITEMS + 2
    from engine.runs.data import load_run_split_report

    assert load_run_split_report(_meta(copy), copy)[3] == 2  # the items the data set lacks
    assert load_run_dataset(_meta(copy)).items[ITEM_ID].size == N_ITEMS  # without the run


def test_with_added_items_keeps_a_dataset_that_lacks_nothing(shop_run: tuple[Path, Path]) -> None:
    run_dir, _ = shop_run
    dataset = load_run_dataset(_meta(run_dir))
    assert with_added_items(dataset, dataset.items) is dataset


def test_heldout_by_user_lists_validation_then_test_items() -> None:
    from engine.data import Split

    frame = pd.DataFrame({"user_id": ["a", "b", "a"], "item_id": ["1", "2", "3"]})
    split = Split(train=frame.iloc[:0], valid=frame.iloc[:2], test=frame.iloc[2:])
    assert split.heldout_by_user() == {"a": ["1", "3"], "b": ["2"]}
    empty = Split(train=frame, valid=frame.iloc[:0], test=frame.iloc[:0])
    assert empty.heldout_by_user() == {}


def test_sweep_and_exposure_read_the_run_data_the_same_way(shop_run: tuple[Path, Path]) -> None:
    from engine.evaluation.sweep import train_data_for
    from engine.exposure.context import ExposureContext
    from engine.runs.store import load_run

    run_dir, _ = shop_run
    run = load_run(run_dir)
    _, data = load_run_split(run.meta, run_dir)
    via_sweep = train_data_for(run, load_run_dataset(run.meta))
    context = ExposureContext.load(run)
    for other in (via_sweep, context.data):
        np.testing.assert_array_equal(other.test[["user_idx", "item_idx"]].to_numpy(),
                                      data.test[["user_idx", "item_idx"]].to_numpy())


def test_one_read_gives_the_split_the_cleaning_report_and_shares_the_run_categories(
        shop_run: tuple[Path, Path]) -> None:
    """The studio reads the data once for the split and the cleaning report, and the split
    takes the run's item × category table instead of building an equal one again."""
    from engine.runs.data import load_run_split_report
    from engine.runs.store import load_run

    run_dir, _ = shop_run
    run = load_run(run_dir)
    known = (pd.Index(run.item_ids), np.asarray(run.item_categories, np.float32),
             list(run.category_names))
    split, data, rows, n_added = load_run_split_report(_meta(run_dir), run_dir, known)
    plain_split, plain = load_run_split(_meta(run_dir), run_dir)
    pd.testing.assert_frame_equal(split.test, plain_split.test)
    np.testing.assert_allclose(data.item_categories, plain.item_categories, atol=1e-7)
    assert data.category_names == plain.category_names
    assert data.item_categories is known[1]  # the run's table itself, not a copy
    assert rows == load_run_dataset(_meta(run_dir)).report.rows()
    assert n_added == 0  # no cold-start items: the run's items are the data set's
    other_order = (pd.Index(run.item_ids[::-1]), known[1], known[2])  # not this catalogue's
    _, rebuilt, _, _ = load_run_split_report(_meta(run_dir), run_dir, other_order)
    assert rebuilt.item_categories is not known[1]
    np.testing.assert_allclose(rebuilt.item_categories, plain.item_categories, atol=1e-7)

"""A run's data, read back: the dataset it was trained on and its train/held-out split.

Run folders keep training histories only, so anything that needs held-out items (precision,
sweeps, exposure ledgers, policy previews, `prism evaluate`) re-reads the dataset the run
recorded (`data_path` in run.json) with the run's data settings (`data_config`), appends the
items added to the run since training (cold start: no events yet, so the catalogue is the
run's again, in the run's order), and splits it with the run's split protocol and seed
(`split_like_run`). This is the one loader every caller uses; `prepare_data` is the split
and the model indexing of a dataset every training and evaluation starts from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.core.columns import ITEM_ID
from engine.core.config import DataConfig
from engine.core.ids import ids_in
from engine.data import Dataset, Split, interactions, load_dataset, split_interactions
from engine.models.base import TrainData
from engine.runs.store import ITEMS


def run_data_path(meta: Mapping[str, Any]) -> Path | None:
    """The data folder a run was trained on (run.json `data_path`), when it still exists."""
    value = meta.get("data_path") or meta.get("data_dir")
    return Path(value) if isinstance(value, str) and Path(value).is_dir() else None


def with_added_items(dataset: Dataset, run_items: pd.DataFrame) -> Dataset:
    """The dataset plus the run's items it lacks (cold-start additions), in the run's order.

    Only the dataset's own columns are kept; an added item has no events.
    """
    added = run_items[~ids_in(run_items[ITEM_ID].astype(str),
                              dataset.items[ITEM_ID].astype(str))]
    if added.empty:
        return dataset
    columns = [column for column in dataset.items.columns if column in added.columns]
    items = pd.concat([dataset.items, added[columns]], ignore_index=True)
    return dataclasses.replace(dataset, items=items)


def load_run_dataset(meta: Mapping[str, Any], run_dir: str | Path | None = None, *,
                     data_path: str | Path | None = None, fmt: str = "auto") -> Dataset | None:
    """The run's dataset re-loaded with its data settings; None when the folder is gone.

    `data_path` reads another folder instead of run.json's (the CLI's --data; a missing one
    raises DataError from the loader). With `run_dir`, the run's cold-start items are added.
    """
    folder = Path(data_path) if data_path is not None else run_data_path(meta)
    if folder is None:
        return None
    config = meta.get("data_config")
    dataset = load_dataset(folder, fmt=fmt,
                           config=DataConfig.from_dict(dict(config)) if config else None)
    if run_dir is None:
        return dataset
    return with_added_items(dataset, pd.read_parquet(Path(run_dir) / ITEMS))


def load_run_split(meta: Mapping[str, Any], run_dir: str | Path | None = None, *,
                   data_path: str | Path | None = None, fmt: str = "auto",
                   protocol: str | None = None) -> tuple[Split, TrainData] | None:
    """(Split, TrainData) of the run's data with the run's split and seed (`protocol`
    overrides the split); None when the data folder is gone."""
    dataset = load_run_dataset(meta, run_dir, data_path=data_path, fmt=fmt)
    return None if dataset is None else split_like_run(dataset, dict(meta), protocol)


def load_run_split_report(meta: Mapping[str, Any], run_dir: str | Path,
                          known_categories: tuple[pd.Index, np.ndarray, list[str]] | None = None
                          ) -> tuple[Split, TrainData, list[tuple[str, int, str]], int] | None:
    """`load_run_split` plus the rows of the data's cleaning report and how many of the run's
    items its data set lacks (cold-start items added since training), from one read of the
    data (the studio shows all of them; a million-item catalogue is cleaned once, not once
    per page). `known_categories`: the run's own item × category table
    (`TrainData.from_split`), so the studio holds one such table per run, not two."""
    plain = load_run_dataset(meta)
    if plain is None:
        return None
    dataset = with_added_items(plain, pd.read_parquet(Path(run_dir) / ITEMS))
    split, data = split_like_run(dataset, dict(meta), known_categories=known_categories)
    return split, data, dataset.report.rows(), len(dataset.items) - len(plain.items)


def prepare_data(dataset: Dataset, protocol: str, *, seed: int = 0,
                 text_embeddings: np.ndarray | None = None,
                 known_categories: tuple[pd.Index, np.ndarray, list[str]] | None = None
                 ) -> tuple[Split, TrainData]:
    """Collapse events to interactions, split them by `protocol`, index them for models."""
    split = split_interactions(interactions(dataset.events), protocol=protocol, seed=seed)
    return split, TrainData.from_split(dataset, split, text_embeddings=text_embeddings,
                                       known_categories=known_categories)


def split_like_run(dataset: Dataset, meta: dict[str, Any], protocol: str | None = None, *,
                   known_categories: tuple[pd.Index, np.ndarray, list[str]] | None = None
                   ) -> tuple[Split, TrainData]:
    """`dataset` split the way a run was (run.json's `split` and `seed`), so the held-out part
    is the one the run never trained on; `protocol` overrides the run's split."""
    chosen = protocol or str(meta.get("split") or "leave-last-out")
    return prepare_data(dataset, chosen, seed=int(meta.get("seed", 0) or 0),
                        known_categories=known_categories)

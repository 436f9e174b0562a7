"""Search vectors saved with a run (so a first search never encodes the catalogue) and the
"no good match" answer to a nonsense query."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ease_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    from engine.data import generate_shop, write_tables
    from engine.training.pipeline import train
    from engine.training.spec import TrainSpec

    home = tmp_path_factory.mktemp("home")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    items, events = generate_shop(n_items=80, n_users=40, seed=3)
    write_tables(items, events, home / "data", fmt="csv")
    return train(TrainSpec(home / "data", out=home / "run", model="ease")).path


def test_vectors_are_written_once_and_read_back(ease_run: Path) -> None:
    from engine.text.search import SEARCH_VECTORS, ensure_search_vectors, stored_text_embeddings

    assert stored_text_embeddings(ease_run) is None  # EASE keeps no text of its own
    calls: list[tuple[int, int]] = []
    vectors = ensure_search_vectors(ease_run, progress=lambda d, t: calls.append((d, t)))
    assert (ease_run / SEARCH_VECTORS).exists() and calls[-1] == (80, 80)
    assert vectors.shape[0] == 80
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    again: list[tuple[int, int]] = []
    ensure_search_vectors(ease_run, progress=lambda d, t: again.append((d, t)))
    assert again == []  # the second call reads the file


def test_loaded_run_is_search_ready_and_nonsense_is_no_good_match(ease_run: Path) -> None:
    from engine.serving.recommender import Recommender
    from engine.text.matching import ensure_title_vectors
    from engine.text.search import ensure_search_vectors

    ensure_search_vectors(ease_run)
    ensure_title_vectors(ease_run)
    service = Recommender.load(ease_run)
    assert service.search_ready()
    title = str(service.catalogue.items["title"].iloc[5])
    good = service.search(title, k=5)
    assert good.good_match and good.best_match > 0.5
    nonsense = service.search("zzqxj", k=5)
    assert not nonsense.good_match and "no good match" in nonsense.notice


def test_search_during_warm_up_waits_for_the_one_encoder_load(ease_run: Path) -> None:
    from engine.serving.recommender import Recommender
    from engine.text import encoders
    from engine.text.matching import ensure_title_vectors
    from engine.text.search import ensure_search_vectors

    ensure_search_vectors(ease_run)
    ensure_title_vectors(ease_run)
    loads: list[str] = []
    original = encoders.TransformerBackend.__init__

    def counting(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        loads.append("load")
        original(self, *args, **kwargs)

    encoders.TransformerBackend.__init__ = counting
    try:
        service = Recommender.load(ease_run)
        title = str(service.catalogue.items["title"].iloc[7])
        warming = service.warm_search()
        during = service.search(title, k=5)  # may arrive before the warm-up has finished
        warming.join(timeout=300)
        after = service.search(title, k=5)
    finally:
        encoders.TransformerBackend.__init__ = original
    assert not warming.is_alive() and loads == ["load"]
    assert during.table["item_id"].tolist() == after.table["item_id"].tolist()
    assert during.good_match and during.best_match > 0.5

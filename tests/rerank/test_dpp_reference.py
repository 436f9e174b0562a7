"""DPP lists pinned: stored inputs and the lists a naive log-det greedy gives for them.

`tests/data/dpp_expected.json` was written by `python tests/test_dpp_reference.py` (the
naive reference below, numpy 2.x). `make test-min` runs this file on numpy 1.26.4, so the
lists on the declared numpy floor are checked to equal those on the current numpy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.rerank import rerank
from engine.rerank.greedy import DPP_EXHAUSTED, DPP_JITTER

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "dpp_expected.json"
WEIGHTS = (0.2, 0.5, 0.8, 1.0)


def naive_dpp(rel: np.ndarray, k: int, w: float, unit: np.ndarray, shifted: bool) -> list[int]:
    """Greedy MAP by brute force: each slot takes the candidate whose addition gives the
    largest log det of L_Y (ties: more relevant, then lower index)."""
    span = rel.max() - rel.min()
    scaled = (rel - rel.min()) / span if span > 0 else np.zeros_like(rel)
    sim = unit @ unit.T
    sim = (1 + sim) / 2 if shifted else sim
    sim = (sim + DPP_JITTER * np.eye(len(rel))) / (1 + DPP_JITTER)
    quality = np.exp((1 - w) / (2 * w) * scaled)
    kernel = quality[:, None] * sim * quality[None, :]
    chosen: list[int] = []
    spent = False  # once no candidate has residual variance left, relevance order fills up

    def logdet(matrix: np.ndarray, items: list[int]) -> float:
        return float(np.linalg.slogdet(matrix[np.ix_(items, items)])[1]) if items else 0.0

    for _ in range(min(k, len(rel))):
        options = [i for i in range(len(rel)) if i not in chosen]
        residual = max(np.exp(logdet(sim, chosen + [i]) - logdet(sim, chosen)) for i in options)
        spent = spent or residual <= DPP_EXHAUSTED
        if spent:
            chosen.append(max(options, key=lambda i: (rel[i], -i)))
        else:
            chosen.append(max(options, key=lambda i: (round(logdet(kernel, chosen + [i]), 9),
                                                      rel[i], -i)))
    return chosen


def make_cases() -> list[dict]:
    """Inputs (rounded, so they are stored exactly) and the naive reference's lists."""
    cases = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        rel = np.round(rng.random(24), 6)
        vectors = np.round(rng.normal(size=(24, 5)), 6)
        labels = rng.integers(0, 5, 24)
        cats = np.eye(5)[labels]
        cats[::4] = np.round(0.6 * cats[::4] + 0.4 * np.eye(5)[(labels[::4] + 1) % 5], 6)
        unit_vec = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        unit_cat = cats / np.linalg.norm(cats, axis=1, keepdims=True)
        cases.append({"seed": seed, "relevance": rel.tolist(), "vectors": vectors.tolist(),
                      "categories": cats.tolist(), "k": 8,
                      "vector_lists": {str(w): naive_dpp(rel, 8, w, unit_vec, True)
                                       for w in WEIGHTS},
                      "category_lists": {str(w): naive_dpp(rel, 8, w, unit_cat, False)
                                         for w in WEIGHTS}})
    return cases


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    return json.loads(EXPECTED.read_text())


@pytest.mark.parametrize("w", WEIGHTS)
def test_dpp_lists_equal_the_stored_reference(cases: list[dict], w: float) -> None:
    for case in cases:
        rel, k = np.array(case["relevance"]), case["k"]
        by_vectors = rerank("dpp", rel, k, w, item_vectors=np.array(case["vectors"]))
        by_categories = rerank("dpp", rel, k, w, item_categories=np.array(case["categories"]))
        assert by_vectors.order.tolist() == case["vector_lists"][str(w)], case["seed"]
        assert by_categories.order.tolist() == case["category_lists"][str(w)], case["seed"]


def test_stored_reference_is_what_the_naive_greedy_gives_here(cases: list[dict]) -> None:
    """The stored lists are not just what the code once gave: the brute-force reference
    reproduces them on this numpy too."""
    fresh = make_cases()
    for key in ("vector_lists", "category_lists"):
        assert [c[key] for c in cases] == [c[key] for c in fresh]


if __name__ == "__main__":
    EXPECTED.parent.mkdir(exist_ok=True)
    EXPECTED.write_text(json.dumps(make_cases()) + "\n")
    print(f"wrote {EXPECTED}")

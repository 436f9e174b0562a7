"""bench/gpu/check.py: the CPU-only smoke runs every stage and writes the expected results."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
STAGES = {"data", "train", "score", "rerank", "encode"}


def load_module(name: str):
    """One of the check's modules, imported once the check has set the offline environment."""
    importlib.import_module("bench.gpu.check")
    return importlib.import_module(f"bench.gpu.{name}")


@pytest.mark.slow
def test_smoke_writes_expected_json(tmp_path: Path) -> None:
    docs = REPO / "docs" / "benchmarks"
    before = {p.name: p.stat().st_mtime_ns for p in docs.glob("gpu.*")}
    env = {key: value for key, value in os.environ.items() if key != "OUT"}
    done = subprocess.run([sys.executable, "-m", "bench.gpu.check", "--smoke", "--device", "cpu",
                           "--out", str(tmp_path)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=900)  # an upper bound for a busy machine
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads((tmp_path / "gpu.json").read_text())
    assert {"command", "smoke", "device", "environment", "sizes", "stages", "errors",
            "speedups", "total_seconds"} <= set(results)
    assert results["smoke"] is True and results["device"] == "cpu"
    assert {"card", "torch", "cuda", "cpu_threads"} <= set(results["environment"])
    assert results["errors"] == {}
    stages = results["stages"]
    assert set(stages) == STAGES
    assert set(results["budgets"].values()) == {None}  # the smoke counts batches, not seconds
    for side in ("device", "cpu"):
        train = stages["train"][side]
        assert train["batches_run"] == train["batches_per_epoch"] >= 2, train
        assert train["epoch_train_seconds"] > 0 and train["extrapolated"] is False
    assert {"rank_users_seconds", "bound_seconds"} <= set(stages["score"]["cpu"])
    assert {"rank_users_seconds", "bound_seconds"} <= set(stages["score"]["device"])
    for method in ("mmr", "dpp", "calibrated"):
        assert {"cpu_seconds", "device_seconds", "speedup", "users"} <= set(
            stages["rerank"][method])
    assert {"device", "cpu", "device_batch256", "mean_tokens"} <= set(stages["encode"])
    rows = results["speedups"]
    assert len(rows) == 8
    for row in rows:
        assert {"what", "cpu_seconds", "device_seconds", "unit", "speedup", "note"} <= set(row)
        assert row["cpu_seconds"] > 0 and row["device_seconds"] > 0
    table = (tmp_path / "gpu.md").read_text()
    assert "| what | CPU (s) | device (s) |" in table and "smoke run" in table
    assert {p.name: p.stat().st_mtime_ns for p in docs.glob("gpu.*")} == before


def test_stand_in_encoder_loads_through_text_encoder(tmp_path: Path) -> None:
    from engine.core.config import EncoderConfig
    from engine.text.encoders import TextEncoder

    encoders = load_module("encoders")
    texts = ["Red cotton shirt. Fashion > Tops.", "Steel water bottle, 750 ml.",
             "Board game for two to six players.", "Fragrance-free face serum."]
    location, kind = encoders.encoder_location("stand-in", texts, tmp_path / "model",
                                               tiny=True)
    assert kind.startswith("stand-in")
    encoder = TextEncoder(EncoderConfig(model_name_or_path=location, device="cpu"),
                          progress=False, cache=False, cache_dir=tmp_path / "cache")
    vectors = encoder.encode(texts)
    assert vectors.shape == (4, encoders.TINY_BERT["hidden_size"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_render_reports_a_failed_stage() -> None:
    report = load_module("report")
    results = {"command": "python -m bench.gpu.check", "smoke": False, "device": "cuda",
               "environment": {"card": "X", "torch": "2", "cuda": "13", "python": "3.12",
                               "cpu_count": 16, "cpu_threads": 16},
               "sizes": {"items": 10, "users": 5}, "errors": {"score": "StageTimeout: late"},
               "stages": {"rerank": {"users": 4, "candidates": 3, "k": 2,
                                     "mmr": {"users": 4, "cpu_seconds": 2.0,
                                             "device_seconds": 0.5, "speedup": 4.0}}}}
    results["speedups"] = report.speedup_rows(results)
    assert [row["speedup"] for row in results["speedups"]] == [4.0]
    text = report.render(results)
    assert "rerank_batch mmr" in text and "4.00×" in text
    assert "Stage `score` did not finish: StageTimeout: late" in text

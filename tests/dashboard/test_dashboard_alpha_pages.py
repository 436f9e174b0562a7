"""Trade-off and Training on one model for every α: the model's own curve with intervals
beside the re-rankers', and one button that trains such a model with progress."""

from __future__ import annotations

import base64
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from dashboard_support import APP, TIMEOUT, conditioned_home, use_home, use_tiny_home
from streamlit.testing.v1 import AppTest

from dashboard import jobs
from engine.core.config import DEFAULT_ALPHA, DEFAULT_ALPHA_RANGE

pytestmark = pytest.mark.slow
CURVE = "One model, its own α (no re-ranking)"


def _page(name: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"app_pages/{name}.py")
    return at.run()


def _traces(at: AppTest, key: str) -> dict[str, dict]:
    """name → trace (a dict) of the page's chart `key`."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id)
    return {trace.get("name"): trace for trace in json.loads(chart.proto.spec)["data"]}


def _array(value: dict | list) -> np.ndarray:
    """A figure's array: Plotly sends numbers packed as {dtype, bdata (base64)}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value, dtype=float)


def test_tradeoff_draws_the_models_own_alpha_curve_with_intervals(
        monkeypatch: pytest.MonkeyPatch) -> None:
    use_home(monkeypatch, conditioned_home())
    at = _page("tradeoff", sample_size="50", model_alpha="0.5", diversity_weight="0.5")
    assert not at.exception, [e.value for e in at.exception]
    traces = _traces(at, "pareto_chart")
    curve = traces[CURVE]
    assert _array(curve["customdata"]).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]  # trained range
    above, below = _array(curve["error_y"]["array"]), _array(curve["error_y"]["arrayminus"])
    assert len(above) == 5 and len(_array(curve["error_x"]["array"])) == 5
    assert (above >= 0).all() and (below >= 0).all() and (above + below > 0).any()
    assert "MMR" in traces  # the re-rankers' curves are drawn beside it
    ring = next(trace for name, trace in traces.items() if name.startswith("current"))
    assert len(_array(ring["x"])) == 1
    captions = " ".join(c.value for c in at.caption)
    assert "trained over α ∈ [0, 1], scored at 5 values of α" in captions
    assert "model α = 0.50" in captions
    assert "re-rank the model at the Explorer's model α = 0.50" in captions


def test_tradeoff_re_ranks_a_conditioned_model_at_the_chosen_alpha(
        monkeypatch: pytest.MonkeyPatch) -> None:
    use_home(monkeypatch, conditioned_home())
    curves = []
    for model_alpha in ("0", "1"):
        at = _page("tradeoff", sample_size="50", model_alpha=model_alpha)
        assert not at.exception, [e.value for e in at.exception]
        curves.append(_array(_traces(at, "pareto_chart")["MMR"]["x"]))
    assert len(curves[0]) == len(curves[1])
    assert not np.allclose(curves[0], curves[1], atol=1e-9)  # the re-ranked model moved


def test_tradeoff_of_a_run_with_one_alpha_has_no_alpha_curve(
        monkeypatch: pytest.MonkeyPatch) -> None:
    use_tiny_home(monkeypatch)
    at = _page("tradeoff", sample_size="50")
    assert not at.exception
    assert CURVE not in _traces(at, "pareto_chart")
    captions = " ".join(c.value for c in at.caption)
    assert f"as it was trained: α = {DEFAULT_ALPHA:g}, β = 1" in captions, captions


def test_the_starter_and_the_training_default_are_models_over_the_default_alpha_range(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.app_pages import training
    from dashboard.bootstrap import STARTER
    from engine.training.presets import quick_run, starter_spec

    assert "alpha" not in STARTER and "alpha_max" not in STARTER  # stated in config only
    starter = starter_spec(Path("r"), 2, **STARTER).train_config
    assert starter.alpha_range == DEFAULT_ALPHA_RANGE == (0.0, 1.0)
    one = starter_spec(Path("r"), 2, alpha_range=None, **STARTER).train_config
    assert one.alpha == DEFAULT_ALPHA and one.alpha_range is None
    assert quick_run(Path("d"), Path("r")).train_config.alpha == DEFAULT_ALPHA
    assert training.EVERY_ALPHA == DEFAULT_ALPHA_RANGE
    use_tiny_home(monkeypatch)
    at = _page("training")
    assert not at.exception
    assert at.slider(key="train_alpha").value == DEFAULT_ALPHA  # the second choice's α
    primary = [b for b in at.button if b.proto.type == "primary"]
    assert [b.label for b in primary] == ["Train one model for every α (0 – 1)"]
    assert any(b.label == "Train at the α above only" for b in at.button)


def test_one_button_trains_a_model_for_every_alpha_with_progress(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"  # a copy: the new run must not join the shared home's runs
    shutil.copytree(conditioned_home(), home)
    use_home(monkeypatch, home)
    started: list[jobs.TrainingJob] = []
    real_start = jobs.start

    def small_start(spec, lock):  # noqa: ANN001, ANN202 - the page's spec, made tiny
        job = real_start(spec.replace(
            model_config=spec.model_config.replace(use_text=False, dim=8),
            train_config=spec.train_config.replace(epochs=1), encoder_config=None,
            search_vectors=False), lock)
        started.append(job)
        return job

    monkeypatch.setattr(jobs, "start", small_start)
    at = _page("training")
    assert not at.exception
    at.text_input(key="train_name").set_value("every-alpha")
    button = next(b for b in at.button if "Train one model for every α (0 – 1)" in b.label)
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(started) == 1 and started[0].spec.train_config.alpha == 0.0
    assert started[0].spec.train_config.alpha_max == 1.0
    job = started[0]
    deadline = time.monotonic() + 600  # a hang guard only: the worker reports its end
    while job.snapshot().state == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.snapshot().state == "done", job.snapshot().message
    assert job.snapshot().epoch == 1  # progress counted per epoch
    train = json.loads((home / "runs" / "every-alpha" / "run.json").read_text())["train_config"]
    assert (train["alpha"], train["alpha_max"]) == (0.0, 1.0)
    at.run()
    assert any("every-alpha" in s.value for s in at.success)
    table = next(d.value for d in at.dataframe if "α range" in d.value.columns)
    assert table.set_index("run").loc["every-alpha", "α range"] == "0–1"

"""Pure dashboard helpers: chart builders, rank moves, URL parsing, list HTML, target mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard import charts
from dashboard.components import rank_changes, ranked_list_html
from dashboard.state import parse_view_params
from engine.serving.itemmap import category_counts


def test_rank_changes_hand_checked() -> None:
    before = ["a", "b", "c", "d"]
    after = ["c", "a", "x", "d"]
    assert rank_changes(before, after) == ["↑2", "↓1", "added", "="]


@given(st.lists(st.sampled_from("abcdefgh"), unique=True, max_size=8))
def test_rank_changes_of_a_list_against_itself_are_all_equal(items: list[str]) -> None:
    assert rank_changes(items, items) == ["="] * len(items)


@pytest.mark.parametrize(("params", "values", "warning"), [
    ({"alpha": "0.6"}, {"alpha": 0.6}, None),
    ({"diversity_weight": "0.4"}, {"alpha": 0.4}, None),
    ({"diversity_weight": "0.4", "alpha": "0.9"}, {"alpha": 0.4}, None),
    ({"diversity_weight": "2"}, {"alpha": 1.0}, "diversity_weight=2 in the link is outside"),
    ({"alpha": "1.7"}, {"alpha": 1.0}, "outside [0, 1]"),
    ({"alpha": "-2"}, {"alpha": 0.0}, "outside [0, 1]"),
    ({"alpha": "nan"}, {}, "not a number"),
    ({"alpha": "abc"}, {}, "not a number"),
    ({"method": "dpp", "k": "12"}, {"method": "dpp", "k": 12}, None),
    ({"method": "magic"}, {}, "unknown"),
    ({"k": "500"}, {"k": 30}, "outside 3..30"),
    ({"user": " u7 "}, {"user": "u7"}, None),
])
def test_parse_view_params(params: dict, values: dict, warning: str | None) -> None:
    parsed, warnings = parse_view_params(params)
    assert parsed == values
    if warning is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warning in warnings[0]


def test_ranked_list_html_escapes_and_shows_moves() -> None:
    table = pd.DataFrame({"rank": [1, 2], "item_id": ["i1", "i2"],
                          "title": ["<b>Lamp</b>", "Desk"], "category": ["Home", "Office"],
                          "price": [9.5, np.nan], "explanation": ["because", "new category"]})
    html = ranked_list_html(table, "Diversified", moves=["↑1", "added"], explain=True,
                            list_id="x")
    assert "&lt;b&gt;Lamp&lt;/b&gt;" in html and "<b>Lamp" not in html
    assert "prism-up" in html and "prism-new" in html and "$9.50" in html
    assert html.count('class="prism-card"') == 2 and "new category" in html


def test_category_colors_are_stable_and_order_free() -> None:
    assert charts.category_colors(["a", "b"]) == charts.category_colors(["b", "a"])


def test_history_timeline_reads_datetimes_and_unix_seconds() -> None:
    seconds = pd.DataFrame({"ts": [1_700_000_000, 1_700_086_400], "category": ["A", "B"],
                            "title": ["x", "y"]})
    aware = seconds.assign(ts=pd.to_datetime(seconds["ts"], unit="s", utc=True)
                           .astype("datetime64[us, UTC]"))
    for frame in (seconds, aware):
        fig = charts.history_timeline(frame, "category", "ts", "title")
        assert [trace.x[0][:10] for trace in fig.data] == ["2023-11-14", "2023-11-15"]


def test_builders_return_figures_and_handle_empty_input() -> None:
    sweep = pd.DataFrame({"method": ["mmr", "mmr", "dpp"], "weight": [0.0, 0.5, 0.5],
                          "ndcg@10": [0.3, 0.25, 0.2], "category_entropy@10": [1.0, 1.5, 1.8]})
    current = pd.DataFrame({"weight": [0.6], "ndcg@10": [0.24], "category_entropy@10": [1.6]})
    pareto = charts.pareto_chart(sweep, "category_entropy@10", "ndcg@10", current)
    assert [t.name for t in pareto.data] == ["MMR", "DPP", "current (w=0.60)"]
    assert pareto.data[-1].x[0] == 1.6
    assert pareto.data[0].error_y.array is None  # no interval columns, no bars
    framed = sweep.assign(**{"ndcg@10 low": sweep["ndcg@10"] - 0.02,
                             "ndcg@10 high": sweep["ndcg@10"] + 0.01})
    bars = charts.pareto_chart(framed, "category_entropy@10", "ndcg@10").data[0].error_y
    assert list(bars.array) == pytest.approx([0.01, 0.01], abs=1e-12)  # high − value
    assert list(bars.arrayminus) == pytest.approx([0.02, 0.02], abs=1e-12)  # value − low
    exposure = pd.DataFrame({"setting": ["A", "A"], "path": ["Home > Lamps", "Office"],
                             "slots": [3.0, 1.0]})
    figures = [
        charts.coverage_bars(pd.Series(["a", "a"]), pd.Series(["a", "b"])),
        charts.exposure_treemap(exposure),
        charts.training_curves(pd.DataFrame({"epoch": [1, 2], "L_r": [2.0, 1.5],
                                             "L_d": [0.5, 0.4], "val_ndcg@10": [0.1, 0.2]})),
        charts.category_tree(category_counts(
            pd.DataFrame({"category": ["A > B", "A > C", "", "D"]}), "category")),
        charts.metric_comparison(pd.DataFrame({"run": ["x", "y"], "ndcg": [0.1, 0.2]}), "run"),
    ]
    assert all(isinstance(f, go.Figure) and f.data for f in figures)
    empty = charts.pareto_chart(sweep.iloc[:0], "category_entropy@10", "ndcg@10")
    assert not empty.data and empty.layout.annotations[0].text == "No sweep results yet"


def test_scenario_comparison_gives_each_metric_its_own_axis() -> None:
    frame = pd.DataFrame({"name": ["a", "b"], "sample category_coverage@10": [9.0, 11.0],
                          "sample ndcg@10": [0.14, 0.12]})
    fig = charts.metric_comparison(frame, "name")
    axes = [key for key in fig.layout.to_plotly_json() if key.startswith("yaxis")]
    assert len(axes) == 2 and fig.layout.yaxis2.matches is None  # coverage never dwarfs NDCG


def test_training_curves_start_at_the_first_epoch_with_the_legend_below() -> None:
    fig = charts.training_curves(pd.DataFrame({"epoch": [1], "L_r": [2.0], "L_d": [0.1]}))
    assert fig.layout.xaxis.range[0] >= 0 and fig.layout.legend.y < 0


@pytest.mark.parametrize("scores", [[0.0], [0.0, 0.0], [0.1, 0.2]])
def test_the_validation_axis_starts_at_zero(scores: list[float]) -> None:
    """A held-out score is never below 0: its axis starts there and holds every point (a
    flat or single score was padded to −0.5 by autorange)."""
    epochs = list(range(1, len(scores) + 1))
    fig = charts.training_curves(pd.DataFrame({"epoch": epochs, "L_r": [2.0] * len(scores),
                                               "L_d": [-0.3] * len(scores),
                                               "val_ndcg@10": scores}))
    (validation,) = [trace for trace in fig.data if trace.yaxis == "y2"]
    low, high = fig.layout.yaxis2.range
    assert low == 0 and high >= max(scores) > -1 and fig.layout.yaxis2.rangemode == "nonnegative"
    assert validation.name == "NDCG@10"
    assert fig.layout.yaxis.range is None  # a diversity loss can be negative: autorange


@pytest.mark.parametrize(("lang", "names"), [
    ("en", ["relevance loss L_r", "diversity loss L_d", "NDCG@10"]),
    ("zh", ["相关性损失 L_r", "多样性损失 L_d", "NDCG@10"])])
def test_training_legend_names_the_losses_in_words(monkeypatch: pytest.MonkeyPatch, lang: str,
                                                   names: list[str]) -> None:
    monkeypatch.setattr("dashboard.i18n.current", lambda: lang)
    fig = charts.training_curves(pd.DataFrame({"epoch": [1], "L_r": [2.0], "L_d": [0.1],
                                               "val_ndcg@10": [0.2]}))
    assert [trace.name for trace in fig.data] == names


def test_starter_time_budget_stops_training_and_settings_override() -> None:
    from dashboard import bootstrap
    from engine.models.trainer import StopTraining

    budget = bootstrap.TimeBudget(0.0)
    with pytest.raises(StopTraining, match="time budget"):
        budget.on_epoch_end(1, {})
    bootstrap.TimeBudget(3600.0).on_epoch_end(1, {})  # within the budget: no stop


def test_category_colors_are_distinct_and_the_same_in_every_subset() -> None:
    names = [f"Department {i} > Shelf" for i in range(40)]
    every = charts.category_colors(names)
    assert len(set(every.values())) == len(names)  # no two categories share a colour
    few = charts.category_colors(names[5:9], universe=names)
    assert few == {name: every[name] for name in names[5:9]}  # same colour on every chart
    palette = charts.category_colors(names[:12])
    assert len(set(palette.values())) == 12


def test_pareto_axes_hold_every_error_bar() -> None:
    sweep = pd.DataFrame({"method": ["mmr", "mmr"], "weight": [0.0, 0.5],
                          "ndcg@10": [0.30, 0.25], "ndcg@10 low": [0.20, 0.10],
                          "ndcg@10 high": [0.41, 0.33], "category_entropy@10": [1.0, 1.5],
                          "category_entropy@10 low": [0.6, 1.2],
                          "category_entropy@10 high": [1.3, 2.4]})
    fig = charts.pareto_chart(sweep, "category_entropy@10", "ndcg@10")
    assert fig.layout.xaxis.range[0] < 0.6 and fig.layout.xaxis.range[1] > 2.4
    assert fig.layout.yaxis.range[0] < 0.10 and fig.layout.yaxis.range[1] > 0.41


def test_treemap_says_each_share_of_its_setting_once() -> None:
    exposure = pd.DataFrame({"setting": ["A", "A", "A", "B", "B"],
                             "path": ["Home > Lamps", "Home > Rugs", "Office", "Home > Lamps",
                                      "Office"],
                             "slots": [3.0, 1.0, 4.0, 2.0, 6.0]})
    trace = charts.exposure_treemap(exposure).data[0]
    text = dict(zip(trace.ids, trace.text, strict=True))
    assert text["A/Home"] == "50.0%" and text["A/Home/Lamps"] == "37.5%"
    assert text["A/Office"] == "50.0%" and text["B/Office"] == "75.0%"
    assert "100.0%" not in trace.text  # no chain of single children repeating 100%
    assert "A/Office/Office" not in trace.ids  # a one-level path is not repeated as its child


def test_run_comparison_keeps_the_tables_order_and_its_legend_off_the_titles() -> None:
    frame = pd.DataFrame({"run": ["second", "first"], "ndcg@10": [0.2, 0.1],
                          "hit@10": [0.5, 0.4], "category_entropy@10": [1.0, 2.0]})
    fig = charts.metric_comparison(frame, "run")
    assert list(dict.fromkeys(trace.name for trace in fig.data)) == ["second", "first"]
    assert list(fig.layout.xaxis.categoryarray) == ["second", "first"]  # bars as the rows
    titles = sorted(fig.layout.annotations, key=lambda note: (-note.y, note.x))
    assert [note.text for note in titles] == ["ndcg@10", "hit@10", "category_entropy@10"]
    assert fig.layout.legend.y < 0  # under the panels, never over the first title


def test_paired_runs_chart_draws_the_tables_metrics_in_its_order() -> None:
    rows = [{"metric": "ndcg@10", "a": 0.2, "b": 0.1}, {"metric": "hit@10", "a": 0.5, "b": 0.4}]
    fig = charts.paired_runs_chart(rows, "new", "old")
    assert list(dict.fromkeys(trace.name for trace in fig.data)) == ["new", "old"]
    titles = sorted(fig.layout.annotations, key=lambda note: (-note.y, note.x))
    assert [note.text for note in titles] == ["ndcg@10", "hit@10"]  # not recall@10
    bars = {trace.name: list(trace.y) for trace in fig.data if trace.xaxis == "x2"}
    assert bars == {"new": [0.5], "old": [0.4]}


def test_the_ring_says_w_on_a_label_clear_of_the_error_bars() -> None:
    sweep = pd.DataFrame({"method": ["mmr", "alpha"], "weight": [0.5, 0.5],
                          "ndcg@10": [0.3, 0.25], "category_entropy@10": [1.0, 1.5],
                          "ndcg@10 low": [0.2, 0.2], "ndcg@10 high": [0.4, 0.3]})
    current = pd.DataFrame({"weight": [0.8], "ndcg@10": [0.3], "category_entropy@10": [1.0]})
    fig = charts.pareto_chart(sweep, "category_entropy@10", "ndcg@10", current)
    ring = fig.data[-1]
    assert ring.mode == "markers" and not ring.text  # no text drawn on the error bars
    (label,) = fig.layout.annotations
    assert label.text == "w=0.80" and (label.ax, label.ay) != (0, 0) and label.bgcolor
    assert " w=" in fig.data[0].hovertemplate and " α=" in fig.data[1].hovertemplate


def test_history_timeline_counts_every_item_of_the_table() -> None:
    """Seven items bought in the same minute over three categories: three dots that say
    2, 2 and 3 (hovering names each item), never seven dots hiding under three."""
    history = pd.DataFrame({"category": ["A", "A", "B", "B", "C", "C", "C"],
                            "ts": [1_700_000_000 + s for s in (0, 5, 0, 10, 0, 20, 30)],
                            "title": [f"item {n}" for n in range(7)]})
    fig = charts.history_timeline(history, "category", "ts", "title")
    dots = [(x, y) for trace in fig.data for x, y in zip(trace.x, trace.y, strict=True)]
    assert len(dots) == len(set(dots))  # no dot drawn over another
    assert sum(n for trace in fig.data for n in trace.customdata) == len(history)
    assert [list(trace.text) for trace in fig.data] == [["2"], ["2"], ["3"]]
    assert "item 6" in fig.data[2].hovertext[0]


def test_item_map_hover_names_its_fields_in_the_active_language(monkeypatch) -> None:  # noqa: ANN001
    """The item map's hover says "department" and "category" in Chinese."""
    monkeypatch.setattr("dashboard.i18n.current", lambda: "zh")
    points = pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 0.0], "title": ["Mug", "Pan"],
                           "category": ["Kitchen > Mugs", "Garden"]})
    fig = charts.item_map(points)
    hover = " ".join(trace.hovertemplate for trace in fig.data)
    assert "类目=" in hover and "category" not in hover and "department" not in hover


def test_the_policy_share_bar_never_reaches_below_zero() -> None:
    """A share of 0 whose difference to the baseline is negative: the bar's interval is the
    share's own (0 to 0), not the difference's moved onto the bar."""
    from dashboard.policy_view import exposure_chart

    rows = [{"group": "Lamps", "a": 0.0, "b": 0.1, "diff": -0.1, "ci_low": -0.15,
             "ci_high": -0.05, "a_low": 0.0, "a_high": 0.0},
            {"group": "Desks", "a": 0.4, "b": 0.3, "diff": 0.1, "ci_low": 0.02,
             "ci_high": 0.2, "a_low": 0.33, "a_high": 0.46}]
    policy_bar = exposure_chart(rows, "Exposure by category").data[1]
    lows = np.subtract(policy_bar.y, policy_bar.error_y.arrayminus)
    highs = np.add(policy_bar.y, policy_bar.error_y.array)
    np.testing.assert_allclose(lows, [0.0, 0.33], atol=1e-12)
    np.testing.assert_allclose(highs, [0.0, 0.46], atol=1e-12)

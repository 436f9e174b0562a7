"""Plotly figures for the Experiments page: each arm's value and always-valid interval."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from dashboard.i18n import t

COLOURS = ("#9ca3af", "#4f46e5", "#f59e0b", "#10b981", "#ef4444")


def _error(cell: dict[str, Any]) -> tuple[float, float]:
    """(below, above) for an error bar; an open bound shows as no bar."""
    estimate, low, high = cell.get("estimate"), cell.get("low"), cell.get("high")
    if estimate is None or low is None or high is None:
        return 0.0, 0.0
    return max(estimate - low, 0.0), max(high - estimate, 0.0)


def arms_chart(rows: list[dict[str, Any]], metric: str, difference: bool = False) -> go.Figure:
    """One point per arm with its interval (or each arm's difference from the control)."""
    figure = go.Figure()
    label = t(f"experiments.metric.{metric}")
    for index, row in enumerate(rows):
        cell = (row["difference"] if difference else row["metrics"]).get(metric)
        if cell is None or cell.get("estimate") is None:
            continue
        below, above = _error(cell)
        figure.add_scatter(x=[row["arm"]], y=[cell["estimate"]], mode="markers",
                           name=row["arm"], marker={"size": 12,
                                                    "color": COLOURS[index % len(COLOURS)]},
                           error_y={"type": "data", "symmetric": False, "array": [above],
                                    "arrayminus": [below]},
                           hovertemplate=f"%{{x}}<br>{label}: %{{y:.4f}}<extra></extra>")
    if difference:
        figure.add_hline(y=0.0, line_dash="dot", line_color="#6b7280")
    figure.update_layout(height=340, showlegend=False, margin={"l": 10, "r": 10, "t": 30,
                                                                "b": 10},
                         yaxis_title=t("experiments.chart.difference") if difference else label,
                         xaxis_title=t("experiments.chart.arm"))
    return figure

"""Plotly figures for the Ledger page: exposure against catalogue and held-out shares."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.i18n import t

SHARES = ("exposure_share", "catalogue_share", "purchase_share")  # legend: ledger_chart.*
COLOURS = {"exposure_share": "#4f46e5", "catalogue_share": "#9ca3af",
           "purchase_share": "#f59e0b"}


def shares_chart(table: pd.DataFrame, max_groups: int = 20) -> go.Figure:
    """Grouped bars per group (the most exposed first): exposure, catalogue, purchases."""
    shown = table.head(max_groups)
    figure = go.Figure()
    for column in SHARES:
        name = t(f"ledger_chart.{column}")
        figure.add_bar(x=shown["group"].astype(str), y=shown[column], name=name,
                       marker_color=COLOURS[column],
                       hovertemplate="%{x}<br>" + name + ": %{y:.2%}<extra></extra>")
    figure.update_layout(barmode="group", yaxis_tickformat=".0%", height=420,
                         margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.08},
                         yaxis_title=t("ledger_chart.share"), xaxis_title=None)
    return figure


def before_after_chart(report: pd.DataFrame) -> go.Figure:
    """Targeted groups: share without prices, with prices, and the target bounds."""
    figure = go.Figure()
    groups = report["group"].astype(str)
    figure.add_bar(x=groups, y=report["before"], name=t("ledger_chart.without"),
                   marker_color="#9ca3af")
    figure.add_bar(x=groups, y=report["after"], name=t("ledger_chart.with"),
                   marker_color="#4f46e5")
    floors = report["min"].where(report["min"] > 0)
    ceilings = report["max"].where(report["max"] < 1)
    figure.add_scatter(x=groups, y=floors, mode="markers", name=t("ledger_chart.floor"),
                       marker={"symbol": "triangle-up", "size": 12, "color": "#16a34a"})
    figure.add_scatter(x=groups, y=ceilings, mode="markers", name=t("ledger_chart.ceiling"),
                       marker={"symbol": "triangle-down", "size": 12, "color": "#dc2626"})
    figure.update_layout(barmode="group", yaxis_tickformat=".1%", height=380,
                         margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.1},
                         yaxis_title=t("ledger_chart.exposure"))
    return figure

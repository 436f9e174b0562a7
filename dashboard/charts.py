"""Pure Plotly figure builders: each takes DataFrames/values and returns a Figure (no `st.*`
widgets; titles and legend names come from `t()` in the active language).

One look for the whole studio: the same template, font and margins, and a category always
gets the same colour (`category_colors`) so charts on different pages read together.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.i18n import t
from engine.rerank.methods import METHODS

ACCENT = "#6C4AE0"
RELEVANCE_COLOR = "#9AA0B4"
DIVERSIFIED_COLOR = ACCENT
METHOD_COLORS = {
    "mmr": "#6C4AE0",
    "dpp": "#E0569B",
    "calibrated": "#1FA38A",
    "quota": "#F29B30",
    "none": "#9AA0B4",
    "alpha": "#1E1B2E",  # a loss-conditioned model's own curve (engine ALPHA_METHOD)
}
METHOD_NAMES = METHODS  # legend: charts.method.*
_PALETTE = list(dict.fromkeys(px.colors.qualitative.Bold + px.colors.qualitative.Vivid
                              + px.colors.qualitative.Safe))  # distinct colours only
_FONT = dict(family="Inter, system-ui, -apple-system, Segoe UI, sans-serif", size=13)


def category_colors(names: list[str] | pd.Index,
                    universe: list[str] | pd.Index | None = None) -> dict[str, str]:
    """A distinct colour per category name: its rank among `universe` (all the categories a
    view can show, e.g. the run's), so every chart given the same universe colours a category
    alike whatever subset it draws, and two categories never share a colour."""
    known = sorted({str(name) for name in (universe if universe is not None else names)}
                   | {str(name) for name in names})
    if len(known) <= len(_PALETTE):
        palette = _PALETTE
    else:  # more categories than named colours: evenly spaced hues, still all distinct
        palette = px.colors.sample_colorscale("HSV", [i / len(known) for i in range(len(known))])
    rank = {name: index for index, name in enumerate(known)}
    return {str(name): palette[rank[str(name)]] for name in names}


def _style(fig: go.Figure, height: int = 320, legend: bool = True) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        font=_FONT,
        height=height,
        margin=dict(l=8, r=8, t=72 if legend else 40, b=8),
        showlegend=legend,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, title_text=""),
        title=dict(x=0, xanchor="left", y=0.985, yanchor="top", font=dict(size=15)),
        hoverlabel=dict(font_size=12),
    )
    return fig


def empty_figure(message: str, height: int = 240) -> go.Figure:
    """A blank chart that says why it is blank (instead of an empty axis)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=14, color="#6B6F80"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, height=height, legend=False)


def _layout(title: str, height: int, legend: bool = True, **extra: object) -> dict:
    """A layout dict in the studio's look (the fast path: validated once, in `go.Figure`)."""
    return {
        "template": "none",  # the Streamlit theme styles it; skipping templates saves ~15 ms
        "font": _FONT, "height": height, "showlegend": legend,
        "margin": {"l": 8, "r": 8, "t": 72 if legend else 40, "b": 8},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        "title": {"text": title, "x": 0, "xanchor": "left", "y": 0.985, "yanchor": "top",
                  "font": {"size": 15}},
        "hoverlabel": {"font": {"size": 12}},
        **extra,
    }


def coverage_bars(relevance_cats: pd.Series, diversified_cats: pd.Series) -> go.Figure:
    """Slots per category in the relevance-only vs diversified list (grouped horizontal bars).

    Drawn on every slider move, so it is built from plain dicts in one validation pass.
    """
    relevance, diversified = t("charts.relevance_only"), t("charts.diversified")
    counts = pd.DataFrame(
        {
            relevance: relevance_cats.value_counts(),
            diversified: diversified_cats.value_counts(),
        }
    ).fillna(0)
    if counts.empty:
        return empty_figure(t("charts.no_recommendations"))
    counts = counts.sort_values([diversified, relevance], ascending=True)
    categories = counts.index.astype(str).tolist()
    bars = [
        {"type": "bar", "orientation": "h", "y": categories, "x": counts[column].tolist(),
         "name": column, "marker": {"color": color},
         "hovertemplate": t("charts.slots_hover") + "<extra>" + column + "</extra>"}
        for column, color in ((relevance, RELEVANCE_COLOR), (diversified, ACCENT))
    ]
    layout = _layout(t("charts.coverage"), max(240, 34 * len(counts) + 110),
                     barmode="group", bargap=0.25,
                     xaxis={"title": {"text": t("charts.slots")}, "dtick": 1,
                            "gridcolor": "#ECECF3"},
                     yaxis={"automargin": True})
    return go.Figure({"data": bars, "layout": layout})


def history_timeline(history: pd.DataFrame, category_col: str, time_col: str,
                     title_col: str, categories: list[str] | None = None) -> go.Figure:
    """The shopper's events over time (datetimes or unix seconds), one dot per item;
    coloured as the lists are when given the same `categories`."""
    if history.empty:
        return empty_figure(t("charts.no_history"))
    times = history[time_col]
    when = (times if pd.api.types.is_datetime64_any_dtype(times)
            else pd.to_datetime(times, unit="s"))
    colors = category_colors(history[category_col].astype(str).unique(), categories)
    events = pd.DataFrame({"category": history[category_col].astype(str).to_numpy(),
                           "minute": when.dt.strftime("%Y-%m-%d %H:%M").to_numpy(),
                           "title": history[title_col].astype(str).to_numpy()})
    traces = []
    for category, rows in events.groupby("category", sort=True):
        # items of one category in the same minute share one dot, which says how many: every
        # item of the history table is counted, none hides under another
        dots = rows.groupby("minute", sort=True)["title"].agg(list)
        counts = [len(titles) for titles in dots]
        traces.append({"type": "scatter", "mode": "markers+text", "name": category,
                       "x": dots.index.tolist(), "y": [category] * len(dots),
                       "customdata": counts,
                       "text": [str(n) if n > 1 else "" for n in counts],
                       "textposition": "top center",
                       "hovertext": ["<br>".join(titles) for titles in dots],
                       "hovertemplate": "%{hovertext}<br>%{x}<extra></extra>",
                       "marker": {"size": [11 + 3 * min(n - 1, 5) for n in counts],
                                  "color": colors[category],
                                  "line": {"width": 1, "color": "white"}}})
    layout = _layout(t("charts.history"), max(200, 30 * len(traces) + 90), legend=False,
                     xaxis={"type": "date", "gridcolor": "#ECECF3"},
                     yaxis={"automargin": True, "gridcolor": "#ECECF3"})
    return go.Figure({"data": traces, "layout": layout})


def _error_bars(frame: pd.DataFrame, column: str, color: str) -> dict | None:
    """Plotly error bars from `<column> low`/`high` (a 95% interval over shoppers), if any."""
    low, high = f"{column} low", f"{column} high"
    if low not in frame or high not in frame:
        return None
    return dict(type="data", symmetric=False, array=frame[high] - frame[column],
                arrayminus=frame[column] - frame[low], color=color, thickness=1, width=3)


def _span(frames: list[pd.DataFrame], column: str, pad: float = 0.06) -> list[float] | None:
    """An axis range holding every point and its whole interval (`<column> low/high`), with a
    margin, so no error bar is cut at the edge; None when there is nothing to hold."""
    values = pd.concat([frame[name] for frame in frames for name in
                        (column, f"{column} low", f"{column} high") if name in frame])
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty:
        return None
    low, high = float(values.min()), float(values.max())
    margin = (high - low) * pad or max(abs(high) * pad, 1e-3)
    return [low - margin, high + margin]


def pareto_chart(sweep: pd.DataFrame, x: str, y: str, current: pd.DataFrame | None = None,
                 labels: dict[str, str] | None = None) -> go.Figure:
    """Accuracy (y) against diversity (x) per method across weights; `current` ringed.

    `current` holds the evaluated current setting (`weight`, x, y); None draws no ring.
    """
    if sweep.empty:
        return empty_figure(t("charts.no_sweep"))
    fig = go.Figure()
    for method, group in sweep.groupby("method", sort=False):
        group = group.sort_values("weight")
        own = method == "alpha"  # the model at its own α, not a re-ranker
        symbol = "α" if own else "w"  # the model's α, else the re-rank weight w
        name = (t("charts.model_alpha_curve") if own else t(f"charts.method.{method}")
                if method in METHOD_NAMES else str(method))
        color = METHOD_COLORS.get(str(method), ACCENT)
        fig.add_scatter(
            x=group[x], y=group[y], mode="lines+markers", name=name,
            line=dict(color=color, width=3 if own else 2.5, dash="dash" if own else None),
            marker=dict(size=9 if own else 7, symbol="diamond" if own else "circle"),
            error_x=_error_bars(group, x, color), error_y=_error_bars(group, y, color),
            customdata=group["weight"],
            hovertemplate=f"{name} {symbol}=%{{customdata:.2f}}<br>{x}=%{{x:.3f}}<br>"
                          f"{y}=%{{y:.4f}}<extra></extra>",
        )
    if current is not None and not current.empty:
        alpha = float(current["weight"].iloc[0])
        fig.add_scatter(
            x=current[x], y=current[y], mode="markers", name=t("charts.current", alpha=alpha),
            marker=dict(size=20, color="rgba(0,0,0,0)", line=dict(width=3, color="#1E1B2E")),
            hoverinfo="skip",
        )
        # the ring's label sits off the point on an opaque box, clear of every error bar
        fig.add_annotation(x=float(current[x].iloc[0]), y=float(current[y].iloc[0]),
                           text=f"w={alpha:.2f}", showarrow=True, arrowhead=0, ax=48, ay=-36,
                           bgcolor="rgba(255,255,255,0.95)", bordercolor="#1E1B2E")
    names = labels or {}
    frames = [sweep] if current is None else [sweep, current]
    fig.update_xaxes(title=names.get(x, x), range=_span(frames, x))
    fig.update_yaxes(title=names.get(y, y), range=_span(frames, y))
    fig.update_layout(title=t("charts.pareto_title", y=names.get(y, y), x=names.get(x, x)))
    return _style(fig, height=420)


def exposure_treemap(exposure: pd.DataFrame) -> go.Figure:
    """Recommendation slots by setting → department → category (`setting, path, slots`).

    Each box says its share of its setting's slots (a setting is 100% once, in its own box,
    never repeated down a chain of single children)."""
    if exposure.empty or exposure["slots"].sum() == 0:
        return empty_figure(t("charts.no_exposure"))
    levels = exposure["path"].astype(str).str.split(" > ", n=1, expand=True)
    frame = exposure.assign(department=levels[0],
                            category=levels[1] if levels.shape[1] > 1 else None)
    colors = category_colors(frame["department"].unique())
    root = t("charts.all_slots")
    nodes = {root: ("", root, float(frame["slots"].sum()), "", "#F4F2FB")}
    for setting, rows in frame.groupby("setting", sort=False):
        total = float(rows["slots"].sum())
        nodes[setting] = (root, str(setting), total, t("charts.slots_total", n=f"{total:,.0f}"),
                          "#E4E0F5")
        for department, group in rows.groupby("department", sort=True):
            key, value = f"{setting}/{department}", float(group["slots"].sum())
            nodes[key] = (setting, department, value, f"{value / total:.1%}",
                          colors[department])
            for category, part in group.dropna(subset=["category"]).groupby("category"):
                share = float(part["slots"].sum())
                nodes[f"{key}/{category}"] = (key, category, share, f"{share / total:.1%}",
                                              colors[department])
    ids = list(nodes)
    parents, labels, values, text, fills = (list(column) for column in zip(*nodes.values(),
                                                                             strict=True))
    fig = go.Figure(go.Treemap(ids=ids, parents=parents, labels=labels, values=values,
                               text=text, branchvalues="total", marker={"colors": fills},
                               texttemplate="%{label}<br>%{text}",
                               hovertemplate="%{label}<br>%{text}<extra></extra>"))
    fig.update_layout(title=t("charts.exposure"))
    return _style(fig, height=430, legend=False)


def long_tail_curve(curves: pd.DataFrame) -> go.Figure:
    """Cumulative slot share vs items by popularity (`setting, item_share, slot_share`)."""
    if curves.empty:
        return empty_figure(t("charts.no_exposure"))
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name=t("charts.equal_exposure"),
                    line=dict(color="#CCC", dash="dot"))
    relevance = ("Relevance", t("charts.relevance_only"))
    for setting, group in curves.groupby("setting", sort=False):
        color = RELEVANCE_COLOR if str(setting).startswith(relevance) else ACCENT
        fig.add_scatter(x=group["item_share"], y=group["slot_share"], mode="lines",
                        name=str(setting), line=dict(color=color, width=3))
    fig.update_xaxes(title=t("charts.catalogue_share"), tickformat=".0%")
    fig.update_yaxes(title=t("charts.slot_share"), tickformat=".0%")
    fig.update_layout(title=t("charts.long_tail"))
    _style(fig, height=430)
    fig.update_layout(margin=dict(t=40), legend=dict(  # inside, where the curve never goes
        orientation="v", x=0.98, xanchor="right", y=0.04, yanchor="bottom",
        bgcolor="rgba(255,255,255,0.85)"))
    return fig


# the trainer's loss logs (engine.models.trainer) as the legend names them: the words first,
# then the symbol the Training form's α and β labels use
LOSS_NAMES = {"L_r": "charts.loss_relevance", "L_d": "charts.loss_diversity",
              "loss": "charts.loss_total"}
LOSS_COLORS = {"L_r": ACCENT, "L_d": "#E0569B", "loss": "#1E1B2E"}
VALIDATION_PREFIXES = ("val_", "ndcg", "recall")  # held-out scores: none is ever below 0


def _validation_name(column: str) -> str:
    """`val_ndcg@10` → 'NDCG@10' in the active language (the column when no metric)."""
    from engine.metrics.registry import parse_column

    parsed = parse_column(column.removeprefix("val_"))
    return column if parsed is None else t(f"metrics.{parsed[0].key}.name", k=parsed[1])


def training_curves(history: pd.DataFrame) -> go.Figure:
    """Per-epoch relevance and diversity losses (left) and validation NDCG@10 (right, from 0:
    the score cannot be negative)."""
    if history.empty:
        return empty_figure(t("charts.waiting"))
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("charts.losses"),
                                                            t("charts.validation")))
    for column in [c for c in LOSS_NAMES if c in history]:
        fig.add_scatter(x=history["epoch"], y=history[column], name=t(LOSS_NAMES[column]),
                        mode="lines+markers", line=dict(color=LOSS_COLORS[column]), row=1,
                        col=1)
    scores = [c for c in history.columns if c.startswith(VALIDATION_PREFIXES)]
    for column in scores:
        fig.add_scatter(x=history["epoch"], y=history[column], name=_validation_name(column),
                        mode="lines+markers", line=dict(color="#1FA38A"), row=1, col=2)
    top = pd.to_numeric(history[scores].stack(), errors="coerce").max() if scores else None
    # autorange pads a flat or single score below 0 (−0.5 at the first epoch)
    top = float(top) * 1.1 if top is not None and top > 0 else 1.0
    fig.update_yaxes(range=[0.0, top], rangemode="nonnegative", row=1, col=2)
    epochs = pd.to_numeric(history["epoch"], errors="coerce")
    fig.update_xaxes(title=t("charts.epoch"), dtick=max(1, int(epochs.max()) // 10),
                     range=[max(0.0, float(epochs.min()) - 0.5), float(epochs.max()) + 0.5])
    _style(fig, height=360)
    # legend under the plots: above them it covered the subplot titles
    fig.update_layout(margin=dict(l=8, r=8, t=40, b=8),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))
    return fig


def category_tree(counts: pd.DataFrame) -> go.Figure:
    """Sunburst of the catalogue's category paths, sized by item count
    (`engine.serving.itemmap.category_counts`)."""
    levels = [c for c in counts.columns if c.startswith("level ")]
    fig = px.sunburst(counts, path=levels, values="items", color="level 1",
                      color_discrete_map=category_colors(counts["level 1"].unique()))
    fig.update_traces(insidetextorientation="radial")
    fig.update_layout(title=t("charts.category_tree"))
    return _style(fig, height=480, legend=False)


def item_map(points: pd.DataFrame) -> go.Figure:
    """2-D projection of item vectors (`x, y, category, title`), coloured by department."""
    if points.empty:
        return empty_figure(t("charts.no_vectors"))
    frame = points.assign(department=points["category"].astype(str).str.split(" > ").str[0])
    fig = px.scatter(frame, x="x", y="y", color="department", hover_name="title",
                     hover_data={"category": True, "department": False, "x": False, "y": False},
                     color_discrete_map=category_colors(frame["department"].unique()),
                     labels={"department": t("charts.department"),
                             "category": t("charts.category")}, render_mode="webgl")
    fig.update_traces(marker=dict(size=6, opacity=0.75))
    fig.update_xaxes(title="PC 1", showticklabels=False)
    fig.update_yaxes(title="PC 2", showticklabels=False)
    fig.update_layout(title=t("charts.item_map"))
    _style(fig, height=520)
    fig.update_layout(legend=dict(orientation="v", x=1.01, y=1, yanchor="top"),
                      margin=dict(t=40))
    return fig


def metric_comparison(frame: pd.DataFrame, label_col: str) -> go.Figure:
    """Grouped bars of metrics (columns, in their order) for two or more runs/scenarios (rows,
    in their order, as in the table beside it); the legend sits under the panels, where it
    covers no panel title."""
    metrics = [c for c in frame.columns if c != label_col]
    if frame.empty or not metrics:
        return empty_figure(t("charts.nothing_to_compare"))
    long = frame.melt(id_vars=label_col, value_vars=metrics, var_name="metric")
    wrap = min(4, len(metrics))
    # one panel per metric, each on its own axis: coverage (~10) and NDCG (~0.1) never share one
    fig = px.bar(long, x=label_col, y="value", color=label_col, facet_col="metric",
                 facet_col_wrap=wrap, facet_row_spacing=0.18, facet_col_spacing=0.06,
                 category_orders={label_col: frame[label_col].astype(str).tolist(),
                                  "metric": metrics},
                 color_discrete_sequence=[ACCENT, "#E0569B", "#1FA38A", "#F29B30"])
    fig.update_yaxes(matches=None, showticklabels=True, title="")
    fig.update_xaxes(title="", showticklabels=False)
    # a scoped title ("Shopper · Category entropy@10") on two lines: never cut at the panel
    fig.for_each_annotation(lambda note: note.update(
        text=note.text.split("=", 1)[-1].replace(" · ", "<br>")))
    rows = -(-len(metrics) // wrap)
    _style(fig, height=120 + 200 * rows)
    fig.update_layout(margin=dict(l=8, r=8, t=40, b=8),
                      legend=dict(orientation="h", yanchor="top", y=-0.06, x=0))
    return fig


def paired_runs_chart(rows: list[dict], name_a: str, name_b: str) -> go.Figure:
    """The paired comparison's own numbers (`metric, a, b` rows) as bars: run A first, as in
    the table's columns, and each metric under the table's name, in the table's order."""
    frame = pd.DataFrame({"run": [name_a, name_b],
                          **{str(row["metric"]): [row["a"], row["b"]] for row in rows}})
    return metric_comparison(frame, "run")

"""The Explorer's two weights: a loss-conditioned model's own α and the re-ranker's weight w.

A run trained over a range of α (`prism train --alpha 0:1`, or the Training page's one-model
button) answers for any α in that range with one user-tower pass: its α is the Explorer's main
slider, and the re-ranker stays a second, labelled control. A run with one α (EASE, item-kNN,
a two-tower trained at a fixed α) has the re-rank weight alone, and the page says so.
The chosen α is a control of dashboard.view_state like every other (`MODEL_ALPHA`, URL
`model_alpha=`): it survives page switches and travels in links.
"""

from __future__ import annotations

import streamlit as st

from dashboard import state, view_state
from dashboard.i18n import t

STEPS = 20  # slider positions across the trained range (0.05 apart on 0..1)


def model_range(recommender) -> tuple[float, float] | None:  # noqa: ANN001 - a Recommender
    """(low, high) α the run's model answers for; None when it has one α or none."""
    span = recommender.model.alpha_range
    return None if span is None else (float(span[0]), float(span[1]))


def fit_model_alpha(recommender) -> tuple[float | None, str | None]:  # noqa: ANN001
    """The chosen model α fitted into the run's range (stored back), and a notice when a
    value from a link or another run had to move; (None, None) for a run without a range."""
    span = model_range(recommender)
    if span is None:
        return None, None
    low, high = span
    current = st.session_state.get(view_state.MODEL_ALPHA)
    if current is None:  # never chosen: the run's own α
        current = float(recommender.model.alpha_)
    fitted = round(min(max(float(current), low), high), 4)
    notice = None
    if abs(fitted - float(current)) > 1e-9:
        notice = t("explorer.model_alpha_moved", asked=float(current), low=low, high=high,
                   used=fitted)
    view_state.set_value(view_state.MODEL_ALPHA, fitted)
    return fitted, notice


def model_alpha_slider(column, recommender, span: tuple[float, float]) -> float:  # noqa: ANN001
    """The model's α slider and where it acts; returns the α to serve at."""
    low, high = span
    column.slider(t("explorer.model_alpha"), low, high, step=round((high - low) / STEPS, 4),
                  **view_state.widget(view_state.MODEL_ALPHA),
                  help=t("explorer.model_alpha_help"))
    beta = float((recommender.run.meta.get("train_config") or {}).get("beta", 1.0))
    column.caption(t("explorer.model_alpha_stage", low=low, high=high, beta=beta))
    return float(st.session_state[view_state.MODEL_ALPHA])


def rerank_weight_slider(column, method_label: str) -> float:  # noqa: ANN001 - a column
    """The re-ranker's weight as the second control of a conditioned run."""
    column.slider(t("explorer.rerank_weight", method=method_label), 0.0, 1.0, step=0.05,
                  **view_state.widget(state.ALPHA), help=t("explorer.alpha_help"))
    column.caption(t("explorer.alpha_stage"))
    return float(st.session_state[state.ALPHA])

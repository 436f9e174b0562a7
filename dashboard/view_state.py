"""The merchandiser's view: every control of the studio, kept in one place and in the URL.

Each control (run, shopper, segment, method, diversity weight α, k, sample size, policy,
language, the Trade-off axes and methods) has one canonical value under its plain key in
session state (`alpha`, `k`, …). No widget owns that key, so Streamlit never drops it when a
page without the widget is shown, nor after a fragment rerun. The widget that edits a control
has its own key (`w_alpha`), is seeded from the canonical value just before it is drawn, and
writes back on change (`widget(...)`); pages read `value(...)`. `write_url()` mirrors the
shareable controls into the link, `seed_from_url()` reads a link once per session. The
category targets panel's rows (for everyone and per segment) are part of the view too, kept
in session state only (`targets()`, `rerank_extras()`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from engine.rerank.methods import DIVERSIFY_METHODS, SWEEP_METHODS
from engine.rerank.methods import METHOD_LABELS as ENGINE_METHOD_LABELS
from engine.rerank.quotas import target_arguments

RUN, USER, SEGMENT, METHOD, ALPHA, K = "run", "user", "segment", "method", "alpha", "k"
SAMPLE_SIZE, POLICY, LANG = "sample_size", "policy", "lang"
MODEL_ALPHA = "model_alpha"  # a loss-conditioned model's own α (None: the run's default)
AXIS_ACCURACY, AXIS_DIVERSITY, SWEPT = "tradeoff_accuracy", "tradeoff_diversity", \
    "tradeoff_methods"
ALL_SHOPPERS = "All shoppers"  # the segment that filters nobody out
NO_POLICY = "none (model + slider)"  # the policy choice that applies none
WIDGET_PREFIX = "w_"

METHOD_LABELS = {m: ENGINE_METHOD_LABELS[m] for m in DIVERSIFY_METHODS}  # the Explorer's choices
K_MIN, K_MAX = 3, 30
SAMPLE_MIN, SAMPLE_MAX = 50, 5000
DEFAULTS: dict[str, Any] = {
    SEGMENT: ALL_SHOPPERS, METHOD: "mmr", ALPHA: 0.5, K: 10, SAMPLE_SIZE: 500,
    POLICY: NO_POLICY, AXIS_ACCURACY: "NDCG", AXIS_DIVERSITY: "Category entropy",
    SWEPT: list(SWEEP_METHODS)}
# what a link holds, in this order; a control at its "nothing chosen" value leaves the link
URL_KEYS = (RUN, USER, SEGMENT, MODEL_ALPHA, ALPHA, METHOD, K, SAMPLE_SIZE, POLICY)
URL_OMITTED = {SEGMENT: ALL_SHOPPERS, POLICY: NO_POLICY}
# URL names that differ from the key: the serve-time weight is `diversity_weight=` (as in the
# engine, CLI and API); links made before still say `alpha=` and still open.
URL_NAMES = {ALPHA: "diversity_weight"}
OLD_URL_NAMES = {ALPHA: "alpha"}
USER_RUN = "_user_run"  # the run the current shopper id was picked on
URL_SEEDED = "_url_seeded"
TARGETS = "targets"  # {category: {"floor": int|None, "cap": int|None, "share": float|None}}
SEGMENT_TARGETS = "segment_targets"  # {segment: {category: row}}: override for that segment
TARGETS_VERSION = "targets_version"  # bumps to reset the targets editor (scenario reload)


def widget_key(key: str) -> str:
    """The key of the widget that edits control `key` (never the control's own key)."""
    return WIDGET_PREFIX + key


def value(key: str) -> Any:
    """The control's current value (its default when never set)."""
    return st.session_state.get(key, DEFAULTS.get(key))


def set_value(key: str, new: Any) -> None:
    """Set a control; its widget shows the value the next time it is drawn."""
    st.session_state[key] = new


def ensure_defaults() -> None:
    """Give every control with a default its value before any page reads it."""
    for key, default in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = list(default) if isinstance(default, list) else default


def fit_to_run(n_items: int, shoppers: int | None) -> None:
    """Keep k and the sample size within what the active run has, on every page before any
    reads them: k at most its catalogue size (a tiny shop opens at k = its size), the sample
    at most its held-out shoppers (`shoppers`; None when its data is gone), so every page
    and the link say the same numbers."""
    ensure_defaults()
    st.session_state[K], st.session_state[SAMPLE_SIZE] = fitted(
        int(value(K)), int(value(SAMPLE_SIZE)), n_items, shoppers)


def k_bounds(n_items: int) -> tuple[int, int]:
    """The lengths a list can have on a run with `n_items` items: K_MIN..K_MAX, at most the
    catalogue (a tiny shop: its size). The Explorer's k box, a link and a reloaded scenario
    all keep k within them."""
    high = max(1, min(K_MAX, n_items))
    return min(K_MIN, high), high


def fitted(k: int, sample: int, n_items: int, shoppers: int | None) -> tuple[int, int]:
    """(k, sample size) as a run with `n_items` items and `shoppers` held-out shoppers (None:
    its data is gone) uses them: k within `k_bounds`, the sample at most the shoppers."""
    low, high = k_bounds(n_items)
    return min(max(k, low), high), (min(sample, shoppers) if shoppers else sample)


def _commit(key: str, then: Callable[[], None] | None) -> None:
    """Widget callback: the widget's new value becomes the control's value."""
    st.session_state[key] = st.session_state[widget_key(key)]
    if then is not None:
        then()


def widget(key: str, then: Callable[[], None] | None = None) -> dict[str, Any]:
    """Keyword arguments binding a widget to control `key`: call it right before the widget.

    Seeds the widget from the control (after a page switch Streamlit has forgotten the
    widget; after a scenario reload or a link the control holds a new value)."""
    ensure_defaults()
    name = widget_key(key)
    if key in st.session_state and st.session_state.get(name) != st.session_state[key]:
        st.session_state[name] = st.session_state[key]
    return {"key": name, "on_change": _commit, "args": (key, then)}


# ---- URL <-> controls -------------------------------------------------------------------
def _number(params: Mapping[str, str], name: str, key: str, low: float, high: float,
            cast: type, warnings: list[str]) -> Any:
    """A number from the link clamped to [low, high]; None (with a warning) when unreadable."""
    try:
        number = cast(params[name])
        if isinstance(number, float) and math.isnan(number):
            raise ValueError
    except ValueError:
        warnings.append(LinkWarning("not_number" if cast is float else "not_whole",
                                    name=name, value=repr(params[name]),
                                    default=DEFAULTS[key]))
        return None
    clamped = min(high, max(low, number))
    if clamped != number:
        allowed = f"[{low:g}, {high:g}]" if cast is float else f"{low}..{high}"
        warnings.append(LinkWarning("outside", name=name, value=f"{number:g}",
                                    allowed=allowed, used=f"{clamped:g}"))
    return clamped


class LinkWarning(str):
    """A link value that could not be used: its English text (for logs and tests) that
    remembers its catalogue key (`link.<code>`) and values, so the studio shows it in the
    active language."""

    key: str
    values: dict[str, Any]

    def __new__(cls, code: str, **values: Any) -> LinkWarning:
        key = f"link.{code}"
        text = super().__new__(cls, LINK_WARNINGS[code].format(**values))
        text.key, text.values = key, values
        return text


LINK_WARNINGS = {  # the English texts; dashboard/locales/*.json `link.<code>` (a test keeps
    # them equal)
    "not_number": "{name}={value} in the link is not a number; using {default}.",
    "not_whole": "{name}={value} in the link is not a whole number; using {default}.",
    "outside": "{name}={value} in the link is outside {allowed}; using {used}.",
    "model_alpha": "{name}={value} in the link is not a number ≥ 0; using the run's own α.",
    "method": "method {value} in the link is unknown; choose one of {choices}. Using "
              "{default}.",
}


def parse_view_params(params: Mapping[str, str]) -> tuple[dict[str, Any], list[LinkWarning]]:
    """Validate a link's controls (`alpha=` read as the diversity weight, for older links);
    returns clean values by control key and one warning per value that could not be used."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for key in (RUN, USER, SEGMENT, POLICY):
        if str(params.get(key) or "").strip():
            values[key] = str(params[key]).strip()
    name = next((n for n in (URL_NAMES[ALPHA], OLD_URL_NAMES[ALPHA]) if n in params), None)
    if name is not None and (alpha := _number(params, name, ALPHA, 0.0, 1.0, float,
                                              warnings)) is not None:
        values[ALPHA] = round(alpha, 2)
    if MODEL_ALPHA in params:  # any α ≥ 0 here; the Explorer fits it to the run's range
        try:
            model_alpha = float(params[MODEL_ALPHA])
            if not math.isfinite(model_alpha) or model_alpha < 0:
                raise ValueError
        except ValueError:
            warnings.append(LinkWarning("model_alpha", name=MODEL_ALPHA,
                                        value=repr(params[MODEL_ALPHA])))
        else:
            values[MODEL_ALPHA] = model_alpha
    if METHOD in params:
        if params[METHOD] in METHOD_LABELS:
            values[METHOD] = params[METHOD]
        else:
            warnings.append(LinkWarning("method", value=repr(params[METHOD]),
                                        choices=", ".join(METHOD_LABELS),
                                        default=DEFAULTS[METHOD]))
    for key, low, high in ((K, K_MIN, K_MAX), (SAMPLE_SIZE, SAMPLE_MIN, SAMPLE_MAX)):
        if key in params and (number := _number(params, key, key, low, high, int,
                                                warnings)) is not None:
            values[key] = number
    return values, warnings


def seed_from_url() -> list[LinkWarning]:
    """Once per session, copy a link's valid controls into the view; returns warnings."""
    if st.session_state.get(URL_SEEDED):
        return []
    st.session_state[URL_SEEDED] = True
    values, warnings = parse_view_params(st.query_params.to_dict())
    values.pop(RUN, None)  # the sidebar's run picker applies the run (it knows the runs)
    for key, new in values.items():
        st.session_state[key] = new
    if USER in values:  # a linked shopper belongs to the linked (or current) run
        st.session_state[USER_RUN] = st.session_state.get(RUN)
    return warnings


def url_values() -> dict[str, str]:
    """The link's parameters for the current view (controls at "nothing chosen" left out)."""
    wanted = {}
    for key in URL_KEYS:
        current = st.session_state.get(key)
        if current not in (None, "") and current != URL_OMITTED.get(key):
            text = str(round(current, 4)) if isinstance(current, float) else str(current)
            wanted[URL_NAMES.get(key, key)] = text
    return wanted


def write_url() -> None:
    """Mirror the current view into the URL so it can be shared as a link."""
    wanted = url_values()
    stale = [name for name in (*OLD_URL_NAMES.values(),
                               *(URL_NAMES.get(key, key) for key in URL_KEYS))
             if name in st.query_params and name not in wanted]
    for name in stale:  # an old link's alpha=, a segment or policy set back to none
        del st.query_params[name]
    if any(st.query_params.get(name) != text for name, text in wanted.items()):
        st.query_params.update(wanted)


# ---- category targets -------------------------------------------------------------------
def targets(segment: str | None = None) -> dict[str, dict[str, Any]]:
    """Category targets for a segment when it has its own, else everyone's."""
    if segment:
        own = (st.session_state.get(SEGMENT_TARGETS) or {}).get(segment)
        if own:
            return dict(own)
    return dict(st.session_state.get(TARGETS) or {})


def segment_targets() -> dict[str, dict[str, dict[str, Any]]]:
    return {name: dict(rows) for name, rows in
            (st.session_state.get(SEGMENT_TARGETS) or {}).items() if rows}


def rerank_extras(method: str, segment: str | None = None) -> dict[str, Any]:
    """The `target=` / `quotas=` arguments a method takes from the merchandiser's panel."""
    return target_arguments(method, targets(segment))

"""The Policies page's form: every field of every stage the studio edits, and the rest kept.

`load_into_form(policy)` seeds the widgets; `policy_from_form()` reads them back. A stage the
boxes cannot show exactly (a second stage of a kind, a keep-match, quotas, exposure targets)
is kept as written in the "other stages" JSON box, and the list order of the loaded policy is
remembered, so a policy loaded and saved unchanged is stored exactly as it was.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from dashboard import pickers
from dashboard.i18n import method_label, t
from dashboard.sample_box import NumberRange, at_least
from engine.core.errors import ConfigError
from engine.core.limits import MAX_SLOT
from engine.core.messages import Message, json_problem
from engine.policy.compile import PRICE_BAND, cap_columns
from engine.policy.schema import Policy, parse_policy
from engine.rerank.methods import QUOTA_FREE_METHODS

ORDER = "pf_order"  # [(kind, "form" | "kept"), ...] of the loaded policy
KEPT = "pf_kept"
FORM_KINDS = ("filter", "boost", "bury", "promote", "cap", "floor", "diversify", "pin")
METHODS = list(QUOTA_FREE_METHODS)  # quotas are kept as written
SCOPES = ["all", "run", "dataset"]
CAP_WORDS = ("brand", "category", PRICE_BAND)


def method_name(method: str) -> str:
    return t("policies.method_none") if method == "none" else method_label(method)


def cap_column_name(column: str) -> str:
    """A cap grouping in words: brand, category and price band in the studio's language, any
    other item column by its own name (it is the merchant's data)."""
    return t(f"policies.cap_by.{column}") if column in CAP_WORDS else column


def defaults() -> dict[str, Any]:
    values: dict[str, Any] = {
        "pf_name": "", "pf_description": "", "pf_candidates": 200, "pf_scope": "all",
        "pf_include_unavailable": False,
        "pf_scope_value": "", "pf_price_min": None, "pf_price_max": None,
        "pf_missing_price": "keep", "pf_exclude_brands": [], "pf_exclude_categories": "",
        "pf_exclude_seen": False, "pf_share": 0.0, "pf_cap": 0, "pf_cap_column": "brand",
        "pf_floor": 0.0, "pf_floor_kind": "quantile", "pf_method": "none", "pf_weight": 0.3,
        "pf_target_mix": 0.5, "pf_pin_item": "", "pf_pin_slot": 1, "pf_pin_segment": [],
        KEPT: "[]", ORDER: []}
    for kind in FORM_KINDS:
        values[f"pf_{kind}_label"] = ""
    for kind in ("boost", "bury", "promote"):
        values[f"pf_{kind}_brands"], values[f"pf_{kind}_categories"] = [], ""
    values["pf_boost"] = values["pf_bury"] = 0.1
    return values


def _lines(values: list[str] | None) -> str:
    return "\n".join(values or [])


def _stage_into(values: dict[str, Any], stage: Any) -> None:
    kind = stage.kind
    values[f"pf_{kind}_label"] = stage.label
    if kind == "filter":
        values.update(pf_price_min=stage.price_min, pf_price_max=stage.price_max,
                      pf_missing_price=stage.missing_price, pf_exclude_seen=stage.exclude_seen)
        drop = stage.drop
        values["pf_exclude_brands"] = list(drop.brands or []) if drop else []
        values["pf_exclude_categories"] = _lines(drop.categories) if drop else ""
    elif kind in ("boost", "bury", "promote"):
        values[f"pf_{kind}_brands"] = list(stage.match.brands or [])
        values[f"pf_{kind}_categories"] = _lines(stage.match.categories)
        if kind == "promote":
            values["pf_share"] = float(stage.share)
        else:
            values[f"pf_{kind}"] = float(stage.strength)
    elif kind == "cap":
        values["pf_cap"], values["pf_cap_column"] = int(stage.max_items), stage.column
    elif kind == "floor":
        which = "quantile" if stage.quantile is not None else "min_relevance"
        values["pf_floor_kind"], values["pf_floor"] = which, float(getattr(stage, which))
    elif kind == "diversify":
        values.update(pf_method=stage.method, pf_weight=float(stage.weight),
                      pf_target_mix=float(stage.target_mix))
    elif kind == "pin":
        values.update(pf_pin_item=stage.item_id, pf_pin_slot=int(stage.slot),
                      pf_pin_segment=list(stage.segment.top_categories) if stage.segment
                      else [])


def _fits(stage: Any) -> bool:
    """Whether the boxes show `stage` exactly: read into them and back, it is the same."""
    if stage.kind not in FORM_KINDS:
        return False
    values = defaults()
    _stage_into(values, stage)
    rebuilt = form_stages(lambda key, default=None: values.get(key, default)).get(stage.kind)
    try:
        return rebuilt is not None and type(stage).model_validate(rebuilt) == stage
    except ValueError:  # pydantic's ValidationError: a value the boxes cannot hold
        return False


def load_into_form(policy: Policy | None) -> None:
    """Seed the widgets from a stored policy (once per selection)."""
    values = defaults()
    if policy is not None:
        values.update(pf_name=policy.name, pf_description=policy.description,
                      pf_candidates=int(policy.n_candidates),
                      pf_include_unavailable=bool(policy.include_unavailable))
        if policy.scope is not None:
            which = "run" if policy.scope.run is not None else "dataset"
            values["pf_scope"], values["pf_scope_value"] = which, getattr(policy.scope, which)
        kept, order, shown = [], [], set()
        for stage in policy.stages:
            if stage.kind in shown or not _fits(stage):
                kept.append(stage.model_dump(mode="json", exclude_none=True))
                order.append((stage.kind, "kept"))
                continue
            shown.add(stage.kind)
            order.append((stage.kind, "form"))
            _stage_into(values, stage)
        values[KEPT], values[ORDER] = json.dumps(kept, indent=1, ensure_ascii=False), order
    for key, value in values.items():
        st.session_state[key] = value


def _with(options: list[str], chosen: Any) -> list[str]:
    """`options` plus any chosen value they lack (a loaded policy may name what this run
    does not carry; the widget must still show it)."""
    extra = [c for c in ([chosen] if isinstance(chosen, str) else chosen or []) if c not in options]
    return [*options, *extra]


def _brands(recommender: Any) -> list[str]:
    """The 300 brands most items carry (counted once per catalogue snapshot)."""
    return recommender.catalogue.brands[:300]


def brand_picker(label: str, key: str, brands: list[str]) -> None:
    """Brands by exact name: Enter picks the highlighted brand alone (no 'select all
    matches' entry), and an exact name sorts first."""
    st.multiselect(label, _with(brands, st.session_state.get(key)), key=key,
                   select_all=False, filter_mode="fuzzy")


def _number(where: Any, key: str, label: str, low: float, high: float, **options: Any) -> None:
    """A number box of the form: it takes any entry, and one outside `low`..`high` is
    brought into the range and said (a box with bounds would refuse it with a tooltip only)."""
    NumberRange(low, high, label).box(where, key, defaults()[key], **options)


def _general(recommender: Any) -> None:
    name_col, candidates_col = st.columns([3, 1])
    name_col.text_input(t("policies.name"), key="pf_name", placeholder="spring-sale")
    _number(candidates_col, "pf_candidates", t("policies.candidates"), 1, 5000, step=50)
    st.text_input(t("policies.description"), key="pf_description")
    st.checkbox(t("policies.include_unavailable"), key="pf_include_unavailable")
    scope_col, value_col = st.columns([2, 1])
    scope_col.radio(t("policies.scope"), SCOPES, key="pf_scope", horizontal=True,
                    format_func=lambda s: t(f"policies.scope_{s}"))
    if st.session_state.get("pf_scope") != "all" and not st.session_state.get("pf_scope_value"):
        run = recommender.run
        st.session_state["pf_scope_value"] = (run.path.name if st.session_state["pf_scope"] ==
                                              "run" else str(run.meta.get("dataset") or ""))
    value_col.text_input(t("policies.scope_value"), key="pf_scope_value",
                         disabled=st.session_state.get("pf_scope") == "all")


def _filter_box(brands: list[str]) -> None:
    st.markdown(t("policies.filter"))
    st.text_input(t("policies.label"), key="pf_filter_label")
    low, high = st.columns(2)
    # value=None: an emptied field stays empty (no limit) instead of springing back to 0
    at_least(0.0, t("policies.price_min")).box(low, "pf_price_min", None, step=10.0)
    at_least(0.0, t("policies.price_max")).box(high, "pf_price_max", None, step=10.0)
    conflict = price_conflict(st.session_state.get)
    if conflict:  # said here, in the form's words, not as a policy path below the form
        st.error(t("policies.price_conflict", low=f"{conflict[0]:g}", high=f"{conflict[1]:g}"))
    st.radio(t("policies.missing_price"), ["keep", "drop"], key="pf_missing_price",
             horizontal=True, format_func=lambda v: t(f"policies.missing_{v}"))
    brand_picker(t("policies.exclude"), "pf_exclude_brands", brands)
    st.text_area(t("policies.exclude_categories"), key="pf_exclude_categories", height=68)
    st.checkbox(t("policies.exclude_seen"), key="pf_exclude_seen")


def _match_box(kind: str, brands: list[str]) -> None:
    st.text_input(t("policies.label"), key=f"pf_{kind}_label")
    brand_picker(t(f"policies.{kind}_brands"), f"pf_{kind}_brands", brands)
    st.text_area(t("policies.categories"), key=f"pf_{kind}_categories", height=68)
    if kind == "promote":
        _number(st, "pf_share", t("policies.share"), 0.0, 1.0, step=0.05)
    else:
        _number(st, f"pf_{kind}", t(f"policies.{kind}_strength"), 0.01, 1.0, step=0.01)


def _cap_floor_box(recommender: Any) -> None:
    columns = cap_columns(recommender.catalogue.items)
    st.markdown(t("policies.cap_floor"))
    st.text_input(t("policies.label"), key="pf_cap_label")
    count, column = st.columns(2)
    at_least(0, t("policies.cap")).box(count, "pf_cap", defaults()["pf_cap"], step=1)
    column.selectbox(t("policies.cap_column"), _with(columns, st.session_state.get(
        "pf_cap_column")), key="pf_cap_column", format_func=cap_column_name)
    st.text_input(t("policies.label"), key="pf_floor_label")
    st.radio(t("policies.floor_kind"), ["quantile", "min_relevance"], key="pf_floor_kind",
             horizontal=True, format_func=lambda v: t(f"policies.floor_{v}"))
    _number(st, "pf_floor", t("policies.floor"), 0.0, 1.0, step=0.05)


def _diversify_pin_box(recommender: Any) -> None:
    catalogue = recommender.catalogue
    st.markdown(t("policies.diversify_pin"))
    st.text_input(t("policies.label"), key="pf_diversify_label")
    st.radio(t("policies.method"), METHODS, key="pf_method", horizontal=True,
             format_func=method_name)
    weight, mix = st.columns(2)
    _number(weight, "pf_weight", t("policies.weight"), 0.0, 1.0, step=0.05)
    _number(mix, "pf_target_mix", t("policies.target_mix"), 0.0, 1.0, step=0.05,
            disabled=st.session_state.get("pf_method") != "calibrated")
    st.text_input(t("policies.label"), key="pf_pin_label")
    ids = pickers.matching(catalogue.item_finder, "pf_find_pin", what="item")
    titles = pickers.titles_of(catalogue, ids)
    st.selectbox(t("policies.pin"), _with(["", *ids], st.session_state.get("pf_pin_item")),
                 key="pf_pin_item", format_func=lambda i: f"{i} · {titles[i][:50]}"
                 if i in titles else i or t("policies.no_pin"))
    _number(st, "pf_pin_slot", t("policies.slot"), 1, MAX_SLOT, step=1)
    st.multiselect(t("policies.segment"), _with(list(catalogue.category_names),
                                                st.session_state.get("pf_pin_segment")),
                   key="pf_pin_segment", select_all=False)


def stages_form(recommender: Any) -> None:
    """One bordered box per stage kind; empty or zero means the stage is off."""
    brands = _brands(recommender)
    _general(recommender)
    left, right = st.columns(2)
    with left.container(border=True):
        _filter_box(brands)
    with right.container(border=True):
        st.markdown(t("policies.boost_bury"))
        _match_box("boost", brands)
        _match_box("bury", brands)
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown(t("policies.promote"))
        _match_box("promote", brands)
        _cap_floor_box(recommender)
    with right.container(border=True):
        _diversify_pin_box(recommender)
    with st.expander(t("policies.kept")):
        st.caption(t("policies.kept_help"))
        st.text_area(t("policies.kept_json"), key=KEPT, height=160)


def _listed(get: Any, key: str) -> list[str]:
    value = get(key)
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    return list(value or [])


def _match(get: Any, kind: str) -> dict[str, Any] | None:
    match = {name: values for name, values in (
        ("brands", _listed(get, f"pf_{kind}_brands")),
        ("categories", _listed(get, f"pf_{kind}_categories"))) if values}
    return match or None


def price_conflict(get: Any) -> tuple[float, float] | None:
    """(lowest, highest) when both prices are set and the lowest is above the highest."""
    low, high = get("pf_price_min"), get("pf_price_max")
    return (low, high) if low is not None and high is not None and low > high else None


def _filter_stage(get: Any) -> dict[str, Any] | None:
    drop = _match(get, "exclude")
    low, high = get("pf_price_min"), get("pf_price_max")
    if low is None and high is None and drop is None and not get("pf_exclude_seen"):
        return None
    stage = {"kind": "filter", "missing_price": get("pf_missing_price", "keep"),
             "exclude_seen": bool(get("pf_exclude_seen"))}
    for name, value in (("price_min", low), ("price_max", high)):
        if value is not None:
            stage[name] = float(value)
    if drop:
        stage["drop"] = drop
    return stage


def form_stages(get: Any) -> dict[str, dict[str, Any]]:
    """{kind: stage} for every box that is on; `get(key, default)` reads the widgets."""
    stages: dict[str, dict[str, Any] | None] = {"filter": _filter_stage(get)}
    for kind in ("boost", "bury"):
        match = _match(get, kind)
        stages[kind] = match and {"kind": kind, "match": match,
                                  "strength": float(get(f"pf_{kind}"))}
    match = _match(get, "promote")
    stages["promote"] = match and get("pf_share") and {"kind": "promote", "match": match,
                                                        "share": float(get("pf_share"))}
    stages["cap"] = get("pf_cap") and {"kind": "cap", "column": get("pf_cap_column", "brand"),
                                       "max_items": int(get("pf_cap"))}
    stages["floor"] = get("pf_floor") and {"kind": "floor",
                                           get("pf_floor_kind", "quantile"): float(get("pf_floor"))}
    stages["diversify"] = get("pf_method", "none") != "none" and {
        "kind": "diversify", "method": get("pf_method"), "weight": float(get("pf_weight")),
        "target_mix": float(get("pf_target_mix"))}
    stages["pin"] = get("pf_pin_item") and {"kind": "pin", "item_id": get("pf_pin_item"),
                                            "slot": int(get("pf_pin_slot"))}
    if stages["pin"] and get("pf_pin_segment"):
        stages["pin"]["segment"] = {"top_categories": list(get("pf_pin_segment"))}
    return {kind: {**stage, "label": get(f"pf_{kind}_label") or ""}
            for kind, stage in stages.items() if stage}


def _kept() -> list[dict[str, Any]]:
    text = (st.session_state.get(KEPT) or "").strip() or "[]"
    try:
        kept = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(Message("not_json", where=t("policies.kept"),
                                  error=json_problem(exc.msg), line=exc.lineno)) from exc
    if not isinstance(kept, list):
        raise ConfigError(Message("stages_not_list", where=t("policies.kept")))
    return kept


def ordered_stages(form: dict[str, dict[str, Any]], kept: list[dict[str, Any]],
                   order: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The loaded policy's order first (a box's stage where its kind stood, kept stages in
    turn), then boxes newly switched on (pipeline order) and kept stages added since."""
    form, kept, stages = dict(form), list(kept), []
    for kind, source in order:
        if source == "form" and kind in form:
            stages.append(form.pop(kind))
        elif source == "kept" and kept:
            stages.append(kept.pop(0))
    return stages + [form[kind] for kind in FORM_KINDS if kind in form] + kept


def policy_from_form() -> Policy:
    """The widgets as a validated Policy (ConfigError names the problem)."""
    get = st.session_state.get
    body: dict[str, Any] = {
        "name": (get("pf_name") or "").strip() or t("policies.untitled"),
        "description": get("pf_description") or "",
        "n_candidates": int(get("pf_candidates") or 200),
        "include_unavailable": bool(get("pf_include_unavailable")),
        "stages": ordered_stages(form_stages(get), _kept(), list(get(ORDER) or []))}
    if get("pf_scope", "all") != "all":
        body["scope"] = {get("pf_scope"): (get("pf_scope_value") or "").strip()}
    return parse_policy(body, t("policies.this_policy"))

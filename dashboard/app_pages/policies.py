"""Policies: compose a merchandising policy with forms, see one shopper's list before and
after (with what each stage did), preview it on the held-out shoppers with 95% intervals,
then save, publish or roll back.

Saving remembers the version the edit started from: if someone else saved in between, the
save is refused with a message instead of overwriting their work.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import policy_view, state
from engine.errors import PrismError
from engine.policy.schema import Policy, parse_policy

NEW = "(new policy)"
BASE = "policy_base_version"
PREVIEW = "policy_preview_report"
METHODS = ["none", "mmr", "dpp", "calibrated"]


def _brands(recommender: Any) -> list[str]:
    items = recommender.catalogue.items
    if "brand" not in items:
        return []
    counts = items["brand"].fillna("").astype(str).value_counts()
    return [b for b in counts.index.tolist() if b][:300]


def load_into_form(policy: Policy | None) -> None:
    """Seed the widgets from a stored policy (once per selection)."""
    values: dict[str, Any] = {"pf_name": "", "pf_price_max": 0.0, "pf_exclude_brands": [],
                              "pf_boost_brands": [], "pf_boost": 0.1, "pf_bury_brands": [],
                              "pf_bury": 0.1, "pf_promote_brands": [], "pf_share": 0.0,
                              "pf_cap": 0, "pf_floor": 0.0, "pf_method": "none",
                              "pf_weight": 0.3, "pf_pin_item": "", "pf_pin_slot": 1}
    if policy is not None:
        values["pf_name"] = policy.name
        for stage in policy.stages:
            _stage_into(values, stage)
    for key, value in values.items():
        st.session_state[key] = value
    st.session_state[BASE] = None if policy is None else policy.version


def _stage_into(values: dict[str, Any], stage: Any) -> None:
    kind = stage.kind
    if kind == "filter":
        values["pf_price_max"] = float(stage.price_max or 0.0)
        values["pf_exclude_brands"] = list(stage.drop.brands or []) if stage.drop else []
    elif kind in ("boost", "bury"):
        values[f"pf_{kind}_brands"] = list(stage.match.brands or [])
        values[f"pf_{kind}"] = float(stage.strength)
    elif kind == "promote":
        values["pf_promote_brands"] = list(stage.match.brands or [])
        values["pf_share"] = float(stage.share)
    elif kind == "cap":
        values["pf_cap"] = int(stage.max_items)
    elif kind == "floor":
        values["pf_floor"] = float(stage.quantile or 0.0)
    elif kind == "diversify" and stage.method in METHODS:
        values["pf_method"], values["pf_weight"] = stage.method, float(stage.weight)
    elif kind == "pin":
        values["pf_pin_item"], values["pf_pin_slot"] = stage.item_id, int(stage.slot)


def stages_form(recommender: Any) -> None:
    """One bordered box per stage kind; zero or empty means the stage is off."""
    brands = _brands(recommender)
    ids = recommender.catalogue.columns.ids.tolist()
    titles = dict(zip(ids, recommender.catalogue.columns.titles.tolist(), strict=True))
    st.text_input("Policy name", key="pf_name", placeholder="spring-sale")
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown("**Filter** · what may never be shown")
        st.number_input("Highest price (0 = no limit; items without a price stay)",
                        min_value=0.0, step=10.0, key="pf_price_max")
        st.multiselect("Exclude brands", brands, key="pf_exclude_brands")
    with right.container(border=True):
        st.markdown("**Boost / bury** · relevance ± strength (relevance runs 0–1)")
        st.multiselect("Boost brands", brands, key="pf_boost_brands")
        st.slider("Boost strength", 0.01, 1.0, step=0.01, key="pf_boost")
        st.multiselect("Bury brands", brands, key="pf_bury_brands")
        st.slider("Bury strength", 0.01, 1.0, step=0.01, key="pf_bury")
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown("**Promote, cap, floor**")
        st.multiselect("Promoted brands", brands, key="pf_promote_brands")
        st.slider("Promotion share of the k slots", 0.0, 1.0, step=0.05, key="pf_share")
        st.number_input("At most this many items per brand (0 = no cap)", min_value=0,
                        step=1, key="pf_cap")
        st.slider("Relevance floor: drop the shopper's lowest quantile (0 = off)", 0.0, 0.99,
                  step=0.01, key="pf_floor")
    with right.container(border=True):
        st.markdown("**Diversify and pin**")
        st.radio("Method", METHODS, key="pf_method", horizontal=True)
        st.slider("Diversity weight", 0.0, 1.0, step=0.05, key="pf_weight")
        st.selectbox("Pin an item", ["", *ids], key="pf_pin_item",
                     format_func=lambda i: "(no pin)" if not i else f"{i} · {titles[i][:50]}")
        st.number_input("…at slot", min_value=1, max_value=50, step=1, key="pf_pin_slot")


def policy_from_form() -> Policy:
    """The widgets as a validated Policy (ConfigError names the problem)."""
    get = st.session_state.get
    stages: list[dict[str, Any]] = []
    if get("pf_price_max") or get("pf_exclude_brands"):
        stage: dict[str, Any] = {"kind": "filter"}
        if get("pf_price_max"):
            stage["price_max"] = float(get("pf_price_max"))
        if get("pf_exclude_brands"):
            stage["drop"] = {"brands": list(get("pf_exclude_brands"))}
        stages.append(stage)
    for kind in ("boost", "bury"):
        if get(f"pf_{kind}_brands"):
            stages.append({"kind": kind, "match": {"brands": list(get(f"pf_{kind}_brands"))},
                           "strength": float(get(f"pf_{kind}"))})
    if get("pf_promote_brands") and get("pf_share"):
        stages.append({"kind": "promote", "match": {"brands": list(get("pf_promote_brands"))},
                       "share": float(get("pf_share"))})
    if get("pf_cap"):
        stages.append({"kind": "cap", "column": "brand", "max_items": int(get("pf_cap"))})
    if get("pf_floor"):
        stages.append({"kind": "floor", "quantile": float(get("pf_floor"))})
    if get("pf_method", "none") != "none":
        stages.append({"kind": "diversify", "method": get("pf_method"),
                       "weight": float(get("pf_weight"))})
    if get("pf_pin_item"):
        stages.append({"kind": "pin", "item_id": get("pf_pin_item"),
                       "slot": int(get("pf_pin_slot"))})
    return parse_policy({"name": (get("pf_name") or "").strip() or "untitled",
                         "stages": stages}, "this policy")


def before_after(recommender: Any, policy: Policy) -> None:
    users = recommender.user_ids
    user = st.selectbox("Shopper", users[:500], key="policy_user")
    k = int(st.number_input("k", min_value=1, max_value=50, value=10, key="policy_k"))
    before, _ = policy_view.list_table(recommender, None, user, k)
    after, notice = policy_view.list_table(recommender, policy, user, k)
    if notice:
        st.info(notice)
    left, right = st.columns(2)
    left.markdown("**The model alone**")
    left.dataframe(before.drop(columns=["attribution"]), hide_index=True, width="stretch",
                   key="policy_before")
    right.markdown(f"**Under {policy.name}** · attribution per item")
    right.dataframe(after, hide_index=True, width="stretch", key="policy_after")


@st.cache_resource(max_entries=2, show_spinner="Re-reading the run's test shoppers…")
def _preview_inputs(run_dir: str, stamp: float) -> Any:
    from engine.policy.preview import load_inputs

    return load_inputs(run_dir)


def population_preview(run: state.RunEntry, policy: Policy) -> None:
    st.caption("Replays the run's held-out test shoppers under this policy and under the "
               "model alone; intervals are paired bootstrap 95% over shoppers.")
    if st.button("Run the preview", key="policy_preview_run", type="primary"):
        from engine.policy.preview import preview

        try:
            inputs = _preview_inputs(str(run.path), run.stamp)
            bar = st.progress(0.0, text="Replaying shoppers…")
            report = preview(inputs, policy, None, k=10, on_progress=lambda done, total:
                             bar.progress(done / max(total, 1),
                                          text=f"{done:,} of {total:,} shoppers"))
            bar.empty()
            st.session_state[PREVIEW] = report
        except PrismError as exc:
            st.error(f"The preview cannot run: {exc}")
    report = st.session_state.get(PREVIEW)
    if not report:
        return
    st.markdown(f"**{report['policy']}** vs **{report['against']}** over "
                f"{report['n_users']:,} shoppers · {report['lists_changed']['share']:.0%} of "
                f"lists changed · {report['seconds']['replay']:.1f} s")
    st.dataframe(policy_view.impact_frame(report).round(4), hide_index=True, width="stretch",
                 key="policy_impact")
    left, right = st.columns(2)
    left.plotly_chart(policy_view.exposure_chart(report["exposure"]["brand"],
                                                 "Exposure by brand"), key="policy_brand_chart")
    right.plotly_chart(policy_view.exposure_chart(report["exposure"]["category"],
                                                  "Exposure by category"),
                       key="policy_category_chart")


def save_and_publish(policy: Policy) -> None:
    store = policy_view.store()
    save_col, publish_col, rollback_col = st.columns(3)
    if save_col.button("Save as a new version", key="policy_save"):
        try:
            saved = store.save(policy, st.session_state.get(BASE) or 0)
            st.session_state[BASE] = saved.version
            st.success(f"Saved {saved.name}@{saved.version}.")
        except PrismError as exc:
            st.error(str(exc))
    if publish_col.button("Publish the latest version", key="policy_publish"):
        try:
            st.success(f"{policy.name}@{store.publish(policy.name)} is live.")
        except PrismError as exc:
            st.error(str(exc))
    if rollback_col.button("Roll back", key="policy_rollback"):
        try:
            st.success(f"Rolled back: {policy.name}@{store.rollback(policy.name)} is live.")
        except PrismError as exc:
            st.error(str(exc))


def main() -> None:
    st.title("Policies")
    st.caption("Business rules after scoring: filter → boost/bury → floor → diversify with "
               "caps and promotion shares → pins. Compose, check, measure, publish.")
    run, recommender = state.active_recommender()
    try:
        stored = policy_view.store().names()
    except PrismError as exc:
        st.error(f"The policy store cannot be read: {exc}")
        st.stop()
    labels = [NEW] + [f"{r['name']} (v{r['latest']}, live {r['live'] or '–'})" for r in stored]
    wanted = st.query_params.get("policy")  # ?policy=NAME opens that policy (a shareable link)
    if wanted and "policy_pick" not in st.session_state:
        names = [r["name"] for r in stored]
        if wanted in names:
            st.session_state["policy_pick"] = labels[names.index(wanted) + 1]
    picked = st.selectbox("Edit", labels, key="policy_pick")
    if st.session_state.get("policy_loaded") != picked:
        chosen = None if picked == NEW else policy_view.store().get(
            stored[labels.index(picked) - 1]["name"])
        load_into_form(chosen)
        st.session_state["policy_loaded"] = picked
        st.session_state.pop(PREVIEW, None)
    stages_form(recommender)
    try:
        policy = policy_from_form()
    except PrismError as exc:
        st.error(str(exc))
        st.stop()
    with st.expander("The policy as JSON (for export)"):
        st.json(policy.to_json())
    compare_tab, preview_tab, publish_tab = st.tabs(["One shopper", "Population preview",
                                                     "Save & publish"])
    with compare_tab:
        try:
            before_after(recommender, policy)
        except PrismError as exc:
            st.error(str(exc))
    with preview_tab:
        population_preview(run, policy)
    with publish_tab:
        save_and_publish(policy)


main()

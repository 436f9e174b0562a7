"""Policies: compose a merchandising policy with forms, see one shopper's list before and
after (with what each stage did), preview it on the held-out shoppers with 95% intervals,
then save, publish or roll back.

Saving remembers the version the edit started from: if someone else saved in between, the
save is refused with a message instead of overwriting their work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard import access, policy_view, state
from dashboard.i18n import t
from engine.core.errors import PrismError
from engine.policy.schema import Policy, parse_policy
from engine.rerank.methods import QUOTA_FREE_METHODS

NEW = "(new policy)"
BASE = "policy_base_version"
PREVIEW = "policy_preview_report"
METHODS = list(QUOTA_FREE_METHODS)  # quotas are set in a policy file, not this form


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
    st.text_input(t("policies.name"), key="pf_name", placeholder="spring-sale")
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown(t("policies.filter"))
        st.number_input(t("policies.price_max"),
                        min_value=0.0, step=10.0, key="pf_price_max")
        st.multiselect(t("policies.exclude"), brands, key="pf_exclude_brands")
    with right.container(border=True):
        st.markdown(t("policies.boost_bury"))
        st.multiselect(t("policies.boost_brands"), brands, key="pf_boost_brands")
        st.slider(t("policies.boost_strength"), 0.01, 1.0, step=0.01, key="pf_boost")
        st.multiselect(t("policies.bury_brands"), brands, key="pf_bury_brands")
        st.slider(t("policies.bury_strength"), 0.01, 1.0, step=0.01, key="pf_bury")
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown(t("policies.promote_cap_floor"))
        st.multiselect(t("policies.promoted"), brands, key="pf_promote_brands")
        st.slider(t("policies.share"), 0.0, 1.0, step=0.05, key="pf_share")
        st.number_input(t("policies.cap"), min_value=0,
                        step=1, key="pf_cap")
        st.slider(t("policies.floor"), 0.0, 0.99,
                  step=0.01, key="pf_floor")
    with right.container(border=True):
        st.markdown(t("policies.diversify_pin"))
        st.radio(t("policies.method"), METHODS, key="pf_method", horizontal=True)
        st.slider(t("policies.weight"), 0.0, 1.0, step=0.05, key="pf_weight")
        st.selectbox(t("policies.pin"), ["", *ids], key="pf_pin_item",
                     format_func=lambda i: f"{i} · {titles[i][:50]}" if i
                     else t("policies.no_pin"))
        st.number_input(t("policies.slot"), min_value=1, max_value=50, step=1, key="pf_pin_slot")


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
    user = st.selectbox(t("policies.shopper"), users[:500], key="policy_user")
    k = int(st.number_input("k", min_value=1, max_value=50, value=10, key="policy_k"))
    before, _ = policy_view.list_table(recommender, None, user, k)
    after, notice = policy_view.list_table(recommender, policy, user, k)
    if notice:
        st.info(notice)
    left, right = st.columns(2)
    left.markdown(t("policies.model_alone"))
    left.dataframe(before.drop(columns=["attribution"]), hide_index=True, width="stretch",
                   key="policy_before")
    right.markdown(t("policies.under", name=policy.name))
    right.dataframe(after, hide_index=True, width="stretch", key="policy_after")


def population_preview(run: state.RunEntry, policy: Policy) -> None:
    st.caption(t("policies.preview_caption"))
    if st.button(t("policies.run_preview"), key="policy_preview_run", type="primary"):
        from engine.policy.preview import preview

        try:
            inputs = policy_view.preview_inputs(str(run.path), run.stamp)
            bar = st.progress(0.0, text=t("policies.replaying"))
            report = preview(inputs, policy, None, k=10, on_progress=lambda done, total:
                             bar.progress(done / max(total, 1),
                                          text=t("policies.progress", done=done,
                                                         total=total)))
            bar.empty()
            st.session_state[PREVIEW] = report
        except PrismError as exc:
            st.error(t("policies.preview_failed", error=exc))
    report = st.session_state.get(PREVIEW)
    if not report:
        return
    st.markdown(t("policies.report", policy=report["policy"], against=report["against"],
                  n=report["n_users"], share=report["lists_changed"]["share"],
                  seconds=report["seconds"]["replay"]))
    st.dataframe(policy_view.impact_frame(report).round(4), hide_index=True, width="stretch",
                 key="policy_impact")
    left, right = st.columns(2)
    left.plotly_chart(policy_view.exposure_chart(report["exposure"]["brand"],
                                                 t("policies.by_brand")), key="policy_brand_chart")
    right.plotly_chart(policy_view.exposure_chart(report["exposure"]["category"],
                                                  t("policies.by_category")),
                       key="policy_category_chart")


def save_and_publish(policy: Policy) -> None:
    """Save / publish / roll back through the gate; only the buttons the role allows."""
    gate, who = access.gate(), access.actor()
    if not access.may("save_draft"):
        st.info(t("policies.read_only", name=who.name, role=t(f"access.role.{who.role}")))
        return
    save_col, publish_col, rollback_col = st.columns(3)
    if save_col.button(t("policies.save"), key="policy_save"):
        try:
            saved = gate.save_draft(who, policy, st.session_state.get(BASE) or 0)
            st.session_state[BASE] = saved.version
            st.success(t("policies.saved", name=saved.name, version=saved.version))
        except PrismError as exc:
            st.error(str(exc))
    if not access.may("publish"):
        publish_col.caption(t("policies.no_publish", role=t(f"access.role.{who.role}")))
        return
    if publish_col.button(t("policies.publish"), key="policy_publish"):
        _report(lambda: t("policies.live", name=policy.name,
                          version=gate.publish(who, policy.name)))
    if rollback_col.button(t("policies.rollback"), key="policy_rollback"):
        _report(lambda: t("policies.rolled_back", name=policy.name,
                          version=gate.rollback(who, policy.name)))


def _report(action: Callable[[], str]) -> None:
    """Run a gate action; its message as a success, or the refusal as an error."""
    try:
        st.success(action())
    except PrismError as exc:
        st.error(str(exc))


def audit_log(shown: int = 50) -> None:
    """Who published, rolled back or changed targets (or tried to): the newest entries."""
    st.markdown(t("policies.log"))
    try:
        rows = access.gate().log(limit=shown)
    except PrismError as exc:
        st.error(t("policies.store_failed", error=exc))
        return
    if not rows:
        st.caption(t("policies.log_empty"))
        return
    st.table(policy_view.log_frame(rows).set_index(t("policy_view.log_when")))
    st.caption(t("policies.log_more", shown=shown))


def main() -> None:
    st.title(t("nav.policies"))
    st.caption(t("policies.caption"))
    run, recommender = state.active_recommender()
    try:
        stored = policy_view.store().names()
    except PrismError as exc:
        st.error(t("policies.store_failed", error=exc))
        st.stop()
    labels = [NEW] + [f"{r['name']} (v{r['latest']}, live {r['live'] or '–'})" for r in stored]
    shown = {NEW: t("policies.new")} | {label: t("policies.option", name=r["name"],
                                                 latest=r["latest"], live=r["live"] or "–")
                                        for label, r in zip(labels[1:], stored, strict=True)}
    wanted = st.query_params.get("policy")  # ?policy=NAME opens that policy (a shareable link)
    if wanted and "policy_pick" not in st.session_state:
        names = [r["name"] for r in stored]
        if wanted in names:
            st.session_state["policy_pick"] = labels[names.index(wanted) + 1]
    picked = st.selectbox(t("policies.edit"), labels, key="policy_pick",
                          format_func=shown.get)
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
    with st.expander(t("policies.json")):
        st.json(policy.to_json())
    compare_tab, preview_tab, publish_tab = st.tabs(
        [t("policies.tab_one"), t("policies.tab_preview"), t("policies.tab_publish")])
    with compare_tab:
        try:
            before_after(recommender, policy)
        except PrismError as exc:
            st.error(str(exc))
    with preview_tab:
        population_preview(run, policy)
    with publish_tab:
        save_and_publish(policy)
        audit_log()


main()

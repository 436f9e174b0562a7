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

from dashboard import access, pickers, policy_view, state, tables, view_state
from dashboard.i18n import current, name_rule, say, show_error, t
from dashboard.policy_form import (
    defaults,
    load_into_form,
    policy_from_form,
    price_conflict,
    stages_form,
)
from dashboard.sample_box import NumberRange
from engine.core.errors import PrismError
from engine.policy.schema import Policy

NEW = "(new policy)"
BASE = "policy_base_version"
PREVIEW = "policy_preview_report"
LAST_VALID = "policy_last_valid"
ACTED = "policy_acted_on"  # the policy a save, publish or roll back just changed
NOTICE = "policy_notice"  # what it did, said after the rerun that redraws the picker
DRAWN_IN = "policy_form_language"  # the language the picker and the form were last drawn in


def before_after(recommender: Any, policy: Policy) -> None:
    state.ensure_view_defaults(recommender.user_ids)  # the shopper set on any page
    if str(st.session_state[state.USER]) not in recommender.catalogue.user_index:
        view_state.set_value(state.USER, recommender.user_ids[0])  # a typed id: not here
    users = pickers.matching(recommender.catalogue.user_finder, "policy_find_shopper",
                             keep=[str(st.session_state[state.USER])])
    st.selectbox(t("policies.shopper"), users, **view_state.widget(state.USER))
    user = str(st.session_state[state.USER])
    k = int(NumberRange(1, 50, "k").box(st, "policy_k", 10, step=1))
    after, notice = policy_view.list_table(recommender, policy, user, k)  # its error first
    before, _ = policy_view.list_table(recommender, None, user, k,
                                       **policy_view.alike(policy))
    if notice:
        st.info(say(notice))
    left, right = st.columns([2, 3])  # the policy's side is wider: it has the attribution
    left.markdown(t("policies.model_alone"))
    tables.show(left, before.drop(columns=["attribution", "item_id"]), hide_index=True,
                   width="stretch", key="policy_before")
    right.markdown(t("policies.under", name=policy.name))
    tables.show(right, after, hide_index=True, width="stretch", key="policy_after",
                    column_config={"title": st.column_config.TextColumn(width="medium"),
                                   "attribution": st.column_config.TextColumn(width="large")})


def population_preview(run: state.RunEntry, policy: Policy) -> None:
    st.caption(t("policies.preview_caption"))
    if st.button(t("policies.run_preview"), key="policy_preview_run", type="primary"):
        from engine.policy.preview import preview

        try:
            inputs = state.preview_inputs(str(run.path), run.stamp)
            bar = st.progress(0.0, text=t("policies.replaying"))
            report = preview(inputs, policy, None, k=10, on_progress=lambda done, total:
                             bar.progress(done / max(total, 1),
                                          text=t("policies.progress", done=done,
                                                         total=total)))
            bar.empty()
            st.session_state[PREVIEW] = report
        except PrismError as exc:
            show_error(exc, "policies.preview_failed")
    report = st.session_state.get(PREVIEW)
    if not report:
        return
    st.markdown(t("policies.report", policy=report["policy"], against=report["against"],
                  n=report["n_users"], share=report["lists_changed"]["share"],
                  seconds=report["seconds"]["replay"]))
    st.dataframe(policy_view.impact_frame(report), hide_index=True, width="stretch",
                 key="policy_impact")
    left, right = st.columns(2)
    left.plotly_chart(policy_view.exposure_chart(report["exposure"]["brand"],
                                                 t("policies.by_brand")), key="policy_brand_chart")
    right.plotly_chart(policy_view.exposure_chart(report["exposure"]["category"],
                                                  t("policies.by_category")),
                       key="policy_category_chart")


def save_and_publish(recommender: Any, policy: Policy) -> None:
    """Save / publish / roll back through the gate; only the buttons the role allows."""
    gate, who = access.gate(), access.actor()
    if not access.may("save_draft"):
        st.info(t("policies.read_only", name=who.name, role=t(f"access.role.{who.role}")))
        return
    save_col, publish_col, rollback_col = st.columns(3)
    if notice := st.session_state.pop(NOTICE, None):
        st.success(notice)
    unnamed = not (st.session_state.get("pf_name") or "").strip()
    if save_col.button(t("policies.save"), key="policy_save"):
        if unnamed:  # a policy is found again by its name: never saved as "untitled"
            st.error(t("policies.name_needed", rule=name_rule()))
            return
        try:
            saved = gate.save_draft(who, policy, st.session_state.get(BASE) or 0)
            st.session_state[BASE] = saved.version
        except PrismError as exc:
            show_error(exc)
        else:
            _redraw(saved.name, t("policies.saved", name=saved.name, version=saved.version))
    if not access.may("publish"):
        publish_col.caption(t("policies.no_publish", role=t(f"access.role.{who.role}")))
        return
    base = st.session_state.get(BASE)
    label = t("policies.publish_version", version=base) if base else t("policies.publish")
    if publish_col.button(label, key="policy_publish"):
        _report(policy.name, lambda: t("policies.live", name=policy.name,
                                       version=policy_view.publish_shown(
                                           gate, who, recommender, policy, base)))
    if rollback_col.button(t("policies.rollback"), key="policy_rollback"):
        _report(policy.name, lambda: t("policies.rolled_back", name=policy.name,
                                       version=gate.rollback(who, policy.name)))


def _report(name: str, action: Callable[[], str]) -> None:
    """Run a gate action on policy `name`; its message as a success, or the refusal as an
    error."""
    try:
        message = action()
    except PrismError as exc:
        show_error(exc)
    else:
        _redraw(name, message)


def _redraw(name: str, message: str) -> None:
    """Rerun after a write to the store, so the picker shows `name`'s new version and live
    state; `message` is said on that run."""
    st.session_state[ACTED], st.session_state[NOTICE] = name, message
    st.rerun()


def audit_log(shown: int = 50) -> None:
    """Who published, rolled back or changed targets (or tried to): the newest entries."""
    st.markdown(t("policies.log"))
    try:
        rows = access.gate().log(limit=shown)
    except PrismError as exc:
        show_error(exc, "policies.store_failed")
        return
    if not rows:
        st.caption(t("policies.log_empty"))
        return
    st.table(policy_view.log_frame(rows).set_index(t("policy_view.log_when")))
    if len(rows) >= shown:  # older entries may exist: only the CLI lists every one
        st.caption(t("policies.log_more", shown=shown))


def main() -> None:
    st.title(t("nav.policies"))
    st.caption(t("policies.caption"))
    run, recommender = state.active_recommender()
    try:
        stored = policy_view.store().names()
    except PrismError as exc:
        show_error(exc, "policies.store_failed")
        st.stop()
    rows = {r["name"]: r for r in stored}  # options are names: a new version keeps the pick
    shown = {NEW: t("policies.new")} | {name: t("policies.option", name=name,
                                                latest=r["latest"], live=r["live"] or "–")
                                        for name, r in rows.items()}
    wanted = st.query_params.get("policy")  # ?policy=NAME opens that policy (a shareable link)
    if wanted in rows and "policy_pick" not in st.session_state:
        st.session_state["policy_pick"] = wanted
    if st.session_state.get(DRAWN_IN, current()) != current():
        # Options and choices are shown in words of the other language now, and the browser
        # sends back the words it holds, which match nothing: the picker would fall back to a
        # new policy and empty the form. Setting every field sends this language's words.
        for key in [*defaults(), "policy_pick"]:
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
        if st.session_state.get("policy_loaded") in rows:
            st.session_state["policy_pick"] = st.session_state["policy_loaded"]
    st.session_state[DRAWN_IN] = current()
    if (acted := st.session_state.pop(ACTED, None)) in rows:
        # An option's text is what the browser holds and sends back: once a write changed
        # it, the old text matches no option and the picker would fall back to a new policy.
        # Setting the pick sends the new text; the form already holds this policy.
        st.session_state["policy_pick"] = st.session_state["policy_loaded"] = acted
    picked = st.selectbox(t("policies.edit"), [NEW, *rows], key="policy_pick",
                          format_func=lambda name: shown.get(name, name))
    if st.session_state.get("policy_loaded") != picked:
        chosen = None if picked == NEW else policy_view.store().get(picked)
        load_into_form(chosen)
        st.session_state[BASE] = None if chosen is None else chosen.version
        st.session_state["policy_loaded"] = picked
        st.session_state.pop(PREVIEW, None)
        st.session_state.pop(LAST_VALID, None)
    stages_form(recommender)
    policy, valid = current_policy()
    if valid:
        with st.expander(t("policies.json")):
            st.json(policy.to_json())
    else:
        st.info(t("policies.last_valid") if policy else t("policies.fix_first"))
    tabs(run, recommender, policy, valid)


def current_policy() -> tuple[Policy | None, bool]:
    """(the form's policy, True); when the form has a problem: the problem said (the price
    fields say theirs beside them) and (the last valid policy of this edit or None, False)."""
    try:
        policy = policy_from_form()
    except PrismError as exc:
        if not price_conflict(st.session_state.get):
            show_error(exc)
        return st.session_state.get(LAST_VALID), False
    st.session_state[LAST_VALID] = policy
    return policy, True


def tabs(run: state.RunEntry, recommender: Any, policy: Policy | None, valid: bool) -> None:
    """One shopper, the population preview and publishing; the previews stay on the last
    valid policy while the form has a problem, and nothing is saved until it is fixed."""
    compare_tab, preview_tab, publish_tab = st.tabs(
        [t("policies.tab_one"), t("policies.tab_preview"), t("policies.tab_publish")])
    with compare_tab:
        try:
            if policy is not None:
                before_after(recommender, policy)
        except PrismError as exc:
            show_error(exc)
    with preview_tab:
        if policy is not None:
            population_preview(run, policy)
    with publish_tab:
        if valid and policy is not None:
            save_and_publish(recommender, policy)
        else:
            st.info(t("policies.fix_before_save"))
        audit_log()


main()

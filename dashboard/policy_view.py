"""Shared studio pieces for policies: the store, one shopper's list as a table, the Explorer's
policy selector and the impact charts (Plotly builders take data, never call st.* inside)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import tables, view_state
from dashboard.i18n import say, show_error, t
from dashboard.measures import column_label
from engine.core.errors import ConfigError, PrismError
from engine.policy.schema import DiversifyStage, Policy
from engine.policy.serving import PolicyServer
from engine.policy.store import PolicyNotFound, PolicyStore

NO_POLICY = view_state.NO_POLICY
SHOWN = ["rank", "title", "attribution", "category", "relevance", "item_id"]  # what each
# stage did sits beside the title, in view without scrolling


def store() -> PolicyStore:
    return PolicyStore()


def server(recommender: Any) -> PolicyServer:
    return PolicyServer(recommender, store())


def list_table(recommender: Any, policy: Policy | None, user: str, k: int,
               **request: Any) -> tuple[pd.DataFrame, str | None]:
    """One shopper's list under `policy` (None = the model alone), attribution joined;
    `request`: more fields of the request (`alike`)."""
    chosen = policy or Policy(name="none")
    result = server(recommender).recommend(chosen, user_id=user or None, k=k, **request)
    frame = result.table[SHOWN].copy()
    frame["attribution"] = frame["attribution"].map(
        lambda notes: t("engine.separator").join(say(note) for note in notes))
    return frame, result.notice


def alike(policy: Policy) -> dict[str, Any]:
    """The request fields that make the model's own list rank what `policy` ranks: its
    diversify stage's α and its choice of unavailable items. Moves in the attribution count
    from that list, so the two tables agree."""
    stage = next((s for s in policy.stages if isinstance(s, DiversifyStage)), None)
    return {"alpha": None if stage is None else stage.alpha,
            "include_unavailable": policy.include_unavailable}


def publish_shown(gate: Any, who: Any, recommender: Any, policy: Policy,
                  base: int | None) -> int:
    """Publish the version on screen (`base`) through the gate, checked on this run first;
    refused when the form was never saved, has unsaved edits, or a newer version was saved
    since."""
    from engine.policy.checks import require_servable

    store = gate.store
    if base is None:
        raise ConfigError(t("policies.publish_save_first"))
    try:
        stored = store.get(policy.name, base)
    except PolicyNotFound as exc:  # renamed in the form since it was saved
        raise ConfigError(t("policies.publish_save_first")) from exc
    if policy_body(stored) != policy_body(policy):
        raise ConfigError(t("policies.publish_unsaved", name=policy.name, version=base))
    latest = store.versions(policy.name)[-1]["version"]
    if latest != base:
        raise ConfigError(t("policies.publish_stale", name=policy.name, version=base,
                            latest=latest))
    return gate.publish(who, policy.name, base, check=lambda shown: require_servable(
        shown, [recommender], store))


def policy_body(policy: Policy) -> dict[str, Any]:
    """A policy's JSON without its version: what a saved version and the form share."""
    return policy.model_copy(update={"version": None}).to_json()


def explorer_policy_panel(recommender: Any, user: str, k: int) -> None:
    """The Explorer's policy selector: the shopper's list under a stored policy."""
    try:
        names = [row["name"] for row in store().names()]
    except PrismError as exc:
        show_error(exc, "policies.store_failed", warn=True)
        return
    if view_state.value(view_state.POLICY) not in names:  # deleted, or another home's link
        view_state.set_value(view_state.POLICY, NO_POLICY)
    choice = st.selectbox(t("policy_view.policy"), [NO_POLICY, *names],
                          **view_state.widget(view_state.POLICY),
                          format_func=lambda name: t("policy_view.none") if name == NO_POLICY
                          else name, help=t("policy_view.policy_help"))
    if choice == NO_POLICY:
        return
    try:
        table, notice = list_table(recommender, store().resolve(choice), user, k)
    except PrismError as exc:
        show_error(exc)
        return
    if notice:
        st.info(say(notice))
    tables.show(st, table, hide_index=True, width="stretch", key="explorer_policy_table")


def log_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The audit log as a table: when (UTC), policy, version, action, who, role, from."""
    frame = pd.DataFrame(rows)
    frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True).dt.strftime("%Y-%m-%d %H:%M:%S")
    frame["actor"] = frame["actor"].replace("", t("policy_view.not_recorded"))
    frame["action"] = frame["action"].map(_logged_action)
    frame["role"] = frame["role"].map(lambda role: _said(f"engine.role_{role}", role))
    frame["source"] = frame["source"].map(
        lambda source: _said(f"policy_view.logged_from_{source}", source))
    return frame.rename(columns={"at": t("policy_view.log_when"),
                                 "policy": t("policy_view.log_policy"),
                                 "version": t("policy_view.log_version"),
                                 "action": t("policy_view.log_action"),
                                 "actor": t("policy_view.log_who"),
                                 "role": t("policy_view.log_role"),
                                 "source": t("policy_view.log_source")})


def _said(key: str, word: str) -> str:
    """`key`'s text in the studio's language; the stored word itself when it has none (an
    entry written by another version, or not recorded)."""
    said = t(key)
    return word if said == key else said


def _logged_action(action: str) -> str:
    """A log entry's action ('publish', 'targets refused', ...) in the studio's language."""
    done, refused = action.removesuffix(" refused"), action.endswith(" refused")
    said = _said(f"policy_view.logged_{done}", done)
    return t("policy_view.logged_refused", action=said) if refused else said


def impact_frame(report: dict[str, Any], names: tuple[str, str] | None = None) -> pd.DataFrame:
    """The preview's metric rows as a table: A, B, A − B, 95% interval, excludes zero (to
    4 places, never a negative zero); `names`: what A and B are called (two scenarios), else
    "policy" and "against"."""
    rows = report["metrics"] + [report["mean_rank_displacement"]] + report["rules"]
    frame = pd.DataFrame(rows)[["metric", "a", "b", "diff", "ci_low", "ci_high",
                                "excludes_zero"]]
    frame["metric"] = frame["metric"].map(column_label)
    numbers = frame.select_dtypes("number").columns
    frame[numbers] = frame[numbers].round(4) + 0.0  # + 0.0: a rounded -0.00001 reads 0.0
    a_name, b_name = names or (t("policy_view.col_policy"), t("policy_view.col_against"))
    return frame.rename(columns={"a": a_name, "b": b_name,
                                 "diff": t("policy_view.col_difference"),
                                 "ci_low": t("policy_view.col_low"),
                                 "ci_high": t("policy_view.col_high"),
                                 "excludes_zero": t("policy_view.col_excludes"),
                                 "metric": t("policy_view.col_metric")})


def exposure_chart(rows: list[dict[str, Any]], title: str) -> go.Figure:
    """Grouped bars of exposure share under both policies, the policy's bar with its share's
    own 95% interval (within [0, 1]; the interval of A − B stays in the report rows)."""
    groups = [str(r["group"]).split(" > ")[-1][:32] for r in rows]  # the deepest level
    figure = go.Figure()
    figure.add_bar(name=t("policy_view.col_against"), x=groups, y=[r["b"] for r in rows],
                   marker_color="#9aa5b1")
    figure.add_bar(name=t("policy_view.col_policy"), x=groups, y=[r["a"] for r in rows],
                   marker_color="#3b6fd8",
                   error_y={"type": "data", "symmetric": False,
                            "array": [max(r["a_high"] - r["a"], 0.0) for r in rows],
                            "arrayminus": [max(r["a"] - r["a_low"], 0.0) for r in rows]})
    figure.update_layout(barmode="group", title=title,
                         yaxis_title=t("policy_view.exposure_share"), height=360,
                         margin={"t": 50, "b": 10},
                         legend={"orientation": "h", "y": 1.12})
    return figure

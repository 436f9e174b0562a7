"""Search: a text query, optionally personalised for a shopper, with diversified results; in
Ask mode, a shopper's question answered by FAQ entries and products side by side."""

from __future__ import annotations

import html

import streamlit as st

from dashboard import pickers, state
from dashboard.components import ranked_list_html
from dashboard.i18n import method_label, say, sentence, show_error, t
from dashboard.sample_box import NumberRange
from engine.core.errors import PrismError
from engine.text.lexical import suggested_queries

ANYONE = "(not personalised)"
MODES = ("search", "ask")


def _use_suggestion() -> None:
    """Callback: a clicked suggestion becomes the query (before the text box is drawn)."""
    if st.session_state.get("search_try"):
        st.session_state["search_query"] = st.session_state["search_try"].lower()


def search_controls(recommender, mode: str) -> tuple[str, str, float, str, int]:
    """Query (or question), shopper, α, method and k."""
    with st.container(border=True):
        query_col, user_col = st.columns([2, 1])
        if mode == "ask":
            query = query_col.text_input(t("search.question"), key="ask_question",
                                         placeholder=t("search.ask_placeholder"))
        else:
            query = query_col.text_input(t("search.query"), key="search_query",
                                         placeholder=t("search.placeholder"))
            query_col.pills(t("search.try"), suggested_queries(recommender.catalogue.items),
                            key="search_try",
                            on_change=_use_suggestion, label_visibility="collapsed")
        users = [ANYONE, *pickers.matching(recommender.catalogue.user_finder,
                                           "search_find_shopper",
                                           user_col, keep=[st.session_state.get("search_user")])]
        user = user_col.selectbox(t("explorer.shopper"), users, key="search_user",
                                  format_func=lambda u: t("search.anyone") if u == ANYONE else u)
        alpha_col, method_col, k_col = st.columns([3, 2, 1])
        st.session_state.setdefault("search_alpha", float(state.setting(state.ALPHA)))
        alpha = alpha_col.slider(t("explorer.alpha"), 0.0, 1.0, step=0.05, key="search_alpha")
        method = method_col.radio(t("search.method"), ["mmr", "dpp"], key="search_method",
                                  format_func=method_label, horizontal=True)
        k = NumberRange(state.K_MIN, state.K_MAX, "k").box(k_col, "search_k", 10, step=1)
    return query, user, float(alpha), method, int(k)


def prepare_index(run: state.RunEntry, recommender) -> None:
    """Encode the catalogue once, visibly, for a run saved without search vectors."""
    if recommender.search_ready():
        return
    n_items = recommender.catalogue.n_items
    with st.status(t("search.encoding", n=n_items), expanded=True) as status:
        bar = st.progress(0.0)

        def progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=t("search.encoded", done=done, total=total))

        with state.search_lock(str(run.path)):
            recommender.prepare_search(progress=progress)
        status.update(label=t("search.ready"), state="complete", expanded=False)


def show_search(result, method: str, alpha: float, categories: list[str]) -> None:
    """Best text matches beside the diversified list; `categories` (the run's) give each
    category one chip colour in both columns."""
    if not result.good_match:
        st.warning(sentence(say(result.notice)), icon=":material/search_off:")
    elif result.notice:
        st.info(sentence(say(result.notice)))
    if result.unavailable_left_out:
        st.caption(t("common.unavailable_left_out", n=result.unavailable_left_out))
    left, right = st.columns(2)
    heading = t("search.best") if result.good_match else t("search.no_good_match")
    left.markdown(ranked_list_html(result.relevance_only, heading, "w = 0",
                                   list_id="search-relevance", categories=categories),
                  unsafe_allow_html=True)
    right.markdown(ranked_list_html(result.table, t("search.diversified"),
                                    f"{method_label(method)} · w = {alpha:.2f}",
                                    explain=True, list_id="search-diversified",
                                    categories=categories),
                   unsafe_allow_html=True)


def faq_html(faq) -> str:  # noqa: ANN001 - the Answer's FAQ table
    """FAQ entries as cards: rank, question, answer, why it matched."""
    cards = [
        '<div class="prism-card">'
        f'<div class="prism-rank">{int(row.rank)}</div><div class="prism-body">'
        f'<div class="prism-title">{html.escape(str(row.question))}</div>'
        f'<div class="prism-meta">{html.escape(str(row.faq_id))}</div>'
        f"<div>{html.escape(str(row.answer))}</div>"
        f'<div class="prism-why">{html.escape(say(row.explanation))}</div></div></div>'
        for row in faq.itertuples(index=False)]
    return f'<div id="ask-faq">{"".join(cards)}</div>'


def show_answer(answer, method: str, alpha: float, categories: list[str]) -> None:
    if answer.notice:
        st.warning(sentence(say(answer.notice)), icon=":material/help:")
    if answer.products.unavailable_left_out:
        st.caption(t("common.unavailable_left_out", n=answer.products.unavailable_left_out))
    left, right = st.columns(2)
    left.subheader(t("search.faq"))
    if answer.faq.empty:
        left.caption(t("search.faq_none"))
    else:
        left.markdown(faq_html(answer.faq), unsafe_allow_html=True)
    right.markdown(ranked_list_html(answer.products.table, t("search.products"),
                                    f"{state.METHOD_LABELS[method]} · w = {alpha:.2f}",
                                    explain=True, list_id="ask-products",
                                    categories=categories),
                   unsafe_allow_html=True)


def main() -> None:
    st.title(t("nav.search"))
    mode = st.segmented_control(t("search.mode"), MODES, key="search_mode", default="search",
                                format_func=lambda m: t(f"search.mode_{m}")) or "search"
    st.caption(t("search.caption" if mode == "search" else "search.ask_caption"))
    run, recommender = state.active_recommender()
    query, user, alpha, method, k = search_controls(recommender, mode)
    if not query.strip():
        st.info(t("search.empty" if mode == "search" else "search.ask_empty"))
        return
    shopper = None if user == ANYONE else user
    try:
        prepare_index(run, recommender)
        with state.search_lock(str(run.path)), st.spinner(t("search.searching")):
            if mode == "ask":
                result = state.asker(run).ask(query, user_id=shopper, k=k,
                                              diversity_weight=alpha, method=method)
            else:
                result = recommender.search(query, user_id=shopper, k=k,
                                            diversity_weight=alpha, method=method)
    except (PrismError, OSError) as exc:
        show_error(exc, "search.failed")
        return
    (show_answer if mode == "ask" else show_search)(result, method, alpha,
                                                    list(recommender.category_names))


main()

"""The studio's languages: `t(key, **values)` looks a message up in the active catalogue.

Catalogues live in `dashboard/locales/<lang>.json` (English and Simplified Chinese), one flat
{key: message} object each, messages formatted with `engine.core.messages.render`
(`str.format` plus counted words). The language is
`lang` in the URL (`?lang=zh`), so a link opens in the language it was shared in; a key
missing from a catalogue falls back to English, and a key missing everywhere shows itself so
a gap is visible rather than fatal. Product data is shown as it is, never translated.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import view_state
from engine.core.messages import render

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"
LANG = view_state.LANG  # the control's key and URL query parameter


# every language's {key: message} catalogue, read when the module is first imported: fixed
# data shipped with the studio, not a cache (never mutated by callers)
CATALOGUES = {lang: json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
              for lang in LANGUAGES}


def catalogue(lang: str) -> dict[str, str]:
    """The {key: message} catalogue of one language."""
    return CATALOGUES[lang]


def current() -> str:
    """The active language: the switch's value, else the URL's `lang`, else English."""
    lang = st.session_state.get(LANG) or st.query_params.get(LANG, DEFAULT)
    return lang if lang in LANGUAGES else DEFAULT


def translate(key: str, lang: str, **values: object) -> str:
    """`key`'s message in `lang` (English when missing there), formatted with `values`."""
    message = catalogue(lang).get(key) or catalogue(DEFAULT).get(key) or key
    return render(message, **values) if values else message


def translatable(key: str) -> bool:
    """Whether the catalogues have a message for `key`."""
    return key in catalogue(DEFAULT)


def t(key: str, **values: object) -> str:
    """`key`'s message in the active language."""
    return translate(key, current(), **values)


def t_count(key: str, count: int, **values: object) -> str:
    """`key`'s message for `count` things: `<key>_one`'s when `count` is 1 ("1 item", not
    "1 items"); a language without plural forms holds the same words under both keys."""
    return t(f"{key}_one" if count == 1 and translatable(f"{key}_one") else key, **values)


def sentence(text: str) -> str:
    """`text` starting with a capital: an engine notice (worded to follow a colon) shown
    on its own."""
    return text[:1].upper() + text[1:]


def _sync_url() -> None:
    lang = st.session_state.get(LANG, DEFAULT)
    if lang == DEFAULT:
        st.query_params.pop(LANG, None)
    else:
        st.query_params[LANG] = lang


def language_switch() -> None:
    """The sidebar's language picker, seeded from and written back to `?lang=`."""
    if LANG not in st.session_state:
        st.session_state[LANG] = current()
    st.sidebar.selectbox(t("sidebar.language"), list(LANGUAGES), format_func=LANGUAGES.get,
                         **view_state.widget(LANG, then=_sync_url))
    if st.session_state[LANG] != DEFAULT:
        st.query_params[LANG] = st.session_state[LANG]


def say(text: object) -> str:
    """Engine words in the active language: a `Message` through `engine_key` (its values
    that are engine words translated too), an `Explanation` or `Listing` part by part;
    anything else (data, plain text) as it is."""
    from engine.core.messages import Explanation, Listing, Message

    if isinstance(text, Explanation):
        return t("engine.separator").join(say(part) for part in text.parts)
    if isinstance(text, Listing):
        joiner = t("engine.joiner_or") if text.joiner == " or " else text.joiner
        return joiner.join(say(part) for part in text.parts)
    if isinstance(text, Message):
        values = {name: say(value) if isinstance(value, Message | Listing | Explanation)
                  else value for name, value in text.values.items()}
        return t(engine_key(text.code), **values)
    return "" if text is None else str(text)


def engine_key(code: str) -> str:
    """The catalogue key an engine message is said through: `studio.<code>` where the studio
    words it for its pages (its English text tells CLI users a flag or command, and a page has
    its own control for that fix), else `engine.<code>` (the engine's own text)."""
    studio = f"studio.{code}"
    return studio if translatable(studio) else f"engine.{code}"


def name_rule() -> str:
    """The one rule for names (`engine.core.names`) in the active language, worded to follow a
    colon: what a form's name field takes."""
    from engine.core.messages import Message

    return say(Message("name_rule"))


def say_error(exc: BaseException) -> str:
    """An engine error's message in the active language (one raised with a `Message`),
    else its text as it is."""
    return say(exc.args[0]) if len(exc.args) == 1 else str(exc)


def show_error(exc: BaseException, key: str | None = None, *, area: Any = None,
               warn: bool = False, icon: str | None = None, **values: object) -> None:
    """The one way a page shows an engine error: an `st.error` (a warning with `warn`) in
    `area` (the page by default) holding `key`'s message with the error as `{error}`, or the
    error alone — said in the active language when it was raised with a `Message`."""
    text = t(key, error=say_error(exc), **values) if key else say_error(exc)
    alert = (area or st).warning if warn else (area or st).error
    alert(text, icon=icon)


def split_label(split: object) -> str:
    """An evaluation split's name in the active language (`split.<id>`), else as it is."""
    key = f"split.{str(split).replace('-', '_')}"
    return t(key) if translatable(key) else str(split)


def method_label(method: str) -> str:
    """A re-rank method's name in the active language (`method.<id>`)."""
    return t(f"method.{method}")


def cached(kind: Callable, spinner: str, **options: Any) -> Callable:
    """`kind` (`st.cache_resource` or `st.cache_data`) whose spinner says `spinner`'s message
    in the active language while a call computes (Streamlit fixes its own spinner's words
    when the function is defined). The spinner is opened inside the cached body, so only a
    miss opens one, as Streamlit's own does: a hit costs no spinner, thread or message."""
    def wrap(function: Callable) -> Callable:
        @functools.wraps(function)
        def compute(*args: Any, **kwargs: Any) -> Any:
            with st.spinner(t(spinner)):
                return function(*args, **kwargs)

        return kind(show_spinner=False, **options)(compute)
    return wrap

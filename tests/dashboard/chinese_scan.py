"""What a studio page shows in words, and which of those words are English.

`visible_texts(at)` gathers the text of every element AppTest can see (titles, captions,
markdown, alerts, widget labels and the options shown, metric labels, tabs, expanders, and
every table's column headers — as its column configuration labels them — and text cells);
`english_words(texts, data_words)` returns the Latin-letter words in them that are neither
data (titles, categories, brands, ids of the run) nor the few names every language writes in
Latin letters (NDCG, MMR, CSV, …).
"""

from __future__ import annotations

import html
import json
import re

LATIN_NAMES = {
    "ndcg", "mmr", "dpp", "mrr", "ild", "csv", "json", "api", "url", "gb", "utf", "gbk",
    "pca", "id", "ids", "ease", "itemknn", "pop", "twotower", "minilm", "kl", "arp", "gini",
    "nat", "nats", "prism", "sku", "gpu", "cpu", "ln", "log", "max", "min", "top", "pp",
    "parquet", "sqlite", "shopify", "woocommerce", "http", "https", "html", "io", "tensorboard",
    "ok", "fps", "na", "nan", "none", "null", "true", "false", "jsonl", "xlsx", "tsv", "sql",
    "duckdb", "postgresql", "oidc", "mb", "kb", "ms", "gb18030", "cp1252", "latin", "utf8",
    "english", "auto", "ml", "amazon-scientific", "leave-last-out", "random", "feed",
    "windows", "dropout", "w", "xml", "dp-sgd", "opacus",
}
IDENTIFIER = re.compile(r"[a-z]+[a-z0-9]*(?:[_-][a-z0-9]+)*\d[a-z0-9_-]*|[a-z0-9]+(?:_[a-z0-9]+)+")
CHOICE_WIDGETS = {"selectbox", "multiselect", "radio", "button_group", "select_slider"}
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
TAG = re.compile(r"<[^>]+>")
STYLE = re.compile(r"<style>.*?</style>", re.S)


def _element_texts(element, kind: str) -> list[str]:  # noqa: ANN001 - any AppTest element
    texts = []
    names = ("label", "help", "placeholder") if kind in CHOICE_WIDGETS else (
        "value", "label", "body", "help", "placeholder")
    for name in names:
        try:
            value = getattr(element, name, None)
        except (ValueError, KeyError, IndexError):  # a formatted selection AppTest cannot map
            continue
        if isinstance(value, str):
            texts.append(value)
    options = getattr(element, "options", None)
    if isinstance(options, list | tuple):  # identifiers (cp1252, shift_jis) are no words
        texts += [str(o) for o in options if not IDENTIFIER.fullmatch(str(o))]
    return texts


def visible_texts(at) -> list[str]:  # noqa: ANN001 - an AppTest after run()
    kinds = ("title", "header", "subheader", "caption", "markdown", "info", "warning", "error",
             "success", "button", "selectbox", "multiselect", "radio", "text_input",
             "number_input", "slider", "checkbox", "toggle", "text_area", "metric", "tabs",
             "expander", "button_group", "select_slider", "date_input")
    texts: list[str] = []
    for kind in kinds:
        try:
            elements = getattr(at, kind)
        except (AttributeError, KeyError):
            continue
        for element in elements:
            texts += _element_texts(element, kind)
    for element in at.get("status") + at.get("expandable"):
        label = getattr(element.proto, "label", "")
        texts.append(str(label))
    for element in [*at.dataframe, *at.table]:
        texts += table_texts(element)
    return texts


def table_texts(element) -> list[str]:  # noqa: ANN001 - an AppTest dataframe or table
    """A table's headers as shown (a column configuration's label wins) and its text cells."""
    frame = element.value
    config = json.loads(getattr(element.proto, "columns", "") or "{}")
    headers = [str((config.get(str(c)) or {}).get("label") or c) for c in frame.columns]
    if frame.index.name:
        headers.append(str(frame.index.name))
    cells = [str(v) for column in frame.columns if frame[column].dtype == object
             for v in frame[column].dropna().tolist()]
    cells += [str(v) for v in frame.index if isinstance(v, str)]
    return headers + cells


def english_words(texts: list[str], data_words: set[str]) -> dict[str, str]:
    """{word: the text it was found in} for Latin-letter words that are not data."""
    found: dict[str, str] = {}
    for text in texts:
        plain = html.unescape(TAG.sub(" ", STYLE.sub(" ", text)))
        plain = re.sub(r"`[^`]*`|\bhttps?://\S+|:material/[a-z_]+:|\S*/\S*"
                       r"|[\w.-]+\.(?:md|toml|csv|tsv|txt|parquet|pq|xml|json|jsonl|xlsx)\b",
                       " ", plain)
        for word in WORD.findall(plain):
            lowered = word.lower().strip("'’-")
            if len(lowered) < 2 or lowered in LATIN_NAMES or _is_data(lowered, data_words):
                continue
            found.setdefault(word, text[:160])
    return found


def _is_data(word: str, data_words: set[str]) -> bool:
    """A word of the data, or the start of one (a title cut short with "…")."""
    return word in data_words or any(d.startswith(word) for d in data_words)


def data_words(*texts: object) -> set[str]:
    """Every word of the given data values, lower-cased, as `english_words` splits them."""
    return {w.lower() for text in texts for w in WORD.findall(str(text))}

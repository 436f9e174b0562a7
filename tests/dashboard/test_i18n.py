"""The studio's message catalogues: complete in both languages, every used key defined."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from dashboard import i18n

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
USED = re.compile(r"""\b(?:t\(\s*|t_count\(\s*|show_error\(\s*\w+,\s*)"""
                  r"""["']([A-Za-z0-9_.]+)["']\s*[,)]""")


def _fields(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


def test_every_key_in_both_catalogues():
    english, chinese = i18n.catalogue("en"), i18n.catalogue("zh")
    assert set(english) == set(chinese)
    for key, message in english.items():
        assert chinese[key].strip(), key
        assert _fields(message) == _fields(chinese[key]), key  # same placeholders


def test_every_key_used_by_the_studio_exists():
    used = {key for path in DASHBOARD.rglob("*.py")
            for key in USED.findall(path.read_text(encoding="utf-8"))}
    assert used, "no t() calls found"
    assert used <= set(i18n.catalogue("en")), sorted(used - set(i18n.catalogue("en")))


def test_metric_texts_are_the_engine_vocabulary():
    """The studio's metric names, definitions and explanations are the registry's, in
    English; every metric has them in Chinese too."""
    from engine.metrics.registry import METRICS

    english, chinese = i18n.catalogue("en"), i18n.catalogue("zh")
    for key, metric in METRICS.items():
        for field in ("name", "definition", "explanation", "example"):
            assert english[f"metrics.{key}.{field}"] == getattr(metric, field), (key, field)
            assert chinese[f"metrics.{key}.{field}"] != getattr(metric, field) or \
                field in ("name",) and metric.name.isascii() and "@" in metric.name


def test_metric_columns_are_named_in_the_active_language():
    from dashboard.measures import column_label

    assert column_label("sample ild@10") == "Sample · Category dissimilarity@10"
    assert column_label("shopper ild_vec@10") == "Shopper · Vector dissimilarity@10"
    assert column_label("ndcg@10 low") == "NDCG@10 (95% low)"
    assert column_label("note") == "note"


@pytest.mark.parametrize(("lang", "expected"), [("en", "Import"), ("zh", "导入"),
                                                 ("fr", "Import")])
def test_translate_falls_back_to_english(lang, expected):
    assert i18n.translate("nav.import", lang if lang in i18n.LANGUAGES else "en") == expected
    assert i18n.translate("no.such.key", "zh") == "no.such.key"
    assert i18n.translate("metrics.precision.name", "zh", k=10) == "精确率@10"


@pytest.mark.slow
def test_language_switch_and_url(monkeypatch):
    from dashboard_support import APP, TIMEOUT, use_tiny_home
    from streamlit.testing.v1 import AppTest

    use_tiny_home(monkeypatch)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert at.title[0].value == "Explorer"
    at.sidebar.selectbox(key="w_lang").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value == "探索"
    assert at.query_params["lang"] == ["zh"] or at.query_params["lang"] == "zh"
    assert at.slider(key="w_alpha").label == "重排权重 w"
    labels = {m.label for m in at.metric}
    assert {"类目熵@10", "类目覆盖数@10", "精确率@10", "向量相异度@10"} <= labels
    # a shared link opens in its language
    linked = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    linked.query_params["lang"] = "zh"
    linked.run()
    assert linked.title[0].value == "探索"
    assert linked.sidebar.selectbox(key="w_lang").value == "zh"


@pytest.mark.slow
@pytest.mark.parametrize(("page", "title"), [("policies", "策略"), ("ledger", "曝光账本"),
                                             ("scenarios", "方案")])
def test_pages_open_in_chinese(monkeypatch, page, title):
    from dashboard_support import APP, TIMEOUT, use_tiny_home
    from streamlit.testing.v1 import AppTest

    use_tiny_home(monkeypatch)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = "zh"
    at.switch_page(f"app_pages/{page}.py").run()  # opened directly, as a shared link would
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == title


def test_training_recommendation_quotes_the_measured_frontier() -> None:
    """The Training page's α advice quotes bench/quality/frontier.py's numbers, not remembered
    ones."""
    import json

    from dashboard.measures import RECOMMENDED_ALPHA, measured_frontier

    report = Path(__file__).resolve().parents[2] / "docs" / "benchmarks" / "frontier.json"
    rows = {row["dataset"]: row for row in json.loads(report.read_text())["datasets"]}
    quoted = measured_frontier()
    assert quoted is not None
    for prefix, name in (("ml", "ml-100k"), ("amz", "amazon-scientific")):
        area = rows[name]["comparison"]["difference"][-1]
        assert area["at"] == "area" and len(rows[name]["seeds"]) >= 3
        for key, field in (("diff", "joint_minus_rerank"), ("low", "low"), ("high", "high")):
            assert quoted[f"{prefix}_{key}"] == pytest.approx(area[field], abs=1e-9)
        assert area["win"]  # the advice's premise: the joint loss wins on both
        # the recommended α was measured with the default term (coverage of the top-50 region)
        assert any(m["label"] == f"coverage α={RECOMMENDED_ALPHA:g} top-50"
                   for m in rows[name]["models"])
    assert not any(d["loss"] for row in rows.values() for d in row["comparison"]["difference"])


def test_engine_words_and_link_warnings_are_in_both_catalogues():
    """The English catalogue holds the engine's own message templates and the link warnings
    word for word, and Chinese has each in its own words: attribution, stage labels and
    explanations reach the studio through their codes."""
    from dashboard.view_state import LINK_WARNINGS
    from engine.core.messages import TEMPLATES

    english, chinese = i18n.catalogue("en"), i18n.catalogue("zh")
    for prefix, texts in (("engine", TEMPLATES), ("link", LINK_WARNINGS)):
        for code, template in texts.items():
            assert english[f"{prefix}.{code}"] == template, code
            assert _fields(chinese[f"{prefix}.{code}"]) == _fields(template), code


def test_attribution_is_said_in_chinese(monkeypatch):
    """A brand cap's move, named through the codes of its note and of the stage's label."""
    from engine.core.messages import Listing, Message

    label = Message("label_boost", match=Listing([Message("match_brand", names="3M")], " & "),
                    strength=0.1)
    note = Message("moved_by", base=10, slot=3, by=Listing([Message("label_cap",
                                                                    column="brand", n=2)]))
    assert str(note) == "moved from 10 to 3 by cap brand ≤ 2" and str(label) == "brand 3M +0.10"
    monkeypatch.setattr(i18n, "current", lambda: "zh")
    assert i18n.say(note) == "由 每个brand最多 2 个 从第 10 位移到第 3 位"
    assert i18n.say(label) == "品牌 3M +0.10"


def test_engine_words_in_chinese_are_chinese():
    """Every engine message's Chinese wording — explanations, notices and the errors raised
    with a code — has no English word outside its placeholders (the data it names)."""
    from chinese_scan import english_words

    texts = {key: re.sub(r"\{[^{}]*\}", " ", message)
             for key, message in i18n.catalogue("zh").items()
             if key.startswith(("engine.", "studio."))}
    found = english_words(list(texts.values()), set())
    assert not found, found


def test_form_checks_are_said_without_internal_paths(monkeypatch):
    """A price range or a target the form cannot take is one sentence in the form's words,
    with no field path ('stages.0', 'targets.0'), in English and in Chinese."""
    from engine.core.errors import ConfigError
    from engine.exposure.targets import parse_targets
    from engine.policy.schema import parse_policy

    with pytest.raises(ConfigError) as price:
        parse_policy({"name": "p", "stages": [{"kind": "filter", "price_min": 100,
                                               "price_max": 10}]}, "this policy")
    with pytest.raises(ConfigError) as target:
        parse_targets({"by": "brand", "targets": [{"group": "*"}]})
    assert str(price.value) == "this policy: the lowest price 100 is above the highest price 10"
    assert str(target.value) == "the target for '*' needs a floor or a cap (min or max)"
    monkeypatch.setattr(i18n, "current", lambda: "zh")
    assert i18n.say_error(price.value) == "this policy：最低价 100 高于最高价 10"
    assert i18n.say_error(target.value) == "'*' 的目标需要一个下限或上限"


def test_import_and_policy_notices_and_split_are_said_in_chinese(monkeypatch):
    """The NUL-byte refusal, a policy's short-list notice and the run's split carry codes the
    studio says in Chinese."""
    from pathlib import Path

    from engine.core.errors import DataError
    from engine.core.messages import Message
    from engine.data.encodings import detect

    with pytest.raises(DataError) as binary:
        detect(Path("broken.csv"), b"item_id,title\x00\x01\x02\n")
    short = Message("only_n_pass", n=2, k=10)
    monkeypatch.setattr(i18n, "current", lambda: "zh")
    assert i18n.say_error(binary.value).startswith("broken.csv：看起来是二进制文件")
    assert i18n.say(short) == "只有 2 个商品通过了策略（要求 10 个）"
    assert i18n.split_label("leave-last-out") == "留出每位顾客的最后一次购买"
    assert i18n.split_label("custom") == "custom"


def test_cached_steps_say_their_spinner_in_the_active_language(monkeypatch):
    """A slow cached step (loading a model, scoring a sample) names itself in the page's
    language: no spinner words are fixed in the code."""
    import contextlib

    import streamlit as st

    sources = "".join(p.read_text(encoding="utf-8") for p in DASHBOARD.rglob("*.py"))
    assert not re.search(r"show_spinner=[\"']", sources)
    said = []
    monkeypatch.setattr(i18n.st, "spinner",
                        lambda text: said.append(text) or contextlib.nullcontext())
    monkeypatch.setattr(i18n, "current", lambda: "zh")
    doubled = i18n.cached(st.cache_data, "spinner.model", max_entries=1)(lambda x: 2 * x)
    assert doubled(21) == 42 and said == ["正在加载模型…"]
    assert doubled(21) == 42 and len(said) == 1  # a cache hit opens no spinner
    doubled.clear()


def test_counts_take_the_singular_for_one(monkeypatch):
    """"1 item", "2 items": a `_one` message for a count of 1, in a language with plural forms;
    every count the studio says this way has its singular in both languages."""
    monkeypatch.setattr(i18n, "current", lambda: "en")
    assert i18n.t_count("catalogue.added_run", 1, n="1", run="shop").startswith(
        "Added 1 item to run shop. It can")
    assert i18n.t_count("catalogue.added_run", 2, n="2", run="shop").startswith(
        "Added 2 items to run shop. They can")
    assert i18n.t_count("sidebar.n_segments", 0, n=0) == "0 segments"
    assert i18n.t_count("nav.import", 1) == i18n.t("nav.import")  # no singular: the message
    counted = {key for path in DASHBOARD.rglob("*.py")
               for key in re.findall(r"""\bt_count\(\s*["']([A-Za-z0-9_.]+)["']""",
                                     path.read_text(encoding="utf-8"))}
    assert "catalogue.added_run" in counted
    assert {f"{key}_one" for key in counted} <= set(i18n.catalogue("en")) & set(
        i18n.catalogue("zh"))


# engine messages a studio page can show whose English (the CLI's words) names a flag or a
# command, while the page has its own control for that fix
STUDIO_FIXES = {
    "missing_columns", "map_no_column", "fix_unknown_items", "weight_two_ways",
    "bad_byte_options", "encoding_option", "bad_byte_no_options", "no_common_encoding",
    "decoded_twice", "encoding_looks_wrong", "encoding_ambiguous", "feed_encoding",
    "evidence_given", "evidence_given_odd", "depth_better", "query_flag_items", "query_flag_events",
    "upload_too_big", "run_missing", "run_incomplete", "run_data_gone", "experiment_running",
}
CLI_WORDS = re.compile(r"--[a-z]|`prism |\bprism [a-z]+ [a-z]+|POST /")


def test_studio_says_its_own_control_where_the_cli_words_name_a_flag():
    """Each studio wording overrides a real engine code with no value the engine does not
    give and names no flag or command."""
    from engine.core.messages import TEMPLATES

    english, chinese = i18n.catalogue("en"), i18n.catalogue("zh")
    studio = {key.removeprefix("studio."): text for key, text in english.items()
              if key.startswith("studio.")}
    assert set(studio) == STUDIO_FIXES
    for code, text in studio.items():
        assert _fields(text) <= _fields(TEMPLATES[code]), code
        assert not CLI_WORDS.search(text) and not CLI_WORDS.search(chinese[f"studio.{code}"])


def test_engine_messages_name_the_page_control_in_the_studio(monkeypatch):
    """The CLI keeps its flag (the message's own text); the studio names the field on the
    page, in English and in Chinese, values included."""
    from engine.core.messages import Listing, Message

    two_ways = Message("weight_two_ways", source="events.csv", examples="'1,299'")
    stopped = Message("experiment_running", name="spring")
    options = Message("bad_byte_options", options=Listing(
        [Message("encoding_option", name="cp1252")], " or "))
    assert "--decimal-mark" in str(two_ways) and "prism experiment stop" in str(stopped)
    assert "--encoding cp1252" in str(options)
    assert i18n.say(two_ways).endswith("choose . or , under Decimal mark to say which mark "
                                       "is the decimal one")
    assert i18n.say(stopped).endswith("pick it under Experiment and press Stop this "
                                      "experiment")
    assert i18n.say(options) == ("or choose the encoding it was saved in under Text encoding "
                                 "(cp1252)")
    assert i18n.say(Message("name_rule")) == str(Message("name_rule"))  # no override
    monkeypatch.setattr(i18n, "current", lambda: "zh")
    assert "“小数点符号”" in i18n.say(two_ways) and "“停止此实验”" in i18n.say(stopped)
    assert i18n.say(options) == "，或在“文本编码”中选择文件保存时所用的编码（cp1252）"

"""Engine errors shown in the studio speak Chinese (AppTest, `?lang=zh`): each refusal the
Policies page can meet (a bad name, a stale save, a rollback of a policy never published, a
publish that fails its checks), a damaged run, new items without titles, exposure targets that
cannot hold and an experiment without a name — reads in Chinese, with no English word outside
data (the names typed, file and column names), and a policy saved without a name is named in
Chinese."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from chinese_scan import data_words, english_words
from dashboard_support import APP, RUN_NAME, TIMEOUT, tiny_home_copy, use_home
from streamlit.testing.v1 import AppTest

from engine.core.errors import PrismError


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the tiny home with an empty policy store, the studio in Chinese."""
    home = use_home(monkeypatch,
                    tiny_home_copy(Path(tempfile.mkdtemp(prefix="prism_zh_")) / "home"))
    monkeypatch.setattr("dashboard.i18n.current", lambda: "zh")  # AppTest formats the choices
    return home


def open_in_chinese(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = "zh"
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(f"app_pages/{page}.py").run()
    return at


@pytest.fixture
def page(home: Path) -> AppTest:
    """The Policies page in Chinese."""
    at = open_in_chinese("policies")
    assert not at.exception, [e.value for e in at.exception]
    return at


def errors_in_chinese(at: AppTest, *data: object) -> list[str]:
    """The page's errors, after checking each has Chinese and no English word but `data`."""
    assert not at.exception, [e.value for e in at.exception]
    shown = [e.value for e in at.error]
    assert shown, "no error shown"
    words = data_words(RUN_NAME, *data)
    for text in shown:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text
        assert not english_words([text], words), (english_words([text], words), text)
    return shown


def test_a_policy_without_a_name_is_refused_in_chinese(page: AppTest) -> None:
    from engine.policy.store import PolicyStore

    page.number_input(key="pf_cap").set_value(2).run()
    page.button(key="policy_save").click().run()
    assert any("保存前请为策略命名" in e.value for e in page.error), [e.value for e in page.error]
    assert not page.success and PolicyStore().names() == []


def test_a_bad_name_is_refused_in_chinese(page: AppTest) -> None:
    page.text_input(key="pf_name").set_value("bad name!").run()
    shown = errors_in_chinese(page)
    assert any("名称：请使用 1 到 64 个字母" in text for text in shown), shown


def test_a_stale_save_is_refused_in_chinese(page: AppTest) -> None:
    from engine.policy.schema import parse_policy
    from engine.policy.store import PolicyStore

    page.text_input(key="pf_name").set_value("夏季").run()
    page.button(key="policy_save").click().run()
    PolicyStore().save(parse_policy({"name": "夏季", "stages": []}), base_version=1)
    page.number_input(key="pf_cap").set_value(3).run()
    page.button(key="policy_save").click().run()
    shown = errors_in_chinese(page, "夏季")
    assert any("你编辑的是第 1 版，而最新的是第 2 版" in text for text in shown), shown


def test_a_rollback_with_nothing_live_is_refused_in_chinese(page: AppTest) -> None:
    page.text_input(key="pf_name").set_value("秋季").run()
    page.button(key="policy_save").click().run()
    page.button(key="policy_rollback").click().run()
    shown = errors_in_chinese(page)
    assert any("策略 '秋季' 从未发布过" in text for text in shown), shown


def test_a_publish_that_fails_its_checks_is_refused_in_chinese(page: AppTest) -> None:
    page.text_input(key="pf_name").set_value("冬季").run()
    page.radio(key="pf_scope").set_value("run").run()
    page.text_input(key="pf_scope_value").set_value("elsewhere").run()
    page.button(key="policy_save").click().run()
    page.button(key="policy_publish").click().run()
    shown = errors_in_chinese(page, "elsewhere")
    assert any("策略 冬季@1 未发布" in text and "适用范围是运行 'elsewhere'" in text
               for text in shown), shown


def test_kept_stages_that_are_not_json_are_refused_in_chinese(page: AppTest) -> None:
    page.text_area(key="pf_kept").set_value('[{"kind": ').run()
    shown = errors_in_chinese(page)
    assert any("不是有效的 JSON（第 1 行：此处应有一个值）" in text for text in shown), shown


def test_a_pin_of_an_unknown_item_is_not_published_in_chinese(page: AppTest) -> None:
    page.text_input(key="pf_name").set_value("幽灵").run()
    page.text_area(key="pf_kept").set_value('[{"kind": "pin", "item_id": "ghost", "slot": 1}]')
    page.run()
    page.button(key="policy_save").click().run()
    page.button(key="policy_publish").click().run()
    shown = errors_in_chinese(page, "ghost")
    assert any("策略 幽灵@1 未发布" in text and "商品 'ghost' 不在此商品目录中；已跳过该固定"
               in text for text in shown), shown


def test_a_pin_beyond_the_list_is_noted_in_chinese(page: AppTest, home: Path) -> None:
    from engine.serving.recommender import Recommender

    item = str(Recommender.load(home / "runs" / RUN_NAME).catalogue.columns.ids[0])
    page.text_area(key="pf_kept").set_value(json.dumps([{"kind": "pin", "item_id": item,
                                                         "slot": 30}])).run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    notes = [i.value for i in page.info if "30" in i.value]
    assert any(f"将 {item} 固定在第 30 位：位置 30 超出了列表长度 10；已跳过" in text
               for text in notes), [i.value for i in page.info]
    for text in notes:
        assert not english_words([text], data_words(item)), text


def test_a_damaged_run_is_named_in_chinese(home: Path) -> None:
    (home / "runs" / RUN_NAME / "items.parquet").unlink()
    at = open_in_chinese("explorer")
    shown = errors_in_chinese(at, home)
    assert any("缺少 items.parquet" in text and "重新训练" in text for text in shown), shown


def test_new_items_without_a_title_are_refused_in_chinese(home: Path) -> None:
    from engine.serving.coldstart import NEW_ITEM_OPTIONAL, NEW_ITEM_REQUIRED

    at = open_in_chinese("catalogue")
    at.file_uploader(key="cold_upload_0").set_value(
        [("new.csv", b"item_id,price\nx1,3\n", "text/csv")]).run()
    shown = errors_in_chinese(at, "price", *NEW_ITEM_REQUIRED, *NEW_ITEM_OPTIONAL)
    assert any("new.csv 缺少 1 列：title" in text for text in shown), shown


def test_a_new_item_with_an_empty_title_is_refused_in_chinese_before_any_button(
        home: Path) -> None:
    at = open_in_chinese("catalogue")
    at.file_uploader(key="cold_upload_0").set_value(
        [("new.csv", b"item_id,title\nN1,Lamp\nN2,\n", "text/csv")]).run()
    shown = errors_in_chinese(at, "N1", "N2")
    assert "新商品：1 行的 ID 或标题为空（ID 'N2'）；每个商品都需要 ID 和标题" in shown, shown
    assert not any(b.key == "cold_add" for b in at.button)


def test_targets_that_cannot_hold_are_refused_in_chinese(home: Path) -> None:
    at = open_in_chinese("ledger", targets=json.dumps([["*", 60, None]]))
    at.button(key="ledger_fit").click().run()
    shown = errors_in_chinese(at)
    assert any("下限合计占曝光的" in text and "超过 100%" in text for text in shown), shown


def test_an_experiment_without_a_name_is_refused_in_chinese(home: Path) -> None:
    from dashboard.i18n import translate

    at = open_in_chinese("experiments")
    start = translate("experiments.start_button", "zh")
    next(b for b in at.button if b.label == start).click().run()
    shown = errors_in_chinese(at)
    assert any("实验名称 ''：请使用 1 到 64 个字母" in text for text in shown), shown


def _refusals(home: Path) -> list[tuple[BaseException, list[object], str]]:
    """(an engine error raised the way a page meets it, its data, a phrase of its Chinese)."""
    from engine.access.roles import Actor, require
    from engine.core.errors import PrismError
    from engine.experiments.store import ExperimentStore
    from engine.exposure.targets import load_targets
    from engine.policy.schema import split_reference
    from engine.policy.store import PolicyStore
    from engine.runs.store import load_run
    from engine.serving.recommender import Recommender

    service = Recommender.load(home / "runs" / RUN_NAME)
    (home / "targets.json").write_text("{")
    attempts = [
        (lambda: require(Actor("vera@shop.test", "viewer", "studio"), "publish"),
         ["vera@shop.test"], "（查看者）无权发布策略：这需要发布者角色"),
        (lambda: service.history("ghost-shopper"), ["ghost-shopper"], "未知顾客 'ghost-shopper'"),
        (lambda: service.item("ghost-item"), ["ghost-item"], "未知商品 ID 'ghost-item'"),
        (lambda: service.search("  ", k=5), [], "搜索词为空"),
        (lambda: PolicyStore().get("幽灵"), ["幽灵"], "目前还没有保存任何策略"),
        (lambda: split_reference("a b@1"), ["a b@1"], "请写名称或“名称@版本”"),
        (lambda: ExperimentStore().get("ghost"), ["ghost"],
         "没有名为 'ghost' 的实验；已有实验：暂无"),
        (lambda: load_run(home / "runs" / "gone"), [home], "不存在"),
        (lambda: load_targets(home / "targets.json"), [home, "json"], "不是有效的 JSON"),
    ]
    found = []
    for attempt, data, phrase in attempts:
        with pytest.raises(PrismError) as raised:
            attempt()
        assert raised.value.message is not None, raised.value  # raised with a code
        found.append((raised.value, data, phrase))
    return found


def test_engine_refusals_are_said_in_chinese(home: Path) -> None:
    """The errors pages show through `show_error`, raised by the engine itself, said in
    Chinese: the words around their data, and the codes inside them (roles, actions)."""
    from dashboard.i18n import say_error

    for error, data, phrase in _refusals(home):
        text = say_error(error)
        assert phrase in text, (phrase, text)
        assert not english_words([text], data_words(RUN_NAME, *data)), (text, str(error))


@pytest.mark.parametrize(("stage", "data", "phrase"), [
    ({"kind": "diversify", "method": "zigzag", "weight": 0.3},
     ["zigzag", "calibrated", "quota"], "取值应为 'mmr', 'dpp', 'calibrated' 或 'quota'"),
    ({"kind": "shuffle"}, ["shuffle"], "“类型” 为 'shuffle'，不是可用的取值之一：“筛选”"),
    ({"kind": "filter", "exclude_seen": "maybe"}, ["maybe"], "应为是或否")])
def test_an_unknown_choice_is_refused_in_chinese(page: AppTest, stage: dict, data: list,
                                                 phrase: str) -> None:
    """pydantic's own refusals (a literal, a stage kind, a flag) in Chinese; the CLI and the
    API keep pydantic's English word for word."""
    from pydantic import ValidationError

    from engine.policy.schema import Policy, parse_policy

    page.text_area(key="pf_kept").set_value(json.dumps([stage])).run()
    shown = errors_in_chinese(page, *data)
    assert any(phrase in text for text in shown), shown
    body = {"name": "x", "stages": [stage]}
    with pytest.raises(ValidationError) as raised:
        Policy.model_validate(body)
    with pytest.raises(PrismError) as refused:
        parse_policy(body)
    assert raised.value.errors()[0]["msg"] in str(refused.value)

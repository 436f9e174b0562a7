"""Engine errors shown in the studio speak Chinese (AppTest, `?lang=zh`): each refusal the
Policies page can meet — a bad name, a stale save, a rollback of a policy never published, a
publish that fails its checks — reads in Chinese, with no English word outside data (the
names typed, the run's name), and a policy saved without a name is named in Chinese."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from chinese_scan import data_words, english_words
from dashboard_support import APP, RUN_NAME, TIMEOUT, use_tiny_home
from streamlit.testing.v1 import AppTest


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The Policies page in Chinese on a copy of the tiny home with an empty policy store."""
    source = use_tiny_home(monkeypatch)
    home = Path(tempfile.mkdtemp(prefix="prism_zh_errors_")) / "home"
    shutil.copytree(source, home, ignore=shutil.ignore_patterns("*.sqlite*"))
    monkeypatch.setenv("PRISM_HOME", str(home))
    monkeypatch.setattr("dashboard.i18n.current", lambda: "zh")  # AppTest formats the choices
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = "zh"
    at.switch_page("app_pages/policies.py").run()
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


def test_a_policy_without_a_name_is_named_in_chinese(page: AppTest) -> None:
    from engine.policy.store import PolicyStore

    page.number_input(key="pf_cap").set_value(2).run()
    page.button(key="policy_save").click().run()
    assert any("已保存 未命名@1" in s.value for s in page.success), \
        [s.value for s in page.success]
    assert [row["name"] for row in PolicyStore().names()] == ["未命名"]


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
    shown = errors_in_chinese(page)
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

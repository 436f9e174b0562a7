"""Chinese product titles end to end: a GB18030 export imported, trained on, searched.

The default encoder (all-MiniLM-L6-v2) has an English vocabulary: most Chinese characters
become [UNK], so Chinese search works only where a query shares the few characters it knows.
A shop with Chinese titles should train with `--encoder` pointing at a multilingual model
(e.g. a local copy of paraphrase-multilingual-MiniLM-L12-v2); these tests state what the
default does.
"""

from __future__ import annotations

import pandas as pd
import pytest
import shop_exports as shops

from engine.cli.main import main


@pytest.fixture(scope="module")
def chinese_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("zh")
    home = root / "home"
    files = shops.write_chinese_shop(root / "export")
    assert files[0].read_bytes().decode("gb18030").startswith("item_id")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRISM_HOME", str(home))
        assert main(["data", "import", str(root / "export"), "--name", "zh-shop"]) == 0
        assert main(["train", "--model", "ease", "--data", str(home / "data" / "zh-shop"),
                     "--out", str(home / "runs" / "zh"), "--quiet"]) == 0
        from engine.serving.recommender import Recommender

        yield home, Recommender.load(home / "runs" / "zh")


def test_titles_survive_the_import(chinese_run):
    home, _ = chinese_run
    items = pd.read_parquet(home / "data" / "zh-shop" / "items.parquet")
    assert items["title"].tolist() == [row[1] for row in shops.CHINESE_ITEMS]
    assert items["category"].tolist()[0] == "数码 > 耳机"


@pytest.mark.parametrize(("query", "expected"), [("耳机", "无线蓝牙耳机"),
                                                 ("保温杯", "不锈钢保温杯")])
def test_chinese_queries_find_titles_sharing_known_characters(chinese_run, query, expected):
    _, recommender = chinese_run
    assert recommender.search(query, k=4).table["title"].iloc[0] == expected


def test_default_encoder_does_not_know_most_chinese_characters():
    from transformers import AutoTokenizer

    from engine.text.encoders import bundled_model_path

    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    assert tokenizer.tokenize("键盘") == ["[UNK]", "[UNK]"]  # hence: use a multilingual encoder
    assert tokenizer.tokenize("耳") == ["耳"]

"""faq.csv: read, HTML stripped, reconciled (read = kept + dropped per reason), imported with
a dataset by `prism data import`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from engine.cli.main import main
from engine.core.errors import DataError
from engine.data.faq import FAQ_COUNT, load_faq, read_faq
from tests.ask_support import write_faq


def test_faq_is_cleaned_and_reconciled(tmp_path) -> None:  # noqa: ANN001
    faq, count = read_faq(write_faq(tmp_path))
    assert faq["faq_id"].tolist() == ["returns", "shipping", "headphones", "teddy", "payment"]
    assert faq.loc[0, "answer"] == ("Send it back within 30 days with the receipt and we refund "
                                    "the full price.")
    assert faq.loc[2, "item_ids"] == "P005"
    assert (count.read, count.kept) == (7, 5)
    assert count.dropped == {"missing id": 1, "repeated id (first kept)": 1}
    assert count.balanced


def test_faq_without_an_answer_column_is_refused(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "faq.csv"
    path.write_text("id,question\n1,where?\n", encoding="utf-8")
    with pytest.raises(DataError, match="no answer column"):
        read_faq(path)


def test_data_import_reads_the_faq_beside_items_and_events(tmp_path, prism_home, capsys) -> None:  # noqa: ANN001, E501
    from engine.data import generate_shop, write_tables

    items, events = generate_shop(n_items=40, n_users=20, seed=3)
    folder = tmp_path / "shop"
    write_tables(items, events, folder)
    write_faq(folder)
    assert main(["data", "import", str(folder), "--name", "withfaq"]) == 0
    out = capsys.readouterr().out
    assert "FAQ: faq (" in out and "7 read = 5 kept + 1 missing id" in out
    dataset = prism_home / "data" / "withfaq"
    assert len(load_faq(dataset)) == 5
    count = json.loads((dataset / FAQ_COUNT).read_text())
    assert count["balanced"] and count["read"] == 7 and count["kept"] == 5
    assert isinstance(pd.read_parquet(dataset / "items.parquet"), pd.DataFrame)


def test_data_import_of_an_empty_faq_is_one_line_and_exit_2(tmp_path, prism_home, capsys) -> None:  # noqa: ANN001, E501
    from engine.data import generate_shop, write_tables

    items, events = generate_shop(n_items=40, n_users=20, seed=3)
    folder = tmp_path / "shop"
    write_tables(items, events, folder)
    (folder / "faq.csv").write_text("id,question,answer\n1,,\n", encoding="utf-8")
    assert main(["data", "import", str(folder), "--name", "emptyfaq"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no FAQ entries are left" in err[0]

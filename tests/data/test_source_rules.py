"""The studio's sources cannot escape: folders below named roots, named databases, limits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shop_exports as shops

from engine.core.errors import DataError
from engine.data.source_rules import (
    SourceRules,
    check_limits,
    database_url,
    load_rules,
    server_path,
)
from engine.data.sources import read_source

OUTSIDE = "the studio reads only folders below"


@pytest.fixture
def rules(tmp_path: Path) -> SourceRules:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "exports").mkdir()
    (home / "sources.toml").write_text(
        f'[folders]\nroots = ["{(tmp_path / "exports").as_posix()}"]\n\n'
        '[databases.shop]\nurl_env = "SHOP_DB_URL"\n\n[uploads]\nmax_mb = 1\nmax_rows = 10\n')
    return load_rules(home)


@pytest.mark.parametrize("text", ["/etc", "/etc/hostname", "~", "~/.ssh", "../home",
                                  "/definitely/not/there"])
def test_paths_outside_the_roots_are_refused(rules, text):
    with pytest.raises(DataError, match=OUTSIDE) as caught:
        server_path(text, rules)
    assert "no such" not in str(caught.value)  # outside: existence is not revealed


def test_links_out_of_a_root_are_refused(rules, tmp_path):
    root = rules.roots[0]
    (root / "etc-link").symlink_to("/etc")
    with pytest.raises(DataError, match=OUTSIDE):
        server_path(str(root / "etc-link"), rules)
    shop = root / "shop"
    shops.write_shopify(shop)
    (shop / "passwd.csv").symlink_to("/etc/passwd")
    with pytest.raises(DataError, match="passwd.csv links outside"):
        server_path("shop", rules)


def test_a_folder_below_a_root_is_read_by_absolute_or_relative_path(rules):
    shops.write_shopify(rules.roots[0] / "shop")
    assert server_path("shop", rules) == rules.roots[0] / "shop"
    assert server_path(str(rules.roots[0] / "shop" / "."), rules) == rules.roots[0] / "shop"
    with pytest.raises(DataError, match="no such file or folder below"):
        server_path("missing", rules)


def test_non_table_files_never_echo_their_content(rules, tmp_path):
    root = rules.roots[0]
    (root / "hostname").write_text("secret-host-name\n")
    with pytest.raises(DataError, match="not a table file") as caught:
        read_source([server_path("hostname", rules)])
    assert "secret-host-name" not in str(caught.value)
    notes = root / "notes"
    notes.mkdir()
    (notes / "notes.csv").write_text("secret-host-name\n")
    (notes / "items.csv").write_text("item_id,title\nA,Lamp\n")
    with pytest.raises(DataError, match="not a table with named columns") as caught:
        read_source([server_path("notes", rules)])
    assert "secret-host-name" not in str(caught.value)


def test_without_a_rules_file_only_the_imports_folder_is_open(tmp_path):
    rules = load_rules(tmp_path)
    assert rules.roots == ((tmp_path / "imports").resolve(),) and rules.databases == {}
    with pytest.raises(DataError, match=OUTSIDE):
        server_path(str(tmp_path), rules)


def test_databases_come_only_from_the_allow_list(rules, monkeypatch):
    monkeypatch.setenv("SHOP_DB_URL", "sqlite:///shop.db")
    monkeypatch.setenv("OTHER_SECRET", "postgresql://u:pw@host/db")
    assert database_url("shop", rules) == "sqlite:///shop.db"
    with pytest.raises(DataError, match="not one the studio may read") as caught:
        database_url("OTHER_SECRET", rules)
    assert "pw@" not in str(caught.value)


def test_a_rules_file_that_cannot_be_read_is_one_clear_error(tmp_path):
    (tmp_path / "sources.toml").write_text("[folders\nroots = 3")
    with pytest.raises(DataError, match="sources.toml in the Prism home cannot be read"):
        load_rules(tmp_path)
    (tmp_path / "sources.toml").write_text('[databases.x]\nurl_env = "A"\nurl_file = "b"\n')
    with pytest.raises(DataError, match="exactly one of url_env or url_file"):
        load_rules(tmp_path)
    for text, message in (('[folders]\nroots = 3\n', "roots must be a list"),
                          ('folders = 1\n', r"\[folders\] must be a table"),
                          ('[uploads]\nmax_mb = "big"\n', "max_mb must be a positive number"),
                          ('[uploads]\nmax_rows = -1\n', "max_rows must be a positive")):
        (tmp_path / "sources.toml").write_text(text)
        with pytest.raises(DataError, match=message):
            load_rules(tmp_path)
    (tmp_path / "sources.toml").write_text('[folders]\nroots = "exports"\n')
    assert load_rules(tmp_path).roots == ((tmp_path / "exports").resolve(),)


def _parquet_bomb(path: Path, rows: int) -> Path:
    """A table of one repeated long value: tiny on disk, large once unpacked."""
    table = pa.table({"item_id": pa.array(["A" * 200] * rows), "title": ["t"] * rows})
    pq.write_table(table, path, compression="zstd")
    return path


def test_parquet_is_limited_by_its_unpacked_size(tmp_path):
    bomb = _parquet_bomb(tmp_path / "items.parquet", 20_000)
    assert bomb.stat().st_size < 2**20 // 4  # well under the limit as compressed bytes
    with pytest.raises(DataError, match=r"MB unpacked is over the studio's limit of 1 MB"):
        check_limits([bomb], max_bytes=2**20, max_rows=10**6)
    check_limits([bomb], max_bytes=64 * 2**20, max_rows=10**6)


def test_parquet_footer_cannot_understate_the_size(tmp_path, monkeypatch):
    bomb = _parquet_bomb(tmp_path / "items.parquet", 20_000)
    original = pq.ParquetFile

    class Understating(original):  # a footer that claims almost nothing
        @property
        def metadata(self):  # noqa: ANN201
            real = super().metadata

            class Claim:
                num_rows, num_row_groups = 1, real.num_row_groups

                @staticmethod
                def row_group(i):  # noqa: ANN001, ANN205
                    return type("RowGroup", (), {"total_byte_size": 1})()
            return Claim()

    monkeypatch.setattr(pq, "ParquetFile", Understating)
    with pytest.raises(DataError, match="MB unpacked is over"):
        check_limits([bomb], max_bytes=2**20, max_rows=10**6)


def test_row_limits(tmp_path):
    path = tmp_path / "events.csv"
    pd.DataFrame({"user_id": ["u"] * 11, "item_id": ["A"] * 11}).to_csv(path, index=False)
    with pytest.raises(DataError, match="more than 10 rows"):
        check_limits([path], max_bytes=2**20, max_rows=10)
    check_limits([path], max_bytes=2**20, max_rows=11)
    parquet = _parquet_bomb(tmp_path / "items.parquet", 11)
    with pytest.raises(DataError, match="more than 10 rows"):
        check_limits([parquet], max_bytes=2**20, max_rows=10)


@pytest.mark.skipif(not Path("/etc/hostname").is_file(), reason="no /etc/hostname here")
def test_etc_hostname_is_refused_before_it_is_read(rules):
    with pytest.raises(DataError, match=OUTSIDE) as caught:
        server_path("/etc/hostname", rules)
    assert Path("/etc/hostname").read_text().strip() not in str(caught.value)

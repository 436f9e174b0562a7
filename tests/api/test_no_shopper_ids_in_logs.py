"""No shopper's id is written where it does not belong: train, serve and log requests for
shoppers with real-looking ids, then grep every log line, every printed line and every file of
the run folder. Only the run's history stores (histories.parquet, of the evaluation model and
of serving, and purchases.parquet for buy again: each shopper's own events, read to serve that
shopper) may hold them, and the event store outside the run (it keeps each shopper's
events)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.cli.main import main
from engine.data import generate_shop, write_tables

ID_STORES = {"histories.parquet", "purchases.parquet"}


def real_looking(index: int) -> str:
    return f"CUST-{7_301_000 + 37 * index}-{'ABCDEFGHJK'[index % 10]}"


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, list[str]]:
    items, events = generate_shop(n_items=60, n_users=30, seed=11)
    ids = {old: real_looking(i) for i, old in enumerate(sorted(events["user_id"].unique()))}
    events["user_id"] = events["user_id"].map(ids)
    write_tables(items, events, tmp_path / "shop")
    return tmp_path / "shop", list(ids.values())


def _files_with(folder: Path, secrets: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        hits = [s for s in secrets if s.encode() in raw or s.encode("utf-16-le") in raw]
        if hits:
            found[str(path.relative_to(folder))] = hits[:3]
    return found


def test_no_shopper_id_in_logs_output_or_run_files(shop, tmp_path: Path, caplog,  # noqa: ANN001
                                                   capsys, monkeypatch) -> None:
    from engine.api.app import create_app

    folder, ids = shop
    caplog.set_level(logging.DEBUG)
    run = tmp_path / "run"
    assert main(["train", "--data", str(folder), "--out", str(run), "--model", "twotower",
                 "--epochs", "1", "--set", "use_text=false", "--set", "dim=8", "--quiet"]) == 0
    assert main(["recommend", "--run", str(run), "--user", ids[0], "--k", "5"]) == 0
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    client = TestClient(create_app(run))
    for user in ids[:5]:
        shown = client.post("/recommend", json={"user_id": user, "k": 5})
        assert shown.status_code == 200, shown.text
        item = shown.json()["items"][0]["item_id"]
        assert client.post("/events", json={"user_id": user, "item_id": item, "event": "view",
                                            "list_id": shown.json()["request_id"]}
                           ).status_code == 201
    assert client.post("/recommend", json={"user_id": ids[0], "k": 0}).status_code == 422
    printed = capsys.readouterr()
    logged = caplog.text + printed.err + printed.out
    assert not [s for s in ids if s in logged], logged[-2000:]
    assert (run / "histories.parquet").exists()  # the store the allowance names is real
    leaked = {name: hits for name, hits in _files_with(run, ids).items()
              if Path(name).name not in ID_STORES}
    assert leaked == {}

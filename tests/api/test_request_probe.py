"""The slow-request probe's requests (bench/speed/request_probe.py: the costliest ones the
limits allow) are all answered, on the tiny shop: no 500, nothing refused. The probe's timings
are a benchmark (docs/benchmarks/request_probe.md), never asserted here."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

pytest_plugins = ["serving_runs"]


def test_every_edge_request_is_answered(tiny_shop, twotower_service,  # noqa: ANN001
                                        tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from serving_runs import app_with_own_home

    from bench.speed.request_probe import POLICY, edge_requests, run_probes
    from engine.policy.schema import parse_policy
    from engine.policy.store import PolicyStore

    client = TestClient(app_with_own_home(tiny_shop.twotower_run, twotower_service, tmp_path),
                        raise_server_exceptions=False)
    monkeypatch.setenv("PRISM_HOME", str(tmp_path))
    store = PolicyStore()
    store.save(parse_policy(POLICY.read_text(encoding="utf-8")))
    store.publish("amazon-spring")
    catalogue = twotower_service.catalogue
    probes = edge_requests(twotower_service.user_ids[0], catalogue.columns.ids[:20].tolist(),
                           catalogue.n_items)
    rows = run_probes(client, probes, repeats=1)
    assert len(rows) == len(probes) >= 10
    assert [r["status"] for r in rows] == [200] * len(rows), rows

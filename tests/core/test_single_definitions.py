"""Each shared job has one definition, found by scanning the source of engine/ and dashboard/:
the atomic writer, the list of re-rank methods, the device resolver, min–max scaling, the
value checks (k, weight, target mix, quota bounds), the category prior and the greedy loop
every re-ranker and policy fills its slots with. A second copy would drift (as the old ones
did: a fixed temp name two processes shared, two scalings that disagreed on constant input, a
weight check that read the text "0.5" as a number). The behaviour tests at the end send the
same input (a constant score row, a text weight, a list length out of range, quotas no list
can meet) through `Recommender`, the HTTP API, the CLI and a policy, and expect one answer:
every request is checked once, by the one request model (`engine.serving.requests`)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from engine.cli.main import main
from engine.core.errors import ConfigError, RequestError
from engine.core.limits import MAX_K
from engine.policy.schema import parse_policy
from engine.policy.serving import PolicyServer
from engine.policy.store import PolicyStore
from engine.rerank import rerank
from engine.rerank.methods import METHODS
from engine.serving.ranking import compile_request
from engine.serving.recommender import Recommender
from engine.serving.requests import RecommendRequest
from engine.serving.retrieve import plan_focus

pytest_plugins = ["serving_runs"]

K = 5
WEIGHT_MESSAGE = "diversity_weight must be a number in [0, 1], got '0.5'"

ROOT = Path(__file__).resolve().parents[2]
FILES_MODULE = "engine/core/files.py"
METHODS_MODULE = "engine/rerank/methods.py"


def sources() -> dict[str, ast.Module]:
    return {str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8"))
            for top in ("engine", "dashboard") for p in sorted((ROOT / top).rglob("*.py"))}


def definitions(match: Callable[[str], bool]) -> list[str]:
    """`file:function` for every function whose name `match` accepts."""
    return [f"{path}:{node.name}" for path, tree in sources().items() for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and match(node.name)]


def named(*names: str) -> Callable[[str], bool]:
    return lambda name: name in names


def calls(module: str, functions: set[str]) -> list[str]:
    """`file:line` for every call `module.f(...)` with f in `functions`."""
    return [f"{path}:{node.lineno}" for path, tree in sources().items() for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in functions and isinstance(node.func.value, ast.Name)
            and node.func.value.id == module]


def method_lists(trees: dict[str, ast.Module]) -> list[str]:
    """`file:line` of every tuple/list/set literal (or Literal[...]) of 3+ method names."""
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if len(values) == len(node.elts) >= 3 and set(values) <= set(METHODS):
                    found.append(f"{path}:{node.lineno}")
    return found


def greedy_loops(trees: dict[str, ast.Module]) -> list[str]:
    """`file:function` of every function with a `for` loop that asks a scorer for its
    diversity term and takes an argmax: a slot-by-slot greedy fill."""
    found = []
    for path, tree in trees.items():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            called = {node.func.attr for loop in ast.walk(function) if isinstance(loop, ast.For)
                      for node in ast.walk(loop)
                      if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
            if {"diversity", "argmax"} <= called:
                found.append(f"{path}:{function.name}")
    return found


def test_one_greedy_loop() -> None:
    assert greedy_loops(sources()) == ["engine/rerank/greedy.py:run_greedy"]
    assert definitions(named("constrained_greedy", "run_greedy", "greedy_fill")) == [
        "engine/rerank/constrained.py:constrained_greedy", "engine/rerank/greedy.py:run_greedy"]


def test_one_atomic_writer() -> None:
    writers = definitions(lambda name: name.startswith("write") and name.endswith("_atomic"))
    assert writers == [f"{FILES_MODULE}:write_{kind}_atomic"
                       for kind in ("bytes", "text", "json", "lines")]
    assert definitions(named("swap_folder")) == [f"{FILES_MODULE}:swap_folder"]
    renames = calls("os", {"replace", "rename"})
    assert renames and all(place.startswith(f"{FILES_MODULE}:") for place in renames), renames
    assert calls("tempfile", {"mkstemp", "mkdtemp", "NamedTemporaryFile"}) == []


def test_one_list_of_methods() -> None:
    assert method_lists(sources()) == [f"{METHODS_MODULE}:{line}" for line in _methods_lines()]
    assert definitions(named("check_method")) == [f"{METHODS_MODULE}:check_method"]


def _methods_lines() -> list[int]:
    tree = ast.parse((ROOT / METHODS_MODULE).read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Tuple)
            and len(node.elts) >= 3 and all(isinstance(e, ast.Constant) for e in node.elts)]


def test_one_device_resolver_scaling_and_prior() -> None:
    assert definitions(named("resolve_device")) == ["engine/core/device.py:resolve_device"]
    scalings = named("min_max", "minmax", "minmax_rows", "min_max_rows", "min_max_scale",
                     "scale_rows", "_scaled", "_minmax_allowed", "scaled_rows")
    assert definitions(scalings) == ["engine/rerank/scaling.py:min_max"]
    checks = {"check_k": "engine/core/checks.py", "check_weight": "engine/core/checks.py",
              "check_target_mix": "engine/core/checks.py",
              "check_bounds": "engine/rerank/quotas.py", "check_supply": "engine/rerank/quotas.py",
              "check_quota_room": "engine/rerank/quotas.py"}
    for name, module in checks.items():
        assert definitions(named(name)) == [f"{module}:{name}"]
    assert definitions(named("_quota_bounds", "_candidate_quota_check", "quota_bounds")) == []
    assert definitions(named("gini", "gini_rows")) == ["engine/metrics/exposure.py:gini"]
    assert definitions(named("paired_difference", "comparison", "resample_counts")) == [
        f"engine/metrics/stats.py:{name}"
        for name in ("resample_counts", "paired_difference", "comparison")]
    assert not (ROOT / "engine/policy/stats.py").exists()
    assert definitions(named("category_prior")) == ["engine/metrics/diversity.py:category_prior",
                                             "engine/serving/catalogue.py:category_prior"]
    # a list's per-slot variety, the index focus of a plan, pydantic's errors in one line
    assert definitions(named("variety_added", "diversity_gain", "diversity_gains")) == [
        "engine/serving/ranking.py:variety_added"]
    assert definitions(named("plan_focus", "request_focus", "policy_focus")) == [
        "engine/serving/retrieve.py:plan_focus"]
    assert definitions(named("readable", "not_json")) == ["engine/core/field_errors.py:readable"]
    # a served list's parts, category names looked up, a new-items table's columns checked
    assert definitions(named("served_columns", "list_parts", "result_parts", "slot_parts")) == [
        "engine/serving/ranking.py:served_columns"]
    assert definitions(named("category_positions", "_quota_positions")) == [
        "engine/serving/requests.py:category_positions"]
    assert definitions(named("check_new_item_columns", "_new_item_columns")) == [
        "engine/serving/coldstart.py:check_new_item_columns"]
    # ids and item text read as the import reads them, ids named in an error, a run's last event
    assert definitions(named("clean_ids", "strip_item_html")) == [
        "engine/data/cleaning.py:clean_ids", "engine/data/cleaning.py:strip_item_html"]
    assert definitions(named("shown_ids", "ids_more")) == ["engine/core/messages.py:shown_ids"]
    assert definitions(named("events_through")) == ["engine/runs/store.py:events_through"]


def test_scan_finds_a_second_copy() -> None:
    """The scan is not vacuous: stray method lists are reported, other lists are not."""
    tree = ast.parse('A = ("none", "mmr", "dpp")\nB: Literal["mmr", "dpp", "quota"]\n'
                     'C = ["mmr", "dpp"]\nD = ("mmr", "dpp", "fast")\n')
    assert method_lists({"x.py": tree}) == ["x.py:1", "x.py:2"]
    loop = ast.parse("def fill(s, n):\n    for _ in range(n):\n        s.diversity(0).argmax()\n"
                     "def other(s):\n    return s.diversity(0).argmax()\n")
    assert greedy_loops({"x.py": loop}) == ["x.py:fill"]


@pytest.fixture(scope="module")
def client(tiny_shop, ease_service, tmp_path_factory) -> TestClient:  # noqa: ANN001
    from serving_runs import app_with_own_home

    return TestClient(app_with_own_home(tiny_shop.ease_run, ease_service,
                                        tmp_path_factory.mktemp("home")))


@pytest.fixture
def policies(ease_service, tmp_path) -> PolicyServer:  # noqa: ANN001
    return PolicyServer(ease_service, PolicyStore(tmp_path / "policies.db"))


@pytest.fixture
def flat_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every item scores the same for every shopper (a model with nothing to say)."""
    def flat(self, catalogue, model, **scoring):  # noqa: ANN001, ANN003, ANN202
        return np.full(catalogue.n_items, 0.7)

    monkeypatch.setattr(Recommender, "_scores", flat)


def _ids_and_relevance(rows: list[dict]) -> tuple[list[str], list[float]]:
    return [row["item_id"] for row in rows], [row["relevance"] for row in rows]


def test_a_constant_row_ranks_alike_everywhere(flat_scores, ease_service, client, policies,
                                               tiny_shop, capsys) -> None:  # noqa: ANN001
    user = ease_service.user_ids[0]
    plain = _ids_and_relevance(ease_service.recommend(user, k=K, method="mmr").records())
    assert len(plain[0]) == K
    np.testing.assert_allclose(plain[1], np.ones(K), atol=1e-9)  # as good as the best
    api = client.post("/recommend", json={"user_id": user, "k": K, "method": "mmr",
                                          "policy": "none"})
    assert api.status_code == 200, api.text
    assert _ids_and_relevance(api.json()["items"]) == plain
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user, "--k", str(K),
                 "--method", "mmr", "--json"]) == 0
    assert _ids_and_relevance(json.loads(capsys.readouterr().out)) == plain
    # a floor at relevance 0.5 keeps every tied item: a constant row is not "all worst"
    policy = parse_policy({"name": "flat", "stages": [
        {"kind": "floor", "min_relevance": 0.5},
        {"kind": "diversify", "method": "mmr", "weight": 0.0}]})
    assert _ids_and_relevance(policies.recommend(policy, user_id=user, k=K).records()) == plain


def test_a_text_weight_is_refused_everywhere(ease_service, client, tiny_shop, capsys) -> None:  # noqa: ANN001
    user, expected = ease_service.user_ids[0], re.escape(WEIGHT_MESSAGE)
    with pytest.raises(RequestError, match=expected):
        ease_service.recommend(user, k=K, diversity_weight="0.5")
    with pytest.raises(RequestError, match=expected):
        rerank("mmr", np.arange(6.0), 3, "0.5", item_vectors=np.eye(6))
    response = client.post("/recommend", json={"user_id": user, "diversity_weight": "0.5"})
    assert response.status_code == 422
    assert response.json()["detail"] == f"diversity_weight: {WEIGHT_MESSAGE}"
    with pytest.raises(RequestError, match=re.escape(f"diversity_weight: {WEIGHT_MESSAGE}")):
        RecommendRequest.of(user_id=user, diversity_weight="0.5")  # what the studio builds
    with pytest.raises(ConfigError, match=expected):
        parse_policy({"name": "p", "stages": [
            {"kind": "diversify", "method": "mmr", "weight": "0.5"}]})
    # the CLI reads every value as text: one that is not a number is refused, exit 2
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user,
                 "--diversity-weight", "half"]) == 2
    assert "--diversity-weight" in capsys.readouterr().err


def test_impossible_quotas_are_refused_everywhere(ease_service, client, policies, tiny_shop,
                                                  capsys, tmp_path) -> None:  # noqa: ANN001
    catalogue = ease_service.catalogue
    largest = np.argsort(-(catalogue.item_categories > 0).sum(axis=0), kind="stable")[:2]
    user, (first, second) = ease_service.user_ids[0], [catalogue.category_names[c]
                                                        for c in largest]
    above = f"quotas[{first!r}]: floor 3 is above cap 1"
    with pytest.raises(RequestError, match=re.escape(above)):
        ease_service.recommend(user, k=K, method="quota", quotas={first: [3, 1]})
    response = client.post("/recommend", json={"user_id": user, "k": K, "method": "quota",
                                               "quotas": {first: [3, 1]}, "policy": "none"})
    assert response.status_code == 400 and above in response.json()["detail"]
    with pytest.raises(ConfigError, match=re.escape(above)):
        parse_policy({"name": "q", "stages": [
            {"kind": "diversify", "method": "quota", "weight": 0.5, "quotas": {first: [3, 1]}}]})
    assert main(["sweep", "--run", str(tiny_shop.ease_run), "--data", str(tiny_shop.data_dir),
                 "--methods", "quota", "--weights", "0.5", "--quotas", f"{first}:3-1",
                 "--json", str(tmp_path / "sweep.json")]) == 2
    assert above in capsys.readouterr().err
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user, "--method",
                 "quota", "--quotas", f"{first}:3-1"]) == 2
    assert above in capsys.readouterr().err
    # floors no list of k can hold: the plain request, the API and a policy say the same
    too_many = {first: [3, None], second: [3, None]}
    over = f"quotas: floors add up to 6, more than the list length k={K}"
    with pytest.raises(RequestError, match=re.escape(over)):
        ease_service.recommend(user, k=K, method="quota", quotas=too_many)
    response = client.post("/recommend", json={"user_id": user, "k": K, "method": "quota",
                                               "quotas": too_many, "policy": "none"})
    assert response.status_code == 400 and over in response.json()["detail"]
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user, "--k", str(K),
                 "--method", "quota", "--quotas", f"{first}:3-,{second}:3-"]) == 2
    assert over in capsys.readouterr().err
    policy = parse_policy({"name": "q", "stages": [
        {"kind": "diversify", "method": "quota", "weight": 0.5, "quotas": too_many}]})
    with pytest.raises(RequestError, match=re.escape(over)):
        policies.recommend(policy, user_id=user, k=K)


def test_caps_with_no_room_for_a_full_list_are_refused_alike(ease_service, client, policies,
                                                              tiny_shop, capsys,
                                                              tmp_path) -> None:  # noqa: ANN001
    """Caps that leave fewer items than the list needs: one check (`check_quota_room`) gives
    the plain request, the API, the CLI, a policy and the array re-ranker the same refusal."""
    catalogue = ease_service.catalogue
    names = catalogue.category_names
    first = names[int(np.argmax(catalogue.category_supply[1]))]  # the most items' main one
    caps = {name: [None, 1 if name == first else 0] for name in names}
    message = f"quota caps leave only 1 eligible catalogue items for a list of {K}"
    user = ease_service.user_ids[0]
    with pytest.raises(RequestError, match=re.escape(message)):
        ease_service.recommend(user, k=K, method="quota", quotas=caps)
    response = client.post("/recommend", json={"user_id": user, "k": K, "method": "quota",
                                               "quotas": caps, "policy": "none"})
    assert response.status_code == 400 and message in response.json()["detail"]
    spelled = tmp_path / "caps.json"
    spelled.write_text(json.dumps(caps), encoding="utf-8")
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user,
                 "--k", str(K), "--method", "quota", "--quotas", str(spelled)]) == 2
    assert message in capsys.readouterr().err
    policy = parse_policy({"name": "q", "stages": [
        {"kind": "diversify", "method": "quota", "weight": 0.5, "quotas": caps}]})
    with pytest.raises(RequestError, match=re.escape(message)):
        policies.recommend(policy, user_id=user, k=K)
    columns = {names.index(name): tuple(bounds) for name, bounds in caps.items()}
    with pytest.raises(RequestError, match=re.escape(message.replace("catalogue items",
                                                                     "candidates"))):
        rerank("quota", np.arange(float(catalogue.n_items)), K, 0.5,
               item_categories=catalogue.item_categories, quotas=columns)


@pytest.mark.parametrize("k", [0, MAX_K + 1])
def test_a_list_length_out_of_range_is_refused_alike(k, ease_service, client, policies,
                                                     tiny_shop, capsys) -> None:  # noqa: ANN001
    """One request model checks k for the Python call, the API, the CLI and a policy."""
    user = ease_service.user_ids[0]
    message = f"k: Input should be {'greater' if k < 1 else 'less'} than or equal to " \
              f"{1 if k < 1 else MAX_K}"
    with pytest.raises(RequestError, match=re.escape(message)):
        ease_service.recommend(user, k=k)
    response = client.post("/recommend", json={"user_id": user, "k": k, "policy": "none"})
    assert response.status_code == 422 and response.json()["detail"] == message
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user,
                 "--k", str(k)]) == 2
    assert capsys.readouterr().err.strip() == f"prism: error: {message}"
    policy = parse_policy({"name": "p", "stages": [
        {"kind": "diversify", "method": "mmr", "weight": 0.3}]})
    with pytest.raises(RequestError, match=re.escape(message)):
        policies.recommend(policy, user_id=user, k=k)


def test_the_studio_and_the_cli_build_the_api_body() -> None:
    """The API's /recommend body is the engine's request model that the CLI and the studio
    build: one class, one set of checks."""
    from engine.api import app as api

    assert api.RecommendRequest is RecommendRequest
    for page in ("dashboard/app_pages/explorer.py", "dashboard/app_pages/scenarios.py",
                 "engine/cli/serve_cmds.py"):
        text = (ROOT / page).read_text(encoding="utf-8")
        assert "RecommendRequest.of(" in text and ".recommend(" not in text, page


def test_boosts_of_mixed_sign_focus_a_request_and_a_policy_alike(ease_service,
                                                                 policies) -> None:  # noqa: ANN001
    """The candidate index scores, besides its own top items, those a plan raises on balance:
    a boosted category's items, never a buried one's, and an item in both only when the boost
    outweighs the bury; the same rule for a plain request and a policy."""
    catalogue = ease_service.catalogue
    (up, down), shares = catalogue.category_names[:2], catalogue.item_categories[:, :2]
    raised = set(np.flatnonzero(0.2 * shares[:, 0] - 0.3 * shares[:, 1] > 0).tolist())
    assert raised and set(np.flatnonzero(shares[:, 1] > 0).tolist()) - raised
    request = compile_request(catalogue, RecommendRequest.of(
        k=K, category_boosts={up: 0.2, down: -0.3}))
    policy = parse_policy({"name": "mixed", "stages": [
        {"kind": "boost", "match": {"categories": [up]}, "strength": 0.2},
        {"kind": "bury", "match": {"categories": [down]}, "strength": 0.3}]})
    for plan in (request.plan, policies.compiled(policy)):
        focus = plan_focus(plan, np.empty(0, dtype=np.int64))
        assert set(focus.must.tolist()) == raised and focus.need == plan.n_candidates


def test_a_policy_and_a_plain_request_report_the_same_variety(ease_service,
                                                              policies) -> None:  # noqa: ANN001
    """The `diversity_gain` column is the variety each item adds, whichever path served it."""
    user = ease_service.user_ids[0]
    plain = ease_service.recommend(user, k=K, method="dpp", diversity_weight=0.6).records()
    policy = parse_policy({"name": "dpp", "stages": [
        {"kind": "diversify", "method": "dpp", "weight": 0.6}]})
    served = policies.recommend(policy, user_id=user, k=K).records()
    assert [row["item_id"] for row in served] == [row["item_id"] for row in plain]
    np.testing.assert_allclose([row["diversity_gain"] for row in served],
                               [row["diversity_gain"] for row in plain], atol=1e-9)
    assert all(0.0 <= row["diversity_gain"] <= 0.6 + 1e-9 for row in served)


def test_a_boost_is_explained_alike_by_a_request_and_a_policy(ease_service,
                                                              policies) -> None:  # noqa: ANN001
    """A boosted item says "boosted +1.00" whether a plain request or a policy boosted it."""
    user, name = ease_service.user_ids[0], ease_service.category_names[2]
    plain = ease_service.recommend(user, k=3, category_boosts={name: 1.0}).records()
    policy = parse_policy({"name": "boost", "stages": [
        {"kind": "boost", "match": {"categories": [name]}, "strength": 1.0}]})
    served = policies.recommend(policy, user_id=user, k=3).records()
    assert [row["item_id"] for row in served] == [row["item_id"] for row in plain]
    assert all("boosted +1.00" in row["explanation"] for row in plain + served)


def test_quotas_constrain_every_method_alike_in_a_request_and_a_policy(ease_service,
                                                                       policies) -> None:  # noqa: ANN001
    user, catalogue = ease_service.user_ids[0], ease_service.catalogue
    free = ease_service.recommend(user, k=K, method="mmr", diversity_weight=0.4).records()
    shown = {row["category"] for row in free}
    name = next(n for n in catalogue.category_names if n not in shown)
    quotas = {name: [2, None]}
    plain = ease_service.recommend(user, k=K, method="mmr", diversity_weight=0.4,
                                   quotas=quotas).records()
    policy = parse_policy({"name": "floor", "stages": [
        {"kind": "diversify", "method": "mmr", "weight": 0.4, "quotas": quotas}]})
    served = policies.recommend(policy, user_id=user, k=K).records()
    assert [row["item_id"] for row in served] == [row["item_id"] for row in plain]
    assert sum(row["category"] == name for row in plain) >= 2

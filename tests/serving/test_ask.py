"""Answers for shoppers' questions: the right FAQ entry for paraphrased questions, products
from the search path with their FAQ links, personalisation, and `prism ask` / `POST /ask`."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from fastapi.testclient import TestClient

from engine.cli.main import main
from engine.core.errors import RequestError
from engine.data.faq import import_faq, read_faq
from engine.serving.ask import Asker
from tests.ask_support import KNOWN, write_faq

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def faq_file(tmp_path_factory):  # noqa: ANN001, ANN201
    return write_faq(tmp_path_factory.mktemp("faq"))


@pytest.fixture(scope="module")
def asker(twotower_service, faq_file) -> Asker:  # noqa: ANN001
    return Asker(twotower_service, read_faq(faq_file)[0])


@pytest.fixture
def faq_run(tiny_shop, faq_file, tmp_path):  # noqa: ANN001, ANN201
    """A copy of the EASE run whose data folder holds the imported FAQ."""
    from engine.runs.store import RUN_JSON

    data = tmp_path / "data"
    shutil.copytree(tiny_shop.data_dir, data)
    import_faq(faq_file, data)
    run = tmp_path / "run"
    shutil.copytree(tiny_shop.ease_run, run)
    meta = json.loads((run / RUN_JSON).read_text())
    meta["data_path"] = str(data)
    (run / RUN_JSON).write_text(json.dumps(meta))
    return run


@pytest.mark.parametrize(("question", "expected"), sorted(KNOWN.items()))
def test_paraphrased_questions_find_their_answer(asker, encoder_cache, question, expected) -> None:  # noqa: ANN001, E501
    answer = asker.ask(question, k=3, n_faq=2)
    assert answer.faq.loc[0, "faq_id"] == expected
    assert answer.good_faq_match and answer.notice is None
    assert answer.faq.loc[0, "text_match"] > answer.faq.loc[1, "text_match"] - 1e-9


def test_products_come_from_search_and_name_their_faq_link(asker, encoder_cache) -> None:  # noqa: ANN001
    answer = asker.ask("do the bluetooth headphones work with a phone", k=5, n_faq=1)
    assert answer.faq.loc[0, "faq_id"] == "headphones"
    assert "its answer is about P005" in answer.faq.loc[0, "explanation"]
    direct = asker.recommender.search("do the bluetooth headphones work with a phone", k=5)
    assert answer.products.table["item_id"].tolist() == direct.table["item_id"].tolist()
    linked = answer.products.table.set_index("item_id")["explanation"]
    if "P005" in linked.index:
        assert "named in FAQ answer headphones" in linked["P005"]
    assert all("named in FAQ" not in text for item, text in linked.items() if item != "P005")


def test_a_known_shopper_gets_the_affinity_of_their_purchases(asker, encoder_cache) -> None:  # noqa: ANN001
    catalogue = asker.recommender.catalogue
    buyers = [u for u, items in zip(catalogue.user_index, catalogue.user_items, strict=True)
              if any(catalogue.items["category"].iloc[p].startswith("Toys & Games > Plush")
                     for p in items)]
    answer = asker.ask("is it ok to put the teddy in the washing machine", user_id=buyers[0],
                       n_faq=5)
    teddy = answer.faq.set_index("faq_id").loc["teddy"]
    assert teddy["affinity"] > 0 and "of the shopper's purchases" in teddy["explanation"]
    assert answer.faq.loc[0, "faq_id"] == "teddy"


def test_nonsense_says_no_faq_entry_answers_it(asker, encoder_cache) -> None:  # noqa: ANN001
    answer = asker.ask("zzqxj vbrtk", n_faq=1)
    assert not answer.good_faq_match and "no FAQ entry answers" in answer.notice


@pytest.mark.parametrize("question", ["", "   ", "x" * 501, None])
def test_bad_questions_are_refused(asker, question) -> None:  # noqa: ANN001
    with pytest.raises(RequestError, match="question"):
        asker.ask(question)


def test_a_run_without_faq_answers_with_products_and_says_so(ease_service, encoder_cache) -> None:  # noqa: ANN001, E501
    answer = Asker(ease_service).ask("headphones", k=3)
    assert answer.faq.empty and len(answer.products.table) == 3
    assert "has no FAQ" in answer.notice


def test_prism_ask_prints_faq_and_products(faq_run, encoder_cache, capsys) -> None:  # noqa: ANN001
    assert main(["ask", "--run", str(faq_run), "--question", "when will my parcel arrive",
                 "--k", "3", "--n-faq", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FAQ\n  1. [shipping] How long does delivery take?")
    assert "why: text match" in out and "\nproducts\n" in out
    assert main(["ask", "--run", str(faq_run), "--question", "can I pay by card",
                 "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["faq"][0]["faq_id"] == "payment" and len(body["products"]) == 10


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--question", "   "], "question is empty"),
    (["--question", "where", "--n-faq", "0"], "n_faq must be a whole number"),
    (["--question", "where", "--faq", "missing.csv"], "no such FAQ file"),
])
def test_prism_ask_bad_input_is_one_line_and_exit_2(faq_run, encoder_cache, capsys, argv,  # noqa: ANN001
                                                    fragment) -> None:
    assert main(["ask", "--run", str(faq_run), *argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and re.match(r"prism( [a-z-]+)*: error: ", lines[0])
    assert fragment in lines[0]


def test_post_ask(faq_run, encoder_cache, tmp_path) -> None:  # noqa: ANN001
    from serving_runs import app_with_own_home

    from engine.serving.recommender import Recommender

    client = TestClient(app_with_own_home(faq_run, Recommender.load(faq_run), tmp_path))
    reply = client.post("/ask", json={"question": "how do I send something back", "k": 4})
    assert reply.status_code == 200
    body = reply.json()
    assert body["faq"][0]["faq_id"] == "returns" and body["good_faq_match"]
    assert len(body["products"]["items"]) == 4
    for bad, status in (({"question": ""}, 422), ({"question": "x" * 501}, 422),
                        ({"question": "hi", "k": 0}, 422), ({"question": "hi", "extra": 1}, 422),
                        ({"question": "   "}, 400), ({"question": "hi", "n_faq": True}, 422)):
        reply = client.post("/ask", json=bad)
        assert reply.status_code == status, bad
        assert isinstance(reply.json()["detail"], str)

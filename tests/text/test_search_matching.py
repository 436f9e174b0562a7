"""Search matches by meaning over two text views and needs evidence to call a match good:
a word of the query in the catalogue, or a similarity above every nonsense probe's."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.text.lexical import LexicalIndex, words
from engine.text.matching import QueryMatch, nonsense_probes

AMAZON = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "amazon-scientific"


def test_words_split_latin_and_chinese_text() -> None:
    assert words("3M Safety-Glasses, x") == ["3m", "safety", "glasses"]
    assert words("护目镜 goggles") == ["goggles", "护", "目", "镜", "护目", "目镜"]


def test_lexical_index_knows_the_catalogues_words() -> None:
    items = pd.DataFrame({"title": ["Protective Eyewear", "Duct Tape"],
                          "category": ["Safety > Eye", "Tapes"], "brand": ["3M", ""]})
    index = LexicalIndex(items)
    assert index.matched_words("the zzqxj") == []  # a stopword and an unknown word
    assert index.matched_words("eyewear for safety") == ["eyewear", "safety"]
    scores = index.scores("duct tape")
    assert scores[1] > 0 and scores[0] == 0


def test_probes_are_seeded_and_a_match_needs_evidence() -> None:
    assert nonsense_probes() == nonsense_probes() and len(set(nonsense_probes())) > 20
    similarity = np.array([0.30, 0.35])
    assert not QueryMatch(similarity, words=[], ceiling=0.40).good
    assert QueryMatch(similarity, words=["tape"], ceiling=0.40).good
    assert QueryMatch(similarity, words=[], ceiling=0.34).good
    assert QueryMatch(similarity, words=[], ceiling=0.40).best == pytest.approx(0.35)


def _search_index():  # noqa: ANN202
    from engine.core.config import EncoderConfig
    from engine.text.matching import SearchIndex, TitleIndex
    from engine.text.search import TextIndex

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    text = TextIndex(EncoderConfig())
    return SearchIndex(text, TitleIndex(EncoderConfig(), share=text))


@pytest.mark.slow
def test_synthetic_shop_nonsense_is_no_match_and_a_category_word_is() -> None:
    from engine.data import generate_shop

    items, _ = generate_shop(n_items=120, n_users=30, seed=5)
    index = _search_index()
    nonsense = index.match(items, "zzqxj")
    assert not nonsense.good and nonsense.words == []
    assert nonsense.best <= nonsense.ceiling
    word = str(items["title"].iloc[0]).split()[-1]
    real = index.match(items, word.lower())
    assert real.good and real.words


@pytest.mark.slow
@pytest.mark.skipif(not (AMAZON / "items.csv").exists(),
                    reason="the shared Amazon-Scientific data is not here")
def test_amazon_safety_glasses_find_the_eyewear_and_nonsense_finds_nothing() -> None:
    """On the eyewear's neighbourhood of Amazon-Scientific (every item whose text mentions
    glass, eye, lens, optic or safety, plus a seeded sample of 300 others): "safety glasses"
    ranks the one eyewear product first; "zzqxj" is no good match."""
    items = pd.read_csv(AMAZON / "items.csv", dtype=str).fillna("")
    text = items["title"] + " " + items["category"] + " " + items["description"]
    near = text.str.contains(r"glass|eye|lens|optic|safety|otoscope", case=False)
    others = items[~near].sample(300, random_state=0)
    subset = pd.concat([items[near], others]).reset_index(drop=True)
    eyewear = subset.index[subset["title"].str.contains("Protective Eyewear")].tolist()
    assert len(eyewear) == 1
    index = _search_index()
    glasses = index.match(subset, "safety glasses")
    assert glasses.good
    assert int(np.argmax(glasses.similarity)) == eyewear[0], \
        subset["title"].iloc[np.argsort(-glasses.similarity)[:5]].tolist()
    nonsense = index.match(subset, "zzqxj")
    assert not nonsense.good, (nonsense.best, nonsense.ceiling)


def test_suggestions_are_whole_category_names() -> None:
    from engine.text.lexical import suggested_queries

    tapes, test = "Industrial > Tapes, Adhesives & Sealants", "Industrial > Test, Measure & Inspect"
    items = pd.DataFrame({"div_category": [tapes, tapes, tapes, test, test, "unknown", "unknown",
                                           "unknown", "unknown", f"Lab > Labware | {test}"]})
    assert suggested_queries(items) == ["Tapes, Adhesives & Sealants",
                                        "Test, Measure & Inspect", "Labware"]

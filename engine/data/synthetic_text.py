"""Text of the synthetic shop: the vocabulary as flat arrays, and vectorised titles/descriptions.

Word lists are flattened with per-group offsets so a million items pick their words with one
numpy indexing step; strings are joined on object arrays, never in a per-item Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.columns import CATEGORY_SEP
from engine.data.synthetic_vocab import COLOURS, DEPARTMENTS

HTML_MESS_RATE = 0.3  # share of "&" brand names left HTML-escaped in titles


@dataclass(frozen=True)
class WordList:
    """Words of several groups, flattened: group g owns words[offsets[g]:offsets[g]+counts[g]]."""

    words: np.ndarray  # object array of str
    offsets: np.ndarray
    counts: np.ndarray

    @classmethod
    def from_groups(cls, groups: list[list[str]]) -> WordList:
        counts = np.array([len(g) for g in groups], dtype=np.int64)
        offsets = np.cumsum(counts) - counts
        return cls(np.array([w for g in groups for w in g], dtype=object), offsets, counts)

    def pick(self, rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
        """Index of one uniformly chosen word of each row's group."""
        return self.offsets[groups] + (rng.random(len(groups)) * self.counts[groups]).astype(
            np.int64)


@dataclass(frozen=True)
class Vocabulary:
    """The shop's category tree and words, indexed by leaf and by department."""

    leaf_dept: np.ndarray
    leaf_paths: np.ndarray
    leaf_price: np.ndarray
    brands: WordList  # per department
    adjectives: WordList  # per department
    materials: WordList  # per department
    features: WordList  # per department
    nouns: WordList  # per leaf
    uses: WordList  # per leaf
    colours: np.ndarray

    @property
    def n_leaves(self) -> int:
        return len(self.leaf_dept)

    @classmethod
    def build(cls) -> Vocabulary:
        depts = list(DEPARTMENTS.values())
        leaves = [(d, name, spec) for d, (dept, info) in enumerate(DEPARTMENTS.items())
                  for name, spec in info["leaves"].items()]  # type: ignore[attr-defined]

        def per_dept(key: str) -> WordList:
            return WordList.from_groups([str(info[key]).split("|") for info in depts])

        return cls(
            leaf_dept=np.array([d for d, _, _ in leaves], dtype=np.int64),
            leaf_paths=np.array([f"{list(DEPARTMENTS)[d]}{CATEGORY_SEP}{name}"
                                 for d, name, _ in leaves], dtype=object),
            leaf_price=np.array([spec[2] for _, _, spec in leaves], dtype=float),
            brands=per_dept("brands"),
            adjectives=per_dept("adjectives"),
            materials=per_dept("materials"),
            features=per_dept("features"),
            nouns=WordList.from_groups([spec[0].split("|") for _, _, spec in leaves]),
            uses=WordList.from_groups([spec[1].split("|") for _, _, spec in leaves]),
            colours=np.array(COLOURS, dtype=object),
        )


def _capitalised(words: np.ndarray) -> np.ndarray:
    return np.array([w[:1].upper() + w[1:] for w in words], dtype=object)


def _title_case(words: np.ndarray) -> np.ndarray:
    return np.array([" ".join(p[:1].upper() + p[1:] for p in w.split(" ")) for w in words],
                    dtype=object)


def make_titles(vocab: Vocabulary, parts: dict[str, np.ndarray]) -> np.ndarray:
    """`Brand Adjective Material Noun, Colour`; some "&" brands left as `&amp;` (mess)."""
    brands = vocab.brands.words[parts["brand"]]
    escaped = np.array([b.replace("&", "&amp;") for b in vocab.brands.words], dtype=object)
    brands = np.where(parts["html"], escaped[parts["brand"]], brands)
    return (brands + " " + _title_case(vocab.adjectives.words)[parts["adjective"]] + " "
            + _title_case(vocab.materials.words)[parts["material"]] + " "
            + _title_case(vocab.nouns.words)[parts["noun"]] + ", "
            + vocab.colours[parts["colour"]])


def describe(vocab: Vocabulary, parts: dict[str, np.ndarray]) -> np.ndarray:
    """One of three description templates per item, filled from its category's words."""
    brand = vocab.brands.words[parts["brand"]]
    adjective = vocab.adjectives.words[parts["adjective"]]
    material = vocab.materials.words[parts["material"]]
    noun = vocab.nouns.words[parts["noun"]]
    use = vocab.uses.words[parts["use"]]
    feature = vocab.features.words[parts["feature"]]
    colour = np.array([c.lower() for c in vocab.colours], dtype=object)[parts["colour"]]
    templates = (
        _capitalised(vocab.adjectives.words)[parts["adjective"]] + " " + noun + " by " + brand
        + ", made of " + material + ". Ideal for " + use + ". " + feature + ".",
        "This " + material + " " + noun + " is " + adjective + " and built for " + use + ". "
        + feature + ". From " + brand + ".",
        brand + "'s " + adjective + " " + noun + " in " + colour + ": " + material
        + " construction for " + use + ". " + feature + ".",
    )
    return np.choose(parts["template"], templates)

"""What the Explorer's numbers mean, in words (no `st.*`, no computation).

The numbers come from `engine.serving.listmetrics.list_metrics` (formulas in
`engine.metrics`); this module holds their definitions and worked examples in the active
language, and the rounding that keeps a displayed zero from reading -0.000.
"""

from __future__ import annotations

from dashboard.i18n import t

# The joint loss against re-ranking alone over the entropy range both families reach (the
# frontier's area / width), as measured by bench/frontier.py (docs/benchmarks/frontier.json;
# a test keeps the two equal): joint − re-rank NDCG@10 with its paired 95% interval, pooled
# over 3 training seeds. The Training page quotes it beside the α it recommends.
MEASURED_FRONTIER = {"ml_diff": 0.0392, "ml_low": 0.03272, "ml_high": 0.04342,
                     "amz_diff": 0.00471, "amz_low": 0.00386, "amz_high": 0.0055}
# The form's starting α: with the default term it reaches +30% category entropy on
# Amazon-Scientific for about 2% of NDCG@10 (docs/benchmarks/frontier.md)
RECOMMENDED_ALPHA = 0.5

DEFINITIONS = {
    "entropy": "Category entropy@K = −Σ_c p(c) ln p(c) over the list's categories (nats); "
               "higher = a more even mix.",
    "coverage": "Category coverage@K = number of distinct categories in the list.",
    "precision": "Precision@K = |list ∩ held-out items| / K, against the shopper's held-out "
                 "(validation + test) purchases.",
    "ild": "ILD@K = mean over pairs of 1 − cosine of item vectors; higher = less similar items.",
}


# plain-language definition and a worked example per metric, for "What do these numbers mean?"
EXPLAINED = {
    "Category entropy": (
        "How evenly the list spreads over categories: 0 when every slot is in one category, "
        "higher when the slots are shared out evenly (at most ln k).",
        "10 slots, 5 Lamps + 5 Desks: −(0.5·ln 0.5 + 0.5·ln 0.5) = 0.693. All 10 Lamps: 0. "
        "Ten different categories: ln 10 = 2.303."),
    "Category coverage": (
        "How many different categories the list shows.",
        "10 slots from Lamps, Desks, Rugs and Chairs: coverage 4."),
    "Precision@k": (
        "The share of the list the shopper really bought later (their held-out purchases).",
        "k = 10 and 2 of the 10 items are among the shopper's later purchases: 2 / 10 = 0.20."),
    "Dissimilarity (ILD)": (
        "How unlike each other the listed items are, on average over every pair (1 − cosine "
        "similarity of the model's item vectors): 0 = identical items, 1 = unrelated.",
        "3 items with pairwise similarities 0.9, 0.5 and 0.1: ILD = mean(0.1, 0.5, 0.9) = 0.5."),
    "NDCG@k": (
        "Like precision, but a hit near the top counts more (a hit at rank r is worth "
        "1 / log2(r + 1)), scaled so a perfect list scores 1.",
        "One held-out item, found at rank 3: 1 / log2(4) = 0.5. At rank 1: 1.0. Missing: 0."),
    "Diversity α": (
        "The weight the re-ranker gives to variety; β = 1 − α is left for relevance. α = 0 "
        "is the model's own order.",
        "α = 0.3 under MMR: each pick scores 0.7 × relevance − 0.3 × its similarity to the "
        "most similar item already picked."),
    "Diversity in an explanation": (
        "What the item added to the list's variety when it was picked, on one scale for every "
        "method: larger = more variety; 0 = none.",
        "Under MMR at α = 0.5, an item unlike everything above it gets +0.50; one nearly "
        "identical to an item above gets about +0.00."),
}


EXPLAINED_KEYS = {"Category entropy": "entropy", "Category coverage": "coverage",
                  "Precision@k": "precision", "Dissimilarity (ILD)": "ild", "NDCG@k": "ndcg",
                  "Diversity α": "alpha", "Diversity in an explanation": "explanation"}


def explained() -> dict[str, tuple[str, str]]:
    """EXPLAINED in the active language: {name: (definition, example)} (catalogue
    `explained.<key>.*`; the English messages equal EXPLAINED, a test keeps them so)."""
    return {t(f"explained.{key}.name"): (t(f"explained.{key}.definition"),
                                         t(f"explained.{key}.example"))
            for key in EXPLAINED_KEYS.values()}


def tidy(value: float | None) -> float | None:
    """Round away floating dust so a one-category entropy reads 0.000, never -0.000."""
    return None if value is None else (0.0 if abs(value) < 5e-7 else float(value))

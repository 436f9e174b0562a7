"""The metric vocabulary: one name, one definition and one explanation per metric.

Every number Prism reports under a metric column (`ndcg@10`, `ild_vec@10`, `gini@10 low`)
is described here, and the CLI (`prism metrics`), the API (`GET /metrics/vocabulary`), the
studio (its translation table mirrors these English texts; a test keeps them equal) and
docs/metrics.md (written from this table by `python -m engine.metrics.registry`) all read it,
so two different measures never share a name. Items without a category belong to no category:
they count toward no coverage, entropy or explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COLUMN = re.compile(r"^(?P<key>[a-z_]+)@(?P<k>\d+)(?: (?P<bound>low|high))?$")


@dataclass(frozen=True)
class Metric:
    """One metric: `key` is the column stem (`ild_vec` in `ild_vec@10`)."""

    key: str
    name: str  # shown everywhere the number is; `{k}` is the list length
    definition: str  # the formula
    explanation: str  # in plain words, with what a higher value means
    example: str  # a worked example a merchandiser can check by hand


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("ndcg", "NDCG@{k}",
           "NDCG@K = the sum over hits of 1 / log2(rank + 1), divided by its best possible "
           "value.",
           "Like precision, but a hit near the top counts more; a perfect list scores 1.",
           "One held-out item, found at rank 3: 1 / log2(4) = 0.5. At rank 1: 1.0. Missing: 0."),
    Metric("recall", "Recall@{k}",
           "Recall@K = |list ∩ held-out items| / |held-out items|.",
           "The share of the shopper's later purchases that the list shows.",
           "The shopper later bought 4 items and the list holds 1 of them: 1 / 4 = 0.25."),
    Metric("precision", "Precision@{k}",
           "Precision@K = |list ∩ held-out items| / K, against the shopper's held-out "
           "(validation + test) purchases.",
           "The share of the list the shopper really bought later.",
           "k = 10 and 2 of the 10 items are among the shopper's later purchases: "
           "2 / 10 = 0.20."),
    Metric("hit", "Hit rate@{k}",
           "Hit@K = 1 when the list holds at least one held-out item, else 0.",
           "The share of shoppers for whom the list found anything they bought later.",
           "Of 4 shoppers, lists for 3 hold a later purchase: 3 / 4 = 0.75."),
    Metric("mrr", "MRR@{k}",
           "MRR@K = 1 / rank of the first held-out item in the list (0 when none).",
           "How high the first later purchase sits in the list.",
           "The first later purchase is at rank 4: 1 / 4 = 0.25."),
    Metric("category_coverage", "Category coverage@{k}",
           "Category coverage@K = number of distinct categories in the list; items without "
           "a category count toward none.",
           "How many different categories the list shows.",
           "10 slots from Lamps, Desks, Rugs and Chairs: coverage 4."),
    Metric("category_entropy", "Category entropy@{k}",
           "Category entropy@K = −Σ_c p(c) ln p(c) over the list's categories (nats); items "
           "without a category count toward none; higher = a more even mix.",
           "How evenly the list spreads over categories: 0 when every slot is in one "
           "category, higher when the slots are shared out evenly (at most ln k).",
           "10 slots, 5 Lamps + 5 Desks: −(0.5·ln 0.5 + 0.5·ln 0.5) = 0.693. All 10 Lamps: "
           "0. Ten different categories: ln 10 = 2.303."),
    Metric("ild", "Category dissimilarity@{k}",
           "Category dissimilarity@K = mean over pairs of the list of 1 − cosine of the two "
           "items' category rows (ILD over categories).",
           "The share of pairs in the list that are in different categories: 0 = one "
           "category, 1 = every pair differs.",
           "4 items: Lamp, Lamp, Desk, Rug. Of the 6 pairs, 5 differ: 5 / 6 = 0.83."),
    Metric("ild_vec", "Vector dissimilarity@{k}",
           "Vector dissimilarity@K = mean over pairs of the list of 1 − cosine of the "
           "model's item vectors (ILD over item vectors); higher = less similar items.",
           "How unlike each other the listed items are to the model, on average over every "
           "pair: 0 = identical items, 1 = unrelated. Usually far below category "
           "dissimilarity: items of different categories can still look alike to the model.",
           "3 items with pairwise similarities 0.9, 0.5 and 0.1: mean(0.1, 0.5, 0.9) = 0.5."),
    Metric("catalog_coverage", "Catalogue coverage@{k}",
           "Catalogue coverage@K = |∪ lists| / number of items.",
           "The share of the catalogue that appears in at least one shopper's list.",
           "Lists over all shoppers show 150 different items of 1,000: 0.15."),
    Metric("gini", "Exposure Gini@{k}",
           "Gini@K of the items' recommendation counts: 0 = every item shown equally "
           "often, towards 1 = one item takes every slot of a large catalogue.",
           "How unequally the lists share their slots among items; lower = fairer.",
           "4 items shown 1, 1, 1 and 1 times: 0. Shown 0, 0, 0 and 4 times: 0.75."),
    Metric("novelty", "Novelty@{k}",
           "Novelty@K = mean over the list of −log2(popularity share of the item).",
           "How unexpected the listed items are: rarely bought items score higher.",
           "An item bought in 1 of 1,024 training events: −log2(1/1024) = 10 bits."),
    Metric("arp", "Average popularity@{k}",
           "ARP@K = mean training popularity (interaction count) of the listed items.",
           "How popular the listed items are on average; lower = more of the long tail.",
           "Items bought 100, 10 and 1 times: (100 + 10 + 1) / 3 = 37."),
    Metric("tail_share", "Long-tail share@{k}",
           "Long-tail share@K = fraction of slots holding items from the bottom 80% of "
           "items by training popularity.",
           "How much of the list goes to the less popular four fifths of the catalogue.",
           "3 of 10 slots hold long-tail items: 0.30."),
    Metric("miscalibration", "Miscalibration@{k}",
           "Miscalibration@K = KL(p_u ‖ q̃(list)), q̃ = 0.99·q + 0.01·p, p_u the shopper's "
           "category mix, q the list's.",
           "How far the list's category mix is from the shopper's own; 0 = the same mix.",
           "History 50% Lamps / 50% Desks, list all Lamps: KL ≈ 0.5·ln(0.5/0.995) + "
           "0.5·ln(0.5/0.005) = 1.96."),
)}


def parse_column(column: str) -> tuple[Metric, int, str | None] | None:
    """(metric, k, 'low' | 'high' | None) for a metric column like `ild_vec@10 low`; None
    for a column that is not a metric."""
    match = COLUMN.match(str(column).strip())
    if match is None or match["key"] not in METRICS:
        return None
    return METRICS[match["key"]], int(match["k"]), match["bound"]


def display_name(column: str) -> str:
    """The metric's name for a column (`ild@10` → 'Category dissimilarity@10'); bounds keep
    their suffix; a column that is not a metric is returned as it is."""
    parsed = parse_column(column)
    if parsed is None:
        return str(column)
    metric, k, bound = parsed
    name = metric.name.format(k=k)
    return f"{name} {bound}" if bound else name


def legend(columns: list[str]) -> list[str]:
    """'name — definition' once per metric among `columns`, in their order (the CLI's key)."""
    seen: dict[str, str] = {}
    for column in columns:
        if (parsed := parse_column(column)) and parsed[0].key not in seen:
            metric, k, _ = parsed
            seen[metric.key] = f"{metric.name.format(k=k)}: {metric.definition}"
    return list(seen.values())


def as_json() -> list[dict[str, str]]:
    """The vocabulary as JSON-able rows (the API's `GET /metrics/vocabulary`)."""
    return [{"key": m.key, "column": f"{m.key}@{{k}}", "name": m.name,
             "definition": m.definition, "explanation": m.explanation, "example": m.example}
            for m in METRICS.values()]


def markdown() -> str:
    """docs/metrics.md: the vocabulary as a table, written from METRICS."""
    lines = ["# Metrics", "",
             "Written by `python -m engine.metrics.registry` from `engine/metrics/registry.py`, "
             "the one table the CLI (`prism metrics`), the API (`GET /metrics/vocabulary`) "
             "and the studio "
             "read. Items without a category belong to no category: they count toward no "
             "category coverage, entropy or explanation.", "",
             "| Column | Name | Definition | In plain words | Example |",
             "|---|---|---|---|---|"]
    for m in METRICS.values():
        cells = [f"`{m.key}@k`", m.name.format(k="k"), m.definition, m.explanation, m.example]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    target = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
    target.write_text(markdown(), encoding="utf-8")
    print(f"metrics → {target.relative_to(target.parents[1])}")

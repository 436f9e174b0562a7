"""Answers for shoppers' questions: does the right FAQ entry come first for a paraphrased question?

    nice python -m bench.quality.ask_quality

The FAQ (examples/faq/amazon-scientific-faq.csv, 40 entries written for the Amazon-Scientific
catalogue: store policies and questions about its product types) is read through the FAQ
import (`engine.data.faq.read_faq`), and 80 paraphrased questions
(examples/faq/amazon-scientific-questions.csv, two per entry, worded differently from the
entry) are each answered by:

- Prism: `FaqIndex.match`, the ranking `prism ask` and `POST /ask` use (mean of the cosines of
  the question to the entry's question and to its question + answer, same text encoder as the
  catalogue), for a shopper without history;
- each of its two views alone (an ablation);
- BM25 (`bm25s`, its own English tokenizer and stopwords) over each entry's question + answer.

hit@k is the share of questions whose FAQ entry is among the first k. Results →
docs/benchmarks/ask.{json,md}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import REPO, add_out, machine, machine_line, write_results
from engine.core.config import EncoderConfig
from engine.data.faq import FAQ_ID, read_faq
from engine.text.faq_match import FaqIndex, faq_views
from engine.text.search import TextIndex

FAQ = Path("examples/faq/amazon-scientific-faq.csv")
QUESTIONS = Path("examples/faq/amazon-scientific-questions.csv")
KS = (1, 3, 5)
COMMAND = "nice python -m bench.quality.ask_quality"


def ranks(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(n_questions,) 1-based rank of each true entry; ties count against it (rank = number of
    entries scoring at least as high), so no method gains from the order of equal scores."""
    true_scores = scores[np.arange(len(truth)), truth]
    return (scores >= true_scores[:, None]).sum(axis=1)


def bm25_scores(faq: pd.DataFrame, questions: list[str]) -> np.ndarray:
    import bm25s

    corpus = bm25s.tokenize(faq_views(faq)[1], stopwords="en", show_progress=False)
    model = bm25s.BM25()
    model.index(corpus, show_progress=False)
    scores = []
    for question in questions:
        tokens = bm25s.tokenize([question], stopwords="en", show_progress=False,
                                return_ids=False)[0]
        known = [t for t in tokens if t in model.vocab_dict]
        scores.append(model.get_scores(known) if known else np.zeros(len(faq)))
    return np.asarray(scores, dtype=np.float64)


def prism_scores(faq: pd.DataFrame, questions: list[str]) -> dict[str, np.ndarray]:
    index = FaqIndex(faq, TextIndex(EncoderConfig()))
    vectors = index.text.encode(questions, cached=False)  # (n_questions, d)
    question_view, whole_view = index.vectors()
    return {"prism": np.stack([index.match(q).similarity for q in questions]),
            "prism: entry question only": vectors @ question_view.T,
            "prism: question + answer only": vectors @ whole_view.T}


def measure() -> dict:
    faq, count = read_faq(REPO / FAQ)
    asked = pd.read_csv(REPO / QUESTIONS, dtype=str, keep_default_na=False)
    position = {faq_id: i for i, faq_id in enumerate(faq[FAQ_ID])}
    truth = asked[FAQ_ID].map(position).to_numpy()
    if np.isnan(truth.astype(float)).any():
        raise SystemExit(f"{QUESTIONS}: a question names an FAQ id that is not in {FAQ}")
    truth = truth.astype(int)
    questions = asked["question"].tolist()
    methods = {**prism_scores(faq, questions), "BM25 (bm25s)": bm25_scores(faq, questions)}
    rows = {}
    for name, scores in methods.items():
        at = ranks(scores, truth)
        rows[name] = {f"hit@{k}": round(float((at <= k).mean()), 4) for k in KS}
        rows[name]["mrr"] = round(float((1.0 / at).mean()), 4)
    return {"command": COMMAND, "machine": machine(), "faq": str(FAQ),
            "questions": str(QUESTIONS), "n_entries": len(faq), "n_questions": len(questions),
            "faq_import": count.line().replace(str(REPO / FAQ), str(FAQ)),
            "encoder": EncoderConfig().model_name_or_path or "all-MiniLM-L6-v2 (bundled)",
            "methods": rows}


def render(results: dict) -> str:
    lines = [
        "# Answers for shoppers' questions: FAQ hit@k",
        "",
        f"Command: `{results['command']}` ({machine_line(results['machine'])}).",
        "",
        f"{results['n_questions']} paraphrased questions over the {results['n_entries']}-entry "
        f"FAQ `{results['faq']}` (questions: `{results['questions']}`); encoder: "
        f"{results['encoder']}. Import: {results['faq_import']}.",
        "hit@k: share of questions whose FAQ entry is among the first k (a tie counts "
        "against the entry); MRR: mean reciprocal rank.",
        "",
        "| method | hit@1 | hit@3 | hit@5 | MRR |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in results["methods"].items():
        lines.append(f"| {name} | {row['hit@1']:.3f} | {row['hit@3']:.3f} | {row['hit@5']:.3f} "
                     f"| {row['mrr']:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0])).parse_args(argv)
    results = measure()
    write_results(args.out, "ask", results, render)
    print(render(results))


if __name__ == "__main__":
    main()

"""Engine words: counted words say "1 row" and "3 rows", never "row(s)"; a shown zero is never
-0.0000."""

from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path

import pytest

from engine.core.messages import TEMPLATES, Message, fixed, render


@pytest.mark.parametrize(("n", "said"), [(0, "0 rows"), (1, "1 row"), (2, "2 rows"),
                                         (1234, "1,234 rows")])
def test_a_counted_word_agrees_with_its_count(n: int, said: str) -> None:
    assert render("{n:,} {n:row|rows}", n=n) == said


def test_a_template_without_counted_words_formats_as_str_format() -> None:
    assert render("{a!r} | {b:.2f}", a="x", b=0.5) == "'x' | 0.50"


def test_engine_messages_with_a_count_use_counted_words() -> None:
    assert not [code for code, text in TEMPLATES.items() if "(s)" in text]
    assert str(Message("new_items_taken", n=1, shown="'N1'", more="")).startswith(
        "new items: 1 id already in the catalogue")
    assert "2 ids already" in Message("new_items_taken", n=2, shown="'N1', 'N2'", more="")


@pytest.mark.parametrize(("value", "sign", "shown"), [
    (-0.0, "", "0.0000"), (-1e-9, "", "0.0000"), (-4e-5, "", "0.0000"), (-0.5, "", "-0.5000"),
    (0.25, "", "0.2500"), (-0.0, "+", "+0.0000"), (-1e-9, "+", "+0.0000"), (0.25, "+", "+0.2500"),
    (-0.25, "+", "-0.2500")])
def test_a_value_that_rounds_to_zero_reads_zero_never_minus_zero(value: float, sign: str,
                                                                  shown: str) -> None:
    assert fixed(value, sign=sign) == shown


def test_fixed_takes_the_places_asked() -> None:
    assert (fixed(-0.001, 2), fixed(0.125, 1), fixed(2.0, 0)) == ("0.00", "0.1", "2")


def test_the_training_summary_line_never_shows_a_negative_zero() -> None:
    from engine.cli.progress import summary

    line = summary({"metrics": {"ndcg@10": 0.25, "category_entropy@10": -0.0, "ild@10": 0.5}})
    assert line == "ndcg@10 0.2500, category_entropy@10 0.0000"  # one category: −Σ p log p


def test_no_word_says_s_in_brackets() -> None:
    """Words for people (engine and studio code, both languages' tables) never say "row(s)":
    a count picks its word."""
    root = Path(__file__).resolve().parents[2]
    bracketed = re.compile(r"[a-z]\(s\)(?!\?)")  # "(s)?" is a pattern, not words
    words = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    found = [f"{path.relative_to(root)}:{token.start[0]}" for folder in ("engine", "dashboard")
             for path in sorted((root / folder).rglob("*.py"))
             for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
             if token.type in words and bracketed.search(token.string)]
    for table in sorted((root / "dashboard" / "locales").glob("*.json")):
        found += [f"{table.name}:{key}" for key, text in json.loads(table.read_text()).items()
                  if bracketed.search(text)]
    assert not found

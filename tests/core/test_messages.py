"""Engine words: counted words say "1 row" and "3 rows", never "row(s)"."""

from __future__ import annotations

import re

import pytest

from engine.core.messages import TEMPLATES, Message, render


@pytest.mark.parametrize(("n", "said"), [(0, "0 rows"), (1, "1 row"), (2, "2 rows"),
                                         (1234, "1,234 rows")])
def test_a_counted_word_agrees_with_its_count(n: int, said: str) -> None:
    assert render("{n:,} {n:row|rows}", n=n) == said


def test_a_template_without_counted_words_formats_as_str_format() -> None:
    assert render("{a!r} | {b:.2f}", a="x", b=0.5) == "'x' | 0.50"


def test_engine_messages_with_a_count_use_counted_words() -> None:
    counted = re.compile(r"\{n[:}]")  # a count named n
    assert not [code for code, text in TEMPLATES.items() if counted.search(text) and "(s)" in text]
    assert str(Message("new_items_taken", n=1, shown="'N1'", more="")).startswith(
        "new items: 1 id already in the catalogue")
    assert "2 ids already" in Message("new_items_taken", n=2, shown="'N1', 'N2'", more="")

"""Number boxes that take any entry: one outside the setting's range is brought into it and
the page says so, in one line naming what was typed, what is used and why.

A box with its own bounds (`min_value`/`max_value`) refuses such an entry with only a
tooltip and keeps the old value without a word, which a merchandiser does not notice. So the
boxes are drawn without bounds and the page fits the value: `NumberRange` for any setting
(k, epochs, trials, ...), `SampleRange` for the shopper sample of the Trade-off and Ledger
pages (raised to the page's minimum, lowered to the run's held-out shoppers or the page's
most).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from math import inf
from typing import Any

import streamlit as st

from dashboard import view_state
from dashboard.i18n import t

ICON = ":material/tune:"
SAMPLE_ICON = ":material/group:"


def _shown(number: float) -> int | str:
    """`number` as a note writes it: 500, 0.05 (never 500.0 or 1e+06 for a whole number)."""
    return int(number) if float(number).is_integer() else f"{number:g}"


@dataclass(frozen=True)
class NumberRange:
    """The values a box's setting can take: `low`..`high`. `name` is the setting as the page
    says it; `raised`, `lowered` and `tip` are the message keys of the notes and the tooltip
    (the plain ones say the range; a setting with a reason of its own names it)."""

    low: float
    high: float
    name: str = ""
    raised: str = "common.number_raised"
    lowered: str = "common.number_lowered"
    tip: str = "common.number_help"
    icon: str = ICON

    def fit(self, asked: float) -> float:
        """The value used for `asked`: raised to `low` or lowered to `high` when outside (a
        whole number for a range of whole numbers)."""
        used = min(max(asked, self.low), self.high)
        whole = isinstance(self.low, int) and (isinstance(self.high, int) or self.high == inf)
        return int(used) if whole else used

    def _words(self, asked: float) -> dict[str, object]:
        return {"name": self.name, "asked": _shown(asked), "low": _shown(self.low),
                "high": _shown(self.high)}

    def help(self) -> str:
        """The box's tooltip."""
        return t(self.tip, **self._words(self.low))

    def note(self, asked: float | None) -> str | None:
        """What the page says when `asked` (the value typed; None: nothing typed) was changed."""
        if asked is None or self.low <= asked <= self.high:
            return None
        return t(self.raised if asked < self.low else self.lowered, **self._words(asked))

    def say(self, asked: float | None, where: Any = st) -> None:
        """Show `note(asked)` under the page's controls, or in `where` (nothing when the value
        was kept)."""
        if (note := self.note(asked)) is not None:
            where.warning(note, icon=self.icon)

    def keep(self, key: str) -> float | None:
        """Before the box under widget `key` is drawn: bring the value it holds (typed, or
        left from another run) into the range. Returns what it held, for `say`."""
        asked = st.session_state.get(key)
        if asked is not None and self.fit(asked) != asked:
            st.session_state[key] = self.fit(asked)
        return asked

    def box(self, where: Any, key: str, default: float, note_in: Any = st,
            **options: Any) -> float:
        """Draw the box labelled `name` under widget `key` in `where` (the page or a column)
        without bounds, its value kept in the range first (`default` until it holds one); the
        note goes below the row of controls it is in (or in `note_in`). Returns the value."""
        asked = self.keep(key)
        options.setdefault("help", self.help())
        value = where.number_input(self.name, value=None if asked is not None else default,
                                   key=key, **options)
        self.say(asked, note_in)
        return value


def at_least(low: float, name: str) -> NumberRange:
    """The range of a box with no most (a price, a cap): a smaller entry is raised to `low`."""
    return NumberRange(low, inf, name, raised="common.number_at_least",
                       tip="common.number_help_at_least")


def keep_all(ranges: Mapping[str, NumberRange]) -> list[str]:
    """`keep` each box of `ranges` (widget key: range); the notes of those changed."""
    notes = (box.note(box.keep(key)) for key, box in ranges.items())
    return [note for note in notes if note is not None]


@dataclass(frozen=True)
class FormBoxes:
    """The number boxes of a form whose submit starts something and reruns the page (a
    training job, an experiment): the values are fitted before the form is drawn, and their
    notes are said again after that rerun, under session key `carried` meanwhile."""

    ranges: Mapping[str, NumberRange]
    carried: str

    def fit(self) -> list[str]:
        """Keep each box in its range and show the notes (with those carried over a start's
        rerun); returns the notes just made, for `carry`."""
        notes = keep_all(self.ranges)
        for note in st.session_state.pop(self.carried, []) + notes:
            st.warning(note, icon=ICON)
        return notes

    @contextmanager
    def carry(self, notes: list[str]) -> Iterator[None]:
        """Around the start: `notes` outlive the rerun it causes (one that does not start
        has said them already, so they are dropped)."""
        st.session_state[self.carried] = notes
        yield
        st.session_state.pop(self.carried, None)


class SampleRange(NumberRange):
    """The sizes a page's sample can take: `low`..`high` shoppers, `high` being the run's
    held-out shoppers or the page's own most (the note says which)."""

    @classmethod
    def of(cls, shoppers: int, least: int, most: int) -> SampleRange:
        """The range for a run with `shoppers` held-out shoppers on a page whose sample holds
        `least`..`most` of them (all of them when the run has fewer than `least`)."""
        high = max(1, min(most, shoppers))
        lowered = "common.sample_lowered_run" if shoppers < most else "common.sample_lowered"
        return cls(min(least, high), high, raised="common.sample_raised", lowered=lowered,
                   tip="common.sample_help", icon=SAMPLE_ICON)


K_TYPED = "_k_typed"  # the Explorer's k just typed, for the rerun it causes


def remember_k() -> None:
    """The k box's callback: keep the k typed (the studio fits k before the page says it)."""
    st.session_state[K_TYPED] = view_state.value(view_state.K)


def k_range(n_items: int) -> NumberRange:
    """The k a run with `n_items` items lists (`view_state.k_bounds`); the note names the
    catalogue when it is what bounds k."""
    low, high = view_state.k_bounds(n_items)
    if high == n_items < view_state.K_MAX:
        return NumberRange(low, high, "k", lowered="common.k_lowered_catalogue")
    return NumberRange(low, high, "k")


def fit_k(n_items: int) -> int | None:
    """Bring k into `k_range` before a page reads it (a fragment rerun skips the sidebar that
    fits it); returns the k just typed (None: none), for the note."""
    asked = st.session_state.pop(K_TYPED, None)
    view_state.set_value(view_state.K, k_range(n_items).fit(int(view_state.value(view_state.K))))
    return asked

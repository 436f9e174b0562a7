"""The shopper-sample box of the Trade-off and Ledger pages: one rule for both.

The box takes any whole number from 1 up. A size below the page's minimum is raised to it
and one above what the sample can hold (the run's held-out shoppers, or the page's most) is
lowered to it; either way the page says so. A box with its own bounds would refuse such an
entry with only a tooltip and keep drawing the old sample without a word.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.i18n import t

ICON = ":material/group:"


@dataclass(frozen=True)
class SampleRange:
    """The sizes a page's sample can take: `low`..`high` shoppers; `run_bound` when `high` is
    the run's held-out shoppers rather than the page's own most."""

    low: int
    high: int
    run_bound: bool

    @classmethod
    def of(cls, shoppers: int, least: int, most: int) -> SampleRange:
        """The range for a run with `shoppers` held-out shoppers on a page whose sample holds
        `least`..`most` of them (all of them when the run has fewer than `least`)."""
        high = max(1, min(most, shoppers))
        return cls(min(least, high), high, shoppers < most)

    def fit(self, asked: int) -> int:
        """The size used for `asked`: raised to `low` or lowered to `high` when outside."""
        return min(max(int(asked), self.low), self.high)

    def help(self) -> str:
        """The box's tooltip."""
        return t("common.sample_help", low=self.low, high=self.high)

    def note(self, asked: int | None) -> str | None:
        """What the page says when `asked` (the size typed; None: nothing typed) was changed."""
        if asked is None or self.low <= asked <= self.high:
            return None
        if asked < self.low:
            return t("common.sample_raised", asked=asked, low=self.low)
        key = "common.sample_lowered_run" if self.run_bound else "common.sample_lowered"
        return t(key, asked=asked, high=self.high)

    def say(self, asked: int | None) -> None:
        """Show `note(asked)` under the page's controls (nothing when the size was kept)."""
        if (note := self.note(asked)) is not None:
            st.warning(note, icon=ICON)

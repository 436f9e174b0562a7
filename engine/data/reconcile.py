"""Row reconciliation: every row read is either kept or dropped for a named reason.

Each table of an import gets one `TableCount`: the rows read from its file, the rows dropped
per reason (by the shop-export reader — cancelled orders, postage lines, variant rows folded
into their product — and by the cleaning rules), and the rows kept. `balanced` is the identity
rows read = rows kept + the sum of the drops; a count that does not add up says so by name
("unaccounted") instead of hiding the difference.

A reader that drops rows records them on the count it is given:

    count = TableCount("events", "orders.csv", read=len(frame))
    count.drop("cancelled orders", int(cancelled.sum()))
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.core.messages import TEMPLATES, Listing, Message

UNACCOUNTED = "unaccounted"
# {English reason: its code}: a reader names a drop in English, the count keeps its code so
# the studio says it in its own language (the CLI prints the English as before)
DROP_REASONS = {TEMPLATES[code]: code for code in TEMPLATES
                if code.startswith("drop_") and "{" not in TEMPLATES[code]}


def reason_message(reason: str) -> str:
    """A drop reason as a `Message` when it has a code, else as it is."""
    if isinstance(reason, Message) or reason not in DROP_REASONS:
        return reason
    return Message(DROP_REASONS[reason])


@dataclass
class TableCount:
    """Rows read, dropped per named reason, and kept, for one table of an import."""

    table: str  # "items" or "events"
    source: str  # the file (or query) the rows came from
    read: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    kept: int = 0
    identifying: dict[str, str] = field(default_factory=dict)  # column -> dropped/keyed, why

    def drop(self, reason: str, rows: int) -> None:
        """Count `rows` dropped for `reason` (zero counts are not listed)."""
        if rows:
            reason = reason_message(reason)
            self.dropped[reason] = self.dropped.get(reason, 0) + int(rows)

    @property
    def n_dropped(self) -> int:
        return sum(self.dropped.values())

    @property
    def remaining(self) -> int:
        """Rows still there after the drops recorded so far."""
        return self.read - self.n_dropped

    @property
    def balanced(self) -> bool:
        return self.read == self.kept + self.n_dropped and UNACCOUNTED not in self.dropped

    def settle(self, kept: int) -> TableCount:
        """Record the rows kept; a difference the drops do not explain is named, not hidden."""
        self.kept = int(kept)
        gap = self.read - self.kept - self.n_dropped
        self.drop(UNACCOUNTED, gap)
        return self

    def copy(self) -> TableCount:
        return TableCount(self.table, self.source, self.read, dict(self.dropped), self.kept,
                          dict(self.identifying))

    def table_label(self) -> str:
        """The table's name: a `Message` for the tables Prism names ("items", "events")."""
        code = f"count_table_{self.table}"
        return Message(code) if code in TEMPLATES else self.table

    def line(self) -> Message:
        """"events (orders.csv): 1,200 read = 1,100 kept + 80 cancelled orders + 20 ...",
        with codes so the studio says it in its own language."""
        drops = Listing([Message("count_drop", n=n, reason=reason)
                         for reason, n in self.dropped.items()], "")
        columns = Listing([f"{c} {what}" for c, what in self.identifying.items()], "; ")
        return Message("count_line", table=self.table_label(),
                       source=self.source, read=self.read, kept=self.kept, drops=drops,
                       identifying=Message("count_identifying", columns=columns)
                       if columns else "")

    def as_dict(self) -> dict:
        return {"table": self.table, "source": self.source, "read": self.read,
                "kept": self.kept, "dropped": dict(self.dropped), "balanced": self.balanced,
                "identifying_columns": dict(self.identifying)}

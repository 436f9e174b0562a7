"""What the CLI shows while a model trains (candidates, trials, counted work) and after."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

from engine.core.messages import fixed


class CliProgress:
    """Training callbacks that print each candidate and draw tqdm bars for counted stages.

    A context manager: leaving it closes every bar it opened.
    """

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.bars: dict[str, Any] = {}

    def on_candidate(self, label: str) -> None:
        print(f"candidate: {label}", flush=True)

    def on_trial(self, done: int, total: int, record: dict[str, Any]) -> None:
        bar = self._bar("tuning", total, "trial", disable=self.quiet)
        bar.set_postfix(last=record["value"] if record["value"] is not None else "pruned")
        bar.update(done - bar.n)

    def on_progress(self, stage: str, done: int, total: int) -> None:
        bar = self._bar(stage, total, "item", disable=self.quiet or None)  # None: TTY only
        bar.total = total
        bar.update(done - bar.n)

    def _bar(self, desc: str, total: int, unit: str, disable: bool | None) -> Any:
        if desc not in self.bars:
            self.bars[desc] = tqdm(total=total, desc=desc, unit=unit, disable=disable)
        return self.bars[desc]

    def __enter__(self) -> CliProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self.bars.values():
            bar.close()


def summary(evaluation: dict[str, Any]) -> str:
    """The headline metrics of an evaluation on one line."""
    metrics = evaluation["metrics"]
    shown = [name for name in metrics if name.split("@")[0] in ("ndcg", "hit", "category_entropy")]
    return ", ".join(f"{name} {fixed(metrics[name])}" for name in shown)

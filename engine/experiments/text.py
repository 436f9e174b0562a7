"""An experiment report as plain text lines (the CLI's `prism experiment status`)."""

from __future__ import annotations

from typing import Any

from engine.experiments.report import METRIC_LABELS


def _bounds(cell: dict[str, Any]) -> str:
    low, high = cell.get("low"), cell.get("high")
    if low is None or high is None:
        return "[too few]"
    return f"[{low:.4g}, {high:.4g}]"


def report_lines(report: dict[str, Any]) -> list[str]:
    experiment = report["experiment"]
    lines = [f"experiment {experiment['name']} ({experiment['status']}): "
             f"{report['lists']:,} lists; verdict on {experiment['metric']}"]
    for row in report["arms"]:
        lines.append(f"  arm {row['arm']} = {row['policy']} ({row['share']:.0%}): "
                     f"{row['lists']:,} lists, {row['shoppers']:,} shoppers")
        for metric, cell in row["metrics"].items():
            estimate = cell.get("estimate")
            value = "-" if estimate is None else f"{estimate:.4g}"
            line = f"    {METRIC_LABELS.get(metric, metric):<20} {value:>10} {_bounds(cell)}"
            diff = row["difference"].get(metric)
            if diff is not None and diff.get("estimate") is not None:
                line += f"   vs control {diff['estimate']:+.4g} {_bounds(diff)}"
            lines.append(line)
    lines.append(f"verdict: {report['verdict']['text']}")
    lines.append("intervals: 95% always-valid (confidence sequences; see docs/experiments.md)")
    return lines

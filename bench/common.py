"""What the benchmark scripts share: writing a result as `<name>.json` plus its Markdown table."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_results(out_dir: Path, name: str, results: dict[str, Any],
                  render: Callable[[dict[str, Any]], str]) -> None:
    """Write `results` to `<out_dir>/<name>.json` and `render(results)` to `<name>.md`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / f"{name}.md").write_text(render(results))


# Two-tower settings measured best per data set (docs/benchmarks.md, "Two-tower model: what
# was measured"), passed to `prism train` as --set options. ML-100K: titles alone carry
# little; films carry several genres each and the catalogue's genre prior is
# Drama/Comedy-heavy, so the diversity target mixes in a uniform prior.
DATASET_SETTINGS: dict[str, list[str]] = {
    "ml-100k": ["use_text=false", "diversity_prior=uniform"]}


def machine() -> str:
    """The machine line every report starts with: architecture, CPU count, system."""
    return f"{platform.machine()} {os.cpu_count()} CPUs, {platform.system()}"

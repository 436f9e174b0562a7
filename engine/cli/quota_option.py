"""`--quotas`: per-category floors and caps for `prism recommend`, `evaluate` and `sweep`.

Written inline as `"Electronics:1-3,Beauty:0-2"` (floor-cap; `2-` no cap, `-3` no floor) or
as a JSON file `{"Electronics": [1, 3], "Beauty": [0, null]}`. Category names are the run's
diversity categories; an unknown name is listed in the error with the known ones.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from engine.cli.options import names_a_file
from engine.core.errors import ConfigError
from engine.rerank.quotas import check_bounds
from engine.serving.requests import category_positions

Bounds = tuple[int | None, int | None]
EXAMPLE = '"Electronics:1-3,Beauty:0-2" or a JSON file {"Electronics": [1, 3]}'


def add_quotas_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quotas", default=None,
                        help="per-category floor-cap for the list, e.g. "
                             "'Electronics:1-3,Beauty:0-2' (2- = no cap, -3 = no floor), or a "
                             "JSON file {\"Electronics\": [1, 3]}; required by the quota re-ranker")


def _bound(text: str, name: str, which: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise ConfigError(f"--quotas {name}: {which} must be a whole number >= 0, got {text!r} "
                          f"(write {EXAMPLE})")
    return int(text)


def _inline(text: str) -> dict[str, Bounds]:
    quotas: dict[str, Bounds] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, bounds = part.rpartition(":")
        low, dash, high = bounds.partition("-")
        if not sep or not name.strip() or not dash:
            raise ConfigError(f"--quotas {part!r}: expected CATEGORY:FLOOR-CAP, e.g. {EXAMPLE}")
        name = name.strip()
        quotas[name] = (_bound(low, name, "floor"), _bound(high, name, "cap"))
    return quotas


def _from_json(path: Path) -> dict[str, Bounds]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--quotas {path}: not valid JSON ({exc}); write {EXAMPLE}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"--quotas {path}: expected an object {{category: [floor, cap]}}")
    return {str(name): bounds for name, bounds in raw.items()}


def parse_quotas_option(text: str | None) -> dict[str, Bounds] | None:
    """The --quotas value as {category name: (floor, cap)}; None when the option is absent."""
    if text is None:
        return None
    path = Path(text)
    quotas = _from_json(path) if text.strip().endswith(".json") or names_a_file(text) \
        else _inline(text)
    if not quotas:
        raise ConfigError(f"--quotas is empty; write {EXAMPLE}")
    try:
        return {name: check_bounds(name, bounds) for name, bounds in quotas.items()}
    except ConfigError as exc:
        raise ConfigError(f"--quotas: {exc}") from None


def quota_indices(quotas: dict[str, Bounds] | None, category_names: Sequence[str],
                  ) -> dict[int, Bounds] | None:
    """Category column -> (floor, cap) for the run's categories."""
    if quotas is None:
        return None

    positions = category_positions(list(quotas), category_names, "--quotas")
    return dict(zip(positions, quotas.values(), strict=True))


def check_quota_method(method: str, quotas: dict[str, Bounds] | None, where: str) -> None:
    """`quota` without quotas would just be MMR: refuse it, saying how to give them."""
    if method == "quota" and not quotas:
        raise ConfigError(f"{where} quota needs --quotas, e.g. --quotas {EXAMPLE}")

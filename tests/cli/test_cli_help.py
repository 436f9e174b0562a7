"""`--help` works for the top level and every subcommand at every depth (help text is
%-formatted by argparse, so a stray `%` in one help string breaks its parent's --help)."""

from __future__ import annotations

import argparse

import pytest

from engine.cli.main import build_parser, main


def _command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[
        tuple[str, ...]]:
    """Every command path: (), ('policy',), ('policy', 'preview'), ..."""
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                paths += _command_paths(child, (*prefix, name))
    return paths


PATHS = _command_paths(build_parser())


def test_every_command_is_listed() -> None:
    assert ("policy",) in PATHS and ("policy", "preview") in PATHS and len(PATHS) > 10


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "prism")
def test_help_prints_and_exits_zero(path: tuple[str, ...],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main([*path, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: prism") and "Traceback" not in out

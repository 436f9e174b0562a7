"""Subcommands of `prism` (registered by engine.cli)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the `prism` parser."""

"""The `prism` command line: one parser, subcommands registered by concern.

Each module in `engine/cli/` exposes `register(subparsers)`; a subcommand sets `func(args) -> int`.
Heavy imports (torch, transformers) happen inside the handlers so `prism --help` stays fast.
Every user-facing error becomes one line on stderr and exit code 2, never a traceback.
"""

"""`python -m engine ...` is the same as the `prism` console script."""

from engine.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())

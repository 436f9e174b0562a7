"""Benchmarks, grouped by concern; run each from the repository root as
`python -m bench.<concern>.<script>`. Reports go to docs/benchmarks/ (JSON + Markdown), or
to `--out DIR`; tests/bench/test_smoke_*.py run each family on a tiny shop into a temporary
folder."""

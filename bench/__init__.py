"""Benchmarks, grouped by concern; run each from the repository root as
`python -m bench.<concern>.<script>`. Reports go to docs/benchmarks/ (JSON + Markdown)."""

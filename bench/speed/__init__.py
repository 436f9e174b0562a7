"""Speed benchmarks: serving latency and load, scoring, re-ranking and previews."""

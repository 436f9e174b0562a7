"""The benchmark smoke tests' tiny shop (tests/bench/bench_shop.py), built once per session."""

from bench_shop import bench_shop  # noqa: F401

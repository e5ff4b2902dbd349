"""One-off analyses behind readings in BENCHMARKS.md (``python -m tuner.bench.analysis.NAME``)."""

"""Measured runs: the benchmark ladder (``python -m benchmarks.ladder``), see benchmarks/README.md."""

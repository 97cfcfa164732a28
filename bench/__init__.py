"""Benchmarks: `make bench` runs every bench/bench_*.py module (BENCH_ARGS=name to pick)."""

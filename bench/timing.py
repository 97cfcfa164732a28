"""Timing one call the way every benchmark here does: warm up, then repeat."""

import statistics
import time
from collections.abc import Callable


def samples_ms(call: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds per call, over repeat calls after one that warms the caches."""
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def median_ms(call: Callable[[], object], repeat: int) -> float:
    return statistics.median(samples_ms(call, repeat))


def best_ms(call: Callable[[], object], repeat: int) -> float:
    """The least disturbed run: other load on the machine only adds."""
    return min(samples_ms(call, repeat))

"""Run the benchmarks and print their figures.

Each bench/bench_<name>.py module defines run() -> list[str] (report lines). A
benchmark compares against a baseline measured in the same run, so the figures
are ratios that mean something on any machine.
"""

import argparse
import importlib
import os
import pkgutil
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    available = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    chosen = args.names or available
    unknown = set(chosen) - set(available)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; available: {available}")
    if len(chosen) > 1:
        # Each benchmark sets Django up its own way (test environment, scratch
        # databases): one process each keeps them apart.
        failed = [
            name
            for name in chosen
            if subprocess.run([sys.executable, "-m", "bench", name], check=False).returncode  # noqa: S603 - names checked above
        ]
        if failed:
            print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0
    for name in chosen:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"== {name}", flush=True)
        started = time.monotonic()
        for line in module.run():
            print(f"   {line}", flush=True)
        print(f"   ({time.monotonic() - started:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench``: every benchmark of the project, one after the other."""

from __future__ import annotations

import importlib
import sys

# One line per benchmark module; each has ``main(argv) -> int``.
BENCHMARKS = [
    "bench.units",
    "bench.assessments",
    "bench.writers",
    "bench.feed",
    "bench.reports",
]


def main() -> int:
    status = 0
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        status |= importlib.import_module(name).main([])
    return status


if __name__ == "__main__":
    sys.exit(main())

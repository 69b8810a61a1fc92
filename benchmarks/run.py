"""Run the benchmarks and print their figures.

    .venv/bin/python benchmarks/run.py              # every benchmark at its default size
    .venv/bin/python benchmarks/run.py foundation   # only the named ones

Each benchmark is also a standalone script with its own --help (sizes, database URL).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in ("__init__", "run", "harness", "real_corpus"))


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(HERE / f"{name}.py")], check=False)
        status = status or result.returncode
        print(f"   ({name} took {time.perf_counter() - start:.1f} s)\n", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

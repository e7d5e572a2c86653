"""experiments/bench.py's main(), loaded from its path: experiments/ is not a package."""

import runpy
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "experiments" / "bench.py"


@pytest.fixture(scope="session")
def bench_main():
    return runpy.run_path(str(BENCH), run_name="bench")["main"]

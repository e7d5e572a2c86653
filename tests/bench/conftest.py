"""experiments/bench.py's main()."""

import pytest


@pytest.fixture(scope="session")
def bench_main(experiment_script):
    return experiment_script("bench").main

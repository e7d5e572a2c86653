"""experiments/bench.py's main(), and a sweep of the tiny grid on CPU through it."""

import pytest

from lstm_triton.bench.measure import MODES


@pytest.fixture(scope="session")
def bench_main(experiment_script):
    return experiment_script("bench").main


@pytest.fixture(scope="session")
def tiny_sweep(bench_main, tmp_path_factory):
    """run(providers, dtypes, *more arguments) -> (exit code, CSV): experiments/bench.py on the
    tiny grid on CPU, every mode, without warm-up or repeats, into a fresh CSV."""

    def run(providers, dtypes, *more):
        out = tmp_path_factory.mktemp("bench") / "tiny.csv"
        arguments = ["--grid=tiny", "--device=cpu", f"--providers={','.join(providers)}"]
        arguments += [f"--dtypes={','.join(dtypes)}", f"--modes={','.join(MODES)}"]
        arguments += ["--warmup-ms=0", "--rep-ms=0", *more, f"--out={out}"]
        return bench_main(arguments), out

    return run

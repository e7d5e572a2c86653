"""The correctness gate: a provider that computes something else gets failed rows, no timing."""

import math

import pytest
import torch

from lstm_triton.bench.grids import GRIDS
from lstm_triton.bench.measure import MODES
from lstm_triton.bench.providers import (
    PROVIDERS,
    Provider,
    loop_runner,
    native_module,
    native_runner,
)
from lstm_triton.bench.report import read_rows
from lstm_triton.bench.run import Settings, run_benchmark

CPU = Settings(device=torch.device("cpu"), warmup_ms=0, rep_ms=0)
CONFIGS = [("tiny", GRIDS["tiny"][1])]  # two layers, bidirectional


def swapped_gates_step(p, h, c, w_hh):
    """A plausible bug: the input and forget gates read from each other's rows."""
    z = torch.addmm(p, h, w_hh.t())
    f, i, g, o = z.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def test_gate_rejects_a_wrong_provider(monkeypatch, tmp_path):
    wrong = Provider(
        "swapped",
        lambda device: ("eager",),
        lambda case, kernel: loop_runner(case, swapped_gates_step),
    )
    monkeypatch.setitem(PROVIDERS, wrong.name, wrong)
    out = tmp_path / "gate.csv"
    run_benchmark(
        CONFIGS,
        providers=["native", "swapped"],
        dtypes=["fp32"],
        modes=MODES,
        out=out,
        settings=CPU,
    )
    rows = {(r["provider"], r["mode"]): r for r in read_rows(out)}
    assert len(rows) == 2 * len(MODES)
    for mode in MODES:
        assert rows["native", mode]["status"] == "ok"
        bad = rows["swapped", mode]
        assert bad["status"] == "failed"
        assert bad["error"].startswith("GateError: correctness gate:"), bad["error"]
        assert bad["median_ms"] == bad["p20_ms"] == bad["p80_ms"] == bad["us_per_step"] == ""


# torch's own deprecation notice, raised while inductor imports its pieces.
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_compiled_loop_passes_the_gate(tmp_path):
    out = tmp_path / "compiled.csv"
    rows = run_benchmark(
        CONFIGS,
        providers=["loop_compiled"],
        dtypes=["fp32"],
        modes=["backward"],  # retain_graph=True, which a compiled backward must allow
        out=out,
        settings=CPU,
    )
    assert [(r["kernel"], r["status"]) for r in rows] == [("inductor", "ok")], rows


def poisoned_gradient(value: float):
    """A provider build: torch.nn.LSTM whose gradient of weight_hh_l0 has one element = value,
    as from an overflow or a read of uninitialised memory in a backward kernel."""

    def build(case, kernel):
        runner = native_runner(native_module(case, case.dtype), case)

        def poison(grad):
            grad = grad.clone()
            grad[0, 0] = value
            return grad

        runner.weights[1].register_hook(poison)  # torch's order: weight_ih_l0, weight_hh_l0
        return runner

    return build


@pytest.mark.parametrize(("value", "what"), [(math.nan, "NaN"), (-math.inf, "inf")])
def test_gate_rejects_non_finite_gradients(monkeypatch, tmp_path, value, what):
    poisoned = Provider("poisoned", lambda device: ("aten",), poisoned_gradient(value))
    monkeypatch.setitem(PROVIDERS, poisoned.name, poisoned)
    rows = run_benchmark(
        CONFIGS,
        providers=["poisoned"],
        dtypes=["fp32"],
        modes=MODES,
        out=tmp_path / "grads.csv",
        settings=CPU,
    )
    # The gate runs once per provider and case, before any mode: its forward rows fail too.
    assert [(r["mode"], r["status"]) for r in rows] == [(mode, "failed") for mode in MODES]
    expected = f"GateError: correctness gate: the gradient of weight_hh_l0 holds {what}"
    assert {r["error"] for r in rows} == {expected}


@pytest.mark.parametrize(
    ("computes", "error"),
    [
        ("native", "3 outputs, torch.nn.GRU has 2"),
        ("rnn_tanh", "y is off by"),
    ],
    ids=["lstm-as-gru", "rnn-as-gru"],
)
def test_gate_compares_a_provider_with_the_cell_it_names(monkeypatch, tmp_path, computes, error):
    """A provider's truth is torch's module of its cell: another cell under its name fails."""
    impostor = Provider("impostor", lambda device: ("aten",), PROVIDERS[computes].build, "gru")
    monkeypatch.setitem(PROVIDERS, impostor.name, impostor)
    rows = run_benchmark(
        CONFIGS,
        providers=["gru", "impostor"],
        dtypes=["fp32"],
        modes=["forward"],
        out=tmp_path / "cells.csv",
        settings=CPU,
    )
    assert [(r["provider"], r["status"]) for r in rows] == [("gru", "ok"), ("impostor", "failed")]
    assert rows[1]["error"].startswith(f"GateError: correctness gate: {error}"), rows[1]["error"]

"""The correctness gate: a provider that computes something else gets failed rows, no timing."""

import pytest
import torch

from lstm_triton.bench import providers
from lstm_triton.bench.grids import GRIDS
from lstm_triton.bench.measure import MODES
from lstm_triton.bench.providers import PROVIDERS, Provider, loop_runner
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


def test_lstm_without_lengths_keyword_is_recorded_unsupported(monkeypatch, tmp_path):
    """Variable-length batches are never faked (say, by running padded steps as real ones)."""
    monkeypatch.setattr(providers, "accepts_lengths", lambda: False)
    varlen = [("tiny", next(config for config in GRIDS["tiny"] if config.varlen))]
    rows = run_benchmark(
        varlen,
        providers=["reference", "loop"],
        dtypes=["fp32"],
        modes=["forward"],
        out=tmp_path / "varlen.csv",
        settings=CPU,
    )
    assert [(r["provider"], r["status"]) for r in rows] == [
        ("reference", "unsupported"),
        ("loop", "ok"),
    ]
    assert "lengths=" in rows[0]["error"]

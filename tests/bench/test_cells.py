"""torch's RNN (tanh), GRU and LSTM next to ours, through experiments/bench.py on CPU at the tiny
grid's sizes (one layer, two layers bidirectional, lengths), and the cost-by-cell table drawn
from that CSV. Nothing here looks at a timing's value."""

import os
from itertools import product

import pytest
import torch

from lstm_triton.bench.grids import GRID_PROVIDERS, GRIDS
from lstm_triton.bench.measure import MODES
from lstm_triton.bench.report import read_rows
from lstm_triton.bench.run import Settings, run_benchmark

CELLS = ("rnn_tanh", "gru", "native", "reference")
DTYPES = ("fp32", "fp16")
NOTE = "shared with a training run"


@pytest.fixture(scope="module")
def cells_run(tiny_sweep):
    return tiny_sweep(CELLS, DTYPES, f"--note={NOTE}")


def test_every_cell_passes_its_gate_and_is_timed(cells_run):
    code, out = cells_run
    assert code == 0
    rows = read_rows(out)
    expected = product([config.id for config in GRIDS["tiny"]], CELLS, MODES, DTYPES)
    keys = [(r["config"], r["provider"], r["mode"], r["dtype"]) for r in rows]
    assert sorted(keys) == sorted(expected)
    for row in rows:
        assert row["status"] == "ok", row
        for name in ("median_ms", "max_err"):
            float(row[name])  # written, as a number
    assert {r["kernel"] for r in rows if r["provider"] in ("rnn_tanh", "gru")} == {"aten"}
    assert {(r["note"], r["peak_mb"]) for r in rows} == {(NOTE, "")}
    assert all(r["machine"].endswith("torch threads") for r in rows)


def test_the_report_has_the_cost_by_cell_with_ratios_to_the_rnn(cells_run):
    text = cells_run[1].with_suffix(".md").read_text()
    header = "| config | RNN | GRU | LSTM | ours | GRU/RNN | LSTM/RNN | ours/RNN |"
    assert text.count(header) == 2 * len(DTYPES)  # inference and training; no MB columns on CPU
    assert "Peak memory: not measured on this device." in text
    assert "#### cost by cell, inference (forward), fp32" in text
    assert "#### cost by cell, training (forward+backward), fp16" in text
    for config in GRIDS["tiny"]:
        lines = [line for line in text.splitlines() if line.startswith(f"| {config.id} | ")]
        cost = [line for line in lines if "(reference) |" in line]
        assert len(cost) == 2 * len(DTYPES), lines
        assert all(line.count("x |") == 3 for line in cost), cost  # GRU/RNN, LSTM/RNN, ours/RNN
    assert f"> note: {NOTE}" in text
    assert "- `experiments/bench.py --grid=tiny --device=cpu --providers=rnn_tanh," in text


def test_the_cells_grid_times_its_own_providers_by_default(tmp_path):
    """providers None: grid cells' own, at a tiny size; triton runs where Triton's interpreter
    is on, and where it is not (CPU tensors with a GPU present) its rows say why."""
    rows = run_benchmark(
        [("cells", GRIDS["tiny"][0])],
        providers=None,
        dtypes=["fp32"],
        modes=["forward"],
        out=tmp_path / "default.csv",
        settings=Settings(device=torch.device("cpu"), warmup_ms=0, rep_ms=0),
    )
    assert list(dict.fromkeys(r["provider"] for r in rows)) == list(GRID_PROVIDERS["cells"])
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    for row in rows:
        unsupported = row["provider"] == "triton" and not interpreted
        assert row["status"] == ("unsupported" if unsupported else "ok"), row
        assert bool(row.get("error")) == unsupported

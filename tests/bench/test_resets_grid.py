"""Issue 16's resets grid: PPO-like rollouts, the per-step loop and torch.nn.LSTM without the
resets next to ours, through the sweep on CPU at a tiny size, and the table drawn from that
CSV. Nothing here looks at a timing's value."""

import os
import re
from itertools import product

import pytest
import torch

from lstm_triton.bench.case import make_case
from lstm_triton.bench.gate import compute_truth, normalized_error
from lstm_triton.bench.grids import GRID_PROVIDERS, GRIDS, Config
from lstm_triton.bench.providers import default_providers
from lstm_triton.bench.report import read_rows, write_report
from lstm_triton.bench.run import Settings, run_benchmark

TINY = Config(3, 6, 8, 5, reset_rate=0.2)
MODES = ("forward", "forward+backward")


def test_the_grid_is_ppos_rollouts_with_its_own_providers():
    grid = GRIDS["resets"]
    sizes = [(c.seq_len, c.batch, c.hidden, c.reset_rate) for c in grid]
    assert sizes == [(128, b, h, 0.01) for b in (8, 64, 512) for h in (128, 256, 512)]
    assert grid[0].id == "B8-T128-I128-H128-L1-resets0.01"
    assert default_providers("resets") == [
        "native",
        "native_per_step",
        "native_segments",
        "reference",
        "triton",
    ]


def test_resets_are_drawn_from_the_seed_and_change_the_truth():
    case = make_case(TINY, "fp32", torch.device("cpu"))
    again = make_case(TINY, "fp32", torch.device("cpu"))
    assert case.resets.shape == (6, 3) and case.resets.dtype == torch.bool
    assert torch.equal(case.resets, again.resets) and case.resets.any()
    assert make_case(GRIDS["tiny"][0], "fp32", torch.device("cpu")).resets is None
    with_resets = compute_truth(case, with_grads=False, resets=True)
    without = compute_truth(case, with_grads=False, resets=False)
    assert normalized_error(with_resets.outputs["y"], without.outputs["y"]) > 1e-2


@pytest.fixture(scope="module")
def resets_run(tmp_path_factory):
    """The grid's own providers on TINY, fp32, forward and forward+backward; the triton rows
    run in the interpreter where it is on."""
    out = tmp_path_factory.mktemp("bench") / "resets.csv"
    rows = run_benchmark(
        [("resets", TINY)],
        providers=None,
        dtypes=["fp32"],
        modes=MODES,
        out=out,
        settings=Settings(device=torch.device("cpu"), warmup_ms=0, rep_ms=0),
        log=lambda line: None,
    )
    return rows, out


def test_every_provider_passes_its_gate_and_is_timed(resets_run):
    """torch.nn.LSTM in one call against the truth without resets, the others against the
    per-step loop in float64 with them."""
    rows, out = resets_run
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    assert [r["provider"] for r in read_rows(out)] == [r["provider"] for r in rows]
    providers = list(dict.fromkeys(r["provider"] for r in rows))
    assert providers == list(GRID_PROVIDERS["resets"])
    keys = {(r["provider"], r["mode"]) for r in rows}
    assert keys == set(product(providers, MODES))
    for row in rows:
        unsupported = row["provider"] == "triton" and not interpreted
        assert row["status"] == ("unsupported" if unsupported else "ok"), row
    assert {r["config"] for r in rows} == {"B3-T6-I5-H8-L1-resets0.2"}


def test_the_report_has_ours_against_the_per_step_loop_and_the_ceiling(resets_run):
    md, _ = write_report(resets_run[1])
    text = md.read_text()
    header = "| config | ceiling | per-step loop | ours | x per-step loop | x ceiling |"
    assert text.count(header) == 2  # inference and training; no MB columns on CPU
    assert "#### resets, inference (forward), fp32" in text
    assert "#### resets, training (forward+backward), fp32" in text
    lines = [line for line in text.splitlines() if line.startswith("| B3-T6-I5-H8-L1-resets0.2 |")]
    table = [line for line in lines if line.count("x |") == 2]
    assert len(table) == 2, lines
    ours = r"\((native_segments:\w+|reference|triton:\w+)\) \|"
    assert all(re.search(ours, line) for line in table), table

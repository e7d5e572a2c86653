"""The static cost model counts what compiled kernels issue (tiny kernels whose counts follow from
their shapes), and experiments/kernel_cost.py reports every schedule, or why it does not fit.

Both compile in a process of their own, as for tests/kernels/compile_for_gpu.py: this session
may run with TRITON_INTERPRET=1 (tests/conftest.py sets it without a GPU), and interpreted
kernels do not compile.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from lstm_triton.bench import cost, sass
from lstm_triton.bench.cost import ESTIMATE, REQUIRED, SCHEDULES, Floors
from lstm_triton.bench.launches import Shape

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not sass.nvidia_tools_present(), reason="this Triton build carries no nvdisasm / cuobjdump"
)


def compiled_run(*command: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**env, "TRITON_DEFAULT_FP_FUSION": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def counts() -> dict:
    """tests/bench/kernel_counts.py's counts, one program's, by kernel."""
    return json.loads(compiled_run("tests/bench/kernel_counts.py").stdout)


def test_16x16x16_dot_on_one_warp_is_two_m16n8k16(counts):
    dot = counts["dot16_1warp"]
    # 16 x 16 x 16 MACs / (16 x 8 x 16 an m16n8k16) = 2.
    assert dot["mma_per_warp"] == {"HMMA.16816.F32": 2}
    # a and b, 16 x 16 fp16 = 512 bytes each: one 128-bit load a lane (8 halves x 32 lanes).
    assert dot["ldg_per_warp"] == {"LDG.E.128": 2}
    assert dot["ldg_bytes"] == 2 * 16 * 16 * 2
    assert dot["stg_bytes"] == 16 * 16 * 4
    assert dot["stack_bytes"] == 0 and dot["local_accesses"] == 0
    # a's and b's loads are issued together: one round trip.
    assert dot["load_rounds"] == 1


def test_a_load_that_waits_on_another_takes_a_round_trip_more(counts):
    assert counts["gather64_1warp"]["load_rounds"] == 2


def test_64x64x64_dot_on_four_warps_issues_exactly_its_macs(counts):
    dot = counts["dot64_4warps"]
    # Whichever instruction sm_90 takes (wgmma 64x64x16: 4 for the warpgroup; m16n8k16: 32 a
    # warp), no warp repeats another's work.
    assert dot["mma_macs"] == 64 * 64 * 64
    assert dot["ldg_bytes"] == 2 * 64 * 64 * 2
    assert dot["stack_bytes"] == 0 and dot["local_accesses"] == 0


def test_a_k_loop_runs_k_over_its_chunk_times(counts):
    loop = counts["loop16x96_1warp"]
    assert loop["loops"] == 1 and loop["spin_loops"] == 0
    # 16 x 16 x 96 MACs: 2 m16n8k16 an iteration (the two 16 x 8 halves), 96 / 16 = 6
    # iterations, each adding one link to both halves' accumulator chains.
    assert loop["mma_per_warp"] == {"HMMA.16816.F32": 12}
    assert loop["chain"] == 6
    # a's and b's 16 x 16 chunks, 1024 bytes an iteration, copied by cp.async (LDGSTS): six
    # iterations' and the two that the pipeline (num_stages 3) loads ahead and the last two
    # iterations predicate off, which count as issued (bytes are an upper bound).
    assert loop["ldg_bytes"] == 0
    assert loop["ldgsts_bytes"] == (6 + 2) * 2 * 16 * 16 * 2


def test_cli_reports_every_schedule_in_json_with_misfits_and_their_reasons():
    # H = 40, not a multiple of 16: resident does not fit.
    shape = ["--batch", "3", "--steps", "8", "--hidden", "40", "--dtype", "fp16"]
    result = compiled_run("experiments/kernel_cost.py", *shape, "--format", "json")
    assert ESTIMATE in result.stderr
    rows = json.loads(result.stdout)
    assert [row["schedule"] for row in rows] == list(SCHEDULES)
    for row in rows:
        assert set(REQUIRED) <= set(row)
        assert row["estimate"] == ESTIMATE
    fitting = {row["schedule"]: row for row in rows if row["misfit"] is None}
    assert set(fitting) == {"stepwise", "persistent"}
    for row in fitting.values():
        assert row["forward_us_per_step"] > 0 and row["backward_us_per_step"] > 0
        assert row["mma_issued"] >= row["mma_minimum"] > 0
        for direction in ("forward", "backward"):
            assert row[direction]["ldg_bytes_per_step"] > 0
    assert fitting["stepwise"]["forward"]["launches_per_step"] == 1
    assert fitting["persistent"]["forward"]["grid_barriers_per_step"] == 1
    (resident,) = [row for row in rows if row["schedule"] == "resident"]
    assert "multiples of 16" in resident["misfit"]
    assert resident["forward_us_per_step"] is None


def test_cli_counts_the_resets_loads_and_refuses_them_in_reverse_time():
    shape = ["experiments/kernel_cost.py", "--batch", "3", "--steps", "8", "--hidden", "16"]
    plain, reset = (
        {row["schedule"]: row for row in json.loads(compiled_run(*shape, *extra).stdout)}
        for extra in ((), ("--resets",))
    )
    for name in SCHEDULES:
        for direction in ("forward", "backward"):
            # one (B,) bool row a step forward, two backward (this step's and the next's)
            more = reset[name][direction]["ldg_bytes_per_step"]
            assert more > plain[name][direction]["ldg_bytes_per_step"], (name, direction)
    refused = subprocess.run(
        [sys.executable, *shape, "--resets", "--bidirectional"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "reverse time" in refused.stderr


def test_main_shape_issues_each_product_once_without_spills():
    # Issue 13's shape: the forward's resident product on wgmma with W as its left operand.
    main = ["--batch", "16", "--steps", "1024", "--hidden", "768", "--dtype", "bf16"]
    rows = json.loads(compiled_run("experiments/kernel_cost.py", *main, "--format", "json").stdout)
    by_schedule = {row["schedule"]: row for row in rows}
    assert by_schedule["resident"]["forward"]["mma_kind"].startswith("HGMMA.64x16x16")
    for name in ("persistent", "resident"):
        for direction in ("forward", "backward"):
            cost = by_schedule[name][direction]
            assert cost["mma_ratio"] <= 1.25, (name, direction, cost["mma_minimum_formula"])
            assert cost["spill_bytes"] == 0 and cost["local_accesses_per_step"] == 0
            # The loads after the barrier that follow one another, each an L2 round trip.
            trips = cost["critical_l2_round_trips"]
            assert trips >= 1 and cost["latency_us"] == trips * Floors().l2_latency_us


def test_the_minimum_takes_the_operand_order_that_pads_less():
    # B = 16 rows against a wgmma's m of 64: W on the left (4H = 3072 rows) pads nothing.
    forward = cost.products(Shape(16, 8, 768, 768, 1, "bf16"))["forward"]
    wgmma = sass.Tally(Counter({"HGMMA.64x16x16.F32.BF16": 48.0}), 0.0)
    work = cost.tensor_work(wgmma, 4, forward, Shape(16, 8, 768, 768, 1, "bf16"), 132, Floors())
    assert work.minimum == 48 * 48 and "ceil(4H/64) x ceil(B/16)" in work.formula
    hmma = sass.Tally(Counter({"HMMA.16816.F32.BF16": 48.0}), 0.0)
    work = cost.tensor_work(hmma, 8, forward, Shape(16, 8, 768, 768, 1, "bf16"), 132, Floors())
    assert work.minimum == 1 * 384 * 48 and "ceil(B/16) x ceil(4H/8)" in work.formula

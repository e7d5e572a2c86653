"""A static cost model of the recurrence kernels: for each schedule (kernels/schedule.py), the SASS
of one step of the forward and of the backward recurrence, compiled for an H200 as the launchers
launch it (launches.py), counted (sass.py) and priced with a small latency/throughput model.
Estimates from compiled code: the constants (Floors) are floors and peak rates from the sources
named beside them, not fitted; the first GPU run calibrates them (fit them to measured rows of
experiments/bench.py).

One step:
    stepwise              the step kernel's most launched variant (one launch a step), all of it
    persistent, resident  the body of the cooperative (persistent) kernel's time loop: its
                          outermost loop around tensor-core instructions
Inside a step, a loop around tensor-core instructions (a K loop) runs ceil(K / k_step) times,
k_step = the instruction's k x the longest accumulator chain of one iteration; any other loop (a
barrier's spin) counts once, as if the barrier passed at the first poll.

mma_minimum, the tensor-core instructions the step's product needs: its MACs, each side rounded up
to the instruction's (m, n, k), over one instruction's MACs (m16n8k16: 2048), with the operands
in the order that pads less (W on the left, its rows as m, suits a wgmma's m of 64 at small B):
    D x min(ceil(B / m) x ceil(N / n), ceil(N / m) x ceil(B / n)) x ceil(K / k)
    forward  r_prev (B, H) @ W^T (H, 4H): N = 4H, K = H
    backward dz_next (B, 4H) @ W (4H, H): N = H, K = 4H
mma_issued counts what the warps issue: an HMMA each warp that runs it, an HGMMA (wgmma) each
warpgroup; above the minimum are the padded K and rows, and warps that compute the same tile.

Per step and recurrence, in microseconds (Floors' fields in brackets), the parts simply added:
    launches a step x [launch_us] + grid barriers a step x [barrier_us]
    + round trips x [l2_latency_us]
    + waves x max(tensor, L2, shared)
    tensor = max(the MMAs one warp scheduler issues x their issue cycles, the longest
                 accumulator chain x [hmma_latency_cycles]) / [clock_hz]
    L2     = the program's global bytes (loads, cp.async, stores) / the SM's share of
             [l2_bytes_per_s] (a 132th: a program draws no more than its SM's share)
    shared = the program's shared-memory bytes / [shared_bytes_per_clock]
    waves  = ceil(programs / SMs)
round trips: in a persistent kernel, the global loads after the barrier's wait that follow one
another (sass.load_rounds: a load issued behind a CTA barrier that waited on an earlier load's
data starts a new round), at least [critical_l2_round_trips]; in a step kernel that floor.
forward_us_per_step adds the step's share of the input projection x W_ih^T (one cuBLAS GEMM over
all steps: 2 B I 4H D FLOPs a step), backward_us_per_step that of dx, dW_ih and dW_hh
(2 B 4H D (2 I + H)), at [cublas_fraction] of the dense tensor peak; both are also apart.
"""

import math
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import torch

from lstm_triton.bench import sass
from lstm_triton.bench.launches import (
    GPU,
    H200,
    Launch,
    Shape,
    compile_launch,
    layer_launches,
    most_launched,
)
from lstm_triton.kernels import schedule

SCHEDULES = tuple(name for name in schedule.RECURRENCES if name != "auto")
ESTIMATE = (
    "estimates from sm_90 SASS compiled without a GPU and uncalibrated floors: the first GPU run "
    "calibrates them (fit the floors to measured rows)"
)
META = torch.device("meta")  # where the launches are planned: no memory, no GPU
SCHEDULERS_PER_SM = 4  # warp schedulers (SM sub-partitions) per SM, each with its tensor core
WARPGROUP = 4  # warps that issue one wgmma together


@dataclass(frozen=True)
class Floors:
    """The model's constants, for an H100/H200 SXM; a calibration replaces them."""

    launch_us: float = 2.5  # a kernel launch back to back, measured on H200 (issue 13)
    graph_node_us: float = 1.3  # a CUDA graph kernel node, measured on H200 (issue 13)
    # The kernels' atomic-flag grid barrier (kernels/barrier.py), measured on H200 (issue 13);
    # cooperative groups' grid sync, which they do not use, measured 1.26 us.
    barrier_us: float = 1.1
    # 150-280 ns measured on H200 (issue 13): the middle. Hopper's L2 has two partitions, the
    # far one slower (Chips and Cheese, "Nvidia's H100: Funny L2, and Tons of Bandwidth", 2023).
    l2_latency_us: float = 0.215
    l2_bytes_per_s: float = 10e12  # measured on H200 (issue 13)
    clock_hz: float = 1.83e9  # the boost clock of NVIDIA's tensor throughput (H100 whitepaper)
    # Dense FP16/BF16 tensor TFLOPS of an H100/H200 SXM (NVIDIA's datasheets: 989.4; H200's
    # 1,979 is with sparsity); tf32 is half. wgmma reaches it.
    dense_fp16_tflops: float = 989.4
    # mma.sync (HMMA) against wgmma on Hopper: roughly half to two-thirds of the peak (issue 13).
    mma_sync_fraction: float = 0.6
    # HMMA's dependent-issue latency: about 30 cycles on Ampere and Hopper in published
    # microbenchmarks; not measured here, the first fit should set it.
    hmma_latency_cycles: float = 32.0
    shared_bytes_per_clock: float = 128.0  # per SM: 32 banks of 4 bytes (CUDA programming guide)
    # cuBLAS on the layer's GEMMs (16k x 768 x 3072 at the main shape): an assumed fraction of
    # the dense peak until measured.
    cublas_fraction: float = 0.7
    # On a step's critical path at least: the load of h_prev (dz_next) the product waits on,
    # after the launch or barrier that made it visible (a K loop's are priced as throughput).
    # The barrier's own round trips are in barrier_us.
    critical_l2_round_trips: int = 1

    def tensor_macs_per_clock(self, sms: int, operand_bytes: int) -> float:
        """Dense tensor MACs a clock per SM at wgmma's peak: 2048 for 16-bit operands
        (989.4 TFLOPS / (2 x 132 SMs x 1.83 GHz)), half for tf32."""
        return self.dense_fp16_tflops * 1e12 / (2 * sms * self.clock_hz) * 2 / operand_bytes


class Product(NamedTuple):
    """One step's recurrent product, per direction: (rows, depth) @ (depth, columns)."""

    rows: int
    columns: int
    depth: int
    columns_text: str
    depth_text: str


def products(shape: Shape) -> dict[str, Product]:
    B, H = shape.batch, shape.hidden
    return {"forward": Product(B, 4 * H, H, "4H", "H"), "backward": Product(B, H, 4 * H, "H", "4H")}


class Tensor(NamedTuple):
    """A step's tensor-core instructions, against the least its product needs."""

    kind: str  # the opcode issued most: HMMA.16816.F32.BF16
    shape: tuple[int, int, int]
    per_warp: float
    per_program: float  # HMMA per warp x warps + HGMMA per warp x warpgroups
    minimum: int  # the whole grid's
    formula: str
    issue_cycles: float  # what one warp scheduler spends issuing them


def tensor_work(
    counts: sass.Tally, warps: int, product: Product, shape: Shape, sms: int, floors: Floors
) -> Tensor:
    """The step's MMAs, counted, against the minimum, and their issue time."""
    issued = counts.by_opcode(*sass.MMA_NAMES)
    if not issued:
        raise ValueError("no tensor-core instructions in a step")
    kind = max(issued, key=issued.get)
    m, n, k = sass.mma_shape(kind)
    directions = shape.directions
    hmma, hgmma = counts.issued("HMMA"), counts.issued("HGMMA")
    rows, columns, text = product.rows, product.columns, product.columns_text
    swapped = math.ceil(columns / m) * math.ceil(rows / n)
    sides = (math.ceil(rows / m), math.ceil(columns / n), math.ceil(product.depth / k))
    formula = f"D x ceil(B/{m}) x ceil({text}/{n})"
    if swapped < sides[0] * sides[1]:
        sides = (math.ceil(columns / m), math.ceil(rows / n), sides[2])
        formula = f"D x ceil({text}/{m}) x ceil(B/{n})"
    formula += (
        f" x ceil({product.depth_text}/{k}) = {directions} x {sides[0]} x {sides[1]} x {sides[2]}"
    )
    issue = 0.0
    for opcode, count in issued.items():
        macs = math.prod(sass.mma_shape(opcode))
        rate = floors.tensor_macs_per_clock(sms, sass.operand_bytes(opcode))
        if opcode.startswith("HMMA."):
            # On its warp's scheduler's tensor core, shared by the warps of that scheduler.
            cycles = macs / (rate / SCHEDULERS_PER_SM * floors.mma_sync_fraction)
            issue += count * math.ceil(warps / SCHEDULERS_PER_SM) * cycles
        else:
            # A wgmma takes all four of the SM's; the warpgroups take turns.
            issue += count * warps / WARPGROUP * macs / rate
    return Tensor(
        kind,
        (m, n, k),
        hmma + hgmma,
        hmma * warps + hgmma * warps / WARPGROUP,
        directions * math.prod(sides),
        formula,
        issue,
    )


def _coherent_bytes(counts: sass.Tally) -> float:
    """Bytes of .STRONG.GPU loads: data other programs wrote (h, dz), read through L2."""
    return sum(
        count * sass.access_bytes(opcode)
        for opcode, count in counts.by_opcode("LDG").items()
        if "STRONG" in opcode.split(".")
    )


@dataclass(frozen=True)
class RecurrenceCost:
    """One step of one recurrence (forward or backward) on one schedule. per_warp: what one warp
    issues; per_program: all its warps; per_step alone: the whole grid."""

    kernel: str
    grid: tuple[int, int, int]
    num_warps: int
    programs: int
    sms_used: int
    waves: int
    launches_per_step: float
    grid_barriers_per_step: int
    cta_barriers_per_step: float  # BAR.SYNC per warp
    global_atomics_per_step: float
    mma_kind: str
    mma_shape: str
    mma_per_warp: float
    mma_issued_per_program: float
    mma_issued: float
    mma_minimum: int
    mma_minimum_formula: str
    mma_ratio: float
    mma_chain: int
    ldsm_per_warp: float
    lds_per_warp: float
    sts_per_warp: float
    stsm_per_warp: float
    shared_bytes_per_program: float  # LDS/STS/LDSM/STSM, cp.async writes and wgmma reads
    ldg_per_warp: dict[str, float]
    ldg_bytes_per_program: float
    ldg_bytes_per_step: float  # read each step, through L2: W where not resident, P, c, h
    ldg_coherent_bytes_per_step: float  # of those, .STRONG.GPU: what other programs just wrote
    ldgsts_bytes_per_step: float  # cp.async global -> shared, each step
    global_load_bytes_per_step: float  # LDG + LDGSTS
    stg_bytes_per_step: float
    loaded_once_bytes_per_program: float  # before the time loop: kept on chip for the launch
    registers: int
    spill_bytes: int  # per thread (cuobjdump's STACK)
    local_accesses_per_step: float  # LDL + STL per warp
    shared_bytes: int  # shared memory a program of the launch holds
    tensor_us: float
    l2_us: float
    shared_us: float
    fixed_us: float  # launches and grid barriers
    critical_l2_round_trips: int
    latency_us: float
    us_per_step: float
    us_per_step_graphed: float  # the same with its launches replayed from a CUDA graph


def recurrence_cost(
    launches: list[Launch], product: Product, shape: Shape, gpu: GPU, floors: Floors
) -> RecurrenceCost:
    """Compile the launch that runs the recurrence's steady steps (the persistent kernel, else
    the step kernel's most launched variant) and price one step of it."""
    persistent = [launch for launch in launches if launch.cooperative]
    launch = persistent[0] if persistent else most_launched(launches)
    compiled = compile_launch(launch, gpu)
    cubin = compiled.asm["cubin"]
    instructions, loops = sass.disassemble(cubin)
    region = sass.time_loop(instructions, loops) if launch.cooperative else None
    step = sass.one_step(instructions, loops, region, product.depth)
    counts = sass.tally(instructions, step.weights)
    before = region.first if region is not None else 0
    loaded_once = sass.tally(instructions, [float(i < before) for i in range(len(instructions))])
    usage = sass.resources(cubin)
    warps, programs, sms = compiled.metadata.num_warps, launch.programs, gpu.multi_processor_count

    tensor = tensor_work(counts, warps, product, shape, sms, floors)
    # wgmma accumulates in place at its issue rate: its chains cost no latency of their own here.
    link = floors.hmma_latency_cycles if tensor.kind.startswith("HMMA.") else 0.0
    tensor_us = max(tensor.issue_cycles, step.chain * link) / floors.clock_hz * 1e6
    global_bytes = counts.moved("LDG", "LDGSTS", "STG") * warps
    l2_us = global_bytes / (floors.l2_bytes_per_s / sms) * 1e6
    shared_moved = counts.moved("LDS", "STS", "LDSM", "STSM", "LDGSTS") * warps
    shared_moved += counts.wgmma_shared_bytes * warps
    shared_us = shared_moved / (floors.shared_bytes_per_clock * floors.clock_hz) * 1e6
    launches_per_step = len(launches) / shape.steps
    barrier_us = step.spin_loops * floors.barrier_us
    round_trips = floors.critical_l2_round_trips
    if launch.cooperative:
        round_trips = max(round_trips, step.load_rounds)
    latency_us = round_trips * floors.l2_latency_us
    waves = math.ceil(programs / sms)
    work_us = latency_us + waves * max(tensor_us, l2_us, shared_us)
    grid = warps * programs
    return RecurrenceCost(
        kernel=launch.kernel.__name__,
        grid=launch.grid,
        num_warps=warps,
        programs=programs,
        sms_used=min(programs, sms),
        waves=waves,
        launches_per_step=launches_per_step,
        grid_barriers_per_step=step.spin_loops,
        cta_barriers_per_step=counts.issued("BAR"),
        global_atomics_per_step=counts.issued("ATOMG", "ATOM", "REDG", "RED") * grid,
        mma_kind=tensor.kind,
        mma_shape="m{}n{}k{}".format(*tensor.shape),
        mma_per_warp=tensor.per_warp,
        mma_issued_per_program=tensor.per_program,
        mma_issued=tensor.per_program * programs,
        mma_minimum=tensor.minimum,
        mma_minimum_formula=tensor.formula,
        mma_ratio=tensor.per_program * programs / tensor.minimum,
        mma_chain=step.chain,
        ldsm_per_warp=counts.issued("LDSM"),
        lds_per_warp=counts.issued("LDS"),
        sts_per_warp=counts.issued("STS"),
        stsm_per_warp=counts.issued("STSM"),
        shared_bytes_per_program=shared_moved,
        ldg_per_warp=counts.by_opcode("LDG"),
        ldg_bytes_per_program=counts.moved("LDG") * warps,
        ldg_bytes_per_step=counts.moved("LDG") * grid,
        ldg_coherent_bytes_per_step=_coherent_bytes(counts) * grid,
        ldgsts_bytes_per_step=counts.moved("LDGSTS") * grid,
        global_load_bytes_per_step=counts.moved("LDG", "LDGSTS") * grid,
        stg_bytes_per_step=counts.moved("STG") * grid,
        loaded_once_bytes_per_program=loaded_once.moved("LDG", "LDGSTS") * warps,
        registers=usage.registers,
        spill_bytes=usage.stack_bytes,
        local_accesses_per_step=counts.issued("LDL", "STL"),
        shared_bytes=compiled.metadata.shared,
        tensor_us=tensor_us,
        l2_us=l2_us,
        shared_us=shared_us,
        fixed_us=launches_per_step * floors.launch_us + barrier_us,
        critical_l2_round_trips=round_trips,
        latency_us=latency_us,
        us_per_step=launches_per_step * floors.launch_us + barrier_us + work_us,
        us_per_step_graphed=launches_per_step * floors.graph_node_us + barrier_us + work_us,
    )


def gemm_us_per_step(shape: Shape, floors: Floors) -> tuple[float, float]:
    """(projection, gradient GEMMs) a step: x W_ih^T; dx, dW_ih and dW_hh, from their FLOPs at
    cublas_fraction of the dense peak (tf32: half of fp16's)."""
    B, H, I, D = shape.batch, shape.hidden, shape.input_size, shape.directions
    peak = floors.dense_fp16_tflops * 1e12 / (2 if shape.dtype_name == "tf32" else 1)
    per_us = peak * floors.cublas_fraction / 1e6
    return 2 * B * I * 4 * H * D / per_us, 2 * B * 4 * H * D * (2 * I + H) / per_us


REQUIRED = (
    "schedule",
    "forward_us_per_step",
    "backward_us_per_step",
    "mma_issued",
    "mma_minimum",
    "spill_bytes",
    "shared_bytes",
)
"""Fields every row carries (None where the schedule does not fit)."""


def _misfit(name: str, shape: Shape, gpu: GPU) -> str | None:
    if name == "stepwise":  # any shape (schedule.py)
        return None
    with schedule.planning_for(gpu):
        return schedule.misfit(name, shape.batch, shape.hidden, shape.directions, shape.dtype, META)


def _auto_pick(shape: Shape, gpu: GPU) -> str:
    with schedule.restored(), schedule.planning_for(gpu):
        schedule.use("auto")
        return schedule.pick(shape.batch, shape.hidden, shape.directions, shape.dtype, META)


def schedule_costs(shape: Shape, gpu: GPU = H200, floors: Floors | None = None) -> list[dict]:
    """One row per schedule (SCHEDULES): the forward and backward costs of a step, or why the
    schedule does not fit the shape."""
    floors = floors or Floors()
    picked = _auto_pick(shape, gpu)
    projection_us, gradients_us = gemm_us_per_step(shape, floors)
    rows = []
    for name in SCHEDULES:
        why = _misfit(name, shape, gpu)
        row: dict[str, Any] = {
            "schedule": name,
            "estimate": ESTIMATE,
            "gpu": f"{gpu.name} (sm_{gpu.capability}, {gpu.multi_processor_count} SMs)",
            **shape._asdict(),
            "picked_by_auto": name == picked,
            "misfit": why,
        }
        if why:
            rows.append({**row, **dict.fromkeys(REQUIRED[1:])})
            continue
        launched = dict(zip(("forward", "backward"), layer_launches(name, shape, gpu), strict=True))
        cost = {
            direction: recurrence_cost(launched[direction], product, shape, gpu, floors)
            for direction, product in products(shape).items()
        }
        forward, backward = cost["forward"], cost["backward"]
        rows.append(
            {
                **row,
                "forward_us_per_step": forward.us_per_step + projection_us,
                "backward_us_per_step": backward.us_per_step + gradients_us,
                "forward_recurrence_us_per_step": forward.us_per_step,
                "backward_recurrence_us_per_step": backward.us_per_step,
                "projection_us_per_step": projection_us,
                "gradient_gemms_us_per_step": gradients_us,
                "mma_issued": forward.mma_issued + backward.mma_issued,
                "mma_minimum": forward.mma_minimum + backward.mma_minimum,
                "spill_bytes": max(forward.spill_bytes, backward.spill_bytes),
                "shared_bytes": max(forward.shared_bytes, backward.shared_bytes),
                "forward": asdict(forward),
                "backward": asdict(backward),
                "floors": asdict(floors),
            }
        )
    return rows


def _pair(row: dict, field: str, form: str = "{:.0f}") -> str:
    """forward / backward values of a per-recurrence field."""
    return " / ".join(form.format(row[direction][field]) for direction in ("forward", "backward"))


COLUMNS = (
    "schedule",
    "fwd us/step",
    "bwd us/step",
    "fwd MMA issued/min",
    "bwd MMA issued/min",
    "MMA",
    "spill B",
    "shared B",
    "LDG B/step",
    "LDG+LDGSTS B/step",
    "programs",
    "launches/step",
    "grid barriers/step",
)


def markdown(rows: list[dict]) -> str:
    """The rows as a markdown table (forward / backward where a cell has two values) under the
    estimate's caveat, with each misfit's reason below it."""
    first = rows[0]
    lines = [
        f"B {first['batch']}, T {first['steps']}, H {first['hidden']}, I {first['input_size']}, "
        f"D {first['directions']}, {first['dtype_name']} on {first['gpu']}: {ESTIMATE}. The us a "
        "step include the projection's (forward) and the gradient GEMMs' (backward) share.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|---" * len(COLUMNS) + "|",
    ]
    notes = []
    for row in rows:
        name = row["schedule"] + (" (auto)" if row["picked_by_auto"] else "")
        if row["misfit"]:
            lines.append(f"| {name} | does not fit |" + " |" * (len(COLUMNS) - 2))
            notes.append(f"- {row['schedule']} does not fit: {row['misfit']}")
            continue
        mma = [
            f"{row[d]['mma_issued']:.0f}/{row[d]['mma_minimum']} ({row[d]['mma_ratio']:.2f}x)"
            for d in ("forward", "backward")
        ]
        cells = [
            name,
            f"{row['forward_us_per_step']:.2f}",
            f"{row['backward_us_per_step']:.2f}",
            *mma,
            " / ".join(
                dict.fromkeys(
                    f"{row[d]['mma_kind'].split('.')[0]} {row[d]['mma_shape']}"
                    for d in ("forward", "backward")
                )
            ),
            _pair(row, "spill_bytes"),
            _pair(row, "shared_bytes"),
            _pair(row, "ldg_bytes_per_step"),
            _pair(row, "global_load_bytes_per_step"),
            _pair(row, "programs"),
            _pair(row, "launches_per_step", "{:.3g}"),
            _pair(row, "grid_barriers_per_step"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", *notes])

"""Which schedule runs the recurrences, chosen per call by shape, dtype and device.

    stepwise    one launch per step: any shape, any device, the CPU interpreter.
    persistent  the steps that read the initial state (or the final gradients) in their own
                launches, every other step in one launch that loops over them with a grid
                barrier per step: no launch gaps, but every program of the grid must be
                resident at once, so at most one program per SM (on the CPU interpreter, which
                runs programs one by one, one program per direction). Each step reads its slice
                of W again, from L2.
    resident    persistent, with each program's slice of W (4 x H x 16 units) loaded once into
                shared memory before the loop over steps. On the GPU only for fp16/bf16 and
                H <= 1024: there the sm_90 compile of both kernels (every cell option) uses no
                local memory and at most 160 KiB of shared memory a program, while fp32
                operands spill registers (tests/kernels/compile_for_gpu.py --resident).
    auto        resident where it fits, else persistent where it fits, else stepwise.

The choice is LSTM_TRITON_RECURRENCE (default stepwise until the GPU benchmark has compared
them), or use("resident"): process-wide state, like torch.backends' switches, set it before
the threads that run models start. `launched` counts the recurrences each schedule was picked
for (see pick).
"""

import contextlib
import os
from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple

import torch
import triton

from lstm_triton.kernels.contract import Cell, dot_precision
from lstm_triton.kernels.launch import INTERPRETED, block_sizes, cell_constexprs

RECURRENCES = ("stepwise", "persistent", "resident", "auto")
ENVIRONMENT_VARIABLE = "LSTM_TRITON_RECURRENCE"

launched: Counter[str] = Counter()
_chosen: str | None = None


def _checked(name: str, source: str) -> str:
    if name not in RECURRENCES:
        raise ValueError(f"{source}: expected one of {', '.join(RECURRENCES)}, got {name!r}")
    return name


def use(name: str | None) -> None:
    """Runs every later recurrence, forward and backward, on schedule `name`, process-wide
    (a global, like torch.backends' switches, so that backwards that autograd runs on its own
    threads follow it too); None goes back to LSTM_TRITON_RECURRENCE."""
    global _chosen
    _chosen = None if name is None else _checked(name, "use")


@contextlib.contextmanager
def restored() -> Iterator[None]:
    """Puts back, on leaving, the choice use() had made on entering."""
    saved = _chosen
    try:
        yield
    finally:
        use(saved)


def requested() -> str:
    if _chosen is not None:
        return _chosen
    return _checked(os.environ.get(ENVIRONMENT_VARIABLE, "stepwise"), ENVIRONMENT_VARIABLE)


class Tiling(NamedTuple):
    block_b: int
    block_h: int
    block_k: int
    num_warps: int


RESIDENT_DTYPES = (torch.float16, torch.bfloat16)
RESIDENT_MAX_HIDDEN = 1024


def tiling(name: str, batch: int, hidden: int) -> Tiling:
    """The tiles of schedule `name`. In the interpreter the persistent ones take one tile over
    the whole batch and hidden size, so that each barrier group has a single program. resident
    takes all of K (>= H) in one tile, with 16 rows and units (the least tl.dot takes) to keep
    W's slice small, and 8 warps past K = 512, where 4 would spill registers."""
    if name == "stepwise":
        return Tiling(*block_sizes(batch, hidden), num_warps=4)
    block_k = max(16, triton.next_power_of_2(hidden))
    if INTERPRETED:
        block_b = max(16, triton.next_power_of_2(batch))
        return Tiling(block_b, block_k, block_k if name == "resident" else min(block_k, 32), 4)
    if name == "persistent":
        return Tiling(*block_sizes(batch, hidden), num_warps=4)
    return Tiling(16, 16, block_k, 8 if block_k > 512 else 4)


def misfit(
    name: str, batch: int, hidden: int, directions: int, dtype: torch.dtype, device: torch.device
) -> str | None:
    """None when the persistent schedule `name` (persistent or resident) can run a recurrence of
    this shape, else why not."""
    if name == "resident" and not INTERPRETED:
        if dtype not in RESIDENT_DTYPES:
            return f"W stays on chip for fp16 and bf16 only (wider operands spill), got {dtype}"
        if hidden > RESIDENT_MAX_HIDDEN:
            return f"W stays on chip up to hidden size {RESIDENT_MAX_HIDDEN}, got {hidden}"
    tiles = tiling(name, batch, hidden)
    per_direction = triton.cdiv(batch, tiles.block_b) * triton.cdiv(hidden, tiles.block_h)
    if INTERPRETED:
        limit, programs, unit = 1, per_direction, "programs a direction, the interpreter runs 1"
    else:
        limit = torch.cuda.get_device_properties(device).multi_processor_count
        programs, unit = per_direction * directions, f"programs for {limit} SMs"
    if programs <= limit:
        return None
    return f"batch {batch}, hidden {hidden}, {directions} direction(s) make {programs} {unit}"


def pick(batch: int, hidden: int, directions: int, dtype: torch.dtype, device: torch.device) -> str:
    """The schedule of one recurrence, counted in `launched`. The launchers ask only when the
    persistent kernel has steps to take (T > 1 forward, T > 2 backward); shorter ones run
    stepwise, uncounted."""
    name = requested()
    if name == "auto":
        fitting = [
            candidate
            for candidate in ("resident", "persistent")
            if misfit(candidate, batch, hidden, directions, dtype, device) is None
        ]
        name = fitting[0] if fitting else "stepwise"
    elif name != "stepwise":
        why = misfit(name, batch, hidden, directions, dtype, device)
        if why:
            source = "use()" if _chosen is not None else ENVIRONMENT_VARIABLE
            raise ValueError(
                f"the {name} recurrence ({source}) does not fit: {why}; choose auto (falls "
                "back to what fits) or stepwise"
            )
    launched[name] += 1
    return name


class LaunchPlan(NamedTuple):
    persistent: bool
    resident_w: bool
    grid: tuple[int, int, int]
    shared: dict  # the scalar, constexpr and launch arguments of both kernels of a recurrence


def plan(
    gates: torch.Tensor,
    hidden: int,
    *,
    persistent_steps: int,
    has_state: bool,
    has_lengths: bool,
    cell: Cell,
) -> LaunchPlan:
    """The schedule (a persistent one only where the persistent kernel has steps to take), the
    grid and the non-tensor arguments of a recurrence over gates (T, B, D*4H)."""
    T, B, DG = gates.shape
    D = DG // (4 * hidden)
    name = "stepwise"
    if persistent_steps > 0:
        name = pick(B, hidden, D, gates.dtype, gates.device)
    tiles = tiling(name, B, hidden)
    shared = dict(
        T=T,
        B=B,
        H=hidden,
        D=D,
        HAS_STATE=has_state,
        HAS_LENGTHS=has_lengths,
        **cell_constexprs(cell),
        DOT_PRECISION=dot_precision(gates.dtype),
        BLOCK_B=tiles.block_b,
        BLOCK_H=tiles.block_h,
        BLOCK_K=tiles.block_k,
        num_warps=tiles.num_warps,
    )
    grid = (triton.cdiv(B, tiles.block_b), triton.cdiv(hidden, tiles.block_h), D)
    return LaunchPlan(name != "stepwise", name == "resident", grid, shared)


def barrier_counters(grid: tuple[int, int, int], device: torch.device) -> torch.Tensor:
    """Zeroed counters of a persistent launch, one per barrier group: (direction, batch block)."""
    return torch.zeros(grid[0] * grid[2], dtype=torch.int32, device=device)

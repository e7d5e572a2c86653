"""Which schedule runs the recurrences, chosen per call by shape and device.

    stepwise    one launch per step: any shape, any device, the CPU interpreter.
    persistent  the steps that read the initial state (or the final gradients) in their own
                launches, every other step in one launch that loops over them with a grid
                barrier per step: no launch gaps, but every program of the grid must be
                resident at once, so at most one program per SM (on the CPU interpreter, which
                runs programs one by one, one program per direction).
    auto        persistent where the grid fits, else stepwise.

The choice is LSTM_TRITON_RECURRENCE (default stepwise until the GPU benchmark has compared
the two), or use("persistent"): process-wide state, like torch.backends' switches, set it
before the threads that run models start. `launched` counts the recurrences each schedule was
picked for (see pick).
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

RECURRENCES = ("stepwise", "persistent", "auto")
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


def persistent_blocks(batch: int, hidden: int) -> tuple[int, int, int]:
    """Tiles of the persistent kernel: the step kernel's, or in the interpreter one tile over
    the whole batch and hidden size, so that each barrier group has a single program."""
    if not INTERPRETED:
        return block_sizes(batch, hidden)
    block_h = max(16, triton.next_power_of_2(hidden))
    return max(16, triton.next_power_of_2(batch)), block_h, min(block_h, 32)


def persistent_fits(batch: int, hidden: int, directions: int, device: torch.device) -> str | None:
    """None when the persistent kernel's grid can be resident at once, else why not."""
    block_b, block_h, _ = persistent_blocks(batch, hidden)
    per_direction = triton.cdiv(batch, block_b) * triton.cdiv(hidden, block_h)
    if INTERPRETED:
        limit, programs, unit = 1, per_direction, "programs a direction, the interpreter runs 1"
    else:
        limit = torch.cuda.get_device_properties(device).multi_processor_count
        programs, unit = per_direction * directions, f"programs for {limit} SMs"
    if programs <= limit:
        return None
    return f"batch {batch}, hidden {hidden}, {directions} direction(s) make {programs} {unit}"


def pick(batch: int, hidden: int, directions: int, device: torch.device) -> str:
    """The schedule of one recurrence, counted in `launched`. The launchers ask only when the
    persistent kernel has steps to take (T > 1 forward, T > 2 backward); shorter ones run
    stepwise, uncounted."""
    name = requested()
    if name != "stepwise":
        misfit = persistent_fits(batch, hidden, directions, device)
        if name == "persistent" and misfit:
            source = "use()" if _chosen is not None else ENVIRONMENT_VARIABLE
            raise ValueError(
                f"the persistent recurrence ({source}) needs every program resident at once: "
                f"{misfit}; choose auto (falls back to stepwise where it does not fit) or "
                "stepwise"
            )
        name = "stepwise" if misfit else "persistent"
    launched[name] += 1
    return name


class LaunchPlan(NamedTuple):
    persistent: bool
    grid: tuple[int, int, int]
    shared: dict  # the scalar and constexpr arguments of both kernels of a recurrence


def plan(
    gates: torch.Tensor,
    hidden: int,
    *,
    persistent_steps: int,
    has_state: bool,
    has_lengths: bool,
    cell: Cell,
) -> LaunchPlan:
    """The schedule (persistent only where the persistent kernel has steps to take), the grid
    and the non-tensor arguments of a recurrence over gates (T, B, D*4H)."""
    T, B, DG = gates.shape
    D = DG // (4 * hidden)
    persistent = persistent_steps > 0 and pick(B, hidden, D, gates.device) == "persistent"
    block_b, block_h, block_k = (persistent_blocks if persistent else block_sizes)(B, hidden)
    shared = dict(
        T=T,
        B=B,
        H=hidden,
        D=D,
        HAS_STATE=has_state,
        HAS_LENGTHS=has_lengths,
        **cell_constexprs(cell),
        DOT_PRECISION=dot_precision(gates.dtype),
        BLOCK_B=block_b,
        BLOCK_H=block_h,
        BLOCK_K=block_k,
    )
    grid = (triton.cdiv(B, block_b), triton.cdiv(hidden, block_h), D)
    return LaunchPlan(persistent, grid, shared)


def barrier_counters(grid: tuple[int, int, int], device: torch.device) -> torch.Tensor:
    """Zeroed counters of a persistent launch, one per barrier group: (direction, batch block)."""
    return torch.zeros(grid[0] * grid[2], dtype=torch.int32, device=device)

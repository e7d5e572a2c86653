"""Which schedule runs the forward recurrence, chosen per call by shape and device.

    stepwise    one launch per step: any shape, any device, the CPU interpreter.
    persistent  step 0's launch, then one launch that loops over steps 1..T-1 with a grid
                barrier per step (lstm_forward): no launch gaps, but every program of the grid
                must be resident at once, so at most one program per SM (on the CPU
                interpreter, which runs programs one by one, one program per direction).
    auto        persistent where the grid fits, else stepwise.

The choice is LSTM_TRITON_RECURRENCE (default stepwise until the GPU benchmark has compared
the two), or `with recurrence("persistent"):` around the calls. `launched` counts which ran.
"""

import contextlib
import contextvars
import os
from collections import Counter
from collections.abc import Iterator

import torch
import triton

from lstm_triton.kernels.launch import INTERPRETED, block_sizes

RECURRENCES = ("stepwise", "persistent", "auto")
ENVIRONMENT_VARIABLE = "LSTM_TRITON_RECURRENCE"

launched: Counter[str] = Counter()
_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("recurrence", default=None)


def _checked(name: str, source: str) -> str:
    if name not in RECURRENCES:
        raise ValueError(f"{source}: expected one of {', '.join(RECURRENCES)}, got {name!r}")
    return name


@contextlib.contextmanager
def recurrence(name: str) -> Iterator[None]:
    """Runs the forward recurrences inside on schedule `name` (see the module docstring)."""
    token = _chosen.set(_checked(name, "recurrence"))
    try:
        yield
    finally:
        _chosen.reset(token)


def requested() -> str:
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    return _checked(os.environ.get(ENVIRONMENT_VARIABLE, "stepwise"), ENVIRONMENT_VARIABLE)


def persistent_blocks(batch: int, hidden: int) -> tuple[int, int, int]:
    """Tiles of the persistent kernel: the step kernel's, or in the interpreter one tile over
    the whole batch and hidden size, so that each direction has a single program."""
    if not INTERPRETED:
        return block_sizes(batch, hidden)
    block_h = max(16, triton.next_power_of_2(hidden))
    return max(16, triton.next_power_of_2(batch)), block_h, min(block_h, 32)


def persistent_fits(batch: int, hidden: int, directions: int, device: torch.device) -> str | None:
    """None when the persistent kernel's grid can be resident at once, else why not."""
    block_b, block_h, _ = persistent_blocks(batch, hidden)
    per_direction = triton.cdiv(batch, block_b) * triton.cdiv(hidden, block_h)
    if INTERPRETED:
        limit, programs, unit = 1, per_direction, "programs per direction, the interpreter runs 1"
    else:
        limit = torch.cuda.get_device_properties(device).multi_processor_count
        programs, unit = per_direction * directions, f"programs for {limit} SMs"
    if programs <= limit:
        return None
    return f"batch {batch}, hidden {hidden}, {directions} direction(s) make {programs} {unit}"


def pick(batch: int, hidden: int, directions: int, device: torch.device) -> str:
    """The schedule of one forward recurrence; counted in `launched`."""
    name = requested()
    if name != "stepwise":
        misfit = persistent_fits(batch, hidden, directions, device)
        if name == "persistent" and misfit:
            raise ValueError(
                f"the persistent recurrence needs every program resident at once: {misfit}; "
                f"use {ENVIRONMENT_VARIABLE}=auto (falls back to stepwise) or stepwise"
            )
        name = "stepwise" if misfit else "persistent"
    launched[name] += 1
    return name

"""Which schedule runs the recurrences, chosen per call by shape, dtype and device.

    stepwise    one launch per step: any shape, any device, the CPU interpreter.
    persistent  the steps that read the initial state (or the final gradients) in their own
                launches, every other step in one launch that loops over them with a grid
                barrier per step: no launch gaps, but every program of the grid must be
                resident at once, so at most one program per SM (on the CPU interpreter, which
                runs programs one by one, one program per direction). Each step reads the
                program's slice of W again, from L2.
    resident    persistent, with the program's slice of W (the four gates' tiles of 16 units
                over all of K) loaded into shared memory once, before the loop over steps. The
                forward's product takes W as the left operand, a wgmma's M on sm_90, on one
                warpgroup; the backward's is split along K over the warps (tiles.split_k). On
                the GPU for fp16/bf16 and hidden sizes that are multiples of 16 up to 1024,
                where the sm_90 compile of both kernels uses no local memory, and shared memory
                within resident_shared_bytes (tests/kernels/compile_for_gpu.py checks both);
                fp32 weights spilled registers when tried (968 bytes of stack in the forward at
                H = 512, 8 warps), and so did hidden sizes off the multiples of 16 (H = 1000).
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
from typing import Any, NamedTuple

import torch
import triton

from lstm_triton.kernels.barrier import COUNTER_STRIDE
from lstm_triton.kernels.contract import Cell, dot_precision
from lstm_triton.kernels.launch import INTERPRETED, block_sizes, cell_constexprs

RECURRENCES = ("stepwise", "persistent", "resident", "auto")
ENVIRONMENT_VARIABLE = "LSTM_TRITON_RECURRENCE"

launched: Counter[str] = Counter()
_chosen: str | None = None
_straggler_spins = 0
_planned_gpu: Any = None


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


@contextlib.contextmanager
def straggling(spins: int) -> Iterator[None]:
    """Test-only: within it, each barrier group's last program of the persistent launches
    waits `spins` L2 round trips after every barrier (barrier.straggle), so that a barrier that
    does not hold shows up as wrong results. Process-wide, like use()."""
    global _straggler_spins
    if not isinstance(spins, int) or spins < 0:
        raise ValueError(f"straggling: expected a number of spins >= 0, got {spins!r}")
    saved, _straggler_spins = _straggler_spins, spins
    try:
        yield
    finally:
        _straggler_spins = saved


@contextlib.contextmanager
def planning_for(properties: Any) -> Iterator[None]:
    """Within it, misfit holds grids and shared memory against `properties` (anything with
    torch's multi_processor_count and shared_memory_per_block_optin) instead of the tensors'
    device: the cost model (lstm_triton/bench/cost.py) plans a named GPU's launches on meta
    tensors, where there is no GPU. Process-wide, like use()."""
    global _planned_gpu
    saved, _planned_gpu = _planned_gpu, properties
    try:
        yield
    finally:
        _planned_gpu = saved


def requested() -> str:
    if _chosen is not None:
        return _chosen
    return _checked(os.environ.get(ENVIRONMENT_VARIABLE, "stepwise"), ENVIRONMENT_VARIABLE)


class Tiling(NamedTuple):
    block_b: int
    block_h: int
    block_k: int  # the persistent kernel's; the step kernel's launches take min(block_k, block_h)
    num_warps: int  # the backward persistent kernel's
    # resident: the K tile past block_k, 0 or a power of two; block_k + block_k_tail >= H.
    block_k_tail: int = 0
    # The forward persistent kernel's: resident, one warpgroup, whose wgmma takes W's 64 rows as
    # its M; a second one would split the batch columns and read W from shared memory twice.
    forward_warps: int = 4
    # resident, the forward's K: forward_k_tiles tiles of forward_block_k
    # (resident_forward_k_tiles).
    forward_block_k: int = 0
    forward_k_tiles: int = 0


RESIDENT_DTYPES = (torch.float16, torch.bfloat16)
RESIDENT_MAX_HIDDEN = 1024


def resident_k_tiles(hidden: int) -> tuple[int, int]:
    """All of K (= H) in two power-of-two tiles, the largest that fits in H first, so that
    K = 768 pads to 512 + 256, not to 1024; tl.dot takes K >= 16."""
    block_k = max(16, 1 << (hidden.bit_length() - 1))
    rest = hidden - block_k
    return block_k, 0 if rest <= 0 else max(16, triton.next_power_of_2(rest))


# The forward's resident K tile, at most. Each tile's h_prev is one more L2 round trip after the
# barrier (cost.py counts them), so the larger the better; Triton 3.6 spilled with tiles of 256
# (24 to 176 bytes of stack at H = 768 and 1024, inside the loop over steps), 3.9 does not.
FORWARD_K_TILE_MOST = 256 if tuple(map(int, triton.__version__.split(".")[:2])) >= (3, 9) else 128


def resident_forward_k_tiles(hidden: int) -> tuple[int, int]:
    """The forward's K (= H) in equal power-of-two tiles of at most FORWARD_K_TILE_MOST, loaded
    one by one (tiles.resident_forward_weights). -> (tile, count)."""
    tile = min(FORWARD_K_TILE_MOST, max(16, triton.next_power_of_2(hidden)))
    return tile, triton.cdiv(hidden, tile)


def tiling(name: str, batch: int, hidden: int) -> Tiling:
    """The tiles of schedule `name`. In the interpreter the persistent ones take one tile over
    the whole batch and hidden size, so that each barrier group has a single program. resident
    takes all of K in resident_k_tiles, with 16 rows and units (the least tl.dot takes) to keep
    W's slice small, on 8 warps past K = 512 (the backward splits K over them, k_split, to keep
    each warp's chain of tensor-core instructions short)."""
    if name == "stepwise" or (name == "persistent" and not INTERPRETED):
        return Tiling(*block_sizes(batch, hidden), num_warps=4)
    if name not in ("persistent", "resident"):
        raise ValueError(f"tiling: expected stepwise, persistent or resident, got {name!r}")
    block_k, tail = resident_k_tiles(hidden)
    forward_k = resident_forward_k_tiles(hidden)
    if INTERPRETED:
        block_b = max(16, triton.next_power_of_2(batch))
        block_h = max(16, triton.next_power_of_2(hidden))
        if name == "persistent":
            return Tiling(block_b, block_h, min(block_h, 32), 4)
        return Tiling(block_b, block_h, block_k, 4, tail, 4, *forward_k)
    return Tiling(16, 16, block_k, 8 if block_k + tail > 512 else 4, tail, 4, *forward_k)


def k_split(block_k: int, num_warps: int) -> int:
    """The parts of a backward resident K tile, one batched product each (tiles.split_k): its
    16 columns in one part a warp keep each warp's four chains short. In the interpreter 4 at
    most, as on 4 warps. tl.dot takes K >= 16 a part. (The forward takes its tile whole:
    W as the left operand fills a warpgroup's wgmma.)"""
    most = 4 if INTERPRETED else num_warps
    return max(1, min(most, block_k // 16))


def resident_shared_bytes(tiles: Tiling, dtype: torch.dtype) -> int:
    """Shared memory of the resident kernels a program, at most, the larger kernel's. Forward:
    W's rows, a tile of h, and the fp32 product for its transpose. Backward: W's four tiles,
    two tiles of dz (it loads the next gate's while the tensor cores take one), and an fp32
    output tile of scratch for layout conversions (what small H needs on top)."""
    rows = 4 * tiles.block_h
    forward_k = tiles.forward_block_k * tiles.forward_k_tiles
    forward = (rows + tiles.block_b) * forward_k * dtype.itemsize + rows * tiles.block_b * 4
    backward_k = tiles.block_k + tiles.block_k_tail
    backward = (rows + 2 * tiles.block_b) * backward_k * dtype.itemsize
    return max(forward, backward + tiles.block_b * tiles.block_h * 4)


def misfit(
    name: str, batch: int, hidden: int, directions: int, dtype: torch.dtype, device: torch.device
) -> str | None:
    """None when the persistent schedule `name` (persistent or resident) can run a recurrence of
    this shape, else why not."""
    if name == "resident" and not INTERPRETED:
        if dtype not in RESIDENT_DTYPES:
            return f"W stays on chip for fp16 and bf16 only (wider operands spill), got {dtype}"
        if hidden % 16 or hidden > RESIDENT_MAX_HIDDEN:
            return (
                f"W stays on chip for hidden sizes that are multiples of 16 up to "
                f"{RESIDENT_MAX_HIDDEN} (others spill), got {hidden}"
            )
    tiles = tiling(name, batch, hidden)
    per_direction = triton.cdiv(batch, tiles.block_b) * triton.cdiv(hidden, tiles.block_h)
    size = f"{tiles.block_b} x {tiles.block_h} tiles"
    if INTERPRETED:
        if per_direction <= 1:
            return None
        return (
            f"batch {batch}, hidden {hidden} make {per_direction} {size} a direction, the "
            "interpreter runs 1"
        )
    properties = _planned_gpu or torch.cuda.get_device_properties(device)
    programs, limit = per_direction * directions, properties.multi_processor_count
    if programs > limit:
        return (
            f"batch {batch}, hidden {hidden}, {directions} direction(s) make {programs} {size} "
            f"for {limit} SMs"
        )
    if name == "resident":
        needed, available = (
            resident_shared_bytes(tiles, dtype),
            properties.shared_memory_per_block_optin,
        )
        if needed > available:
            return f"W's slice and h take {needed} bytes of shared memory, the GPU has {available}"
    return None


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
    grid: tuple[int, int, int]
    shared: dict  # the scalar and constexpr arguments of both kernels of a recurrence
    step: dict  # the step kernel's own: its K chunk
    loop: dict  # the persistent kernel's: K tiles and splits, RESIDENT_W, STRAGGLER_SPINS, warps


def step_constexprs(tiles: Tiling, backward: bool) -> dict:
    """The step kernel's own constexprs: its K chunk. Its launches stream W in chunks whatever
    the schedule: all of K in one tile, double-buffered, would overflow shared memory there."""
    block_k = min(tiles.block_k, tiles.block_h)
    if backward:
        return dict(BLOCK_K=block_k, BLOCK_K_TAIL=0, K_SPLIT=1, TAIL_SPLIT=1)
    return dict(BLOCK_K=block_k, K_TILES=0)


def loop_constexprs(name: str, tiles: Tiling, backward: bool) -> dict:
    """The persistent kernel's constexprs under schedule `name` (persistent or resident), its
    num_warps among them: K tiles and splits, RESIDENT_W, STRAGGLER_SPINS."""
    loop = dict(RESIDENT_W=name == "resident", STRAGGLER_SPINS=_straggler_spins)
    if backward:
        return dict(
            **loop,
            BLOCK_K=tiles.block_k,
            K_SPLIT=k_split(tiles.block_k, tiles.num_warps),
            BLOCK_K_TAIL=tiles.block_k_tail,
            TAIL_SPLIT=k_split(tiles.block_k_tail, tiles.num_warps),
            num_warps=tiles.num_warps,
        )
    return dict(
        **loop,
        # resident: W's K tiles; persistent: the chunk it streams W in, as the step kernel
        BLOCK_K=tiles.forward_block_k if name == "resident" else tiles.block_k,
        K_TILES=tiles.forward_k_tiles,
        num_warps=tiles.forward_warps,
    )


def plan(
    gates: torch.Tensor,
    hidden: int,
    *,
    persistent_steps: int,
    has_state: bool,
    has_lengths: bool,
    has_resets: bool,
    cell: Cell,
    backward: bool,
) -> LaunchPlan:
    """The schedule (a persistent one only where the persistent kernel has steps to take), the
    grid and the non-tensor arguments of a recurrence over gates (T, B, D*4H), the forward's
    or (backward) the backward's."""
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
        HAS_RESETS=has_resets,
        **cell_constexprs(cell),
        DOT_PRECISION=dot_precision(gates.dtype),
        BLOCK_B=tiles.block_b,
        BLOCK_H=tiles.block_h,
    )
    step, loop = step_constexprs(tiles, backward), loop_constexprs(name, tiles, backward)
    grid = (triton.cdiv(B, tiles.block_b), triton.cdiv(hidden, tiles.block_h), D)
    return LaunchPlan(name != "stepwise", grid, shared, step, loop)


def barrier_counters(grid: tuple[int, int, int], device: torch.device) -> torch.Tensor:
    """Zeroed counters of a persistent launch, one per barrier group (direction, batch block),
    each on its own L2 line (barrier.group_counter)."""
    stride = COUNTER_STRIDE.value
    return torch.zeros(grid[0] * grid[2] * stride, dtype=torch.int32, device=device)

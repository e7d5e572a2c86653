"""The recurrence kernels' launches as the launchers make them, on a machine without the GPU they
are for: one layer's forward and backward run on meta tensors with every Triton launch recorded
instead of run (schedule.planning_for stands in for the GPU's properties), then each recorded
launch compiles for that GPU through Triton's own argument binding, so the constexprs, the
specialization of ints and pointers (divisibility by 16, ints equal to 1), num_warps and the
cooperative flag are the launch's. This leans on Triton 3.9's JITFunction internals (the binder
of create_function_from_signature and _pack_args): a Triton that renames them fails here, not
quietly elsewhere.
"""

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple
from unittest import mock

import torch
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource, make_backend
from triton.runtime.jit import JITFunction, create_function_from_signature

from lstm_triton.bench.case import DTYPES, float32_precision
from lstm_triton.kernels import schedule
from lstm_triton.kernels.launch import INTERPRETED
from lstm_triton.kernels.lstm_layer import lstm_layer_backward, lstm_layer_forward

WARP_SIZE = 32


@dataclass(frozen=True)
class GPU:
    """The properties a plan and a compile depend on, under torch's names (schedule.misfit
    reads multi_processor_count and shared_memory_per_block_optin)."""

    name: str
    capability: int
    multi_processor_count: int
    shared_memory_per_block_optin: int


H200 = GPU("NVIDIA H200", 90, 132, 227 * 1024)
"""NVIDIA's H200 SXM: sm_90, 132 SMs, 227 KB of shared memory a block on opt-in (CUDA
programming guide, compute capability 9.0)."""


class Launch(NamedTuple):
    kernel: JITFunction
    grid: tuple[int, int, int]
    arguments: dict[str, Any]  # every argument and launch option, by name

    @property
    def cooperative(self) -> bool:
        """A launch whose programs must all be resident at once: a persistent kernel's."""
        return bool(self.arguments.get("launch_cooperative_grid"))

    @property
    def programs(self) -> int:
        return self.grid[0] * self.grid[1] * self.grid[2]

    def variant(self) -> tuple:
        """What tells this launch's binary from the same kernel's others: its constexprs and
        launch options (tensors and runtime ints aside)."""
        constexprs = {param.name for param in self.kernel.params if param.is_constexpr}
        fixed = {
            name: value
            for name, value in self.arguments.items()
            if name in constexprs or name not in self.kernel.arg_names
        }
        return (self.kernel.__name__, tuple(sorted(fixed.items(), key=lambda item: item[0])))


@contextlib.contextmanager
def recorded() -> Iterator[list[Launch]]:
    """Within it, each Triton kernel launch is appended to the list it yields, not run."""
    launches: list[Launch] = []

    def record(kernel: JITFunction, *args, grid, warmup: bool, **kwargs) -> None:
        arguments = {**dict(zip(kernel.arg_names, args, strict=False)), **kwargs}
        if callable(grid):
            grid = grid(arguments)
        grid = (*grid, 1, 1)[:3]
        launches.append(Launch(kernel, grid, arguments))

    with mock.patch.object(JITFunction, "run", record):
        yield launches


class Shape(NamedTuple):
    batch: int
    steps: int
    hidden: int
    input_size: int
    directions: int
    dtype_name: str  # a bench.case.DTYPES name
    resets: bool = False  # with episode resets (one direction): the kernels' per-row mask

    @property
    def dtype(self) -> torch.dtype:
        return DTYPES[self.dtype_name]


def layer_launches(name: str, shape: Shape, gpu: GPU) -> tuple[list[Launch], list[Launch]]:
    """The launches of one layer's forward and backward (torch's cell, no initial state, full
    lengths, resets if the shape has them) on schedule `name` (schedule.RECURRENCES), planned
    for `gpu`."""
    if INTERPRETED:
        raise RuntimeError(
            "the kernels were imported for Triton's interpreter (TRITON_INTERPRET=1), which does "
            "not compile: run without it"
        )
    B, T, H, I, D = shape.batch, shape.steps, shape.hidden, shape.input_size, shape.directions

    def meta(*sizes: int) -> torch.Tensor:
        return torch.empty(sizes, dtype=shape.dtype, device="meta")

    x, w_ih, w_hh, bias = meta(T, B, I), meta(D, 4 * H, I), meta(D, 4 * H, H), meta(D, 4 * H)
    resets = torch.empty(T, B, dtype=torch.bool, device="meta") if shape.resets else None
    with schedule.restored(), schedule.planning_for(gpu), float32_precision(shape.dtype_name):
        schedule.use(name)
        with recorded() as forward:
            layer = lstm_layer_forward(
                x, w_ih, w_hh, bias, None, None, None, None, keep_cache=True, resets=resets
            )
        with recorded() as backward:
            lstm_layer_backward(
                meta(T, B, D * H),
                meta(D, B, H),
                meta(D, B, H),
                x,
                w_ih,
                w_hh,
                None,
                None,
                None,
                None,
                layer,
                needs_grad=(True, False, True, True, True, False, False),
                resets=resets,
            )
    return forward, backward


def most_launched(launches: list[Launch]) -> Launch:
    """The first launch of the variant launched most often (ties: the first seen)."""
    counts = Counter(launch.variant() for launch in launches)
    top = max(counts.values())
    return next(launch for launch in launches if counts[launch.variant()] == top)


def compile_launch(launch: Launch, gpu: GPU) -> Any:
    """The CompiledKernel the launch would load on `gpu`: bound and specialized as
    JITFunction.run binds and specializes it, compiled by triton.compile."""
    target = GPUTarget("cuda", gpu.capability, WARP_SIZE)
    backend = make_backend(target)
    kernel = launch.kernel
    binder = create_function_from_signature(kernel.signature, kernel.params, backend)
    bound, specialization, options = binder(**launch.arguments)
    options, signature, constexprs, attrs = kernel._pack_args(
        backend, launch.arguments, bound, specialization, options
    )
    source = ASTSource(kernel, signature, constexprs, attrs)
    return triton.compile(source, target=target, options=options.__dict__)

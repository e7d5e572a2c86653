"""What each mode times, and the timers: triton.testing.do_bench on CUDA, perf_counter on CPU.

forward           inference: the forward under torch.no_grad()
backward          the backward alone: one forward with autograd outside the timed region, then
                  torch.autograd.grad(y, [x, *weights], grad_y, retain_graph=True) is timed.
                  With retain_graph, torch's cuDNN backward clones its reserve space each call
                  (derivatives.yaml: `retain_variables ? result3.clone() : result3`), a copy of
                  the training cache that a single backward would not make.
forward+backward  a training step: forward, then torch.autograd.grad(y, ...)
Gradients are returned, never accumulated into .grad, so no call pays for a zeroing or an add.

Peak memory (CUDA): torch.cuda.max_memory_allocated during one call, minus what was allocated
just before it: what the call itself needs on top of the live inputs and weights (and, in
backward mode, the saved activations; forward+backward counts those).
CPU times are a wall clock's: those of torch's CPU modules are CPU numbers, those of the Triton
kernels (in the interpreter) only test the harness. Their rows say device=cpu and have no peak
memory.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from lstm_triton.bench.case import Case
from lstm_triton.bench.providers import Runner

MODES = ("forward", "backward", "forward+backward")
QUANTILES = (0.5, 0.2, 0.8)
CPU_MIN_REPEATS = 2


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p20_ms: float
    p80_ms: float
    peak_mb: float | None  # None on CPU


def timed_call(runner: Runner, case: Case, mode: str) -> Callable[[], object]:
    """The closure that `mode` times; backward runs its one forward here, outside the timer."""
    inputs = [case.x, *runner.weights]
    if mode == "forward":

        def forward() -> object:
            with torch.no_grad():
                return runner.forward(case.x)

        return forward
    if mode == "backward":
        y = runner.forward(case.x)[0]
        return lambda: torch.autograd.grad(y, inputs, case.grad_y, retain_graph=True)
    if mode == "forward+backward":
        return lambda: torch.autograd.grad(runner.forward(case.x)[0], inputs, case.grad_y)
    raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")


def measure(
    fn: Callable[[], object], device: torch.device, *, warmup_ms: float, rep_ms: float
) -> Timing:
    """Median and 20/80 % quantiles of fn's time in ms (do_bench on CUDA), and peak memory."""
    if device.type == "cuda":
        return _measure_cuda(fn, warmup_ms, rep_ms)
    return _measure_cpu(fn, warmup_ms, rep_ms)


def _measure_cuda(fn: Callable[[], object], warmup_ms: float, rep_ms: float) -> Timing:
    from triton.testing import do_bench

    median, p20, p80 = do_bench(fn, warmup=warmup_ms, rep=rep_ms, quantiles=list(QUANTILES))
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    peak = (torch.cuda.max_memory_allocated() - before) / 2**20
    return Timing(median, p20, p80, peak)


def _measure_cpu(fn: Callable[[], object], warmup_ms: float, rep_ms: float) -> Timing:
    """do_bench's protocol with a wall clock: warm up for warmup_ms (at least one call unless it
    is 0), then repeat for rep_ms and at least CPU_MIN_REPEATS times."""
    start = time.perf_counter()
    while warmup_ms > 0 and (time.perf_counter() - start) * 1e3 < warmup_ms:
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < CPU_MIN_REPEATS or (time.perf_counter() - start) * 1e3 < rep_ms:
        begin = time.perf_counter()
        fn()
        times.append((time.perf_counter() - begin) * 1e3)
    q = torch.tensor(times, dtype=torch.float64).quantile(
        torch.tensor(QUANTILES, dtype=torch.float64)
    )
    return Timing(*q.tolist(), peak_mb=None)

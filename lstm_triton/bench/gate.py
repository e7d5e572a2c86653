"""The correctness gate: a provider is timed on a case only after its forward matches torch's
module of its cell (torch.nn.LSTM, or GRU, RNN) and, in the backward modes, its gradients are
finite.

The truth is that module in float64 on the same device, weights (the case's, upcast) and
inputs; for a provider that takes a case's resets, torch.nn.LSTM one step a call with them
(providers.per_step_runner). error = max |actual - truth| / max(1, max |truth|) for y, h_n
and (LSTM) c_n each; NaN, a wrong shape or a wrong number of outputs fails. The gate exists
so that a fast but wrong provider yields a failed row, not a timing: a swapped gate, a skipped
step or a lost bias is off by more than 0.1 (h is in (-1, 1)). The numerics themselves are the
tests' job (tests/conftest.py, at small sizes).

Tolerances, for the grids' sizes (T up to 2048, H up to 2048). Errors do not grow along T:
with torch's init the forget gate is about sigmoid(N(0, 0.6)), which damps an error of c by
about half each step, so what remains is a few roundings of h and c per step. Measured on CPU
at B16-T1024-H256 (torch.nn.LSTM / the loop / the reference backend): fp32 5e-7 / 4e-7 / 4e-7,
fp16 9e-4 / 1e-3 / 4e-4, bf16 4e-3 / 7e-3 / 3e-3; the tolerances leave eight times that or more.
torch.nn.GRU / RNN (tanh), same case: fp32 6e-7 / 1e-6, fp16 1.5e-3 / 1e-3, bf16 1.1e-2 /
8e-3, five times under the tolerances or more (the RNN's errors do not grow along T either:
with torch's init, W_hh's spectral radius is about 1/sqrt(3)).
  fp32  1e-4  IEEE (TF32 off), unit roundoff 6e-8
  tf32  1e-2  products of 10-bit mantissas (u = 4.9e-4), as fp16
  fp16  1e-2  u = 4.9e-4; the naive loop also rounds c every step
  bf16  6e-2  u = 3.9e-3, eight times fp16's
Gradients (of x and every weight, for grad_y) get the same measure and are recorded in the
rows; only NaN or inf in them fails the gate. Their error is not gated: in bf16 (same case)
they are off by 0.08 for the reference backend and the loop, whose autograd sums the weight
gradients of T steps in bf16, and by 5e-3 for torch.nn.LSTM; a threshold there would reject
correct providers or pass wrong ones.
"""

import math
from dataclasses import dataclass

import torch

from lstm_triton.bench.case import Case
from lstm_triton.bench.providers import Runner, native_module, native_runner, per_step_runner

TOLERANCES = {"fp32": 1e-4, "tf32": 1e-2, "fp16": 1e-2, "bf16": 6e-2}
OUTPUTS = ("y", "h_n", "c_n")  # an LSTM's; a GRU and an RNN have no c_n


class GateError(Exception):
    """A provider's forward does not match torch's module of its cell within the dtype's
    tolerance, or a gradient is not finite."""


@dataclass
class Truth:
    outputs: dict[str, torch.Tensor]  # y, h_n[, c_n]; float64 on CPU
    grads: dict[str, torch.Tensor] | None  # x and every parameter by name; float64 on CPU
    module: str  # what computed it, for the messages: torch.nn.LSTM, GRU or RNN


def compute_truth(
    case: Case, *, with_grads: bool, cell: str = "lstm", resets: bool = False
) -> Truth:
    """torch's module of `cell` in float64 on the case, with the case's resets if `resets`;
    gradients for case.grad_y when with_grads."""
    module = native_module(case, torch.float64, cell)
    x = case.x.detach().double().requires_grad_(with_grads)
    with_resets = resets and case.resets is not None
    runner = per_step_runner(module, case) if with_resets else native_runner(module, case)
    with torch.set_grad_enabled(with_grads):
        outputs = runner.forward(x)
    grads = None
    if with_grads:
        names = ["x", *(name for name, _ in module.named_parameters())]
        values = torch.autograd.grad(outputs[0], [x, *module.parameters()], case.grad_y.double())
        grads = {name: g.cpu() for name, g in zip(names, values, strict=True)}
    named = dict(zip(OUTPUTS, (o.detach().cpu() for o in outputs), strict=False))
    what = f"torch.nn.{type(module).__name__}" + (
        ", one step a call, with the resets" if with_resets else ""
    )
    return Truth(named, grads, what)


def normalized_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """max |actual - expected| / max(1, max |expected|); inf for NaN or a shape mismatch."""
    if actual.shape != expected.shape:
        return math.inf
    if expected.numel() == 0:
        return 0.0
    error = (actual.detach().cpu().double() - expected).abs().max().item()
    scale = max(1.0, expected.abs().max().item())
    return error / scale if math.isfinite(error) else math.inf


def _worst(actual: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> tuple[str, float]:
    errors = {name: normalized_error(actual[name], expected[name]) for name in expected}
    worst = max(errors, key=errors.__getitem__)
    return worst, errors[worst]


def check(runner: Runner, case: Case, truth: Truth) -> tuple[float, float | None]:
    """(forward error, gradient error or None); GateError when the forward is out of tolerance
    or a gradient holds NaN or inf."""
    with torch.set_grad_enabled(truth.grads is not None):
        outputs = runner.forward(case.x)
    if len(outputs) != len(truth.outputs):
        raise GateError(
            f"correctness gate: {len(outputs)} outputs, {truth.module} has {len(truth.outputs)}"
        )
    name, error = _worst(dict(zip(truth.outputs, outputs, strict=True)), truth.outputs)
    tolerance = TOLERANCES[case.dtype_name]
    if not error <= tolerance:
        raise GateError(
            f"correctness gate: {name} is off by {error:.3g} (normalized max error against "
            f"float64 {truth.module}; {case.dtype_name} tolerance {tolerance:g})"
        )
    if truth.grads is None:
        return error, None
    grads = torch.autograd.grad(outputs[0], [case.x, *runner.weights], case.grad_y)
    if len(grads) != len(truth.grads):
        raise GateError(f"{len(grads) - 1} weights, {truth.module} has {len(truth.grads) - 1}")
    named = dict(zip(truth.grads, grads, strict=True))
    for name, grad in named.items():
        if not grad.isfinite().all():
            what = "NaN" if grad.isnan().any() else "inf"
            raise GateError(f"correctness gate: the gradient of {name} holds {what}")
    _, grad_error = _worst(named, truth.grads)
    return error, grad_error

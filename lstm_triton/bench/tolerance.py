"""The test suite's tolerance table, in the library so that the GPU check (experiments/
gpu_check.py) holds the kernels on the GPU to exactly what the tests hold them to on CPU.

Errors against torch.nn.LSTM run in float64 on the same weights and inputs, at the suite's
small sizes (T up to ~10, H up to ~50):
float64: only summation order differs (unit roundoff 1.1e-16; sums of < 10^4 terms).
float32: unit roundoff 6e-8; GEMM and recurrence sums of up to 4H*T*B ~ 10^4 terms give
  errors up to ~1e-6 at scale 1 (5e-7 seen on CPU), so 1e-5 leaves margin while a wrong
  gate, sign or step is off by > 1e-2.
float16 / bfloat16: h, the gate cache and dz are rounded to the dtype every step (as cuDNN
  does; the cell state stays fp32), i.e. about ten roundings of unit roundoff u (4.9e-4 for
  fp16, 3.9e-3 for bf16) along the longest chain of a 3-layer, 7-step case: 10u, rounded up
  (fp16 on CPU: 1e-3 seen, the same as the reference backend's own error).
"""

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Tolerance:
    atol: float  # relative to the largest magnitude of the expected tensor (at least 1)
    rtol: float


TOLERANCES = {
    torch.float64: Tolerance(atol=1e-10, rtol=1e-10),
    torch.float32: Tolerance(atol=1e-5, rtol=1e-5),
    torch.float16: Tolerance(atol=5e-3, rtol=5e-3),
    torch.bfloat16: Tolerance(atol=4e-2, rtol=4e-2),
}


def assert_within(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype, what: str):
    """actual (any dtype) against expected (the float64 truth) with dtype's tolerance; an
    AssertionError naming `what` and the worst elements otherwise."""
    tol = TOLERANCES[dtype]
    expected = expected.detach().double().cpu()
    scale = max(1.0, expected.abs().max().item()) if expected.numel() else 1.0
    torch.testing.assert_close(
        actual.detach().double().cpu(),
        expected,
        atol=tol.atol * scale,
        rtol=tol.rtol,
        msg=lambda detail: f"{what} ({dtype}): {detail}",
    )

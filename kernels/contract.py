"""What the kernels compute, in terms the reference backend shares (no Triton needed here)."""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": F.hardsigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda x: x,
}
ACTIVATIONS = tuple(TORCH_ACTIVATIONS)
"""Gate activations by kernel code; hard_sigmoid is torch's hardsigmoid, relu6(x + 3) / 6."""

DEFAULT_ACTIVATIONS = ("sigmoid", "sigmoid", "tanh", "sigmoid", "tanh")
"""torch.nn.LSTM's activations of the gates i, f, g, o and of the cell output."""


def activation_codes(names: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(ACTIVATIONS.index(name) for name in names)


@dataclass(frozen=True)
class Cell:
    """The cell the kernels compute beyond torch.nn.LSTM's; the defaults are torch's cell.

    activations: codes of the i, f, g, o and cell-output activations (ACTIVATIONS).
    peephole: (D, 3, H) cell-state weights of the gates i, f, o, or None.
    zoneout_h, zoneout_c: how much of the previous h and c each step keeps: (T, B, D, H) bool
    masks indexed by time, True where the element keeps its previous value (training), or the
    probability itself (eval, the masks' expectation). Equations in lstm_forward.
    """

    activations: tuple[int, ...] = activation_codes(DEFAULT_ACTIVATIONS)
    peephole: torch.Tensor | None = None
    zoneout_h: torch.Tensor | float = 0.0
    zoneout_c: torch.Tensor | float = 0.0

    @property
    def zoneout_mode(self) -> int:
        """0: none, 1: masks, 2: probabilities (the kernels' ZONEOUT)."""
        masks = isinstance(self.zoneout_h, torch.Tensor), isinstance(self.zoneout_c, torch.Tensor)
        if any(masks):
            assert all(masks), "zoneout masks for h and c come together"
            return 1
        return 2 if self.zoneout_h or self.zoneout_c else 0


def accumulator_dtype(dtype: torch.dtype) -> torch.dtype:
    """Cell state and sums: fp32 for every input dtype, fp64 for fp64 (gradcheck)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def dot_precision(dtype: torch.dtype) -> str:
    """fp32 products follow torch's own switch for CUDA matmuls: IEEE unless the user allowed
    TF32 (torch.backends.cuda.matmul.fp32_precision, which the legacy setters also set)."""
    if dtype == torch.float32 and torch.backends.cuda.matmul.fp32_precision == "tf32":
        return "tf32"
    return "ieee"


TORCH_CELL = Cell()

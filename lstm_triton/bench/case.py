"""The inputs and weights that every provider of one (config, dtype) shares, and the dtype names.

cells: torch's recurrent modules by name; a provider computes one of them (lstm, for all but
torch's GRU and RNN), and its gate compares it with that module in float64.

dtype names: fp32 (IEEE float32: TF32 off for cuBLAS, cuDNN and the kernels' tl.dot), tf32
(float32 tensors, TF32 allowed everywhere), fp16, bf16.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from lstm_triton.bench.grids import Config

DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "tf32": torch.float32,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
}
CELLS: dict[str, Callable[..., nn.RNNBase]] = {
    "lstm": nn.LSTM,
    "gru": nn.GRU,
    "rnn_tanh": partial(nn.RNN, nonlinearity="tanh"),
}


def check_names(kind: str, names: list[str], valid: tuple[str, ...]) -> list[str]:
    """names unchanged, or ValueError listing the valid ones."""
    unknown = [name for name in names if name not in valid]
    if unknown or not names:
        what = f"unknown {kind} {', '.join(map(repr, unknown))}" if unknown else f"no {kind}"
        raise ValueError(f"{what}; expected one or more of {', '.join(valid)}")
    return names


@contextmanager
def float32_precision(dtype_name: str) -> Iterator[None]:
    """TF32 on (tf32) or off (every other name): torch.set_float32_matmul_precision("high" or
    "highest") for cuBLAS and the kernels' tl.dot, cudnn.allow_tf32 for cuDNN. The kernels
    follow torch.backends.cuda.matmul.fp32_precision, which "high" sets to "tf32" and "highest"
    to "ieee" (lstm_triton.kernels.contract.dot_precision).

    The legacy switches only: torch >= 2.9 raises when they are mixed with the per-backend
    fp32_precision API. Whether cuDNN's RNN follows allow_tf32 shows in the rows' max_err.
    """
    tf32 = dtype_name == "tf32"
    saved = torch.get_float32_matmul_precision(), torch.backends.cudnn.allow_tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")
    torch.backends.cudnn.allow_tf32 = tf32
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(saved[0])
        torch.backends.cudnn.allow_tf32 = saved[1]


@dataclass
class Case:
    """One (config, dtype) on one device.

    module:  torch.nn.LSTM holding the weights every LSTM provider copies (torch's init, seeded)
    x:       (T, B, I), requires grad; positions past a sequence's length hold random values
    lengths: (B,) int64 on CPU, or None for full-length batches
    grad_y:  (T, B, D*H), the output gradient of the backward modes
    resets:  (T, B) bool on the device, True where the row's episode ends before step t (the
             state entering it is zeros), or None
    """

    config: Config
    dtype_name: str
    device: torch.device
    module: nn.LSTM
    x: torch.Tensor
    lengths: torch.Tensor | None
    grad_y: torch.Tensor
    resets: torch.Tensor | None = None
    seed: int = 0

    @property
    def dtype(self) -> torch.dtype:
        return DTYPES[self.dtype_name]

    def weights(self, cell: str) -> dict[str, torch.Tensor]:
        """The state dict every provider of `cell` copies, in the case's dtype: the LSTM's, or
        torch's init of that cell from the case's seed, on CPU (the same on every call)."""
        if cell == "lstm":
            return self.module.state_dict()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            return _module(self.config, cell).to(self.dtype).state_dict()


def _module(config: Config, cell: str) -> nn.RNNBase:
    return CELLS[cell](
        config.input_size,
        config.hidden,
        config.num_layers,
        bidirectional=config.bidirectional,
    )


def make_case(config: Config, dtype_name: str, device: torch.device, seed: int = 0) -> Case:
    """Seeded on CPU, then moved, so every device and run sees the same numbers."""
    dtype = DTYPES[dtype_name]
    T, B = config.seq_len, config.batch
    D = 2 if config.bidirectional else 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = _module(config, "lstm")
        x = torch.randn(T, B, config.input_size)
        grad_y = torch.randn(T, B, D * config.hidden)
        lengths = torch.randint(max(1, T // 4), T + 1, (B,)) if config.varlen else None
        resets = torch.rand(T, B) < config.reset_rate if config.reset_rate else None
    module = module.to(device=device, dtype=dtype)
    x = x.to(device=device, dtype=dtype).requires_grad_()
    grad_y = grad_y.to(device=device, dtype=dtype)
    resets = None if resets is None else resets.to(device)
    return Case(config, dtype_name, device, module, x, lengths, grad_y, resets=resets, seed=seed)

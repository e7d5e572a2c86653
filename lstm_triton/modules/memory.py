"""The triton backend's training cache, sized before a run (BNNS'
BNNSComputeLSTMTrainingCacheCapacity)."""

import torch

from lstm_triton.modules.cell import LSTMCell
from lstm_triton.modules.lstm import LSTM
from lstm_triton.ops import cache_bytes


def training_memory(
    module: LSTM | LSTMCell, batch: int, steps: int, dtype: torch.dtype | None = None
) -> int:
    """Bytes the triton backend keeps for the backward of one training forward of `module`
    over `batch` sequences of `steps` steps (the padded length; for an LSTMCell, `steps`
    calls): per layer and direction, the activated gates (steps, batch, 4*hidden_size) in
    dtype, the cell states (steps, batch, hidden_size) in float32 (float64 for float64) and,
    with proj_size, the unprojected outputs (steps, batch, hidden_size) in dtype.

    dtype is the computation's: the parameters' by default, autocast's under autocast. Not
    counted: what autograd keeps whatever the backend (each layer's input and output, the
    parameters, dropout and zoneout masks).
    """
    if not isinstance(module, (LSTM, LSTMCell)):
        raise TypeError(
            f"training_memory takes an lstm_triton.LSTM or LSTMCell, got {type(module).__name__}"
        )
    for name, value in (("batch", batch), ("steps", steps)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if dtype is None:
        dtype = next(module.parameters()).dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating point torch.dtype, got {dtype!r}")
    if isinstance(module, LSTMCell):
        return cache_bytes(steps, batch, 1, module.hidden_size, False, dtype)
    directions = 2 if module.bidirectional else 1
    per_layer = cache_bytes(
        steps, batch, directions, module.hidden_size, module.proj_size > 0, dtype
    )
    return module.num_layers * per_layer

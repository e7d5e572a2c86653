"""lstm_triton.training_memory against what the triton backend's op allocates for its
backward and autograd keeps: the cache outputs of every layer_forward call."""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import lstm_triton

B, T, I, H = 3, 5, 4, 6
CASES = {
    "B3-T5-I4-H6": dict(),
    "B3-T5-I4-H6-L2-bidir": dict(num_layers=2, bidirectional=True),
    "B3-T5-I4-H6-L2-bidir-P3": dict(num_layers=2, bidirectional=True, proj_size=3),
}


class KernelCaches(TorchDispatchMode):
    """Records the backward's cache (gates, c_seq, r) of each layer_forward call."""

    def __init__(self):
        super().__init__()
        self.tensors: list[torch.Tensor] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is torch.ops.lstm_triton.layer_forward.default:
            self.tensors += out[3:]
        return out


def kept_caches(run) -> list[torch.Tensor]:
    """The caches run() makes, each checked to be among what autograd saves for backward."""
    saved = []

    def pack(tensor):
        saved.append(tensor)
        return tensor

    with (
        torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor),
        KernelCaches() as mode,
    ):
        run()
    assert mode.tensors, "no layer_forward call"
    for cache in mode.tensors:
        assert any(cache is tensor for tensor in saved), f"cache {tuple(cache.shape)} not saved"
    return mode.tensors


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16], ids=str)
@pytest.mark.parametrize("case", CASES)
def test_training_memory_is_what_the_lstm_keeps(case, dtype, kernel_device):
    module = lstm_triton.LSTM(I, H, **CASES[case], backend="triton")
    module.to(device=kernel_device, dtype=dtype)
    x = torch.randn(T, B, I, dtype=dtype, device=kernel_device)
    caches = kept_caches(lambda: module(x))
    assert sum(t.nbytes for t in caches) == lstm_triton.training_memory(module, B, T)


def test_training_memory_of_a_cell_is_that_of_its_calls(kernel_device):
    cell = lstm_triton.LSTMCell(I, H, backend="triton").to(kernel_device)
    x = torch.randn(T, B, I, device=kernel_device)

    def run():
        state = None
        for x_t in x:
            state = cell(x_t, state)

    caches = kept_caches(run)
    assert sum(t.nbytes for t in caches) == lstm_triton.training_memory(cell, B, T)


def test_training_memory_under_autocast_takes_its_dtype():
    """float32 parameters, float16 computation: the gates in float16, the cell states in
    float32."""
    module = lstm_triton.LSTM(I, H)
    gates, cells = T * B * 4 * H, T * B * H
    assert lstm_triton.training_memory(module, B, T, torch.float16) == 2 * gates + 4 * cells
    assert lstm_triton.training_memory(module, B, T) == 4 * gates + 4 * cells


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((torch.nn.LSTM(I, H), B, T), TypeError, r"lstm_triton.LSTM or LSTMCell, got LSTM"),
        ((lstm_triton.LSTM(I, H), 0, T), ValueError, r"batch must be a positive int, got 0"),
        ((lstm_triton.LSTM(I, H), B, 2.5), ValueError, r"steps must be a positive int, got 2.5"),
        ((lstm_triton.LSTM(I, H), B, T, torch.int8), TypeError, r"floating point .*torch.int8"),
    ],
    ids=["torch-module", "no-batch", "float-steps", "integer-dtype"],
)
def test_training_memory_bad_arguments(arguments, error, message):
    with pytest.raises(error, match=message):
        lstm_triton.training_memory(*arguments)

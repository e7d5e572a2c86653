"""lstm_triton.LSTM on the persistent recurrence schedules gives what the stepwise one gives,
outputs and every gradient, through the autograd op (kernels/schedule.py)."""

import pytest
import torch

import lstm_triton
from lstm_triton.kernels import schedule


def run(model, x, lengths):
    y, (h_n, c_n) = model(x, lengths=lengths)
    loss = y.square().sum() + h_n.sum() + c_n.sum()
    grads = torch.autograd.grad(loss, [x, *model.parameters()])
    return [y, h_n, c_n, *grads]


@pytest.mark.parametrize("name", ["persistent", "resident"])
@pytest.mark.parametrize("lengths", [None, [9, 4, 1]], ids=["full", "lengths"])
def test_persistent_schedules_match_stepwise(name, lengths, kernel_device):
    # fp64, but fp16 for resident on the GPU, where it takes 16-bit weights only: there its
    # sums over all of K round differently from stepwise's over blocks of it.
    dtype, tolerance = torch.float64, 1e-12
    if name == "resident" and kernel_device.type == "cuda":
        dtype, tolerance = torch.float16, 1e-2
    torch.manual_seed(0)
    model = lstm_triton.LSTM(5, 37, num_layers=2, bidirectional=True, backend="triton")
    model.to(device=kernel_device, dtype=dtype)
    x = torch.randn(9, 3, 5, device=kernel_device, dtype=dtype, requires_grad=True)
    lengths = None if lengths is None else torch.tensor(lengths, device=kernel_device)
    stepwise = run(model, x, lengths)
    before = schedule.launched[name]
    schedule.use(name)
    try:
        persistent = run(model, x, lengths)
    finally:
        schedule.use(None)
    assert schedule.launched[name] == before + 4  # 2 layers, forward and backward
    for got, want in zip(persistent, stepwise, strict=True):
        torch.testing.assert_close(got, want, rtol=tolerance, atol=tolerance)

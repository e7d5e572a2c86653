"""lstm_triton.LSTM on the persistent recurrence schedule gives what the stepwise one gives,
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


@pytest.mark.parametrize("lengths", [None, [9, 4, 1]], ids=["full", "lengths"])
def test_persistent_schedule_matches_stepwise(lengths, kernel_device):
    torch.manual_seed(0)
    model = lstm_triton.LSTM(5, 37, num_layers=2, bidirectional=True, backend="triton")
    model.to(device=kernel_device, dtype=torch.float64)
    x = torch.randn(9, 3, 5, device=kernel_device, dtype=torch.float64, requires_grad=True)
    lengths = None if lengths is None else torch.tensor(lengths, device=kernel_device)
    stepwise = run(model, x, lengths)
    before = schedule.launched["persistent"]
    schedule.use("persistent")
    try:
        persistent = run(model, x, lengths)
    finally:
        schedule.use(None)
    assert schedule.launched["persistent"] == before + 4  # 2 layers, forward and backward
    for got, want in zip(persistent, stepwise, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)

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
@pytest.mark.parametrize("flat", [False, True], ids=["separate", "flat"])
def test_persistent_schedules_match_stepwise(
    name, lengths, flat, kernel_device, close, lay_out_flat
):
    """flat: the weights in torch's flat layout, each direction read where it lies."""
    torch.manual_seed(0)
    model = lstm_triton.LSTM(5, 48, num_layers=2, bidirectional=True, backend="triton")
    model.to(device=kernel_device, dtype=torch.float64)
    if flat:
        lay_out_flat(model)
    x = torch.randn(9, 3, 5, device=kernel_device, dtype=torch.float64, requires_grad=True)
    lengths = None if lengths is None else torch.tensor(lengths, device=kernel_device)
    stepwise = run(model, x, lengths)
    # On the GPU resident takes 16-bit weights only: fp16 there, against the fp64 stepwise run.
    dtype = torch.float64
    if name == "resident" and kernel_device.type == "cuda":
        dtype = torch.float16
        model.to(dtype)
        if flat:
            lay_out_flat(model)
        x = x.detach().to(dtype).requires_grad_()
    before = schedule.launched[name]
    schedule.use(name)
    try:
        persistent = run(model, x, lengths)
    finally:
        schedule.use(None)
    assert schedule.launched[name] == before + 4  # 2 layers, forward and backward
    for index, (got, want) in enumerate(zip(persistent, stepwise, strict=True)):
        if dtype == torch.float64:
            torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
        else:
            close(got, want, dtype, f"output {index}")

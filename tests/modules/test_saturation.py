"""Extreme inputs and long sequences stay finite and as accurate as torch.nn.LSTM's own.

Inputs of magnitude 1e4 make the weight gradients (sums of x * dz) ill-conditioned: fp32
rounding of terms of size 1e4 moves them by more than the fp32 table allows relative to the
result. So each result is held to float64 truth with an error no larger than torch.nn.LSTM's
own in float32 (times 4, for a different summation order), or the table's tolerance.
"""

import pytest
import torch

import lstm_triton

# exp(1e4) overflows to inf by design (sigmoid then saturates to exactly 0 or 1); numpy, which
# runs the interpreted kernels, warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")


def outputs_and_grads(model, x: torch.Tensor) -> list[torch.Tensor]:
    x = x.detach().requires_grad_()
    y, (h_n, c_n) = model(x)
    (y.sum() + c_n.sum()).backward()
    return [y, h_n, c_n, x.grad, *(p.grad for p in model.parameters())]


def check_against_torch(x: torch.Tensor, hidden: int, backend: str, device, close) -> None:
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(x.shape[-1], hidden, backend=backend).to(device)
    torch32 = torch.nn.LSTM(x.shape[-1], hidden)
    truth = torch.nn.LSTM(x.shape[-1], hidden, dtype=torch.float64)
    torch32.load_state_dict(ours.state_dict())
    truth.load_state_dict(ours.state_dict())
    got = outputs_and_grads(ours, x.to(device))
    baseline = outputs_and_grads(torch32, x)
    want = outputs_and_grads(truth, x.double())
    for ours_value, torch_value, true_value in zip(got, baseline, want, strict=True):
        assert torch.isfinite(ours_value).all()
        torch_error = (torch_value.double() - true_value).abs().max().item()
        ours_error = (ours_value.double().cpu() - true_value).abs().max().item()
        if ours_error > 4 * torch_error:
            close(ours_value, true_value, torch.float32, "saturated LSTM")


LARGE_INPUT = torch.randn(7, 3, 5, generator=torch.Generator().manual_seed(0)) * 1e4


def test_reference_with_inputs_of_magnitude_1e4(device, close):
    check_against_torch(LARGE_INPUT, 16, "reference", device, close)


def test_kernels_with_inputs_of_magnitude_1e4(kernel_device, close):
    check_against_torch(LARGE_INPUT, 16, "triton", kernel_device, close)


def test_two_thousand_steps(kernel_device, close):
    x = torch.randn(2000, 1, 3, generator=torch.Generator().manual_seed(0)) * 3
    check_against_torch(x, 16, "triton", kernel_device, close)

"""Autocast, low-precision parameters, eval-mode backward and deterministic runs."""

import pytest
import torch

import lstm_triton


@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_autocast_runs_as_the_half_model_with_fp32_gradients(backend, backend_device):
    # CPU autocast in fp16: the dtype Triton's interpreter multiplies correctly.
    dtype = torch.float16
    torch.manual_seed(0)
    model = lstm_triton.LSTM(3, 8, num_layers=2, backend=backend).to(backend_device)
    half = lstm_triton.LSTM(3, 8, num_layers=2, backend=backend).to(backend_device)
    half.load_state_dict(model.state_dict())
    half.to(dtype)
    x = torch.randn(5, 2, 3, device=backend_device)
    with torch.autocast(backend_device.type, dtype=dtype):
        y, (h_n, c_n) = model(x)
    y_half, (h_half, c_half) = half(x.to(dtype))
    assert y.dtype == h_n.dtype == c_n.dtype == dtype
    for got, want in ((y, y_half), (h_n, h_half), (c_n, c_half)):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    y.float().square().sum().backward()
    y_half.float().square().sum().backward()
    for p, q in zip(model.parameters(), half.parameters(), strict=True):
        assert p.grad.dtype == torch.float32
        torch.testing.assert_close(p.grad, q.grad.float(), rtol=0, atol=0)


def test_bfloat16_parameters(device, close):
    torch.manual_seed(0)
    model = lstm_triton.LSTM(3, 8, backend="reference").to(device, torch.bfloat16)
    truth = torch.nn.LSTM(3, 8, dtype=torch.float64)
    truth.load_state_dict(model.state_dict())
    x = torch.randn(5, 2, 3, device=device, dtype=torch.bfloat16)
    y, _ = model(x)
    assert y.dtype == torch.bfloat16
    close(y, truth(x.double().cpu())[0], torch.bfloat16, "bf16 output")


@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_backward_in_eval_mode(backend, backend_device, close):
    torch.manual_seed(0)
    model = (
        lstm_triton.LSTM(3, 8, num_layers=2, dropout=0.3, backend=backend).to(backend_device).eval()
    )
    truth = torch.nn.LSTM(3, 8, num_layers=2, dropout=0.3, dtype=torch.float64).eval()
    truth.load_state_dict(model.state_dict())
    x = torch.randn(5, 2, 3)
    model(x.to(backend_device))[0].sum().backward()
    truth(x.double())[0].sum().backward()
    for p, q in zip(model.parameters(), truth.parameters(), strict=True):
        close(p.grad, q.grad, torch.float32, "eval-mode gradient")


@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_deterministic_mode_is_bitwise_repeatable_with_dropout(backend, backend_device):
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        runs = []
        for _ in range(2):
            torch.manual_seed(0)
            model = lstm_triton.LSTM(3, 8, num_layers=3, dropout=0.5, backend=backend).to(
                backend_device
            )
            x = torch.randn(6, 4, 3, device=backend_device, requires_grad=True)
            y, (h_n, c_n) = model(x)
            (y.square().sum() + h_n.sum() + c_n.sum()).backward()
            runs.append([y, h_n, c_n, x.grad, *(p.grad for p in model.parameters())])
    finally:
        torch.use_deterministic_algorithms(previous)
    for first, second in zip(*runs, strict=True):
        assert torch.equal(first, second)


def torch_lstm_runs_in_bf16_autocast() -> None:
    """Skips where torch.nn.LSTM itself cannot: oneDNN has no bf16 LSTM for CPUs without
    AVX-512 (AVX2 alone: "could not create a primitive descriptor")."""
    with torch.autocast("cpu", dtype=torch.bfloat16):
        try:
            torch.nn.LSTM(3, 8)(torch.randn(5, 2, 3))
        except RuntimeError as error:
            if "primitive descriptor" not in str(error):
                raise
            pytest.skip(f"torch.nn.LSTM fails in bf16 autocast on this CPU: {error}"[:200])


@pytest.mark.parametrize("backend", ["reference", "native"])
def test_autocast_takes_the_state_it_returned(backend, device):
    # A carried state comes back in the autocast dtype while the next input (an embedding's,
    # say) is fp32: torch.nn.LSTM takes it, and so must this one.
    dtype = torch.bfloat16 if device.type == "cpu" else torch.float16
    if backend == "native" and device.type == "cpu":
        torch_lstm_runs_in_bf16_autocast()
    model = lstm_triton.LSTM(3, 8, backend=backend).to(device)
    cell = lstm_triton.LSTMCell(3, 8, backend=backend).to(device)
    x = torch.randn(5, 2, 3, device=device)
    with torch.autocast(device.type, dtype=dtype):
        _, state = model(x)
        y, _ = model(x, state)
        h, c = cell(x[0])
        h, c = cell(x[1], (h, c))
    assert state[0].dtype == y.dtype == dtype
    assert h.is_floating_point()

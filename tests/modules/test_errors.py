"""Every bad input gets an error naming what was expected and what came."""

import pytest
import torch

import lstm_triton
from lstm_triton.kernels import launch


def lstm(**kwargs):
    return lstm_triton.LSTM(
        5, 8, num_layers=2, backend=kwargs.pop("backend", "reference"), **kwargs
    )


@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        (torch.randn(2, 3, 4, 5), ValueError, r"3-D \(T, B, input_size\).*got 4-D"),
        (torch.randn(5), ValueError, r"3-D .* or 2-D .*got 1-D"),
        (torch.randn(7, 3, 6), ValueError, r"input_size=5, got 6"),
        (torch.randn(0, 3, 5), ValueError, r"at least one time step"),
        (torch.ones(7, 3, 5, dtype=torch.long), TypeError, r"floating point.*torch.int64"),
        (torch.randn(7, 3, 5, dtype=torch.float64), TypeError, r"input is torch.float64 but"),
        ([[1.0] * 5], TypeError, r"input must be a torch.Tensor, got list"),
    ],
    ids=["rank4", "rank1", "feature-size", "no-steps", "integer", "dtype", "not-a-tensor"],
)
def test_bad_input(x, error, message):
    with pytest.raises(error, match=message):
        lstm()(x)


def test_input_on_other_device():
    with pytest.raises(ValueError, match=r"input is on meta but the parameters are on cpu"):
        lstm()(torch.empty(7, 3, 5, device="meta"))


GOOD_STATE = torch.zeros(2, 3, 8)


@pytest.mark.parametrize(
    ("hx", "error", "message"),
    [
        (
            (torch.zeros(1, 3, 8), GOOD_STATE),
            ValueError,
            r"h0 must have shape \(2, 3, 8\).*got \(1, 3, 8\)",
        ),
        (
            (GOOD_STATE, torch.zeros(2, 3, 9)),
            ValueError,
            r"c0 must have shape \(2, 3, 8\).*got \(2, 3, 9\)",
        ),
        ((GOOD_STATE.double(), GOOD_STATE), TypeError, r"h0 must be torch.float32 like the input"),
        ((GOOD_STATE, torch.empty(2, 3, 8, device="meta")), ValueError, r"c0 must be on cpu"),
        ((GOOD_STATE, GOOD_STATE.long()), TypeError, r"c0 must be floating point"),
        (GOOD_STATE, TypeError, r"hx must be a tuple \(h0, c0\) of two tensors, got Tensor"),
        ((GOOD_STATE,), TypeError, r"got tuple of length 1"),
    ],
    ids=["h0-shape", "c0-shape", "h0-dtype", "c0-device", "c0-integer", "bare-tensor", "one-state"],
)
def test_bad_state(hx, error, message):
    with pytest.raises(error, match=message):
        lstm()(torch.randn(7, 3, 5), hx)


def test_unbatched_state_shape():
    with pytest.raises(
        ValueError, match=r"h0 must have shape \(2, 8\) for an input of shape \(7, 5\)"
    ):
        lstm()(torch.randn(7, 5), (GOOD_STATE, GOOD_STATE))


def test_unknown_backend():
    with pytest.raises(
        ValueError, match=r"unknown LSTM backend 'cudnn'; expected one of auto, triton"
    ):
        lstm(backend="cudnn")
    model = lstm()
    with pytest.raises(ValueError, match=r"unknown LSTM backend 'fast'"):
        model.backend = "fast"
    with pytest.raises(ValueError, match=r"unknown LSTM backend"):
        lstm_triton.LSTMCell(5, 8, backend="fast")


def test_triton_on_cpu_without_interpreter(monkeypatch):
    monkeypatch.setattr(launch, "INTERPRETED", False)
    with pytest.raises(
        ValueError,
        match=r"backend='triton' runs on CUDA tensors, got a tensor on cpu.*TRITON_INTERPRET=1",
    ):
        lstm(backend="triton")(torch.randn(7, 3, 5))


@pytest.mark.parametrize(
    ("x", "hx", "error", "message"),
    [
        (torch.randn(3, 2, 5), None, ValueError, r"2-D \(B, input_size\).*got 3-D"),
        (torch.randn(3, 6), None, ValueError, r"input_size=5, got 6"),
        (torch.ones(3, 5, dtype=torch.int32), None, TypeError, r"floating point.*torch.int32"),
        (
            torch.randn(3, 5),
            (torch.zeros(2, 8), torch.zeros(3, 8)),
            ValueError,
            r"h must have shape \(3, 8\)",
        ),
        (
            torch.randn(5),
            (torch.zeros(8), torch.zeros(3, 8)),
            ValueError,
            r"c must have shape \(8,\)",
        ),
    ],
    ids=["rank3", "feature-size", "integer", "h-shape", "unbatched-c-shape"],
)
def test_cell_bad_input(x, hx, error, message):
    with pytest.raises(error, match=message):
        lstm_triton.LSTMCell(5, 8, backend="reference")(x, hx)

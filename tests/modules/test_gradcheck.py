"""float64 gradcheck of the kernels' op on tiny sizes: every input, state and weight."""

import pytest
import torch

from lstm_triton.ops import lstm_layers


@pytest.mark.parametrize("bidirectional", [False, True], ids=["unidir", "bidir"])
def test_triton_op_gradcheck(bidirectional, kernel_device):
    torch.manual_seed(0)
    D, L, T, B, I, H = (2 if bidirectional else 1), 2, 3, 2, 3, 4
    ref = torch.nn.LSTM(I, H, num_layers=L, bidirectional=bidirectional, dtype=torch.float64)
    weights = [w.detach().to(kernel_device).requires_grad_() for w in ref._flat_weights]
    x = torch.randn(T, B, I, dtype=torch.float64, device=kernel_device, requires_grad=True)
    h0 = torch.randn(L * D, B, H, dtype=torch.float64, device=kernel_device, requires_grad=True)
    c0 = torch.randn(L * D, B, H, dtype=torch.float64, device=kernel_device, requires_grad=True)

    def f(x, h0, c0, *weights):
        y, (h_n, c_n) = lstm_layers(
            x,
            (h0, c0),
            weights,
            num_layers=L,
            bidirectional=bidirectional,
            dropout=0.0,
            training=True,
            backend="triton",
        )
        return y, h_n, c_n

    # fast_mode checks v^T J u for random u, v instead of the whole Jacobian: the same bugs at
    # a few interpreted forward passes instead of two per input element.
    assert torch.autograd.gradcheck(f, (x, h0, c0, *weights), fast_mode=True)

"""float64 gradcheck of the kernels' op on tiny sizes: every input, state and weight."""

import pytest
import torch

from lstm_triton.ops import lstm_layers

CASES = {
    "unidir": dict(bidirectional=False),
    "bidir": dict(bidirectional=True),
    "bidir-proj-lengths": dict(bidirectional=True, proj_size=3, lengths=True),
    # Smooth activations only: finite differences straddle the kinks of relu and hard_sigmoid.
    "bidir-peephole-activations-zoneout-lengths": dict(
        bidirectional=True,
        peephole=True,
        activations=("tanh", "sigmoid", "identity", "sigmoid", "tanh"),
        zoneout=(0.3, 0.2),
        lengths=True,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_triton_op_gradcheck(case, kernel_device):
    options = dict(CASES[case])
    bidirectional = options.pop("bidirectional")
    proj_size = options.pop("proj_size", 0)
    with_lengths = options.pop("lengths", False)
    peephole = options.pop("peephole", False)
    torch.manual_seed(0)
    D, L, T, B, I, H = (2 if bidirectional else 1), 2, 3, 2, 3, 4
    P = proj_size or H
    ref = torch.nn.LSTM(
        I, H, num_layers=L, bidirectional=bidirectional, proj_size=proj_size, dtype=torch.float64
    )
    cast = {"dtype": torch.float64, "device": kernel_device}
    weights = [w.detach().to(kernel_device).requires_grad_() for w in ref._flat_weights]
    peepholes = [torch.randn(3, H, **cast, requires_grad=True) for _ in range(L * D)]
    x = torch.randn(T, B, I, **cast, requires_grad=True)
    h0 = torch.randn(L * D, B, P, **cast, requires_grad=True)
    c0 = torch.randn(L * D, B, H, **cast, requires_grad=True)
    lengths = (
        torch.tensor([3, 2], dtype=torch.int32, device=kernel_device) if with_lengths else None
    )

    def f(x, h0, c0, *tensors):
        y, (h_n, c_n) = lstm_layers(
            x,
            (h0, c0),
            tensors[: len(weights)],
            num_layers=L,
            bidirectional=bidirectional,
            dropout=0.0,
            # Eval: zoneout keeps its expectation instead of drawing masks on every call.
            training=False,
            backend="triton",
            lengths=lengths,
            peepholes=tensors[len(weights) :] if peephole else None,
            **options,
        )
        return y, h_n, c_n

    inputs = (x, h0, c0, *weights, *(peepholes if peephole else ()))
    # fast_mode checks v^T J u for random u, v instead of the whole Jacobian: the same bugs at
    # a few interpreted forward passes instead of two per input element.
    assert torch.autograd.gradcheck(f, inputs, fast_mode=True)

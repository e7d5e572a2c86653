"""lstm_triton.LSTMCell against torch.nn.LSTMCell in float64."""

import pytest
import torch

import lstm_triton


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_state", [True, False], ids=["hc", "zero-state"])
@pytest.mark.parametrize("batch", [3, None], ids=["B3", "unbatched"])
@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_cell_matches_torch(backend, batch, with_state, bias, backend_device, close, poison_empty):
    device = backend_device
    torch.manual_seed(0)
    truth = torch.nn.LSTMCell(5, 37, bias=bias, dtype=torch.float64)
    ours = lstm_triton.LSTMCell(5, 37, bias=bias, backend=backend)
    ours.load_state_dict(truth.state_dict())
    ours.to(device)
    lead = () if batch is None else (batch,)
    x = torch.randn(*lead, 5, dtype=torch.float64)
    state = (
        torch.randn(*lead, 37, dtype=torch.float64),
        torch.randn(*lead, 37, dtype=torch.float64),
    )

    def run(model, dtype, where):
        inputs = [x.to(dtype=dtype, device=where).requires_grad_()]
        if with_state:
            inputs += [s.to(dtype=dtype, device=where).requires_grad_() for s in state]
        h, c = model(inputs[0], tuple(inputs[1:]) if with_state else None)
        loss = (h * torch.arange(h.numel()).view_as(h).to(h)).sum() + (c * c).sum()
        grads = torch.autograd.grad(loss, [*inputs, *model.parameters()])
        return [h, c, *grads]

    for got, want in zip(
        run(ours, torch.float32, device), run(truth, torch.float64, "cpu"), strict=True
    ):
        assert got.shape == want.shape
        close(got, want, torch.float32, "LSTMCell")

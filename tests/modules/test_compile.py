"""torch.compile(fullgraph=True) keeps the LSTM in the graph, and matches eager."""

import pytest
import torch

import lstm_triton


class Tagger(torch.nn.Module):
    def __init__(self, backend: str):
        super().__init__()
        self.lstm = lstm_triton.LSTM(3, 8, bidirectional=True, batch_first=True, backend=backend)
        self.head = torch.nn.Linear(16, 2)

    def forward(self, x, lengths):
        y, (h_n, _) = self.lstm(x, lengths=lengths)
        return self.head(y).sum() + h_n.sum()


# torch's own compile stack still calls torch.jit.script_method, which warns.
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("backend", ["reference", "native", "triton"])
def test_compiled_model_matches_eager(backend, backend_device):
    device = backend_device
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = Tagger(backend).to(device)
    # Only the weights need gradients, as in training: the case torch 2.13's inductor cannot
    # compile for torch's own CPU LSTM.
    x = torch.randn(2, 4, 3, device=device)
    lengths = torch.tensor([4, 2])
    results = []
    for run in (torch.compile(model, fullgraph=True), model):
        loss = run(x, lengths)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        results.append([loss, *grads])
    for compiled, eager in zip(*results, strict=True):
        torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-5)

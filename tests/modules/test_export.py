"""Ahead-of-time capture: torch.export exports a model holding lstm_triton's modules on every
backend (the kernels as custom ops in the graph); TorchScript refuses them with one error
that says what to use instead."""

import pytest
import torch
from torch import nn
from torch.export import Dim

import lstm_triton

B, T, I, H = 2, 5, 3, 4
BACKENDS = ["native", "reference", "triton"]
# Exporting torch.nn.LSTM warns the same: export swaps the parameters, and forward refreshes
# its _flat_weights list from them.
pytestmark = pytest.mark.filterwarnings("ignore:The tensor attributes .*_flat_weights")


class Tagger(nn.Module):
    def __init__(self, backend: str):
        super().__init__()
        self.lstm = lstm_triton.LSTM(I, H, bidirectional=True, batch_first=True, backend=backend)
        self.cell = lstm_triton.LSTMCell(2 * H, H, backend=backend)
        self.head = nn.Linear(H, 2)

    def forward(self, x):
        y, _ = self.lstm(x)
        h, _ = self.cell(y[:, -1])
        return self.head(h)


# Every backend exports with a dynamic batch; the kernels' op also with dynamic steps, where
# the reference backend's step loop and torch's own LSTM (native) specialise on T.
SHAPES = {
    "static": None,
    "dynamic-batch": {"x": {0: Dim("batch", min=2)}},
    "dynamic-batch-steps": {"x": {0: Dim("batch", min=2), 1: Dim("steps", min=2)}},
}


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_exported_model_matches_eager(backend, shapes, backend_device, close):
    if shapes == "dynamic-batch-steps" and backend != "triton":
        pytest.skip(f"backend={backend!r} specialises on the number of steps, as torch.nn.LSTM")
    torch.manual_seed(0)
    model = Tagger(backend).to(device=backend_device, dtype=torch.float64)
    x = torch.randn(B, T, I, dtype=torch.float64, device=backend_device)
    program = torch.export.export(model, (x,), dynamic_shapes=SHAPES[shapes])
    assert not program.constants, "weights baked into the graph instead of read as parameters"
    calls = {node.target for node in program.graph.nodes if node.op == "call_function"}
    if backend == "triton":
        assert torch.ops.lstm_triton.layer_forward.default in calls
    # Another size where the shapes are dynamic, and other weights: the program's own.
    other = (B + 1, T + 2) if shapes == "dynamic-batch-steps" else (B + (shapes != "static"), T)
    x = torch.randn(*other, I, dtype=torch.float64, device=backend_device)
    exported = program.module()
    for parameter in model.parameters():
        nn.init.normal_(parameter.data)
    exported.load_state_dict(model.state_dict())
    close(exported(x), model(x), torch.float64, "exported model's output")


MODELS = {
    "LSTM": lambda: lstm_triton.LSTM(I, H),
    "LSTMCell": lambda: lstm_triton.LSTMCell(I, H),
    "model-holding-both": lambda: Tagger("auto"),
}


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("model", MODELS)
def test_torchscript_says_what_to_use_instead(model):
    message = (
        r"TorchScript .* lstm_triton\.LSTM.*torch\.compile.*torch\.export.*lstm_triton\.revert"
    )
    with pytest.raises(TypeError, match=message):
        torch.jit.script(MODELS[model]())


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_reverted_model_scripts():
    """What the error suggests works: revert, then script torch's modules."""
    torch.manual_seed(0)
    model = Tagger("native")
    lstm_triton.revert(model)
    scripted = torch.jit.script(model)
    x = torch.randn(B, T, I)
    torch.testing.assert_close(scripted(x), model(x), rtol=0, atol=0)

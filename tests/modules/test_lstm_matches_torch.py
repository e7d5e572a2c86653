"""lstm_triton.LSTM against torch.nn.LSTM: outputs, final states and every gradient.

torch.nn.LSTM in float64 on the same weights is the truth for every backend and dtype; the
reference backend is checked first, then the kernels. With lengths, ours runs on the padded
input and torch on the same input packed (the only way torch takes lengths).
"""

from dataclasses import dataclass

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstm_triton


@dataclass(frozen=True)
class Case:
    batch: int | None  # None: unbatched input
    steps: int
    input_size: int = 5
    hidden_size: int = 37
    num_layers: int = 1
    bidirectional: bool = False
    batch_first: bool = False
    bias: bool = True
    with_state: bool = False
    dropout: float = 0.0
    proj_size: int = 0
    lengths: tuple[int, ...] | None = None

    @property
    def id(self) -> str:
        parts = [f"B{self.batch}" if self.batch else "unbatched", f"T{self.steps}"]
        parts += [f"I{self.input_size}", f"H{self.hidden_size}", f"L{self.num_layers}"]
        flags = {
            "bidir": self.bidirectional,
            "batch_first": self.batch_first,
            "nobias": not self.bias,
            "h0c0": self.with_state,
            f"dropout{self.dropout}-eval": self.dropout > 0,
            f"P{self.proj_size}": self.proj_size > 0,
            f"lengths{'_'.join(map(str, self.lengths or ()))}": self.lengths is not None,
        }
        return "-".join(parts + [name for name, on in flags.items() if on])


CASES = [
    Case(batch=1, steps=1),
    Case(batch=3, steps=7, with_state=True),
    Case(batch=1, steps=7, num_layers=3),
    Case(batch=3, steps=1, num_layers=3, bidirectional=True),
    Case(batch=3, steps=7, num_layers=2, bidirectional=True, with_state=True),
    Case(batch=3, steps=7, batch_first=True, bias=False),
    Case(batch=3, steps=7, num_layers=2, bidirectional=True, batch_first=True, with_state=True),
    Case(batch=None, steps=7),
    Case(batch=None, steps=7, num_layers=2, bidirectional=True, with_state=True),
    Case(batch=3, steps=7, num_layers=2, dropout=0.5, with_state=True),
    Case(batch=70, steps=3, hidden_size=70),
    Case(batch=3, steps=7, proj_size=5, with_state=True),
    Case(batch=3, steps=7, num_layers=2, bidirectional=True, proj_size=5, with_state=True),
    Case(batch=4, steps=7, lengths=(7, 3, 5, 1)),
    Case(batch=4, steps=7, num_layers=2, bidirectional=True, with_state=True, lengths=(2, 7, 7, 4)),
    Case(
        batch=4,
        steps=7,
        bidirectional=True,
        batch_first=True,
        proj_size=5,
        with_state=True,
        lengths=(7, 5, 3, 1),
    ),
]


def make_inputs(case: Case, dtype: torch.dtype, device: torch.device, seed: int = 0):
    """Input and (h0, c0) holding values exactly representable in `dtype`."""
    generator = torch.Generator().manual_seed(seed)
    D = 2 if case.bidirectional else 1
    batch = () if case.batch is None else (case.batch,)
    if case.batch is None:
        x_shape = (case.steps, case.input_size)
    else:
        x_shape = (case.batch, case.steps) if case.batch_first else (case.steps, case.batch)
        x_shape = (*x_shape, case.input_size)
    tensors = [torch.randn(x_shape, generator=generator)]
    if case.with_state:
        for size in (case.proj_size or case.hidden_size, case.hidden_size):
            tensors.append(torch.randn(case.num_layers * D, *batch, size, generator=generator))
    x, *state = (t.to(dtype=dtype, device=device).requires_grad_() for t in tensors)
    return x, tuple(state) or None


def exact_float64(x, state):
    """The same values in float64 on CPU, as leaves of their own."""
    x64 = x.detach().double().cpu().requires_grad_()
    if state is None:
        return x64, None
    return x64, tuple(s.detach().double().cpu().requires_grad_() for s in state)


def forward(model, x, state, lengths):
    """Ours takes lengths; torch.nn.LSTM takes the input packed."""
    if lengths is None:
        return model(x, state)
    if not isinstance(model, torch.nn.LSTM):
        return model(x, state, lengths=torch.tensor(lengths))
    packed = pack_padded_sequence(x, torch.tensor(lengths), model.batch_first, enforce_sorted=False)
    y, final = model(packed, state)
    steps = x.shape[1 if model.batch_first else 0]
    return pad_packed_sequence(y, model.batch_first, total_length=steps)[0], final


def run(model, x, state, lengths=None, seed: int = 1):
    """Forward, then backward of a random linear function of output, h_n and c_n."""
    y, (h_n, c_n) = forward(model, x, state, lengths)
    generator = torch.Generator().manual_seed(seed)
    loss = sum(
        (out * torch.randn(out.shape, generator=generator).to(out)).sum() for out in (y, h_n, c_n)
    )
    inputs = [x, *(state or ()), *model.parameters()]
    grads = torch.autograd.grad(loss, inputs)
    names = ["input", *(["h0", "c0"] if state else []), *(n for n, _ in model.named_parameters())]
    return {
        "output": y,
        "h_n": h_n,
        "c_n": c_n,
        **{f"grad {n}": g for n, g in zip(names, grads, strict=True)},
    }


def compare_with_torch(
    case: Case, backend: str, dtype: torch.dtype, device, close, *, lay_out=None
) -> None:
    """lay_out: None, or a function that rearranges ours' weights in memory before the run."""
    torch.manual_seed(0)
    kwargs = dict(
        num_layers=case.num_layers,
        bias=case.bias,
        batch_first=case.batch_first,
        dropout=case.dropout,
        bidirectional=case.bidirectional,
        proj_size=case.proj_size,
    )
    ours = lstm_triton.LSTM(case.input_size, case.hidden_size, **kwargs, backend=backend)
    ours.to(device=device, dtype=dtype)
    if lay_out is not None:
        lay_out(ours)
    truth = torch.nn.LSTM(case.input_size, case.hidden_size, **kwargs, dtype=torch.float64)
    truth.load_state_dict(ours.state_dict())
    if case.dropout:
        truth.eval()
        ours.eval()
    x, state = make_inputs(case, dtype, device)
    got = run(ours, x, state, case.lengths)
    want = run(truth, *exact_float64(x, state), case.lengths)
    assert got.keys() == want.keys()
    for name, value in got.items():
        assert value.dtype == dtype and value.device.type == device.type, name
        close(value, want[name], dtype, name)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_reference_backend_matches_torch(case, device, close):
    compare_with_torch(case, "reference", torch.float32, device, close)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_triton_backend_matches_torch(case, kernel_device, close, poison_empty):
    compare_with_torch(case, "triton", torch.float32, kernel_device, close)


# fp16/bf16 on the kernels for three cases, not all (each dtype is another full comparison):
# together they cover where rounding to the dtype enters: two layers (the second reads the
# first's rounded output), both directions, h0/c0 given in the dtype, both input layouts, and
# projection with lengths. By id, so that a case renamed or removed in CASES fails collection
# with a KeyError instead of silently changing the coverage.
CASES_BY_ID = {case.id: case for case in CASES}
LOW_PRECISION_CASES = [
    CASES_BY_ID[case_id]
    for case_id in (
        "B3-T7-I5-H37-L2-bidir-h0c0",
        "B3-T7-I5-H37-L2-bidir-batch_first-h0c0",
        "B4-T7-I5-H37-L1-bidir-batch_first-h0c0-P5-lengths7_5_3_1",
    )
]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("case", LOW_PRECISION_CASES, ids=lambda case: case.id)
def test_triton_backend_low_precision(case, dtype, kernel_device, close, poison_empty):
    if kernel_device.type == "cpu" and dtype == torch.bfloat16:
        pytest.skip("Triton's interpreter multiplies bf16 blocks wrongly (tl.dot); GPU only")
    compare_with_torch(case, "triton", dtype, kernel_device, close)


# Bidirectional, with and without proj_size: the cases where a weight has two directions.
@pytest.mark.parametrize("case", LOW_PRECISION_CASES, ids=lambda case: case.id)
def test_triton_backend_reads_flat_weights_in_place(
    case, kernel_device, close, poison_empty, monkeypatch, lay_out_flat
):
    """Weights in torch's flat layout: the kernels read both directions of each weight where
    they lie, without stacking them into a copy, and the results match torch's."""
    stacked = []

    def recording_stack(tensors, *args, **kwargs):
        stacked.append(tuple(tensors[0].shape))
        return stack(tensors, *args, **kwargs)

    stack = torch.stack
    monkeypatch.setattr(torch, "stack", recording_stack)
    compare_with_torch(case, "triton", torch.float32, kernel_device, close, lay_out=lay_out_flat)
    H, P, I = case.hidden_size, case.proj_size or case.hidden_size, case.input_size
    weight_shapes = {(4 * H, I), (4 * H, P), (4 * H, 2 * P), (P, H)}
    assert stacked, "the spy saw no torch.stack (the bias, h_n): it is not in the path"
    assert not weight_shapes & set(stacked), f"weights stacked: {stacked}"

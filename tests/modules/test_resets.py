"""Resets inside the recurrence (issue 16) on every backend, against the loop recurrent RL code
runs today on torch.nn.LSTM (CleanRL's ppo_atari_lstm): each step zeroes the state of the rows
that reset, in every layer, then runs one step. float64 on CPU; outputs, h_n, c_n and every
gradient (input, h0, c0, parameters)."""

from contextlib import nullcontext
from dataclasses import dataclass

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations, parametrize
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstm_triton
from lstm_triton.ops import lstm_layers


@dataclass(frozen=True)
class Case:
    batch: int
    steps: int
    input_size: int
    hidden: int
    num_layers: int = 2
    proj_size: int = 0
    batch_first: bool = False
    lengths: tuple[int, ...] | None = None
    packed: bool = False
    unbatched: bool = False

    @property
    def id(self) -> str:
        parts = [f"B{self.batch}", f"T{self.steps}", f"I{self.input_size}"]
        parts += [f"H{self.hidden}", f"L{self.num_layers}"]
        parts += [f"P{self.proj_size}"] if self.proj_size else []
        flags = {
            "batch_first": self.batch_first,
            "lengths": self.lengths is not None and not self.packed,
            "packed": self.packed,
            "unbatched": self.unbatched,
        }
        return "-".join(parts + [name for name, on in flags.items() if on])


def _at(step: int):
    """Every row resets at `step` (negative: counted from the end)."""

    def pattern(steps: int, batch: int, generator: torch.Generator) -> torch.Tensor:
        resets = torch.zeros(steps, batch, dtype=torch.bool)
        resets[step] = True
        return resets

    return pattern


def _odd_rows(steps: int, batch: int, generator: torch.Generator) -> torch.Tensor:
    """The odd rows reset at step 1 and at the second to last; the others never."""
    resets = torch.zeros(steps, batch, dtype=torch.bool)
    resets[[1, steps - 2], 1::2] = True
    return resets


PATTERNS = {
    "never": lambda steps, batch, generator: torch.zeros(steps, batch, dtype=torch.bool),
    "at-0": _at(0),
    "at-last": _at(-1),
    "every-step": lambda steps, batch, generator: torch.ones(steps, batch, dtype=torch.bool),
    "some-rows": _odd_rows,
    "random": lambda steps, batch, generator: torch.rand(steps, batch, generator=generator) < 0.3,
}
SHAPE = Case(3, 7, 5, 37, 2)
TINY = Case(2, 5, 3, 6, 2)  # the kernels in Triton's interpreter: seconds per case
CASES = [
    Case(4, 7, 5, 11, 2, lengths=(5, 2, 7, 1)),
    Case(4, 7, 5, 11, 2, lengths=(5, 2, 7, 1), packed=True, batch_first=True),
    Case(3, 7, 5, 11, 2, proj_size=4),
    Case(3, 7, 5, 11, 1, batch_first=True),
    Case(1, 7, 5, 11, 2, unbatched=True),
    Case(1, 7, 5, 11, 2, unbatched=True, batch_first=True),
]
TINY_CASES = [
    Case(3, 5, 3, 6, 2, proj_size=4, lengths=(5, 2, 4)),
    Case(3, 5, 3, 6, 1, lengths=(5, 2, 4), packed=True, batch_first=True),
]


def resets_of(case: Case, pattern: str) -> torch.Tensor:
    """(T, B) bool, time-major; with lengths, also at a padded step of every short row."""
    generator = torch.Generator().manual_seed(3)
    resets = PATTERNS[pattern](case.steps, case.batch, generator).clone()
    for b, length in enumerate(case.lengths or ()):
        resets[length:, b] = True  # ignored: the row has ended
    return resets


def loop_on_torch(lstm: nn.Module, x, hx, resets, lengths=None):
    """CleanRL's loop on torch.nn.LSTM (or, for the cells torch lacks, on one of ours one step
    at a time): x (T, B, I), hx (L, B, *), resets (T, B), lengths (B,) or None, all time-major
    -> y (T, B, P), (h_n, c_n). With lengths a row's padded steps neither reset nor change its
    state, and output zeros."""
    h, c = hx
    ys = []
    for t, x_t in enumerate(x):
        valid = torch.ones_like(resets[t]) if lengths is None else t < lengths
        keep = (1 - (resets[t] & valid).to(x.dtype))[None, :, None]
        h, c = keep * h, keep * c
        y, (h_new, c_new) = lstm(x_t[None], (h, c))
        valid = valid[None, :, None]
        h, c = torch.where(valid, h_new, h), torch.where(valid, c_new, c)
        ys.append(torch.where(valid, y, 0.0))
    return torch.cat(ys), (h, c)


def weighted_sum(outputs) -> torch.Tensor:
    """A linear function of every output with distinct weights, so no gradient cancels."""
    return sum((o * torch.arange(o.numel()).view_as(o).to(o).cos()).sum() for o in outputs)


def canonical_inputs(case: Case) -> tuple[torch.Tensor, ...]:
    """x (T, B, I), h0 (L, B, P), c0 (L, B, H), float64, seeded."""
    generator = torch.Generator().manual_seed(1)
    P = case.proj_size or case.hidden
    shapes = [
        (case.steps, case.batch, case.input_size),
        (case.num_layers, case.batch, P),
        (case.num_layers, case.batch, case.hidden),
    ]
    return tuple(torch.randn(s, generator=generator, dtype=torch.float64) for s in shapes)


def run_ours(ours: lstm_triton.LSTM, case: Case, inputs, resets, device):
    """ours on the case's layout (batch_first, unbatched, packed) -> the time-major outputs
    (y, h_n, c_n) and the gradients of their weighted sum for x (time-major), h0, c0 and every
    parameter."""
    x, h0, c0 = (t.to(device).requires_grad_() for t in inputs)
    users_x, hx = x, (h0, c0)
    users_resets = resets.to(device)
    if case.unbatched:  # (T, I), whatever batch_first says
        users_x, users_resets = x[:, 0], users_resets[:, 0]
        hx = (h0[:, 0], c0[:, 0])
    elif case.batch_first:
        users_x, users_resets = x.transpose(0, 1), users_resets.t()
    lengths = None if case.lengths is None else torch.tensor(case.lengths)
    if case.packed:
        packed = pack_padded_sequence(
            users_x, lengths, batch_first=case.batch_first, enforce_sorted=False
        )
        y, (h_n, c_n) = ours(packed, hx, resets=users_resets)
        y = pad_packed_sequence(y, batch_first=case.batch_first, total_length=case.steps)[0]
    else:
        y, (h_n, c_n) = ours(users_x, hx, lengths, resets=users_resets)
    if case.unbatched:
        y, h_n, c_n = y[:, None], h_n[:, None], c_n[:, None]
    elif case.batch_first:
        y = y.transpose(0, 1)
    outputs = [y, h_n, c_n]
    grads = torch.autograd.grad(weighted_sum(outputs), [x, h0, c0, *ours.parameters()])
    return [*outputs, *grads]


def run_truth(truth: nn.Module, case: Case, inputs, resets):
    x, h0, c0 = (t.clone().requires_grad_() for t in inputs)
    lengths = None if case.lengths is None else torch.tensor(case.lengths)
    y, (h_n, c_n) = loop_on_torch(truth, x, (h0, c0), resets, lengths)
    outputs = [y, h_n, c_n]
    grads = torch.autograd.grad(weighted_sum(outputs), [x, h0, c0, *truth.parameters()])
    return [*outputs, *grads]


def modules(case: Case, backend: str, device) -> tuple[lstm_triton.LSTM, nn.LSTM]:
    """Ours on device and torch's on CPU, float64, with the same weights."""
    options = dict(num_layers=case.num_layers, proj_size=case.proj_size, dtype=torch.float64)
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(
        case.input_size, case.hidden, batch_first=case.batch_first, backend=backend, **options
    )
    truth = nn.LSTM(case.input_size, case.hidden, **options)
    truth.load_state_dict(ours.state_dict())
    return ours.to(device), truth


def names_of(module: nn.Module) -> list[str]:
    parameters = [f"grad {name}" for name, _ in module.named_parameters()]
    return ["output", "h_n", "c_n", "grad input", "grad h0", "grad c0", *parameters]


def assert_matches_the_loop(case: Case, backend: str, pattern: str, device, close) -> None:
    ours, truth = modules(case, backend, device)
    inputs, resets = canonical_inputs(case), resets_of(case, pattern)
    got = run_ours(ours, case, inputs, resets, device)
    want = run_truth(truth, case, inputs, resets)
    for name, value, expected in zip(names_of(ours), got, want, strict=True):
        close(value, expected, torch.float64, f"{case.id} {pattern}: {name}")


def loop_params(cases: list[Case], backends: list[str], patterns) -> list:
    return [
        pytest.param(case, backend, pattern, id=f"{case.id}-{backend}-{pattern}")
        for case in cases
        for backend in backends
        for pattern in patterns
    ]


@pytest.mark.parametrize(
    ("case", "backend", "pattern"),
    loop_params([SHAPE], ["reference", "native"], PATTERNS)
    + loop_params([TINY], ["triton"], ["at-0", "at-last", "random"]),
)
def test_resets_match_the_loop_on_torchs_lstm(case, backend, pattern, backend_device, close):
    assert_matches_the_loop(case, backend, pattern, backend_device, close)


@pytest.mark.parametrize(
    ("case", "backend", "pattern"),
    loop_params(CASES, ["reference", "native"], ["random"])
    + loop_params(TINY_CASES, ["triton"], ["random"]),
)
def test_resets_with_lengths_packing_projection_and_layouts(
    case, backend, pattern, backend_device, close
):
    """With lengths every short row also has resets at its padded steps, which must change
    nothing."""
    assert_matches_the_loop(case, backend, pattern, backend_device, close)


CELL_OPTIONS = dict(
    peephole=True,
    activations=("tanh", "sigmoid", "identity", "sigmoid", "tanh"),
    zoneout=(0.3, 0.2),
)


@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_cell_options_match_the_loop_on_the_reference_steps(backend, backend_device, close):
    """Peephole, other activations and zoneout in eval (each step keeps its fraction of the
    previous, reset, state): against the loop over the reference backend one step at a time,
    which takes no resets."""
    case = TINY
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(
        case.input_size,
        case.hidden,
        case.num_layers,
        backend=backend,
        dtype=torch.float64,
        **CELL_OPTIONS,
    ).eval()
    steps = lstm_triton.LSTM(
        case.input_size,
        case.hidden,
        case.num_layers,
        backend="reference",
        dtype=torch.float64,
        **CELL_OPTIONS,
    ).eval()
    steps.load_state_dict(ours.state_dict())
    inputs, resets = canonical_inputs(case), resets_of(case, "random")
    got = run_ours(ours.to(backend_device), case, inputs, resets, backend_device)
    want = run_truth(steps, case, inputs, resets)
    for name, value, expected in zip(names_of(ours), got, want, strict=True):
        close(value, expected, torch.float64, f"{CELL_OPTIONS}: {name}")


@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_gradcheck_with_resets_and_lengths(backend, backend_device):
    """Resets at t = 0 and mid-sequence, and one at a padded step; every input, state and
    weight (one layer: in the interpreter each input costs a few passes)."""
    T, B, I, H, L = 4, 2, 2, 3, 1
    torch.manual_seed(0)
    cast = {"dtype": torch.float64, "device": backend_device}
    truth = nn.LSTM(I, H, num_layers=L, dtype=torch.float64)
    weights = [w.detach().to(backend_device).requires_grad_() for w in truth._flat_weights]
    x = torch.randn(T, B, I, **cast, requires_grad=True)
    h0 = torch.randn(L, B, H, **cast, requires_grad=True)
    c0 = torch.randn(L, B, H, **cast, requires_grad=True)
    resets = torch.tensor([[1, 0], [0, 0], [0, 1], [0, 1]], dtype=torch.bool, device=x.device)
    lengths = torch.tensor([4, 3], dtype=torch.int32, device=x.device)

    def f(x, h0, c0, *weights):
        y, (h_n, c_n) = lstm_layers(
            x,
            (h0, c0),
            weights,
            num_layers=L,
            bidirectional=False,
            dropout=0.0,
            training=False,
            backend=backend,
            lengths=lengths,
            resets=resets,
        )
        return y, h_n, c_n

    # fast_mode for the kernels: a few interpreted passes instead of two per input element.
    fast = backend == "triton"
    assert torch.autograd.gradcheck(f, (x, h0, c0, *weights), fast_mode=fast)


def test_native_segments_evaluate_a_parametrization_once_per_forward(close):
    """spectral_norm iterates at every evaluation of its weight in training: every segment of
    the native loop must see the one weight of this forward, as the reference backend does
    when it evaluates the weight once (torch's own forward evaluates it four times: hasattr
    and getattr, twice, in RNNBase._update_flat_weights)."""
    case = SHAPE
    results = []
    for backend in ("native", "reference"):
        ours, _ = modules(case, backend, "cpu")
        torch.manual_seed(2)  # spectral_norm's random start vector
        parametrizations.spectral_norm(ours, "weight_hh_l0")
        inputs, resets = canonical_inputs(case), resets_of(case, "random")
        # The native loop on its own: it must evaluate the weight once by itself.
        with parametrize.cached() if backend == "reference" else nullcontext():
            results.append(run_ours(ours, case, inputs, resets, "cpu")[:3])
    for name, native, reference in zip(["output", "h_n", "c_n"], *results, strict=True):
        close(native, reference, torch.float64, name)


@pytest.mark.parametrize("dtype", [torch.bool, torch.uint8, torch.int64, torch.float32])
def test_integer_and_floating_0_1_resets_read_as_bool(dtype):
    ours, _ = modules(SHAPE, "reference", "cpu")
    x = canonical_inputs(SHAPE)[0]
    resets = resets_of(SHAPE, "random")
    as_bool = ours(x, resets=resets)[0]
    torch.testing.assert_close(ours(x, resets=resets.to(dtype))[0], as_bool, rtol=0, atol=0)


def lstm(**options) -> lstm_triton.LSTM:
    return lstm_triton.LSTM(5, 8, num_layers=2, backend="reference", **options)


X = torch.randn(7, 3, 5)


@pytest.mark.parametrize(
    ("options", "x", "resets", "error", "message"),
    [
        (
            {},
            X,
            torch.zeros(3, 7, dtype=torch.bool),
            ValueError,
            r"resets must have shape \(T, B\) = \(7, 3\) for the input of shape \(7, 3, 5\), "
            r"got \(3, 7\)",
        ),
        (
            {"batch_first": True},
            X,
            torch.zeros(3, 7, dtype=torch.bool),
            ValueError,
            r"resets must have shape \(B, T\) = \(7, 3\) for the input of shape \(7, 3, 5\), "
            r"got \(3, 7\)",
        ),
        (
            {},
            X[:, 0],
            torch.zeros(7, 1, dtype=torch.bool),
            ValueError,
            r"resets must have shape \(T,\) = \(7,\) .*got \(7, 1\)",
        ),
        (
            {},
            X,
            torch.zeros(7, 3, dtype=torch.bool, device="meta"),
            ValueError,
            r"resets must be on cpu like the input, got meta",
        ),
        (
            {},
            X,
            torch.full((7, 3), 0.5),
            ValueError,
            r"resets must hold only 0 and 1 \(or False and True\), got 0.5",
        ),
        ({}, X, torch.full((7, 3), 2), ValueError, r"resets must hold only 0 and 1.*, got 2"),
        (
            {},
            X,
            torch.zeros(7, 3, dtype=torch.complex64),
            TypeError,
            r"resets must be bool, integer or floating 0/1, got torch.complex64",
        ),
        ({}, X, [[0] * 3] * 7, TypeError, r"resets must be a torch.Tensor, got list"),
        (
            {"bidirectional": True},
            X,
            torch.zeros(7, 3, dtype=torch.bool),
            ValueError,
            r"resets need a unidirectional LSTM.*no meaning in reverse time; "
            r"got bidirectional=True",
        ),
    ],
    ids=[
        "batch-major",
        "time-major-batch_first",
        "unbatched",
        "device",
        "half",
        "two",
        "complex",
        "list",
        "bidirectional",
    ],
)
def test_bad_resets(options, x, resets, error, message):
    with pytest.raises(error, match=message):
        lstm(**options)(x, resets=resets)


@pytest.mark.gpu
def test_resets_on_the_gpu_cost_no_synchronisation():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    ours, _ = modules(TINY, "triton", "cuda")
    x = canonical_inputs(TINY)[0].cuda()
    resets = resets_of(TINY, "random").cuda()
    ours(x, resets=resets.float())  # compiles the kernels first
    torch.cuda.set_sync_debug_mode("error")
    try:
        ours(x, resets=resets.float())
    finally:
        torch.cuda.set_sync_debug_mode("default")

"""Where users reach past forward(), against torch.nn.LSTM / LSTMCell on the same weights, in
float64: parameters that torch.func.functional_call passes, that parametrizations compute
(register_parametrization, weight_norm, spectral_norm) or that are assigned before each
forward; torch.func's transforms; second-order gradients."""

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils import parametrizations, parametrize

import lstm_triton

T, B, I, H = 3, 2, 3, 4
LSTM_OPTIONS = dict(num_layers=2, bidirectional=True, proj_size=3)
BACKENDS = ["native", "reference", "triton"]
KINDS = {
    # kind: (ours, torch's, the input's shape, the weight to parametrize)
    "LSTM": (lstm_triton.LSTM, nn.LSTM, (T, B, I), "weight_hh_l0"),
    "LSTMCell": (lstm_triton.LSTMCell, nn.LSTMCell, (B, I), "weight_ih"),
}


def modules(kind: str, backend: str, **options) -> tuple[nn.Module, nn.Module]:
    """Ours and torch's, float64 on CPU, with the same weights."""
    ours_class, torch_class, _, _ = KINDS[kind]
    options = {**(LSTM_OPTIONS if kind == "LSTM" else {}), **options}
    torch.manual_seed(0)
    ours = ours_class(I, H, **options, backend=backend, dtype=torch.float64)
    truth = torch_class(I, H, **options, dtype=torch.float64)
    truth.load_state_dict(ours.state_dict())
    return ours, truth


def outputs(result) -> list[torch.Tensor]:
    """LSTM's (y, (h_n, c_n)) or LSTMCell's (h, c), as one list."""
    first, second = result
    return [first, *second] if isinstance(second, tuple) else [first, second]


def output_names(kind: str) -> list[str]:
    return ["output", "h_n", "c_n"] if kind == "LSTM" else ["h", "c"]


def loss(result) -> torch.Tensor:
    """A linear function of every output with distinct weights, so no gradient cancels."""
    return sum((o * torch.arange(o.numel()).view_as(o).to(o).cos()).sum() for o in outputs(result))


def outputs_and_grads(result, leaves) -> list[torch.Tensor]:
    """Every output, then the gradient of the loss for each leaf."""
    return [*outputs(result), *torch.autograd.grad(loss(result), list(leaves))]


def assert_all_close(names: list[str], got: list, want: list, close, what: str = "") -> None:
    for name, value, expected in zip(names, got, want, strict=True):
        close(value, expected, torch.float64, f"{what}{name}")


def given_parameters(module: nn.Module, device) -> dict[str, torch.Tensor]:
    """Parameters other than the module's own, for functional_call, as leaves on device."""
    generator = torch.Generator().manual_seed(1)
    return {
        name: torch.randn(p.shape, generator=generator, dtype=p.dtype).to(device).requires_grad_()
        for name, p in module.named_parameters()
    }


def on_cpu(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: t.detach().cpu().requires_grad_() for name, t in tensors.items()}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_functional_call_uses_the_given_parameters(kind, backend, backend_device, close):
    ours, truth = modules(kind, backend)
    ours.to(backend_device)
    own = {name: p.detach().clone() for name, p in ours.named_parameters()}
    given = given_parameters(ours, backend_device)
    x = torch.randn(KINDS[kind][2], dtype=torch.float64)
    got = functional_call(ours, given, (x.to(backend_device),))
    truth_given = on_cpu(given)
    want = functional_call(truth, truth_given, (x,))
    assert_all_close(
        [*output_names(kind), *(f"grad {n}" for n in given)],
        outputs_and_grads(got, given.values()),
        outputs_and_grads(want, truth_given.values()),
        close,
    )
    for name, p in ours.named_parameters():
        assert p.grad is None and torch.equal(p, own[name]), name


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", ["native", "reference"])
def test_func_grad_matches_torch(kind, backend, device, close):
    """torch.func.grad of a functional_call: MAML's inner step, per-sample gradients."""
    ours, truth = modules(kind, backend)
    ours.to(device)
    given = {name: p.detach() for name, p in given_parameters(ours, device).items()}
    x = torch.randn(KINDS[kind][2], dtype=torch.float64)
    got = torch.func.grad(lambda p: loss(functional_call(ours, p, (x.to(device),))))(given)
    truth_given = {name: p.cpu() for name, p in given.items()}
    want = torch.func.grad(lambda p: loss(functional_call(truth, p, (x,))))(truth_given)
    for name in given:
        close(got[name], want[name], torch.float64, f"grad {name}")


@pytest.mark.parametrize(
    "transform", [torch.func.grad, torch.func.vmap, torch.func.jacrev], ids=lambda f: f.__name__
)
def test_func_transforms_on_triton_name_the_reference_backend(transform, kernel_device):
    """torch cannot apply torch.func's transforms to a custom op with register_autograd
    (pytorch/pytorch#168393), nor vmap to torch's own LSTM: one clear error instead."""
    ours = lstm_triton.LSTM(I, H, backend="triton", dtype=torch.float64).to(kernel_device)
    x = torch.randn(T, B, I, dtype=torch.float64, device=kernel_device)
    with pytest.raises(ValueError, match=r"torch\.func.*backend='reference'"):
        transform(lambda x: ours(x)[0].sum())(x)


def test_vmap_ensemble_on_the_reference_backend(device, close):
    """torch.func.stack_module_state + vmap, model ensembling: each model's own outputs."""
    torch.manual_seed(0)
    models = [
        lstm_triton.LSTM(I, H, backend="reference", dtype=torch.float64).to(device)
        for _ in range(2)
    ]
    stacked, buffers = torch.func.stack_module_state(models)
    x = torch.randn(T, B, I, dtype=torch.float64, device=device)

    def run(parameters, buffers):
        return functional_call(models[0], (parameters, buffers), (x,))[0]

    ys = torch.func.vmap(run)(stacked, buffers)
    for y, model in zip(ys, models, strict=True):
        close(y, model(x)[0], torch.float64, "ensemble member's output")


class Scaled(nn.Module):
    """A parametrization far from the identity: tanh, doubled."""

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return 2 * weight.tanh()


PARAMETRIZATIONS = {
    "register_parametrization": lambda m, name: parametrize.register_parametrization(
        m, name, Scaled()
    ),
    "weight_norm": parametrizations.weight_norm,
    "spectral_norm": parametrizations.spectral_norm,
}


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_parametrization_applies(parametrization, kind, backend, backend_device, close):
    """In training, where spectral_norm runs a power iteration at every evaluation of the
    weight: ours must evaluate it as often as torch does."""
    ours, truth = modules(kind, backend)
    for module in (ours, truth):
        torch.manual_seed(2)  # spectral_norm's random start vector
        PARAMETRIZATIONS[parametrization](module, KINDS[kind][3])
    # Both moved: RNNBase._apply evaluates the weights, a step of spectral_norm's iteration.
    ours.to(backend_device)
    truth.to("cpu")
    x = torch.randn(KINDS[kind][2], dtype=torch.float64)
    names = [name for name, _ in ours.named_parameters()]
    assert names == [name for name, _ in truth.named_parameters()]
    for step in range(2):
        assert_all_close(
            [*output_names(kind), *(f"grad {n}" for n in names)],
            outputs_and_grads(ours(x.to(backend_device)), ours.parameters()),
            outputs_and_grads(truth(x), truth.parameters()),
            close,
            f"step {step}, ",
        )


@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_functional_call_reaches_the_peepholes(backend, backend_device, close):
    """Parameters torch has no equivalent of: against our module holding the given ones."""
    ours = lstm_triton.LSTM(I, H, **LSTM_OPTIONS, peephole=True, backend=backend)
    ours.to(device=backend_device, dtype=torch.float64)
    given = given_parameters(ours, backend_device)
    holder = lstm_triton.LSTM(I, H, **LSTM_OPTIONS, peephole=True, backend=backend)
    holder.to(device=backend_device, dtype=torch.float64)
    holder.load_state_dict(given)
    x = torch.randn(T, B, I, dtype=torch.float64, device=backend_device)
    got = outputs(functional_call(ours, given, (x,)))
    assert_all_close(output_names("LSTM"), got, outputs(holder(x)), close)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_weights_assigned_before_each_forward(kind, backend, backend_device, close):
    """AWD-LSTM's weight drop: the parameter replaced by a raw one, and a tensor made from it
    assigned to the weight's name before every forward (here halved, not dropped out)."""
    ours, truth = modules(kind, backend)
    ours.to(backend_device)
    name = KINDS[kind][3]
    x = torch.randn(KINDS[kind][2], dtype=torch.float64)
    results = []
    for module, where in ((ours, backend_device), (truth, "cpu")):
        raw = nn.Parameter(module._parameters.pop(name).detach())
        module.register_parameter(f"{name}_raw", raw)
        setattr(module, name, raw / 2)
        results.append(outputs_and_grads(module(x.to(where)), [raw]))
    assert_all_close([*output_names(kind), f"grad {name}_raw"], *results, close)


def second_order(result, leaves: list[torch.Tensor]) -> list[torch.Tensor]:
    """Gradients of result's loss with create_graph=True, then the gradient of a penalty on
    them (gradient penalties, second-order MAML). The loss squares the outputs, so that the
    output gradients the backward receives depend on the leaves too."""
    loss = sum(
        (o.square() * torch.arange(o.numel()).view_as(o).to(o).cos()).sum() for o in outputs(result)
    )
    first = torch.autograd.grad(loss, leaves, create_graph=True)
    second = torch.autograd.grad(sum(g.square().sum() for g in first), leaves)
    return [*first, *second]


def names_of_second_order(module: nn.Module) -> list[str]:
    names = ["input", "h0", "c0", *(n for n, _ in module.named_parameters())]
    return [f"grad {n}" for n in names] + [f"second-order grad {n}" for n in names]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_double_backward_matches_torch(kind, backend, backend_device, close):
    ours, truth = modules(kind, backend)
    ours.to(backend_device)
    states = (LSTM_OPTIONS["num_layers"] * 2,) if kind == "LSTM" else ()
    sizes = (LSTM_OPTIONS["proj_size"], H) if kind == "LSTM" else (H, H)
    generator = torch.Generator().manual_seed(1)
    inputs = [
        torch.randn(shape, generator=generator, dtype=torch.float64)
        for shape in (KINDS[kind][2], (*states, B, sizes[0]), (*states, B, sizes[1]))
    ]
    results = []
    for module, where in ((ours, backend_device), (truth, "cpu")):
        x, h0, c0 = (t.to(where).requires_grad_() for t in inputs)
        results.append(second_order(module(x, (h0, c0)), [x, h0, c0, *module.parameters()]))
    assert_all_close(names_of_second_order(ours), *results, close)


def test_double_backward_of_the_kernels_matches_the_reference(kernel_device, close):
    """Where torch has no equivalent: lengths, peepholes, other activations, zoneout masks
    (training; the same masks for both, drawn from the same seed)."""
    options = dict(
        bidirectional=True,
        peephole=True,
        activations=("tanh", "sigmoid", "identity", "sigmoid", "tanh"),
        zoneout=(0.3, 0.2),
    )
    generator = torch.Generator().manual_seed(1)
    inputs = [
        torch.randn(shape, generator=generator, dtype=torch.float64)
        for shape in ((T, B, I), (2, B, H), (2, B, H))
    ]
    lengths = torch.tensor([T, T - 1])
    results = []
    for backend in ("triton", "reference"):
        torch.manual_seed(0)
        module = lstm_triton.LSTM(I, H, **options, backend=backend, dtype=torch.float64)
        module.to(kernel_device)
        x, h0, c0 = (t.to(kernel_device).requires_grad_() for t in inputs)
        torch.manual_seed(2)
        result = module(x, (h0, c0), lengths)
        results.append(second_order(result, [x, h0, c0, *module.parameters()]))
    assert_all_close(names_of_second_order(module), *results, close)

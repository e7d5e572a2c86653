"""Cell options beyond torch.nn.LSTM, each against a plain PyTorch loop written here."""

import pytest
import torch
import torch.nn.functional as F

import lstm_triton

PLAIN_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": lambda x: torch.clamp(x / 6 + 0.5, 0, 1),
    "tanh": torch.tanh,
    "relu": lambda x: torch.clamp(x, min=0),
    "identity": lambda x: x,
}
TORCH_ACTIVATIONS = ("sigmoid", "sigmoid", "tanh", "sigmoid", "tanh")
OTHER_ACTIVATIONS = ("hard_sigmoid", "sigmoid", "relu", "hard_sigmoid", "identity")


def plain_lstm(x, w_ih, w_hh, b_ih, b_hh, peephole=None, activations=TORCH_ACTIVATIONS, keep=None):
    """One layer, one direction: x (T, B, I) -> outputs (T, B, H).

    keep: zoneout, a function of t giving the fractions (k_h, k_c) of the previous h and c
    kept at step t (Krueger et al.: h's candidate uses the cell before its zoneout)."""
    act_i, act_f, act_g, act_o, act_c = (PLAIN_ACTIVATIONS[name] for name in activations)
    hidden = w_hh.shape[1]
    p_i, p_f, p_o = peephole if peephole is not None else torch.zeros(3, hidden).to(x)
    h = x.new_zeros(x.shape[1], hidden)
    c = x.new_zeros(x.shape[1], hidden)
    outputs = []
    for t, x_t in enumerate(x):
        z_i, z_f, z_g, z_o = (x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=1)
        i, f, g = act_i(z_i + p_i * c), act_f(z_f + p_f * c), act_g(z_g)
        c_new = f * c + i * g
        h_new = act_o(z_o + p_o * c_new) * act_c(c_new)
        k_h, k_c = keep(t) if keep else (0.0, 0.0)
        h, c = k_h * h + (1 - k_h) * h_new, k_c * c + (1 - k_c) * c_new
        outputs.append(h)
    return torch.stack(outputs)


def outputs_and_grads(y, leaves):
    y.square().sum().backward()
    return [y, *(leaf.grad for leaf in leaves)]


@pytest.mark.parametrize(
    "activations", [TORCH_ACTIVATIONS, OTHER_ACTIVATIONS], ids=["torch", "other"]
)
@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_peephole_and_activations_match_plain_loop(backend, activations, backend_device, close):
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(4, 9, peephole=True, activations=activations, backend=backend)
    ours.to(backend_device)
    x = torch.randn(6, 3, 4)
    xs = x.detach().to(backend_device).requires_grad_()
    got = outputs_and_grads(ours(xs)[0], [xs, *ours.parameters()])
    params = [p.detach().double().requires_grad_() for p in ours.parameters()]
    x64 = x.double().requires_grad_()
    want = outputs_and_grads(plain_lstm(x64, *params[:4], params[4], activations), [x64, *params])
    names = ["output", "grad input", *(f"grad {n}" for n, _ in ours.named_parameters())]
    for name, value, expected in zip(names, got, want, strict=True):
        close(value, expected, torch.float32, name)


@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_zoneout_matches_plain_loop_in_training_and_eval(backend, backend_device, close):
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(4, 9, zoneout=(0.3, 0.2), backend=backend).to(backend_device)
    x = torch.randn(6, 3, 4)
    torch.manual_seed(1)
    y, _ = ours(x.to(backend_device))
    torch.manual_seed(1)
    masks = [
        (torch.rand(6, 3, 1, 9, device=backend_device) < p)[:, :, 0].double().cpu()
        for p in (0.3, 0.2)
    ]
    params = [p.detach().double().cpu() for p in ours.parameters()]
    want = plain_lstm(x.double(), *params, keep=lambda t: (masks[0][t], masks[1][t]))
    close(y, want, torch.float32, "zoneout, training")
    ours.eval()
    want = plain_lstm(x.double(), *params, keep=lambda t: (0.3, 0.2))
    close(ours(x.to(backend_device))[0], want, torch.float32, "zoneout, eval")


def test_kernels_match_reference_with_every_option(kernel_device, close):
    options = dict(
        peephole=True, activations=OTHER_ACTIVATIONS, forget_bias=1.0, zoneout=(0.3, 0.2)
    )
    torch.manual_seed(0)
    reference = lstm_triton.LSTM(4, 9, 2, bidirectional=True, backend="reference", **options)
    kernels = lstm_triton.LSTM(4, 9, 2, bidirectional=True, backend="triton", **options)
    kernels.load_state_dict(reference.state_dict())
    # One device for both: zoneout masks come from that device's generator.
    reference.to(kernel_device)
    kernels.to(kernel_device)
    x = torch.randn(5, 3, 4, device=kernel_device)
    state = [torch.randn(4, 3, 9, device=kernel_device) for _ in range(2)]
    results = []
    for model in (reference, kernels):
        xs = x.detach().clone().requires_grad_()
        hx = [h.detach().clone().requires_grad_() for h in state]
        torch.manual_seed(1)  # the same zoneout masks
        y, _ = model(xs, hx, lengths=torch.tensor([5, 2, 4]))
        results.append(outputs_and_grads(y, [xs, *hx, *model.parameters()]))
    for got, want in zip(results[1], results[0], strict=True):
        close(got, want.double(), torch.float32, "kernels vs reference")


@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_recurrent_dropout_is_one_weight_mask_per_forward(backend, backend_device, close):
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(4, 9, recurrent_dropout=0.4, backend=backend).to(backend_device)
    x = torch.randn(6, 3, 4, device=backend_device)
    torch.manual_seed(1)
    y, _ = ours(x)
    torch.manual_seed(1)
    # The module's own draw: on its device, of its dtype.
    dropped = F.dropout(ours.weight_hh_l0.detach(), p=0.4, training=True).double().cpu()
    w_ih, w_hh, b_ih, b_hh = (p.detach().double().cpu() for p in ours.parameters())
    close(y, plain_lstm(x.double().cpu(), w_ih, dropped, b_ih, b_hh), torch.float32, "train")
    ours.eval()
    close(ours(x)[0], plain_lstm(x.double().cpu(), w_ih, w_hh, b_ih, b_hh), torch.float32, "eval")


def test_forget_bias_initialisation():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(4, 9, num_layers=2)
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(4, 9, num_layers=2, forget_bias=1.0)
    forget = slice(9, 18)
    for name, parameter in ours.named_parameters():
        expected = getattr(theirs, name).detach().clone()
        if name.startswith("bias"):
            expected[forget] = 1.0 if name.startswith("bias_ih") else 0.0
        torch.testing.assert_close(parameter.detach(), expected, rtol=0, atol=0, msg=name)
    ours.reset_parameters()
    assert (ours.bias_ih_l1[forget] == 1.0).all() and (ours.bias_hh_l1[forget] == 0.0).all()


def test_cell_with_options_matches_one_step_of_the_plain_loop(close):
    torch.manual_seed(0)
    cell = lstm_triton.LSTMCell(4, 9, peephole=True, activations=OTHER_ACTIVATIONS)
    x = torch.randn(3, 4)
    h, _ = cell(x)
    params = [p.detach().double() for p in cell.parameters()]
    want = plain_lstm(x.double()[None], *params[:4], params[4], OTHER_ACTIVATIONS)[0]
    close(h, want, torch.float32, "LSTMCell with options")


def test_options_are_parameters_repr_and_backend_choices():
    model = lstm_triton.LSTM(4, 9, bidirectional=True, peephole=True, backend="auto")
    assert [n for n in model.state_dict() if n.startswith("weight_ch")] == [
        "weight_ch_l0",
        "weight_ch_l0_reverse",
    ]
    assert "peephole=True" in repr(model)
    model(torch.randn(5, 2, 4))  # auto on CPU: the reference, as native has no peepholes
    model.backend = "native"
    with pytest.raises(ValueError, match=r"backend='native' \(torch's own LSTM\) has no peephole"):
        model(torch.randn(5, 2, 4))
    assert repr(lstm_triton.LSTM(4, 9)) == repr(torch.nn.LSTM(4, 9))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(activations=("sigmoid",) * 4), r"activations must name 5 activations"),
        (dict(activations="tanh"), r"activations must name 5 activations"),
        (dict(activations=("sigmoid", "sigmoid", "gelu", "sigmoid", "tanh")), r"unknown .*gelu"),
        (dict(recurrent_dropout=1.0), r"recurrent_dropout must be a number in \[0, 1\), got 1.0"),
        (dict(recurrent_dropout=-0.1), r"recurrent_dropout must be a number in \[0, 1\)"),
        (dict(forget_bias=1.0, bias=False), r"forget_bias needs bias=True"),
        (dict(zoneout=(0.1, 0.2, 0.3)), r"zoneout must be p or \(p_h, p_c\)"),
        (dict(zoneout=1.5), r"zoneout of h must be a number in \[0, 1\), got 1.5"),
        (dict(zoneout=0.1, proj_size=3), r"zoneout keeps elements of h, which proj_size"),
    ],
    ids=[
        "four-activations",
        "one-string",
        "unknown-activation",
        "p-one",
        "p-negative",
        "no-bias",
        "zoneout-triple",
        "zoneout-above-one",
        "zoneout-with-projection",
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lstm_triton.LSTM(4, 9, **kwargs)

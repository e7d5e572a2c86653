"""chrono_init against Tallec & Ollivier 2018's definition: b_f = log(u), u ~ U[1, T_max - 1],
b_i = -b_f, everything else as torch initialises it."""

import math

import pytest
import torch

import lstm_triton

T_MAX = 600


def gate_biases(module, suffix):
    """The summed bias (bias_ih + bias_hh) of the input and forget gates."""
    H = module.hidden_size
    total = getattr(module, f"bias_ih{suffix}") + getattr(module, f"bias_hh{suffix}")
    return total[:H].detach(), total[H : 2 * H].detach()


def test_forget_bias_is_log_of_a_uniform_and_input_bias_its_negative():
    torch.manual_seed(0)
    lstm = lstm_triton.LSTM(3, 2048, num_layers=2, bidirectional=True, chrono_init=T_MAX)
    draws = []
    for suffix in ("_l0", "_l0_reverse", "_l1", "_l1_reverse"):
        input_bias, forget_bias = gate_biases(lstm, suffix)
        torch.testing.assert_close(input_bias, -forget_bias, rtol=0, atol=0)
        H = lstm.hidden_size
        hh = getattr(lstm, f"bias_hh{suffix}")[: 2 * H]
        assert (hh == 0).all(), "bias_hh's input and forget slices are zero"
        u = forget_bias.exp().double()
        assert u.min() >= 1 and u.max() <= T_MAX - 1
        # Kolmogorov-Smirnov distance to U[1, T_max - 1]; 1.63 / sqrt(n) is the 1 % level.
        cdf = (u.sort().values - 1) / (T_MAX - 2)
        ecdf = torch.arange(1, u.numel() + 1, dtype=torch.float64) / u.numel()
        assert (cdf - ecdf).abs().max() < 1.63 / math.sqrt(u.numel()), suffix
        draws.append(u)
    assert not torch.equal(draws[0], draws[1]), "each layer and direction draws its own"


def test_the_rest_is_torch_initialisation():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(4, 9, num_layers=2, proj_size=3)
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(4, 9, num_layers=2, proj_size=3, chrono_init=T_MAX)
    for name, parameter in ours.named_parameters():
        expected = getattr(theirs, name).detach()
        if name.startswith("bias"):
            expected, parameter = expected[18:], parameter[18:]  # gates g and o
        torch.testing.assert_close(parameter.detach(), expected, rtol=0, atol=0, msg=name)


def test_default_is_untouched_and_reset_draws_again():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(4, 9)
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(4, 9)
    assert ours.chrono_init is None and "chrono_init" not in repr(ours)
    for name, parameter in ours.named_parameters():
        torch.testing.assert_close(parameter, getattr(theirs, name), rtol=0, atol=0, msg=name)
    chrono = lstm_triton.LSTM(4, 9, chrono_init=T_MAX)
    assert "chrono_init=600.0" in repr(chrono)
    before = gate_biases(chrono, "_l0")[1].clone()
    chrono.reset_parameters()
    after_input, after_forget = gate_biases(chrono, "_l0")
    assert not torch.equal(before, after_forget)
    torch.testing.assert_close(after_input, -after_forget, rtol=0, atol=0)


def test_cell_and_low_precision_parameters():
    cell = lstm_triton.LSTMCell(4, 512, chrono_init=T_MAX, dtype=torch.bfloat16)
    input_bias, forget_bias = gate_biases(cell, "")
    assert forget_bias.dtype == torch.bfloat16
    torch.testing.assert_close(input_bias, -forget_bias, rtol=0, atol=0)
    u = forget_bias.float().exp()
    # bf16 rounds log(u) to 8 bits of mantissa: u can land up to 2 % past the range.
    assert u.min() >= 1 and u.max() <= (T_MAX - 1) * 1.02 and u.std() > 100


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(chrono_init=2), ValueError, r"must be > 2, got 2"),
        (dict(chrono_init=True), TypeError, r"chrono_init must be a number of steps"),
        (dict(chrono_init="600"), TypeError, r"chrono_init must be a number of steps.*'600'"),
        (dict(chrono_init=600, bias=False), ValueError, r"chrono_init needs bias=True"),
        (dict(chrono_init=600, forget_bias=1.0), ValueError, r"pass forget_bias or chrono_init"),
    ],
    ids=["too-short", "bool", "string", "no-bias", "with-forget-bias"],
)
def test_bad_chrono_init(kwargs, error, message):
    with pytest.raises(error, match=message):
        lstm_triton.LSTM(4, 9, **kwargs)

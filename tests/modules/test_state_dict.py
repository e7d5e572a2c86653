"""state_dicts move between torch.nn and lstm_triton both ways, with the same results."""

import pytest
import torch

import lstm_triton

CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=3, bias=False, batch_first=True),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
@pytest.mark.parametrize("backend", ["reference", "native"])
def test_lstm_state_dict_round_trip(config, backend):
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(5, 37, **config)
    ours = lstm_triton.LSTM(5, 37, **config, backend=backend)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, p.shape) for n, p in theirs.named_parameters()
    ]
    ours.load_state_dict(theirs.state_dict())
    back = torch.nn.LSTM(5, 37, **config)
    back.load_state_dict(ours.state_dict())
    x = torch.randn(3, 7, 5)
    expected = theirs(x)
    for model in (ours, back):
        y, (h_n, c_n) = model(x)
        torch.testing.assert_close(y, expected[0])
        torch.testing.assert_close(h_n, expected[1][0])
        torch.testing.assert_close(c_n, expected[1][1])


def test_cell_state_dict_round_trip():
    theirs = torch.nn.LSTMCell(5, 37)
    ours = lstm_triton.LSTMCell(5, 37, backend="reference")
    ours.load_state_dict(theirs.state_dict())
    back = torch.nn.LSTMCell(5, 37)
    back.load_state_dict(ours.state_dict())
    x = torch.randn(3, 5)
    for got, want in zip(ours(x), theirs(x), strict=True):
        torch.testing.assert_close(got, want)
    for got, want in zip(back(x), theirs(x), strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_same_init_as_torch():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(5, 37, num_layers=2, bidirectional=True)
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(5, 37, num_layers=2, bidirectional=True)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)


def test_module_types_and_repr():
    model = lstm_triton.LSTM(5, 37, backend="reference")
    # An RNNBase in LSTM mode, not an nn.LSTM: torch.compile graph-breaks on nn.LSTM instances.
    assert isinstance(model, torch.nn.RNNBase) and not isinstance(model, torch.nn.LSTM)
    assert model.mode == "LSTM"
    assert "backend='reference'" in repr(model)
    assert isinstance(lstm_triton.LSTMCell(5, 37), torch.nn.LSTMCell)

"""convert / revert swap torch.nn.LSTM and LSTMCell in place, keeping everything else."""

import pytest
import torch
from torch import nn

import lstm_triton


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(4, 5), nn.LSTM(5, 6, num_layers=2, bidirectional=True)
        )
        self.cell = nn.LSTMCell(12, 3)
        self.shared = self.cell

    def forward(self, x):
        y, _ = self.encoder(x)
        return self.cell(y[-1])[0]


def test_convert_and_revert_keep_weights_dtype_mode_and_results(tmp_path):
    torch.manual_seed(0)
    model = Tagger().double().eval()
    model.encoder[1].weight_hh_l0.requires_grad_(False)
    torch.save(model.state_dict(), tmp_path / "tagger.pt")
    restored = Tagger().double().eval()
    restored.load_state_dict(torch.load(tmp_path / "tagger.pt"))
    restored.encoder[1].weight_hh_l0.requires_grad_(False)
    x = torch.randn(7, 3, 4, dtype=torch.float64)
    expected = model(x)

    assert lstm_triton.convert(restored, backend="reference") == 2
    lstm, cell = restored.encoder[1], restored.cell
    assert isinstance(lstm, lstm_triton.LSTM) and isinstance(cell, lstm_triton.LSTMCell)
    assert restored.shared is cell and lstm.backend == "reference"
    assert not lstm.training and lstm.weight_ih_l0.dtype == torch.float64
    assert not lstm.weight_hh_l0.requires_grad and lstm.weight_ih_l0.requires_grad
    assert (lstm.num_layers, lstm.bidirectional) == (2, True)
    torch.testing.assert_close(restored(x), expected)

    assert lstm_triton.revert(restored) == 2
    assert type(restored.encoder[1]) is nn.LSTM and type(restored.cell) is nn.LSTMCell
    for (name, p), (_, q) in zip(
        restored.state_dict().items(), model.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)


def test_convert_finds_nothing_twice():
    model = nn.Sequential(nn.LSTM(3, 4))
    assert lstm_triton.convert(model) == 1
    assert lstm_triton.convert(model) == 0


def test_revert_refuses_options_torch_lacks():
    model = nn.Sequential(lstm_triton.LSTM(3, 4, zoneout=0.1, activations=("sigmoid",) * 5))
    with pytest.raises(ValueError, match=r"cannot revert LSTM with \['activations', 'zoneout'\]"):
        lstm_triton.revert(model)
    assert isinstance(model[0], lstm_triton.LSTM)
    initialised_only = nn.Sequential(lstm_triton.LSTM(3, 4, forget_bias=1.0))
    assert lstm_triton.revert(initialised_only) == 1


@pytest.mark.parametrize("direction", ["convert", "revert"])
def test_a_parametrized_lstm_is_refused_not_skipped(direction):
    make = torch.nn.LSTM if direction == "convert" else lstm_triton.LSTM
    model = torch.nn.Sequential(make(3, 4))
    torch.nn.utils.parametrizations.weight_norm(model[0], "weight_hh_l0")
    with pytest.raises(
        ValueError, match=rf"cannot {direction} an LSTM with parametrized weight_hh_l0"
    ):
        getattr(lstm_triton, direction)(model)

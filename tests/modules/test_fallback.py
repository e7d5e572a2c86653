"""proj_size and PackedSequence run on torch's native LSTM for now, with a one-time warning."""

import warnings

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import lstm_triton
from lstm_triton.modules import backend as backend_module


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(backend_module, "_warned", set())


# torch's own CPU notice that oneDNN has no projection kernel.
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_proj_size_falls_back_with_one_warning():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(5, 8, proj_size=3)
    ours = lstm_triton.LSTM(5, 8, proj_size=3, backend="reference")
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(7, 2, 5)
    with pytest.warns(UserWarning, match=r"proj_size > 0 has no Triton kernel yet"):
        y, (h_n, c_n) = ours(x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours(x)
    assert not [w for w in caught if "lstm_triton" in str(w.message)]
    expected, _ = theirs(x)
    torch.testing.assert_close(y, expected)
    assert h_n.shape == (1, 2, 3) and c_n.shape == (1, 2, 8)


def test_packed_sequence_falls_back_with_one_warning():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(5, 8)
    ours = lstm_triton.LSTM(5, 8, backend="reference")
    ours.load_state_dict(theirs.state_dict())
    packed = pack_padded_sequence(
        torch.randn(7, 3, 5), torch.tensor([7, 4, 2]), enforce_sorted=False
    )
    with pytest.warns(UserWarning, match=r"PackedSequence input has no Triton kernel yet"):
        got, _ = ours(packed)
    expected, _ = theirs(packed)
    torch.testing.assert_close(got.data, expected.data)


def test_native_backend_never_warns():
    ours = lstm_triton.LSTM(5, 8, proj_size=3, backend="native")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours(torch.randn(7, 2, 5))
    assert not [w for w in caught if "lstm_triton" in str(w.message)]

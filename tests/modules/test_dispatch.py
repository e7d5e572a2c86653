"""What backend="auto" picks (ops/dispatch.py): never the kernels where torch's own LSTM can run
the call, until a GPU measurement shows them faster; the kernels or the reference only for the
cells torch lacks."""

import pytest
import torch

from lstm_triton.ops import resolve_backend


@pytest.mark.parametrize("device", ["cuda", "cpu"])
def test_auto_is_torchs_lstm_wherever_torch_runs_the_call(device):
    assert resolve_backend("auto", torch.device(device)) == "native"


@pytest.mark.parametrize("device, picked", [("cuda", "triton"), ("cpu", "reference")])
def test_auto_runs_a_cell_torch_lacks_on_the_kernels_on_cuda(device, picked):
    assert resolve_backend("auto", torch.device(device), custom_cell=True) == picked

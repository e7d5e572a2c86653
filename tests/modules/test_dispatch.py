"""What backend="auto" picks (ops/dispatch.py): never the kernels where torch's own LSTM can run
the call, until a GPU measurement shows them faster; the kernels or the reference only for the
cells torch lacks."""

import pytest
import torch

from lstm_triton.ops import resolve_backend
from lstm_triton.ops.dispatch import TRITON_INSTALLED


@pytest.mark.parametrize("device", ["cuda", "cpu"])
def test_auto_is_torchs_lstm_wherever_torch_runs_the_call(device):
    assert resolve_backend("auto", torch.device(device)) == "native"


@pytest.mark.parametrize("device, picked", [("cuda", "triton"), ("cpu", "reference")])
def test_auto_runs_a_cell_torch_lacks_on_the_kernels_on_cuda(device, picked):
    assert resolve_backend("auto", torch.device(device), custom_cell=True) == picked


@pytest.mark.parametrize(
    "device, custom_cell, picked",
    [("cuda", False, "triton"), ("cpu", False, "native"), ("cpu", True, "reference")],
)
def test_auto_with_resets_runs_them_in_one_call_on_cuda(device, custom_cell, picked):
    """torch's LSTM cannot reset inside a call: on CUDA auto runs the kernels, elsewhere the
    segment loop over torch's LSTM (native) or, for a cell torch lacks, the reference."""
    if device == "cuda" and not TRITON_INSTALLED:
        pytest.skip("the kernels need the triton package")
    chosen = resolve_backend("auto", torch.device(device), custom_cell=custom_cell, resets=True)
    assert chosen == picked

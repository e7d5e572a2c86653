"""Each Triton recurrence launcher against its plain-PyTorch twin in kernels/reference.py."""

import pytest
import torch

from lstm_triton.kernels.lstm_backward import lstm_backward_recurrence
from lstm_triton.kernels.lstm_forward import lstm_forward_recurrence
from lstm_triton.kernels.reference import (
    lstm_backward_recurrence_reference,
    lstm_forward_recurrence_reference,
)

SHAPES = [  # (T, B, H, D)
    (1, 1, 16, 1),
    (7, 3, 37, 2),
    (5, 70, 33, 1),
]
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]


def shape_id(shape):
    T, B, H, D = shape
    return f"T{T}-B{B}-H{H}-D{D}"


def make(shape, dtype, device, with_state, with_lengths=False, seed=0):
    T, B, H, D = shape
    g = torch.Generator().manual_seed(seed)
    cast = {"dtype": dtype, "device": device}
    gates = torch.randn(T, B, D * 4 * H, generator=g).to(**cast)
    w = (torch.randn(D, 4 * H, H, generator=g) / H**0.5).to(**cast)
    c0 = torch.randn(D, B, H, generator=g).to(**cast) if with_state else None
    lengths = None
    if with_lengths:
        lengths = torch.randint(1, T + 1, (B,), generator=g, dtype=torch.int32).to(device)
        lengths[0] = T
    return gates, w, c0, lengths


VARIANTS = {  # id: (with c0, with lengths)
    "zero-state": (False, False),
    "c0": (True, False),
    "lengths": (False, True),
    "c0-lengths": (True, True),
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_forward_and_backward_match_twins(
    shape, dtype, variant, kernel_device, close, poison_empty
):
    if kernel_device.type == "cpu" and dtype == torch.bfloat16:
        pytest.skip("Triton's interpreter multiplies bf16 blocks wrongly (tl.dot); GPU only")
    gates, w, c0, lengths = make(shape, dtype, kernel_device, *VARIANTS[variant])
    gates_ref = gates.clone()
    y, c_seq = lstm_forward_recurrence(gates, w, c0, lengths, keep_cell_states=True)
    y_ref, c_seq_ref = lstm_forward_recurrence_reference(
        gates_ref, w, c0, lengths, keep_cell_states=True
    )
    close(y, y_ref, dtype, "y")
    close(c_seq, c_seq_ref, dtype, "c_seq")
    close(gates, gates_ref, dtype, "activated gates")

    g = torch.Generator().manual_seed(1)
    _, B, H, D = shape
    dy = torch.randn(y.shape, generator=g).to(y)
    dh_n = torch.randn(D, B, H, generator=g).to(y)
    dc_n = torch.randn(D, B, H, generator=g).to(y)
    dz, dc0 = lstm_backward_recurrence(dy, dh_n, dc_n, gates, c_seq, w, c0, lengths)
    dz_ref, dc0_ref = lstm_backward_recurrence_reference(
        dy, dh_n, dc_n, gates_ref, c_seq_ref, w, c0, lengths
    )
    close(dz, dz_ref, dtype, "dgates")
    close(dc0, dc0_ref, dtype, "dc0")


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_inference_keeps_two_cell_slots(shape, with_lengths, kernel_device, poison_empty):
    gates, w, c0, lengths = make(shape, torch.float32, kernel_device, True, with_lengths)
    y_kept, c_kept = lstm_forward_recurrence(gates.clone(), w, c0, lengths, keep_cell_states=True)
    y, c_slots = lstm_forward_recurrence(gates, w, c0, lengths, keep_cell_states=False)
    T = shape[0]
    assert c_slots.shape[0] == 2
    torch.testing.assert_close(y, y_kept, rtol=0, atol=0)
    torch.testing.assert_close(c_slots[(T - 1) % 2], c_kept[T - 1], rtol=0, atol=0)

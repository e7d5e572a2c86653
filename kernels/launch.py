"""Launch settings shared by the LSTM kernels."""

import contextlib

import torch
import triton
from triton import knobs

from lstm_triton.kernels.contract import Cell

INTERPRETED: bool = bool(knobs.runtime.interpret)
"""True when the kernels were built for Triton's CPU interpreter (TRITON_INTERPRET=1 at import)."""


def block_sizes(batch: int, hidden: int) -> tuple[int, int, int]:
    """(BLOCK_B, BLOCK_H, BLOCK_K); tl.dot needs every side >= 16. Portable sizes, not tuned:
    autotuning per H and dtype belongs to the speed work."""
    block_b = min(64, max(16, triton.next_power_of_2(batch)))
    block_h = min(32, max(16, triton.next_power_of_2(hidden)))
    return block_b, block_h, block_h


def check_step_inputs(
    gates: torch.Tensor,
    lengths: torch.Tensor | None,
    cell: Cell,
    H: int,
    resets: torch.Tensor | None = None,
) -> None:
    """What both recurrences index without bounds checks: lengths, resets, peephole and zoneout
    masks contiguous, on the gates' device, of the shapes and dtypes the kernels read."""
    T, B, DG = gates.shape
    D = DG // (4 * H)
    if lengths is not None:
        assert lengths.shape == (B,) and lengths.dtype == torch.int32 and lengths.is_contiguous()
        assert lengths.device == gates.device
    if resets is not None:
        assert D == 1, "resets have no meaning in reverse time"
        assert resets.shape == (T, B) and resets.dtype == torch.bool and resets.is_contiguous()
        assert resets.device == gates.device
    if cell.peephole is not None:
        peephole = cell.peephole
        assert peephole.shape == (D, 3, H) and peephole.is_contiguous()
        assert peephole.dtype == gates.dtype and peephole.device == gates.device
    if cell.zoneout_mode == 1:
        for mask in (cell.zoneout_h, cell.zoneout_c):
            assert mask.shape == (T, B, D, H) and mask.dtype == torch.bool and mask.is_contiguous()
            assert mask.device == gates.device


def direction_stride(w: torch.Tensor, gates: torch.Tensor) -> int:
    """The elements between W's directions, which the kernels take as w_direction_stride: W
    (D, 4H, H) has each direction contiguous, and apart by a stride of its own when it is a
    view of a layer's flat weights, as torch.nn.RNNBase.flatten_parameters lays them out (the
    forward's other weights between the two directions)."""
    D, G, H = w.shape
    assert w.stride()[1:] == (H, 1), f"W's directions must be contiguous, got {w.stride()}"
    assert D == 1 or w.stride(0) >= G * H, f"W's directions overlap: strides {w.stride()}"
    assert w.dtype == gates.dtype and w.device == gates.device
    return w.stride(0)


def zoneout_arguments(cell: Cell, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The kernels' zone_h / zone_c pointers: the masks, or the probabilities as (1,) tensors
    of the accumulator dtype `like` has (a float argument would be fp32), or placeholders."""
    if cell.zoneout_mode == 1:
        return cell.zoneout_h, cell.zoneout_c
    if cell.zoneout_mode == 2:
        return like.new_tensor([cell.zoneout_h]), like.new_tensor([cell.zoneout_c])
    return like, like


def cell_constexprs(cell: Cell) -> dict:
    """The kernels' constexpr flags of a Cell: PEEPHOLE, ZONEOUT and the five activations."""
    act_i, act_f, act_g, act_o, act_c = cell.activations
    return {
        "PEEPHOLE": cell.peephole is not None,
        "ZONEOUT": cell.zoneout_mode,
        "ACT_I": act_i,
        "ACT_F": act_f,
        "ACT_G": act_g,
        "ACT_O": act_o,
        "ACT_C": act_c,
    }


def on_device_of(tensor: torch.Tensor) -> contextlib.AbstractContextManager:
    """Triton launches on the current CUDA device: make it the one the tensors are on."""
    return torch.cuda.device(tensor.device) if tensor.is_cuda else contextlib.nullcontext()

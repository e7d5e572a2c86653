"""The triton backend's op: one LSTM layer, both directions, on the fused kernels.

Forward and backward are torch.library custom ops (with fake implementations and autograd),
so torch.compile(fullgraph=True) keeps the LSTM inside its graph and autograd sees one node
per layer. A backward with create_graph=True differentiates the reference backend instead,
so that second-order gradients exist. Contiguity and dtypes are settled here, once; the
kernels' launchers assert them. The weights come per direction, as the module holds them: the
ops put them in one (D, ...) tensor, a view where they lie in one storage (torch's flat weights,
on CUDA), so a call copies no weights.
"""

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from lstm_triton.kernels.contract import ACTIVATIONS, Cell, accumulator_dtype, activation_codes
from lstm_triton.ops.cell import CellOptions
from lstm_triton.ops.reference import reference_layer

_NO_TENSOR_SHAPE = (0,)  # custom ops return tensors, never None: an empty one stands for it


def _or_empty(tensor: Tensor | None, like: Tensor) -> Tensor:
    return like.new_empty(_NO_TENSOR_SHAPE) if tensor is None else tensor


def _in_one_tensor(per_direction: list[Tensor]) -> Tensor:
    """A layer's one or two per-direction tensors as one (D, ...) tensor, each direction
    contiguous: a view when the reverse lies after the forward in the same storage, as
    torch.nn.RNNBase.flatten_parameters puts a layer's weights on CUDA (with the forward's
    other weights between them); else a copy."""
    first = per_direction[0].contiguous()
    if len(per_direction) == 1:
        return first.unsqueeze(0)
    second = per_direction[1]
    gap = second.storage_offset() - first.storage_offset()
    if (
        second.is_contiguous()
        and second.shape == first.shape
        and second.untyped_storage().data_ptr() == first.untyped_storage().data_ptr()
        and gap >= first.numel()
    ):
        return first.as_strided((2, *first.shape), (gap, *first.stride()), first.storage_offset())
    return torch.stack([first, second.contiguous()])


def _cell(
    peephole: Tensor | None,
    activations: list[int],
    zoneout_masks: list[Tensor],
    zoneout_h: float,
    zoneout_c: float,
) -> Cell:
    """The kernels' Cell from the ops' flat arguments (custom ops take no dataclasses):
    zoneout masks in training, else the probabilities (zero without zoneout)."""
    zoneout = zoneout_masks or (zoneout_h, zoneout_c)
    return Cell(tuple(activations), peephole, *zoneout)


@torch.library.custom_op("lstm_triton::layer_forward", mutates_args=())
def layer_forward(
    x: Tensor,
    w_ih: list[Tensor],
    w_hh: list[Tensor],
    bias: Tensor | None,
    w_hr: list[Tensor],
    h0: Tensor | None,
    c0: Tensor | None,
    lengths: Tensor | None,
    resets: Tensor | None,
    peephole: Tensor | None,
    activations: list[int],
    zoneout_masks: list[Tensor],
    zoneout_h: float,
    zoneout_c: float,
    keep_cache: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """-> y, h_n, c_n, and the backward's cache: gates, c_seq, r (empty without proj_size).
    w_ih, w_hh, w_hr: per direction (w_hr empty without proj_size); bias (D, 4H)."""
    # Imported on first use: Triton fixes interpreter mode when the kernels are imported,
    # and `import lstm_triton` should not import Triton for the other backends.
    from lstm_triton.kernels.lstm_layer import lstm_layer_forward

    cell = _cell(peephole, activations, zoneout_masks, zoneout_h, zoneout_c)
    out = lstm_layer_forward(
        x,
        _in_one_tensor(w_ih),
        _in_one_tensor(w_hh),
        bias,
        _in_one_tensor(w_hr) if w_hr else None,
        h0,
        c0,
        lengths,
        keep_cache=keep_cache,
        cell=cell,
        resets=resets,
    )
    r = out.r if w_hr else None
    return out.y, out.h_n, out.c_n, out.gates, out.c_seq, _or_empty(r, x)


def _cache_layout(
    T: int, B: int, D: int, H: int, projected: bool, keep_cache: bool, dtype: torch.dtype
) -> list[tuple[tuple[int, ...], torch.dtype]]:
    """Shapes and dtypes of layer_forward's cache for the backward: gates, c_seq, r."""
    return [
        ((T, B, D * 4 * H), dtype),
        ((T if keep_cache else 2, B, D, H), accumulator_dtype(dtype)),
        ((T, B, D * H) if projected else _NO_TENSOR_SHAPE, dtype),
    ]


def cache_bytes(
    steps: int, batch: int, num_directions: int, hidden_size: int, projected: bool, dtype
) -> int:
    """Bytes one layer's op keeps for the backward in training (its cache, beyond its inputs
    and outputs): the activated gates (T, B, D*4H) in dtype, the cell states (T, B, D, H) in
    the accumulator dtype and, with proj_size, the unprojected outputs (T, B, D*H) in dtype."""
    layout = _cache_layout(steps, batch, num_directions, hidden_size, projected, True, dtype)
    return sum(math.prod(shape) * element.itemsize for shape, element in layout)


@layer_forward.register_fake
def _layer_forward_fake(x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, resets, *cell_and_keep_cache):
    keep_cache = cell_and_keep_cache[-1]
    T, B, _ = x.shape
    D, (G, P) = len(w_hh), w_hh[0].shape
    H = G // 4
    cache = _cache_layout(T, B, D, H, bool(w_hr), keep_cache, x.dtype)
    return (
        x.new_empty((T, B, D * P)),
        x.new_empty((D, B, P)),
        x.new_empty((D, B, H)),
        *(x.new_empty(shape, dtype=dtype) for shape, dtype in cache),
    )


@torch.library.custom_op("lstm_triton::layer_backward", mutates_args=())
def layer_backward(
    dy: Tensor,
    dh_n: Tensor,
    dc_n: Tensor,
    x: Tensor,
    w_ih: list[Tensor],
    w_hh: list[Tensor],
    w_hr: list[Tensor],
    h0: Tensor | None,
    c0: Tensor | None,
    lengths: Tensor | None,
    resets: Tensor | None,
    y: Tensor,
    gates: Tensor,
    c_seq: Tensor,
    r: Tensor,
    peephole: Tensor | None,
    activations: list[int],
    zoneout_masks: list[Tensor],
    zoneout_h: float,
    zoneout_c: float,
    needs_grad: list[bool],
) -> list[Tensor]:
    """-> grads of x, h0, c0, w_ih, w_hh, bias, w_hr, peephole; empty where needs_grad says
    no (its order: x, h0/c0, w_ih, w_hh, bias, w_hr, peephole)."""
    from lstm_triton.kernels.lstm_layer import LayerForward, lstm_layer_backward

    cache = LayerForward(y, None, None, gates, c_seq, r if w_hr else y)
    grads = lstm_layer_backward(
        dy,
        dh_n,
        dc_n,
        x,
        _in_one_tensor(w_ih),
        _in_one_tensor(w_hh),
        _in_one_tensor(w_hr) if w_hr else None,
        h0,
        c0,
        lengths,
        cache,
        needs_grad=tuple(needs_grad),
        cell=_cell(peephole, activations, zoneout_masks, zoneout_h, zoneout_c),
        resets=resets,
    )
    return [_or_empty(grad, x) for grad in grads]


@layer_backward.register_fake
def _layer_backward_fake(dy, dh_n, dc_n, x, w_ih, w_hh, w_hr, *rest):
    need_x, need_state, need_w_ih, need_w_hh, need_bias, need_w_hr, need_peephole = rest[-1]
    D, (G, P) = len(w_hh), w_hh[0].shape
    shapes = [
        x.shape if need_x else None,
        (D, x.shape[1], P) if need_state else None,
        (D, x.shape[1], G // 4) if need_state else None,
        (D, *w_ih[0].shape) if need_w_ih else None,
        (D, G, P) if need_w_hh else None,
        (D, G) if need_bias else None,
        (D, *w_hr[0].shape) if need_w_hr else None,
        (D, 3, G // 4) if need_peephole else None,
    ]
    return [x.new_empty(shape or _NO_TENSOR_SHAPE) for shape in shapes]


class _Saved(NamedTuple):
    """What layer_forward's autograd keeps: its tensor inputs (the weights per direction), and
    y and the cache from its outputs."""

    x: Tensor
    w_ih: list[Tensor]
    w_hh: list[Tensor]
    bias: Tensor | None  # only for the double backward's recomputation: (D, 4H)
    w_hr: list[Tensor]
    h0: Tensor | None
    c0: Tensor | None
    lengths: Tensor | None
    resets: Tensor | None
    y: Tensor
    gates: Tensor
    c_seq: Tensor
    r: Tensor
    peephole: Tensor | None
    masks: list[Tensor]


def _save_for_backward(ctx, inputs, output):
    x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, resets, peephole, activations, masks, *_ = inputs
    zoneout = inputs[-3:-1]
    y, _, _, gates, c_seq, r = output
    ctx.save_for_backward(
        x, bias, h0, c0, lengths, resets, y, gates, c_seq, r, peephole, *w_ih, *w_hh, *w_hr, *masks
    )
    ctx.activations, ctx.zoneout = activations, zoneout
    ctx.directions, ctx.projected = len(w_hh), bool(w_hr)


def _saved(ctx) -> _Saved:
    x, bias, h0, c0, lengths, resets, y, gates, c_seq, r, peephole, *rest = ctx.saved_tensors
    D = ctx.directions
    w_ih, w_hh, rest = rest[:D], rest[D : 2 * D], rest[2 * D :]
    w_hr, masks = (rest[:D], rest[D:]) if ctx.projected else ([], rest)
    return _Saved(
        x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, resets, y, gates, c_seq, r, peephole, masks
    )


def _per_direction(stacked: Tensor | None, needed: list[bool]) -> list[Tensor | None]:
    """A (D, ...) gradient as the gradients of a list input: one per direction, None where that
    direction's tensor needs none."""
    if stacked is None:
        return [None] * len(needed)
    return [grad if need else None for grad, need in zip(stacked.unbind(0), needed, strict=True)]


def _backward(ctx, dy, dh_n, dc_n, *_cache_grads):
    if torch.is_grad_enabled():
        # create_graph=True (a double backward to come): the kernels' backward has no
        # derivative, the reference's does.
        return _reference_backward(ctx, dy, dh_n, dc_n)
    saved = _saved(ctx)
    # A list input's entry is a list of bools, one per direction.
    need = ctx.needs_input_grad
    need_x, need_w_ih, need_w_hh, need_bias, need_w_hr, need_h0, need_c0 = need[:7]
    need_state = need_h0 or need_c0
    needs = [need_x, need_state, any(need_w_ih), any(need_w_hh), need_bias, any(need_w_hr)]
    needs.append(need[9])
    grads = layer_backward(
        dy.contiguous(),
        dh_n.contiguous(),
        dc_n.contiguous(),
        saved.x,
        saved.w_ih,
        saved.w_hh,
        saved.w_hr,
        saved.h0,
        saved.c0,
        saved.lengths,
        saved.resets,
        saved.y,
        saved.gates,
        saved.c_seq,
        saved.r,
        saved.peephole,
        ctx.activations,
        saved.masks,
        *ctx.zoneout,
        needs,
    )
    grad_needed = [need_x, need_state, *needs[1:]]
    dx, dh0, dc0, dw_ih, dw_hh, db, dw_hr, dpeephole = (
        grad if needed else None for grad, needed in zip(grads, grad_needed, strict=True)
    )
    dw_ih, dw_hh = _per_direction(dw_ih, need_w_ih), _per_direction(dw_hh, need_w_hh)
    dw_hr = _per_direction(dw_hr, need_w_hr)
    return _in_forward_order([dx, dw_ih, dw_hh, db, dw_hr, dh0, dc0, dpeephole], saved.masks)


def _in_forward_order(grads: list[Tensor | None], masks: list[Tensor]) -> tuple:
    """Gradients of x, w_ih, w_hh, bias, w_hr, h0, c0 and peephole as layer_forward's
    backward returns them: in its argument order, None for its other arguments."""
    dx, dw_ih, dw_hh, db, dw_hr, dh0, dc0, dpeephole = grads
    mask_grads = [None] * len(masks)  # a list input takes a list of gradients
    return (
        dx,
        dw_ih,
        dw_hh,
        db,
        dw_hr,
        dh0,
        dc0,
        None,
        None,
        dpeephole,
        None,
        mask_grads,
        None,
        None,
        None,
    )


def _reference_backward(ctx, dy, dh_n, dc_n):
    """_backward's gradients as a graph autograd can differentiate again: the layer recomputed
    by the reference backend (the same equations) from the saved inputs, and differentiated."""
    saved = _saved(ctx)
    weights = []
    for d in range(ctx.directions):
        weights += [saved.w_ih[d], saved.w_hh[d]]
        if saved.bias is not None:  # b_ih + b_hh as b_ih, and a zero b_hh
            weights += [saved.bias[d], torch.zeros_like(saved.bias[d])]
        if saved.w_hr:
            weights.append(saved.w_hr[d])
    cell = CellOptions(
        activations=tuple(ACTIVATIONS[code] for code in ctx.activations),
        peepholes=None if saved.peephole is None else tuple(saved.peephole),
        zoneout_masks=tuple(saved.masks),
        zoneout_probabilities=() if saved.masks else tuple(ctx.zoneout),
    )
    outputs = reference_layer(
        saved.x,
        saved.h0,
        saved.c0,
        weights,
        ctx.directions,
        saved.bias is not None,
        saved.lengths,
        cell,
        saved.resets,
    )
    inputs = [saved.x, saved.w_ih, saved.w_hh, saved.bias, saved.w_hr, saved.h0, saved.c0]
    inputs.append(saved.peephole)
    wanted = [*ctx.needs_input_grad[:7], ctx.needs_input_grad[9]]
    grads = iter(
        torch.autograd.grad(
            outputs,
            [t for t, want in zip(_flat(inputs), _flat(wanted), strict=True) if want],
            (dy, dh_n, dc_n),
            create_graph=True,
            allow_unused=True,
        )
    )
    regrouped = [
        [next(grads) if one else None for one in want]
        if isinstance(want, list)
        else (next(grads) if want else None)
        for want in wanted
    ]
    return _in_forward_order(regrouped, saved.masks)


def _flat(items: list) -> list:
    """items with each list entry (a per-direction input, or its needs) spliced in."""
    return [leaf for item in items for leaf in (item if isinstance(item, list) else [item])]


layer_forward.register_autograd(_backward, setup_context=_save_for_backward)


def triton_layer(
    x: Tensor,
    h0: Tensor | None,
    c0: Tensor | None,
    weights: Sequence[Tensor],
    num_directions: int,
    has_bias: bool,
    lengths: Tensor | None,
    cell: CellOptions,
    resets: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """One layer on the kernels: x (T, B, I) -> y (T, B, D*P), h_n (D, B, P), c_n (D, B, H).

    weights are torch.nn.LSTM's per direction: w_ih, w_hh[, b_ih, b_hh][, w_hr]; lengths (B,)
    int32 on x's device, or None; cell: this layer's options (ops.cell); resets (T, B) bool on
    x's device, or None (one direction).
    """
    tensors = [x, h0, c0, *weights, *(cell.peepholes or ())]
    # torch cannot apply torch.func's transforms to a custom op with register_autograd
    # (pytorch/pytorch#168393) nor vmap to one without a batching rule, and says so in terms
    # of autograd.Function. Eager only: dynamo cannot trace the check.
    if not torch.compiler.is_compiling() and any(
        torch._C._functorch.is_functorch_wrapped_tensor(t) for t in tensors if t is not None
    ):
        raise ValueError(
            "backend='triton' cannot run inside torch.func transforms (grad, vmap, jacrev, "
            "...), got its inputs from one: torch cannot apply them to the kernels' custom op "
            "yet (pytorch/pytorch#168393). Inside them use backend='reference'; or instead use "
            "torch.func.functional_call with torch.autograd.grad (create_graph=True for second "
            "order)"
        )
    per_direction = len(weights) // num_directions
    by_direction = [
        weights[d * per_direction : (d + 1) * per_direction] for d in range(num_directions)
    ]
    w_ih = [w[0] for w in by_direction]
    w_hh = [w[1] for w in by_direction]
    bias = torch.stack([w[2] + w[3] for w in by_direction]) if has_bias else None
    has_proj = per_direction in (3, 5)
    w_hr = [w[-1] for w in by_direction] if has_proj else []
    peephole = None if cell.peepholes is None else torch.stack(list(cell.peepholes))
    if h0 is not None and resets is not None:
        # The kernels start a reset at t = 0 from the h0 and c0 they are given; zeroed here,
        # autograd stops their gradient in those rows.
        fresh = resets[0].view(1, -1, 1)
        h0, c0 = torch.where(fresh, 0.0, h0), torch.where(fresh, 0.0, c0)
    if h0 is not None:
        h0, c0 = h0.contiguous(), c0.contiguous()
    x = x.contiguous()
    keep_cache = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, *w_ih, *w_hh, bias, *w_hr, h0, c0, peephole)
    )
    y, h_n, c_n, *_ = layer_forward(
        x,
        w_ih,
        w_hh,
        bias,
        w_hr,
        h0,
        c0,
        lengths,
        resets,
        peephole,
        list(activation_codes(cell.activations)),
        list(cell.zoneout_masks),
        *(cell.zoneout_probabilities or (0.0, 0.0)),
        keep_cache,
    )
    return y, h_n, c_n

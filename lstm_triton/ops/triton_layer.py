"""The triton backend's autograd op: one LSTM layer, both directions, on the fused kernels."""

from collections.abc import Sequence

import torch
from torch.autograd.function import once_differentiable


def _stacked(weights: Sequence[torch.Tensor], start: int, step: int) -> torch.Tensor:
    """Weights of every direction as one (D, ...) tensor; a view when there is one direction."""
    picked = weights[start::step]
    return picked[0].unsqueeze(0) if len(picked) == 1 else torch.stack(picked)


class TritonLSTMLayer(torch.autograd.Function):
    """forward(x (T, B, I), h0, c0 (D, B, H) or None, D, has_bias, *weights) -> y, h_n, c_n.

    weights are torch.nn.LSTM's per direction: w_ih, w_hh[, b_ih, b_hh].
    """

    @staticmethod
    def forward(ctx, x, h0, c0, num_directions, has_bias, *weights):
        # Imported on first use: Triton fixes interpreter mode when the kernels are imported,
        # and `import lstm_triton` should not import Triton for the other backends.
        from lstm_triton.kernels.lstm_layer import lstm_layer_forward

        per_direction = 4 if has_bias else 2
        w_ih = _stacked(weights, 0, per_direction).contiguous()
        w_hh = _stacked(weights, 1, per_direction).contiguous()
        bias = None
        if has_bias:
            bias = _stacked(weights, 2, per_direction) + _stacked(weights, 3, per_direction)
        fwd = lstm_layer_forward(x, w_ih, w_hh, bias, h0, c0, keep_cache=any(ctx.needs_input_grad))
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, fwd.y, fwd.gates, fwd.c_seq)
        ctx.has_bias = has_bias
        return fwd.y, fwd.h_n, fwd.c_n

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dh_n, dc_n):
        from lstm_triton.kernels.lstm_layer import LayerForward, lstm_layer_backward

        x, h0, c0, w_ih, w_hh, y, gates, c_seq = ctx.saved_tensors
        need = ctx.needs_input_grad
        per_direction = 4 if ctx.has_bias else 2
        weight_needs = need[5:]
        grads = lstm_layer_backward(
            dy.contiguous(),
            dh_n.contiguous(),
            dc_n.contiguous(),
            x,
            w_ih,
            w_hh,
            h0,
            c0,
            LayerForward(y, None, None, gates, c_seq),
            needs_grad=(
                need[0],
                need[1] or need[2],
                any(weight_needs[0::per_direction]),
                any(weight_needs[1::per_direction]),
                ctx.has_bias
                and any(weight_needs[2::per_direction] + weight_needs[3::per_direction]),
            ),
        )
        weight_grads = []
        for d in range(w_hh.shape[0]):
            weight_grads += [_pick(grads.w_ih, d), _pick(grads.w_hh, d)]
            if ctx.has_bias:
                weight_grads += [_pick(grads.bias, d)] * 2
        return grads.x, grads.h0, grads.c0, None, None, *weight_grads


def _pick(grad: torch.Tensor | None, direction: int) -> torch.Tensor | None:
    return None if grad is None else grad[direction]


def triton_layer(
    x: torch.Tensor,
    h0: torch.Tensor | None,
    c0: torch.Tensor | None,
    weights: Sequence[torch.Tensor],
    num_directions: int,
    has_bias: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One layer on the kernels: x (T, B, I) -> y (T, B, D*H), h_n, c_n (D, B, H)."""
    if h0 is not None:
        h0, c0 = h0.contiguous(), c0.contiguous()
    return TritonLSTMLayer.apply(x.contiguous(), h0, c0, num_directions, has_bias, *weights)

"""One LSTM layer (one or two directions): the GEMMs around the fused recurrences.

Forward:  P = x W_ih^T + (b_ih + b_hh) for all T*B rows and both directions as one GEMM, then
          lstm_forward_recurrence.
Backward: lstm_backward_recurrence gives dz (T, B, D*4H); then, with no atomics,
          dx = dz W_ih (one GEMM over both directions), dW_ih = dz^T x, db = sum over T*B of dz,
          dW_hh[d] = sum_t dz_t^T h_prev_t (two GEMMs per direction: the steps whose h_prev is
          a row of y, and the first step whose h_prev is h0), dh0[d] = dz_first W_hh[d].

Shapes: x (T, B, I), w_ih (D, 4H, I), w_hh (D, 4H, H), bias (D, 4H) = b_ih + b_hh or None,
h0/c0 (D, B, H) or None, y (T, B, D*H). Everything contiguous, one dtype; the op settles that.
"""

from typing import NamedTuple

import torch

from lstm_triton.kernels.lstm_backward import lstm_backward_recurrence
from lstm_triton.kernels.lstm_forward import lstm_forward_recurrence


class LayerForward(NamedTuple):
    y: torch.Tensor  # (T, B, D*H)
    h_n: torch.Tensor  # (D, B, H)
    c_n: torch.Tensor  # (D, B, H), input dtype
    gates: torch.Tensor  # (T, B, D*4H) activated gates, the backward's cache
    c_seq: torch.Tensor  # (T or 2, B, D, H) cell states in step order, accumulator dtype


class LayerGrads(NamedTuple):
    x: torch.Tensor | None  # (T, B, I)
    h0: torch.Tensor | None  # (D, B, H)
    c0: torch.Tensor | None  # (D, B, H)
    w_ih: torch.Tensor | None  # (D, 4H, I)
    w_hh: torch.Tensor | None  # (D, 4H, H)
    bias: torch.Tensor | None  # (D, 4H), the gradient of b_ih and of b_hh alike


def _last_time(direction: int, steps: int) -> int:
    return steps - 1 if direction == 0 else 0


def lstm_layer_forward(
    x: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    bias: torch.Tensor | None,
    h0: torch.Tensor | None,
    c0: torch.Tensor | None,
    *,
    keep_cache: bool,
) -> LayerForward:
    """Run one layer; keep_cache=False (inference) keeps two cell-state slots instead of T."""
    T, B, I = x.shape
    D, G, H = w_hh.shape
    assert x.is_contiguous() and w_ih.is_contiguous() and w_ih.shape == (D, G, I)
    x2d, w2d = x.view(T * B, I), w_ih.view(D * G, I)
    if bias is None:
        gates = torch.mm(x2d, w2d.t())
    else:
        gates = torch.addmm(bias.reshape(D * G), x2d, w2d.t())
    gates = gates.view(T, B, D * G)
    y, c_seq = lstm_forward_recurrence(gates, w_hh, h0, c0, keep_cell_states=keep_cache)
    h_n = torch.stack([y[_last_time(d, T), :, d * H : (d + 1) * H] for d in range(D)])
    c_n = c_seq[(T - 1) % c_seq.shape[0]].transpose(0, 1)
    c_n = c_n.to(dtype=x.dtype, memory_format=torch.contiguous_format, copy=True)
    return LayerForward(y, h_n, c_n, gates, c_seq)


def lstm_layer_backward(
    dy: torch.Tensor,
    dh_n: torch.Tensor,
    dc_n: torch.Tensor,
    x: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    h0: torch.Tensor | None,
    c0: torch.Tensor | None,
    fwd: LayerForward,
    *,
    needs_grad: tuple[bool, bool, bool, bool, bool],
) -> LayerGrads:
    """Gradients of one layer; needs_grad says which of (x, h0/c0, w_ih, w_hh, bias) to make."""
    need_x, need_state, need_w_ih, need_w_hh, need_bias = needs_grad
    T, B, I = x.shape
    D, G, H = w_hh.shape
    dz, dc0 = lstm_backward_recurrence(dy, dh_n, dc_n, fwd.gates, fwd.c_seq, w_hh, c0)
    dz2d = dz.view(T * B, D * G)

    dx = torch.mm(dz2d, w_ih.view(D * G, I)).view(T, B, I) if need_x else None
    dw_ih = torch.mm(dz2d.t(), x.view(T * B, I)).view(D, G, I) if need_w_ih else None
    db = None
    if need_bias:
        db = dz2d.sum(0, dtype=fwd.c_seq.dtype).to(dz.dtype).view(D, G)

    first_dz = [dz[T - 1 - _last_time(d, T), :, d * G : (d + 1) * G] for d in range(D)]
    dh0 = dc0_out = None
    if need_state:
        dh0 = torch.bmm(torch.stack(first_dz), w_hh)
        dc0_out = dc0.to(dz.dtype)

    dw_hh = None
    if need_w_hh:
        dw_hh = torch.empty_like(w_hh)
        for d in range(D):
            # h_prev of time t is y at t-1 (forward) or t+1 (reverse); the first step's is h0.
            if d == 0:
                later, earlier = slice(1, None), slice(None, -1)
            else:
                later, earlier = slice(None, -1), slice(1, None)
            dz_d = dz[later, :, d * G : (d + 1) * G].reshape(-1, G)
            y_d = fwd.y[earlier, :, d * H : (d + 1) * H].reshape(-1, H)
            if h0 is None:
                torch.mm(dz_d.t(), y_d, out=dw_hh[d])
            else:
                torch.addmm(first_dz[d].t() @ h0[d], dz_d.t(), y_d, out=dw_hh[d])
    return LayerGrads(dx, dh0, dc0_out, dw_ih, dw_hh, db)

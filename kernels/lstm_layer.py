"""One LSTM layer (one or two directions): the GEMMs around the fused recurrences.

Forward:
    P = x W_ih^T + (b_ih + b_hh) for all T*B rows, one GEMM per direction;
    h0 W_hh^T added to the gates of each row's first step (time 0 forward; T-1, or
    lengths[b]-1, reverse), so the kernels read h0 only for zoneout's blend;
    W = W_hh, or W_hh W_hr with proj_size (see lstm_forward);
    r = lstm_forward_recurrence; y = r, or r W_hr^T with proj_size (one GEMM).
Backward, with no atomics:
    dr = dy (or dy W_hr), dr_n = dh_n (or dh_n W_hr); dz = lstm_backward_recurrence;
    dx = dz W_ih (a GEMM per direction, the second adding to the first), dW_ih = dz^T x
        (one GEMM over both directions), db = sum of dz over T*B;
    dW_hh[d] = sum_t dz_t^T h_prev_t: the steps whose h_prev is a row of y (one GEMM) plus each
        row's first step, whose h_prev is h0; dh0[d] = dz_first W_hh[d] (+ the part zoneout
        kept, from the recurrence);
    dW_hr[d] = sum_t dh_t^T r_t with dh_t = dy_t + dz_next W_hh[d] (+ dh_n at the last step);
    peephole gradients: sums over T*B of dz_i c_prev, dz_f c_prev, dz_o c~ (the cell before
        zoneout's blend).
With resets (T, B) (one direction): a row that resets at step t has h_prev = c_prev = 0 there,
so the sums above skip its (t, b) terms of h_prev and c_prev, and dz_t W_hh does not reach
h_{t-1}. At t = 0 the caller passes h0 and c0 zeroed in those rows.

Shapes (P = proj_size or H): x (T, B, I), w_ih (D, 4H, I), w_hh (D, 4H, P), bias (D, 4H) =
b_ih + b_hh or None, w_hr (D, P, H) or None, h0 (D, B, P), c0 (D, B, H), lengths (B,) int32 on
the device or None, y (T, B, D*P); in the Cell: peephole (D, 3, H) or None, zoneout masks
(T, B, D, H) bool or the probabilities, activations (codes). Everything contiguous but the
weights, whose directions may lie apart (views of torch's flat weights, each direction
contiguous, with a stride of their own between them); every float tensor of one dtype: the op
settles that.
"""

from typing import NamedTuple

import torch

from lstm_triton.kernels.contract import TORCH_CELL, Cell
from lstm_triton.kernels.lstm_backward import lstm_backward_recurrence
from lstm_triton.kernels.lstm_forward import lstm_forward_recurrence


class LayerForward(NamedTuple):
    y: torch.Tensor  # (T, B, D*P)
    h_n: torch.Tensor  # (D, B, P)
    c_n: torch.Tensor  # (D, B, H), input dtype
    gates: torch.Tensor  # (T, B, D*4H) activated gates, the backward's cache
    c_seq: torch.Tensor  # (T or 2, B, D, H) cell states in step order, accumulator dtype
    r: torch.Tensor  # (T, B, D*H) the unprojected output with proj_size, else y itself


class LayerGrads(NamedTuple):
    x: torch.Tensor | None  # (T, B, I)
    h0: torch.Tensor | None  # (D, B, P)
    c0: torch.Tensor | None  # (D, B, H)
    w_ih: torch.Tensor | None  # (D, 4H, I)
    w_hh: torch.Tensor | None  # (D, 4H, P)
    bias: torch.Tensor | None  # (D, 4H), the gradient of b_ih and of b_hh alike
    w_hr: torch.Tensor | None  # (D, P, H)
    peephole: torch.Tensor | None  # (D, 3, H)


def _first_time(direction: int, steps: int, lengths: torch.Tensor | None):
    """Time of each row's first step: an int, or a (B,) index with lengths in reverse."""
    if direction == 0:
        return 0
    return steps - 1 if lengths is None else lengths.long() - 1


def _last_time(direction: int, steps: int, lengths: torch.Tensor | None):
    if direction == 1:
        return 0
    return steps - 1 if lengths is None else lengths.long() - 1


def _rows_at(seq: torch.Tensor, time) -> tuple:
    """Index of seq (T, B, ...) picking, for every row b, time `time` (int or (B,) index);
    each row once, so `seq[index] += value` adds without collisions."""
    if isinstance(time, int):
        return (time,)
    return (time, torch.arange(seq.shape[1], device=seq.device))


def _direction(seq: torch.Tensor, d: int, width: int) -> torch.Tensor:
    return seq[..., d * width : (d + 1) * width]


def _project(r: torch.Tensor, w_hr: torch.Tensor) -> torch.Tensor:
    """r (T, B, D*H) -> r W_hr^T per direction (T, B, D*P); w_hr (D, P, H)."""
    T, B, _ = r.shape
    D, P, H = w_hr.shape
    return torch.einsum("ndh,dph->ndp", r.view(T * B, D, H), w_hr).reshape(T, B, D * P)


def _unproject(dy: torch.Tensor, w_hr: torch.Tensor) -> torch.Tensor:
    """dy (T, B, D*P) -> dy W_hr per direction (T, B, D*H); w_hr (D, P, H)."""
    T, B, _ = dy.shape
    D, P, H = w_hr.shape
    return torch.einsum("ndp,dph->ndh", dy.view(T * B, D, P), w_hr).reshape(T, B, D * H)


def _unless_reset(seq: torch.Tensor, resets: torch.Tensor | None) -> torch.Tensor:
    """seq (T, B, ...) of values entering each step, zero where the step resets the row."""
    if resets is None:
        return seq
    return torch.where(resets.view(*resets.shape, *(1,) * (seq.dim() - 2)), 0, seq)


def _recurrent_weight(w_hh: torch.Tensor, w_hr: torch.Tensor | None) -> torch.Tensor:
    return w_hh if w_hr is None else torch.bmm(w_hh, w_hr)


def lstm_layer_forward(
    x: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    bias: torch.Tensor | None,
    w_hr: torch.Tensor | None,
    h0: torch.Tensor | None,
    c0: torch.Tensor | None,
    lengths: torch.Tensor | None,
    *,
    keep_cache: bool,
    cell: Cell = TORCH_CELL,
    resets: torch.Tensor | None = None,
) -> LayerForward:
    """Run one layer; keep_cache=False (inference) keeps two cell-state slots instead of T."""
    T, B, I = x.shape
    D, G, P = w_hh.shape
    assert x.is_contiguous() and w_ih.shape == (D, G, I) and w_ih.stride()[1:] == (I, 1)
    x2d = x.view(T * B, I)
    gates = x.new_empty((T, B, D * G))
    for d in range(D):
        # Written in place: the GEMM's output rows are D*G apart.
        out = _direction(gates.view(T * B, D * G), d, G)
        if bias is None:
            torch.mm(x2d, w_ih[d].t(), out=out)
        else:
            torch.addmm(bias[d], x2d, w_ih[d].t(), out=out)
    if h0 is not None:
        h0_part = torch.bmm(h0, w_hh.transpose(1, 2))
        for d in range(D):
            _direction(gates, d, G)[_rows_at(gates, _first_time(d, T, lengths))] += h0_part[d]

    w = _recurrent_weight(w_hh, w_hr)
    h0_kept = h0 if cell.zoneout_mode else None
    r, c_seq = lstm_forward_recurrence(
        gates, w, h0_kept, c0, lengths, keep_cell_states=keep_cache, cell=cell, resets=resets
    )
    y = r if w_hr is None else _project(r, w_hr)
    h_n = torch.stack(
        [_direction(y, d, P)[_rows_at(y, _last_time(d, T, lengths))] for d in range(D)]
    )
    c_n = c_seq[(T - 1) % c_seq.shape[0]].transpose(0, 1)
    c_n = c_n.to(dtype=x.dtype, memory_format=torch.contiguous_format, copy=True)
    return LayerForward(y, h_n, c_n, gates, c_seq, r)


def lstm_layer_backward(
    dy: torch.Tensor,
    dh_n: torch.Tensor,
    dc_n: torch.Tensor,
    x: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    w_hr: torch.Tensor | None,
    h0: torch.Tensor | None,
    c0: torch.Tensor | None,
    lengths: torch.Tensor | None,
    fwd: LayerForward,
    *,
    needs_grad: tuple[bool, bool, bool, bool, bool, bool, bool],
    cell: Cell = TORCH_CELL,
    resets: torch.Tensor | None = None,
) -> LayerGrads:
    """Gradients of one layer; needs_grad says which of (x, h0/c0, w_ih, w_hh, bias, w_hr,
    peephole) to make."""
    need_x, need_state, need_w_ih, need_w_hh, need_bias, need_w_hr, need_peephole = needs_grad
    T, B, I = x.shape
    D, G, P = w_hh.shape
    if w_hr is None:
        dr, dr_n = dy, dh_n
    else:
        dr = _unproject(dy, w_hr)
        dr_n = torch.bmm(dh_n, w_hr)
    w = _recurrent_weight(w_hh, w_hr)
    dz, dc0, dh0_kept = lstm_backward_recurrence(
        dr, dr_n, dc_n, fwd.gates, fwd.c_seq, w, c0, lengths, cell=cell, resets=resets
    )
    dz2d = dz.view(T * B, D * G)

    dx = None
    if need_x:
        dx = torch.mm(_direction(dz2d, 0, G), w_ih[0])
        for d in range(1, D):
            dx.addmm_(_direction(dz2d, d, G), w_ih[d])
        dx = dx.view(T, B, I)
    dw_ih = torch.mm(dz2d.t(), x.view(T * B, I)).view(D, G, I) if need_w_ih else None
    db = None
    if need_bias:
        db = dz2d.sum(0, dtype=fwd.c_seq.dtype).to(dz.dtype).view(D, G)

    first_dz = torch.stack(
        [_direction(dz, d, G)[_rows_at(dz, _first_time(d, T, lengths))] for d in range(D)]
    )
    dh0 = dc0_out = None
    if need_state:
        dh0 = torch.bmm(first_dz, w_hh)
        if cell.zoneout_mode:
            dh0 += dh0_kept.to(dz.dtype)
        dc0_out = dc0.to(dz.dtype)

    dw_hh = torch.empty_like(w_hh) if need_w_hh else None
    dw_hr = torch.empty_like(w_hr) if need_w_hr else None
    for d in range(D):
        # h_prev of time t is y at t-1 (forward) or t+1 (reverse); a row's first step has h0.
        if d == 0:
            later, earlier = slice(1, None), slice(None, -1)
        else:
            later, earlier = slice(None, -1), slice(1, None)
        dz_d, y_d = _direction(dz, d, G), _direction(fwd.y, d, P)
        later_resets = None if resets is None else resets[later]
        if need_w_hh:
            y_earlier = _unless_reset(y_d[earlier], later_resets).reshape(-1, P)
            dz_later = dz_d[later].reshape(-1, G)
            if h0 is None:
                torch.mm(dz_later.t(), y_earlier, out=dw_hh[d])
            else:
                torch.addmm(first_dz[d].t() @ h0[d], dz_later.t(), y_earlier, out=dw_hh[d])
        if need_w_hr:
            dh = _direction(dy, d, P).clone()
            dh[earlier] += _unless_reset(dz_d[later], later_resets) @ w_hh[d]
            dh[_rows_at(dh, _last_time(d, T, lengths))] += dh_n[d]
            r_d = _direction(fwd.r, d, w_hr.shape[2])
            torch.mm(dh.reshape(-1, P).t(), r_d.reshape(-1, w_hr.shape[2]), out=dw_hr[d])
    dpeephole = None
    if need_peephole:
        dpeephole = _peephole_grad(dz, fwd, c0, resets, zoneout=cell.zoneout_mode > 0)
    return LayerGrads(dx, dh0, dc0_out, dw_ih, dw_hh, db, dw_hr, dpeephole)


def _peephole_grad(
    dz: torch.Tensor,
    fwd: LayerForward,
    c0: torch.Tensor | None,
    resets: torch.Tensor | None,
    *,
    zoneout: bool,
) -> torch.Tensor:
    """Sums over T*B of dz_i c_prev, dz_f c_prev, dz_o c_new per direction -> (D, 3, H).

    c_seq is in step order: c_prev of step s is step s-1's (c0 at s = 0, and the carried c0
    before a reverse row's first valid step, where dz is zero anyway). c_new is the step's
    own cell, c_seq's entry unless zoneout blended it with c_prev: then f c_prev + i g."""
    c_seq = fwd.c_seq
    _, _, D, H = c_seq.shape
    first = torch.zeros_like(c_seq[:1]) if c0 is None else c0.transpose(0, 1).unsqueeze(0)
    c_prev = _unless_reset(torch.cat([first.to(c_seq.dtype), c_seq[:-1]]), resets)
    grads = []
    for d in range(D):
        dz_steps = _direction(dz, d, 4 * H).to(c_seq.dtype)
        gates = _direction(fwd.gates, d, 4 * H).to(c_seq.dtype)
        if d == 1:
            dz_steps, gates = dz_steps.flip(0), gates.flip(0)
        di, df, _, do = dz_steps.split(H, dim=-1)
        c_new = c_seq[:, :, d]
        if zoneout:
            i, f, g, _ = gates.split(H, dim=-1)
            c_new = f * c_prev[:, :, d] + i * g
        grads.append(
            torch.stack(
                [
                    (di * c_prev[:, :, d]).sum((0, 1)),
                    (df * c_prev[:, :, d]).sum((0, 1)),
                    (do * c_new).sum((0, 1)),
                ]
            )
        )
    return torch.stack(grads).to(dz.dtype)

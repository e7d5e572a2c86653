"""Plain-PyTorch twins of the recurrence launchers: same arguments, same results, same caches.

Tests hold each Triton launcher against its twin here; the equations, the handling of lengths
and zoneout and the tensor layouts are in lstm_forward.py and lstm_backward.py.
"""

import torch

from lstm_triton.kernels.contract import (
    ACTIVATIONS,
    TORCH_ACTIVATIONS,
    TORCH_CELL,
    Cell,
    accumulator_dtype,
)


def _activate(x: torch.Tensor, code: int) -> torch.Tensor:
    return TORCH_ACTIVATIONS[ACTIVATIONS[code]](x)


def _slope(y: torch.Tensor, code: int) -> torch.Tensor:
    """d activation / dx from the output y (lstm_backward's convention)."""
    name = ACTIVATIONS[code]
    if name == "sigmoid":
        return y * (1 - y)
    if name == "hard_sigmoid":
        return ((y > 0) & (y < 1)).to(y.dtype) / 6
    if name == "tanh":
        return 1 - y * y
    if name == "relu":
        return (y > 0).to(y.dtype)
    return torch.ones_like(y)


def _time(direction: int, step: int, steps: int) -> int:
    return step if direction == 0 else steps - 1 - step


def _valid(lengths: torch.Tensor | None, t: int, batch: int, device) -> torch.Tensor:
    """(B, 1) bool: which rows have a real step at time t."""
    if lengths is None:
        return torch.ones(batch, 1, dtype=torch.bool, device=device)
    return (t < lengths).view(batch, 1)


def _fresh(resets: torch.Tensor | None, t: int, valid: torch.Tensor) -> torch.Tensor:
    """(B, 1) bool: which rows start their valid step t from a zero state."""
    if resets is None:
        return torch.zeros_like(valid)
    return resets[t].view(-1, 1) & valid


def _peepholes(cell: Cell, d: int, acc: torch.dtype):
    return (0.0, 0.0, 0.0) if cell.peephole is None else cell.peephole[d].to(acc)


def _kept(cell: Cell, t: int, d: int, acc: torch.dtype) -> tuple:
    """The fractions of h and c that step t keeps (zoneout), as (B, H) tensors or floats."""
    if cell.zoneout_mode == 1:
        return cell.zoneout_h[t, :, d].to(acc), cell.zoneout_c[t, :, d].to(acc)
    return float(cell.zoneout_h), float(cell.zoneout_c)


def lstm_forward_recurrence_reference(
    gates: torch.Tensor,
    w: torch.Tensor,
    h0: torch.Tensor | None,
    c0: torch.Tensor | None,
    lengths: torch.Tensor | None,
    *,
    keep_cell_states: bool,
    cell: Cell = TORCH_CELL,
    resets: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Twin of lstm_forward.lstm_forward_recurrence."""
    T, B, _ = gates.shape
    D, G, H = w.shape
    acc = accumulator_dtype(gates.dtype)
    act_i, act_f, act_g, act_o, act_c = cell.activations
    y = torch.empty((T, B, D * H), dtype=gates.dtype, device=gates.device)
    slots = T if keep_cell_states else 2
    c_seq = torch.empty((slots, B, D, H), dtype=acc, device=gates.device)
    for d in range(D):
        p_i, p_f, p_o = _peepholes(cell, d, acc)
        zeros = torch.zeros(B, H, dtype=acc, device=gates.device)
        state_h = zeros if h0 is None else h0[d].to(acc)
        r = torch.zeros(B, H, dtype=gates.dtype, device=gates.device)  # the previous output
        c = zeros if c0 is None else c0[d].to(acc)
        for s in range(T):
            t = _time(d, s, T)
            valid = _valid(lengths, t, B, gates.device)
            fresh = _fresh(resets, t, valid)
            c, r = torch.where(fresh, 0.0, c), torch.where(fresh, 0.0, r)
            # A row's first step: s = 0, or in reverse the step before which it was padding.
            first = torch.full((B, 1), s == 0, device=gates.device)
            if d == 1 and lengths is not None:
                first = first | ~_valid(lengths, t + 1, B, gates.device)
            z = gates[t, :, d * G : (d + 1) * G].to(acc) + r.to(acc) @ w[d].to(acc).t()
            zi, zf, zg, zo = z.chunk(4, dim=1)
            i, f = _activate(zi + p_i * c, act_i), _activate(zf + p_f * c, act_f)
            g = _activate(zg, act_g)
            c_new = f * c + i * g
            o = _activate(zo + p_o * c_new, act_o)
            h_new = o * _activate(c_new, act_c)
            keep_h, keep_c = _kept(cell, t, d, acc)
            h_prev = torch.where(first, state_h, r.to(acc))
            c_new = keep_c * c + (1 - keep_c) * c_new
            h_new = keep_h * h_prev + (1 - keep_h) * h_new
            c = torch.where(valid, c_new, c)
            r = torch.where(valid, h_new, 0.0).to(gates.dtype)
            activated = torch.cat([i, f, g, o], dim=1).to(gates.dtype)
            gates[t, :, d * G : (d + 1) * G] = torch.where(
                valid, activated, gates[t, :, d * G : (d + 1) * G]
            )
            c_seq[s % slots, :, d] = c
            y[t, :, d * H : (d + 1) * H] = r
    return y, c_seq


def lstm_backward_recurrence_reference(
    dy: torch.Tensor,
    dh_n: torch.Tensor,
    dc_n: torch.Tensor,
    gates: torch.Tensor,
    c_seq: torch.Tensor,
    w: torch.Tensor,
    c0: torch.Tensor | None,
    lengths: torch.Tensor | None,
    *,
    cell: Cell = TORCH_CELL,
    resets: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Twin of lstm_backward.lstm_backward_recurrence."""
    T, B, _ = gates.shape
    D, G, H = w.shape
    acc = c_seq.dtype
    act_i, act_f, act_g, act_o, act_c = cell.activations
    dgates = torch.empty_like(gates)
    dc0 = torch.empty((D, B, H), dtype=acc, device=gates.device)
    dh_kept = torch.empty((D, B, H), dtype=acc, device=gates.device)
    for d in range(D):
        p_i, p_f, p_o = _peepholes(cell, d, acc)
        dr_next = torch.zeros(B, H, dtype=acc, device=gates.device)
        kept = torch.zeros(B, H, dtype=acc, device=gates.device)
        dc = dc_n[d].to(acc)
        for s in reversed(range(T)):
            t = _time(d, s, T)
            valid = _valid(lengths, t, B, gates.device)
            fresh = _fresh(resets, t, valid)
            last = (t == (lengths - 1) * (1 - d)).view(B, 1) if lengths is not None else s == T - 1
            dh = dr_next + torch.where(valid, dy[t, :, d * H : (d + 1) * H].to(acc) + kept, 0.0)
            dh = dh + torch.where(valid & last, dh_n[d].to(acc), 0.0)
            i, f, g, o = gates[t, :, d * G : (d + 1) * G].to(acc).chunk(4, dim=1)
            if s > 0:
                c_prev = c_seq[s - 1, :, d]
            elif c0 is not None:
                c_prev = c0[d].to(acc)
            else:
                c_prev = torch.zeros_like(dc)
            c_prev = torch.where(fresh, 0.0, c_prev)
            keep_h, keep_c = _kept(cell, t, d, acc)
            kept = torch.where(valid, torch.where(fresh, 0.0, keep_h * dh), kept)
            dr = (1 - keep_h) * dh
            c_new = f * c_prev + i * g if cell.zoneout_mode else c_seq[s, :, d]
            tc = _activate(c_new, act_c)
            do = dr * tc * _slope(o, act_o)
            dc_new = (1 - keep_c) * dc + dr * o * _slope(tc, act_c) + do * p_o
            di = dc_new * g * _slope(i, act_i)
            df = dc_new * c_prev * _slope(f, act_f)
            dg = dc_new * i * _slope(g, act_g)
            dz = torch.where(valid, torch.cat([di, df, dg, do], dim=1), 0.0).to(gates.dtype)
            dgates[t, :, d * G : (d + 1) * G] = dz
            dc_prev = keep_c * dc + dc_new * f + di * p_i + df * p_f
            dc = torch.where(valid, torch.where(fresh, 0.0, dc_prev), dc)
            dr_next = torch.where(fresh, 0.0, dz.to(acc) @ w[d].to(acc))
        dc0[d] = dc
        dh_kept[d] = kept
    return dgates, dc0, dh_kept

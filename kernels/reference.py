"""Plain-PyTorch twins of the recurrence launchers: same arguments, same results, same caches.

Tests hold each Triton launcher against its twin here; the equations, the handling of lengths
and the tensor layouts are in lstm_forward.py and lstm_backward.py.
"""

import torch

from lstm_triton.kernels.precision import accumulator_dtype


def _time(direction: int, step: int, steps: int) -> int:
    return step if direction == 0 else steps - 1 - step


def _valid(lengths: torch.Tensor | None, t: int, batch: int, device) -> torch.Tensor:
    """(B, 1) bool: which rows have a real step at time t."""
    if lengths is None:
        return torch.ones(batch, 1, dtype=torch.bool, device=device)
    return (t < lengths).view(batch, 1)


def lstm_forward_recurrence_reference(
    gates: torch.Tensor,
    w: torch.Tensor,
    c0: torch.Tensor | None,
    lengths: torch.Tensor | None,
    *,
    keep_cell_states: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Twin of lstm_forward.lstm_forward_recurrence."""
    T, B, _ = gates.shape
    D, G, H = w.shape
    acc = accumulator_dtype(gates.dtype)
    y = torch.empty((T, B, D * H), dtype=gates.dtype, device=gates.device)
    slots = T if keep_cell_states else 2
    c_seq = torch.empty((slots, B, D, H), dtype=acc, device=gates.device)
    for d in range(D):
        r = torch.zeros(B, H, dtype=gates.dtype, device=gates.device)
        c = torch.zeros(B, H, dtype=acc, device=gates.device) if c0 is None else c0[d].to(acc)
        for s in range(T):
            t = _time(d, s, T)
            valid = _valid(lengths, t, B, gates.device)
            z = gates[t, :, d * G : (d + 1) * G].to(acc) + r.to(acc) @ w[d].to(acc).t()
            i, f, g, o = z.chunk(4, dim=1)
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            c = torch.where(valid, f * c + i * g, c)
            r = torch.where(valid, o * c.tanh(), 0.0).to(gates.dtype)
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
) -> tuple[torch.Tensor, torch.Tensor]:
    """Twin of lstm_backward.lstm_backward_recurrence."""
    T, B, _ = gates.shape
    D, G, H = w.shape
    acc = c_seq.dtype
    dgates = torch.empty_like(gates)
    dc0 = torch.empty((D, B, H), dtype=acc, device=gates.device)
    for d in range(D):
        dr_next = torch.zeros(B, H, dtype=acc, device=gates.device)
        dc = dc_n[d].to(acc)
        for s in reversed(range(T)):
            t = _time(d, s, T)
            valid = _valid(lengths, t, B, gates.device)
            last = (t == (lengths - 1) * (1 - d)).view(B, 1) if lengths is not None else s == T - 1
            dr = dr_next + torch.where(valid, dy[t, :, d * H : (d + 1) * H].to(acc), 0.0)
            dr = dr + torch.where(valid & last, dh_n[d].to(acc), 0.0)
            i, f, g, o = gates[t, :, d * G : (d + 1) * G].to(acc).chunk(4, dim=1)
            c = c_seq[s, :, d]
            if s > 0:
                c_prev = c_seq[s - 1, :, d]
            elif c0 is not None:
                c_prev = c0[d].to(acc)
            else:
                c_prev = torch.zeros_like(c)
            tc = c.tanh()
            dc_step = dc + dr * o * (1 - tc * tc)
            dz = torch.cat(
                [
                    dc_step * g * i * (1 - i),
                    dc_step * c_prev * f * (1 - f),
                    dc_step * i * (1 - g * g),
                    dr * tc * o * (1 - o),
                ],
                dim=1,
            )
            dz = torch.where(valid, dz, 0.0).to(gates.dtype)
            dgates[t, :, d * G : (d + 1) * G] = dz
            dc = torch.where(valid, dc_step * f, dc)
            dr_next = dz.to(acc) @ w[d].to(acc)
        dc0[d] = dc
    return dgates, dc0

"""Plain-PyTorch twins of the recurrence launchers: same arguments, same results, same caches.

Tests hold each Triton launcher against its twin here; the equations and tensor layouts are in
lstm_forward.py and lstm_backward.py.
"""

import torch

from lstm_triton.kernels.precision import accumulator_dtype


def _time(direction: int, step: int, steps: int) -> int:
    return step if direction == 0 else steps - 1 - step


def lstm_forward_recurrence_reference(
    gates: torch.Tensor,
    w_hh: torch.Tensor,
    h0: torch.Tensor | None,
    c0: torch.Tensor | None,
    *,
    keep_cell_states: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Twin of lstm_forward.lstm_forward_recurrence."""
    T, B, _ = gates.shape
    D, G, H = w_hh.shape
    acc = accumulator_dtype(gates.dtype)
    y = torch.empty((T, B, D * H), dtype=gates.dtype, device=gates.device)
    slots = T if keep_cell_states else 2
    c_seq = torch.empty((slots, B, D, H), dtype=acc, device=gates.device)
    for d in range(D):
        h = torch.zeros(B, H, dtype=gates.dtype, device=gates.device) if h0 is None else h0[d]
        c = torch.zeros(B, H, dtype=acc, device=gates.device) if c0 is None else c0[d].to(acc)
        for s in range(T):
            t = _time(d, s, T)
            z = gates[t, :, d * G : (d + 1) * G].to(acc) + (h.to(acc) @ w_hh[d].to(acc).t())
            i, f, g, o = z.chunk(4, dim=1)
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            c = f * c + i * g
            h = (o * c.tanh()).to(gates.dtype)
            gates[t, :, d * G : (d + 1) * G] = torch.cat([i, f, g, o], dim=1).to(gates.dtype)
            c_seq[s % slots, :, d] = c
            y[t, :, d * H : (d + 1) * H] = h
    return y, c_seq


def lstm_backward_recurrence_reference(
    dy: torch.Tensor,
    dh_n: torch.Tensor,
    dc_n: torch.Tensor,
    gates: torch.Tensor,
    c_seq: torch.Tensor,
    w_hh: torch.Tensor,
    c0: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Twin of lstm_backward.lstm_backward_recurrence."""
    T, B, _ = gates.shape
    D, G, H = w_hh.shape
    acc = c_seq.dtype
    dgates = torch.empty_like(gates)
    dc0 = torch.empty((D, B, H), dtype=acc, device=gates.device)
    for d in range(D):
        dh = dh_n[d].to(acc)
        dc = dc_n[d].to(acc)
        for s in reversed(range(T)):
            t = _time(d, s, T)
            dh = dh + dy[t, :, d * H : (d + 1) * H].to(acc)
            i, f, g, o = gates[t, :, d * G : (d + 1) * G].to(acc).chunk(4, dim=1)
            c = c_seq[s, :, d]
            if s > 0:
                c_prev = c_seq[s - 1, :, d]
            elif c0 is not None:
                c_prev = c0[d].to(acc)
            else:
                c_prev = torch.zeros_like(c)
            tc = c.tanh()
            dc = dc + dh * o * (1 - tc * tc)
            dz = torch.cat(
                [
                    dc * g * i * (1 - i),
                    dc * c_prev * f * (1 - f),
                    dc * i * (1 - g * g),
                    dh * tc * o * (1 - o),
                ],
                dim=1,
            ).to(gates.dtype)
            dgates[t, :, d * G : (d + 1) * G] = dz
            dc = dc * f
            dh = dz.to(acc) @ w_hh[d].to(acc)
        dc0[d] = dc
    return dgates, dc0

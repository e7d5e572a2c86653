"""The reference backend: a plain PyTorch step loop, differentiated by autograd.

This is the readable specification the tests trust (after checking it against torch.nn.LSTM).
The cell state and the gate sums are fp32 for every input dtype (fp64 for fp64), as in the
kernels; h is rounded to the input dtype each step. With lengths, a row stops updating h and c
after its last step and its padded outputs are zero. With resets, a row's state entering a step
it resets at is zeros, so no gradient flows through the reset into earlier steps.
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from lstm_triton.kernels.contract import DEFAULT_ACTIVATIONS, TORCH_ACTIVATIONS, accumulator_dtype
from lstm_triton.ops.cell import TORCH_CELL_OPTIONS, CellOptions


def lstm_cell_reference(
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None,
    b_hh: torch.Tensor | None,
    w_hr: torch.Tensor | None = None,
    peephole: torch.Tensor | None = None,
    activations: Sequence[str] = DEFAULT_ACTIVATIONS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step: x (B, I), h (B, P) input dtype, c (B, H) accumulator dtype -> (h, c).

    peephole (3, H): cell-state weights of the gates i, f (on c_prev) and o (on the new c);
    activations: names of the i, f, g, o and cell-output activations.
    """
    acc = c.dtype
    act_i, act_f, act_g, act_o, act_c = (TORCH_ACTIVATIONS[name] for name in activations)
    z = F.linear(x.to(acc), w_ih.to(acc), None if b_ih is None else b_ih.to(acc))
    z = z + F.linear(h.to(acc), w_hh.to(acc), None if b_hh is None else b_hh.to(acc))
    zi, zf, zg, zo = z.chunk(4, dim=-1)
    p_i, p_f, p_o = (0.0, 0.0, 0.0) if peephole is None else peephole.to(acc)
    c = act_f(zf + p_f * c) * c + act_i(zi + p_i * c) * act_g(zg)
    h = act_o(zo + p_o * c) * act_c(c)
    if w_hr is not None:
        h = F.linear(h, w_hr.to(acc))
    return h.to(x.dtype), c


def reference_layer(
    x: torch.Tensor,
    h0: torch.Tensor | None,
    c0: torch.Tensor | None,
    weights: Sequence[torch.Tensor],
    num_directions: int,
    has_bias: bool,
    lengths: torch.Tensor | None = None,
    cell: CellOptions = TORCH_CELL_OPTIONS,
    resets: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One layer: x (T, B, I), h0 (D, B, P), c0 (D, B, H) or None, lengths (B,) or None
    -> y (T, B, D*P), h_n (D, B, P), c_n (D, B, H). weights as torch.nn.LSTM's per direction:
    w_ih, w_hh[, b_ih, b_hh][, w_hr]; cell: this layer's options (ops.cell). Zoneout blends
    each new h and c with the previous ones (Krueger et al.: h from tanh of the new c).
    resets (T, B) bool or None, one direction only: where resets[t, b] is set and t is one of
    row b's steps, the state entering step t is zeros (at padded steps it is ignored)."""
    T, B, _ = x.shape
    assert resets is None or num_directions == 1, "resets have no meaning in reverse time"
    per_direction = len(weights) // num_directions
    acc = accumulator_dtype(x.dtype)
    outputs, h_n, c_n = [], [], []
    for d in range(num_directions):
        w_ih, w_hh, *rest = weights[d * per_direction : (d + 1) * per_direction]
        b_ih, b_hh = rest[:2] if has_bias else (None, None)
        w_hr = rest[-1] if len(rest) in (1, 3) else None
        peephole = None if cell.peepholes is None else cell.peepholes[d]
        h = x.new_zeros(B, w_hh.shape[1]) if h0 is None else h0[d]
        c = x.new_zeros(B, w_hh.shape[0] // 4, dtype=acc) if c0 is None else c0[d].to(acc)
        steps = range(T) if d == 0 else reversed(range(T))
        ys = [None] * T
        for t in steps:
            if resets is not None:
                reset = resets[t] if lengths is None else resets[t] & (t < lengths)
                h = torch.where(reset.unsqueeze(1), 0.0, h)
                c = torch.where(reset.unsqueeze(1), 0.0, c)
            h_new, c_new = lstm_cell_reference(
                x[t], h, c, w_ih, w_hh, b_ih, b_hh, w_hr, peephole, cell.activations
            )
            keep_h, keep_c = cell.keep(t, d, acc)
            h_new = (keep_h * h.to(acc) + (1 - keep_h) * h_new.to(acc)).to(x.dtype)
            c_new = keep_c * c + (1 - keep_c) * c_new
            if lengths is None:
                h, c, ys[t] = h_new, c_new, h_new
            else:
                valid = (t < lengths).unsqueeze(1)
                h, c = torch.where(valid, h_new, h), torch.where(valid, c_new, c)
                ys[t] = torch.where(valid, h_new, 0.0)
        outputs.append(torch.stack(ys))
        h_n.append(h)
        c_n.append(c.to(x.dtype))
    return torch.cat(outputs, dim=-1), torch.stack(h_n), torch.stack(c_n)

"""The plain PyTorch LSTM that users write: one input-projection GEMM, then a step loop.

Per layer and direction: P = x W_ih^T + (b_ih + b_hh) as one GEMM over all T*B rows, then for
each step z = P_t + h W_hh^T, i, f, g, o = z.chunk(4), c = sigmoid(f) c + sigmoid(i) tanh(g),
h = sigmoid(o) tanh(c). Everything in the input dtype (no fp32 cell state: this is the naive
baseline, not the reference backend). With lengths, a step leaves the state of a finished
sequence unchanged and writes zeros to its output, which gives torch's PackedSequence results
in both directions (the reverse direction starts from zeros until a sequence begins).
"""

from collections.abc import Callable, Sequence

import torch


def lstm_step(
    p: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_hh: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """p (B, 4H) projected input, h, c (B, H), w_hh (4H, H) -> h, c."""
    z = torch.addmm(p, h, w_hh.t())
    i, f, g, o = z.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def masked_lstm_step(
    p: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_hh: torch.Tensor, valid: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """As lstm_step for the rows where valid (B, 1) is True -> output, h, c."""
    h_new, c_new = lstm_step(p, h, c, w_hh)
    return (
        torch.where(valid, h_new, 0.0),
        torch.where(valid, h_new, h),
        torch.where(valid, c_new, c),
    )


Step = Callable[..., tuple[torch.Tensor, ...]]


def loop_lstm(
    x: torch.Tensor,
    weights: Sequence[torch.Tensor],
    *,
    num_layers: int,
    bidirectional: bool,
    lengths: torch.Tensor | None = None,
    step: Step = lstm_step,
    masked_step: Step = masked_lstm_step,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x (T, B, I), weights as torch.nn.LSTM's parameters (with biases), lengths (B,) or None
    -> y (T, B, D*H), h_n, c_n (L*D, B, H)."""
    T, B, _ = x.shape
    D = 2 if bidirectional else 1
    if len(weights) != 4 * num_layers * D:
        raise ValueError(f"expected {4 * num_layers * D} weights (with biases), got {len(weights)}")
    valid = None
    if lengths is not None:
        steps = torch.arange(T, device=x.device)
        valid = (steps[:, None] < lengths.to(x.device)[None, :]).unsqueeze(-1)
    h_n, c_n = [], []
    for layer in range(num_layers):
        outputs = []
        for d in range(D):
            w_ih, w_hh, b_ih, b_hh = weights[4 * (layer * D + d) : 4 * (layer * D + d + 1)]
            p = torch.addmm(b_ih + b_hh, x.reshape(T * B, -1), w_ih.t()).view(T, B, -1)
            h = x.new_zeros(B, w_hh.shape[1])
            c = torch.zeros_like(h)
            ys: list[torch.Tensor] = [h] * T
            for t in range(T) if d == 0 else reversed(range(T)):
                if valid is None:
                    h, c = step(p[t], h, c, w_hh)
                    ys[t] = h
                else:
                    ys[t], h, c = masked_step(p[t], h, c, w_hh, valid[t])
            outputs.append(torch.stack(ys))
            h_n.append(h)
            c_n.append(c)
        x = torch.cat(outputs, dim=-1) if D == 2 else outputs[0]
    return x, torch.stack(h_n), torch.stack(c_n)

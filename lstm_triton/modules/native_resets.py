"""torch's own LSTM with resets: one call of it per segment between the steps where rows reset.

torch.nn.LSTM cannot reset its state inside a call. Between two reset times nothing resets, so
each segment [s, e) is one call, started from the previous segment's final state with the rows
that reset at s zeroed in every layer (torch.where: no gradient flows through a reset into
earlier steps). With lengths, a segment runs only the rows still running at s, packed to their
steps in it (pack_padded_sequence refuses a zero length); the others keep their final state
and get zero outputs.

Finding the reset times reads the resets on the host: a synchronisation on CUDA, accepted in
this fallback (auto runs the kernels there, which take the resets in one call).
"""

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

State = tuple[torch.Tensor, torch.Tensor]


def native_forward_with_resets(
    module: nn.RNNBase,
    input: torch.Tensor,
    hx: State | None,
    lengths: torch.Tensor | None,
    resets: torch.Tensor,
    *,
    batched: bool,
) -> tuple[torch.Tensor, State]:
    """module: an LSTM whose _native_forward is torch.nn.LSTM.forward (unidirectional);
    input and hx as torch.nn.LSTM takes them (input (T, B, I), (B, T, I) with batch_first or
    (T, I) unbatched); lengths (B,) ints or None; resets (T, B) bool, time-major, on input's
    device (modules.validation.check_resets) -> torch.nn.LSTM's output and (h_n, c_n)."""
    batch_dim = 0 if module.batch_first else 1
    time_dim = 1 - batch_dim
    x = input if batched else input.unsqueeze(batch_dim)
    steps, batch = x.shape[time_dim], x.shape[batch_dim]
    if hx is None:
        sizes = (module.proj_size or module.hidden_size, module.hidden_size)
        hx = tuple(x.new_zeros(module.num_layers, batch, size) for size in sizes)
    elif not batched:
        hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
    if lengths is not None:
        lengths = lengths.cpu()  # pack_padded_sequence takes them on the host
        valid = torch.arange(steps)[:, None] < lengths[None, :]
        resets = resets & valid.to(resets.device)  # a row that has ended does not reset
    reset_times = set(resets.any(dim=1).nonzero().flatten().tolist())  # the host sync
    starts = sorted(reset_times | {0})
    h, c = hx
    outputs = []
    # Each segment reads the weights: once per forward, as torch does (a parametrization such
    # as spectral_norm would otherwise be evaluated, and in training iterated, per segment).
    with parametrize.cached():
        for start, end in zip(starts, [*starts[1:], steps], strict=True):
            if start in reset_times:
                zero = resets[start][None, :, None]
                h, c = torch.where(zero, 0.0, h), torch.where(zero, 0.0, c)
            segment = x.narrow(time_dim, start, end - start)
            if lengths is None:
                y, (h, c) = module._native_forward(segment, (h, c))
            else:
                y, (h, c) = _running_rows(module, segment, (h, c), lengths, start, end)
            outputs.append(y)
    y = torch.cat(outputs, dim=time_dim)
    if not batched:
        return y.squeeze(batch_dim), (h.squeeze(1), c.squeeze(1))
    return y, (h, c)


def _running_rows(
    module: nn.RNNBase,
    segment: torch.Tensor,
    state: State,
    lengths: torch.Tensor,
    start: int,
    end: int,
) -> tuple[torch.Tensor, State]:
    """The segment [start, end) of the rows whose lengths (B,) on the host reach past start:
    output padded with zeros to the segment's steps and the whole batch, and the state with
    their rows updated."""
    batch_dim = 0 if module.batch_first else 1
    running = (lengths > start).nonzero().flatten()
    rows = running.to(segment.device)
    packed = pack_padded_sequence(
        segment.index_select(batch_dim, rows),
        lengths[running].clamp(max=end) - start,
        batch_first=module.batch_first,
        enforce_sorted=False,
    )
    h, c = state
    output, (h_rows, c_rows) = module._native_forward(packed, (h[:, rows], c[:, rows]))
    y_rows, _ = pad_packed_sequence(
        output, batch_first=module.batch_first, total_length=end - start
    )
    shape = (*segment.shape[:-1], y_rows.shape[-1])
    y = y_rows.new_zeros(shape).index_copy(batch_dim, rows, y_rows)
    return y, (h.index_copy(1, rows, h_rows), c.index_copy(1, rows, c_rows))

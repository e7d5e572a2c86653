"""A stack of LSTM layers with torch.nn.LSTM's semantics, on any per-layer implementation."""

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from lstm_triton.ops.dispatch import autocast_dtype
from lstm_triton.ops.reference import reference_layer
from lstm_triton.ops.triton_layer import triton_layer

LAYERS: dict[str, Callable] = {"triton": triton_layer, "reference": reference_layer}


def lstm_layers(
    x: torch.Tensor,
    hx: tuple[torch.Tensor, torch.Tensor] | None,
    flat_weights: Sequence[torch.Tensor],
    *,
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    training: bool,
    backend: str,
    lengths: torch.Tensor | None = None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """x (T, B, I), hx ((L*D, B, P), (L*D, B, H)) or None -> y (T, B, D*P), (h_n, c_n).

    flat_weights in torch.nn.LSTM's order (its _flat_weights: per layer and direction w_ih,
    w_hh[, b_ih, b_hh][, w_hr]); lengths (B,) int32 on x's device, or None; dropout on the
    outputs of every layer but the last, in training only, as torch does.
    """
    dtype = autocast_dtype(x.device.type)
    if dtype is not None:
        # As torch's own LSTM under autocast: the GEMMs in the autocast dtype (the cell state
        # stays fp32 in both implementations), outputs in that dtype, fp32 gradients for the
        # fp32 parameters through the casts.
        x = x.to(dtype)
        hx = None if hx is None else (hx[0].to(dtype), hx[1].to(dtype))
        flat_weights = [w.to(dtype) for w in flat_weights]
        with torch.autocast(x.device.type, enabled=False):
            return lstm_layers(
                x,
                hx,
                flat_weights,
                num_layers=num_layers,
                bidirectional=bidirectional,
                dropout=dropout,
                training=training,
                backend=backend,
                lengths=lengths,
            )
    layer = LAYERS[backend]
    D = 2 if bidirectional else 1
    per_layer = len(flat_weights) // num_layers
    has_bias = (per_layer // D) in (4, 5)
    h_n, c_n = [], []
    for index in range(num_layers):
        state = slice(index * D, (index + 1) * D)
        h0, c0 = (None, None) if hx is None else (hx[0][state], hx[1][state])
        weights = flat_weights[index * per_layer : (index + 1) * per_layer]
        x, h, c = layer(x, h0, c0, weights, D, has_bias, lengths)
        if dropout > 0 and training and index < num_layers - 1:
            x = F.dropout(x, p=dropout, training=True)
        h_n.append(h)
        c_n.append(c)
    return x, (torch.cat(h_n), torch.cat(c_n))

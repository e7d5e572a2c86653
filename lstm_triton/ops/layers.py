"""A stack of LSTM layers with torch.nn.LSTM's semantics, on any per-layer implementation."""

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from lstm_triton.kernels.contract import DEFAULT_ACTIVATIONS
from lstm_triton.ops.cell import CellOptions
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
    resets: torch.Tensor | None = None,
    peepholes: Sequence[torch.Tensor] | None = None,
    activations: Sequence[str] = DEFAULT_ACTIVATIONS,
    recurrent_dropout: float = 0.0,
    zoneout: tuple[float, float] = (0.0, 0.0),
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """x (T, B, I), hx ((L*D, B, P), (L*D, B, H)) or None -> y (T, B, D*P), (h_n, c_n).

    flat_weights in torch.nn.LSTM's order (its _flat_weights: per layer and direction w_ih,
    w_hh[, b_ih, b_hh][, w_hr]); lengths (B,) int32 on x's device, or None; resets (T, B) bool
    on x's device, or None, one direction only: every layer's state entering step t of row b
    is zeros where resets[t, b] is set (ignored at padded steps); dropout on the outputs of
    every layer but the last, in training only, as torch does.
    Beyond torch: peepholes (3, H) per layer and direction; activations of the gates i, f, g,
    o and of the cell output; recurrent_dropout, DropConnect on W_hh: one mask per forward,
    in training only; zoneout (p_h, p_c): each step keeps each element of the previous h and
    c with these probabilities in training, and that fraction of them in eval.
    """
    dtype = autocast_dtype(x.device.type)
    if dtype is not None and x.dtype != torch.float64:  # autocast leaves fp64 alone
        # As torch's own LSTM under autocast: the GEMMs in the autocast dtype (the cell state
        # stays fp32 in both implementations), outputs in that dtype, fp32 gradients for the
        # fp32 parameters through the casts.
        with torch.autocast(x.device.type, enabled=False):
            return lstm_layers(
                x.to(dtype),
                None if hx is None else (hx[0].to(dtype), hx[1].to(dtype)),
                [w.to(dtype) for w in flat_weights],
                num_layers=num_layers,
                bidirectional=bidirectional,
                dropout=dropout,
                training=training,
                backend=backend,
                lengths=lengths,
                resets=resets,
                peepholes=None if peepholes is None else [p.to(dtype) for p in peepholes],
                activations=activations,
                recurrent_dropout=recurrent_dropout,
                zoneout=zoneout,
            )
    layer = LAYERS[backend]
    D = 2 if bidirectional else 1
    per_layer = len(flat_weights) // num_layers
    has_bias = (per_layer // D) in (4, 5)
    h_n, c_n = [], []
    for index in range(num_layers):
        state = slice(index * D, (index + 1) * D)
        h0, c0 = (None, None) if hx is None else (hx[0][state], hx[1][state])
        weights = list(flat_weights[index * per_layer : (index + 1) * per_layer])
        if recurrent_dropout > 0 and training:
            for w_hh in range(1, per_layer, per_layer // D):
                weights[w_hh] = F.dropout(weights[w_hh], p=recurrent_dropout, training=True)
        cell = CellOptions(
            activations=tuple(activations),
            peepholes=None if peepholes is None else tuple(peepholes[state]),
            **_zoneout(
                zoneout, training, (x.shape[0], x.shape[1], D, weights[1].shape[0] // 4), x.device
            ),
        )
        x, h, c = layer(x, h0, c0, weights, D, has_bias, lengths, cell, resets)
        if dropout > 0 and training and index < num_layers - 1:
            x = F.dropout(x, p=dropout, training=True)
        h_n.append(h)
        c_n.append(c)
    return x, (torch.cat(h_n), torch.cat(c_n))


def _zoneout(zoneout: tuple[float, float], training: bool, shape: tuple, device) -> dict:
    """CellOptions' zoneout fields: fresh (T, B, D, H) masks in training, else the means."""
    if not any(zoneout):
        return {}
    if not training:
        return {"zoneout_probabilities": tuple(zoneout)}
    masks = tuple(torch.rand(shape, device=device) < p for p in zoneout)
    return {"zoneout_masks": masks}

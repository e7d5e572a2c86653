"""LSTMCell: torch.nn.LSTMCell with the same constructor, parameters and results."""

from collections.abc import Sequence

import torch
from torch import nn

from lstm_triton.modules.options import Options
from lstm_triton.modules.torchscript import NotScriptable
from lstm_triton.modules.validation import check_cell_input
from lstm_triton.ops import lstm_layers, resolve_backend


class LSTMCell(NotScriptable, Options, nn.LSTMCell):
    """A drop-in torch.nn.LSTMCell; one step of the same kernels as LSTM.

    input (B, input_size) or (input_size,); hx = (h, c), each (B, hidden_size) or
    (hidden_size,). Returns (h', c') shaped like hx. `backend` and the cell options as in
    lstm_triton.LSTM; the peephole parameter is weight_ch (3, hidden_size).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        backend: str = "auto",
        forget_bias: float | None = None,
        chrono_init: float | None = None,
        peephole: bool = False,
        activations: Sequence[str] | None = None,
        recurrent_dropout: float = 0.0,
        zoneout: float | Sequence[float] = 0.0,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self._set_options(
            backend=backend,
            forget_bias=forget_bias,
            chrono_init=chrono_init,
            peephole=peephole,
            activations=activations,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
            peephole_names=["weight_ch"],
            device=device,
            dtype=dtype,
        )

    def forward(self, input, hx=None):
        batched = check_cell_input(
            input,
            hx,
            input_size=self.input_size,
            hidden_size=self.hidden_size,
            # For dtype and device, without evaluating a parametrized weight_ih once more
            # than torch does (spectral_norm iterates at every evaluation).
            parameter=next(self.parameters()),
        )
        backend = resolve_backend(self.backend, input.device, custom_cell=self.custom_cell)
        if backend == "native":
            return super().forward(input, hx)
        x = (input if batched else input.unsqueeze(0)).unsqueeze(0)
        if hx is not None:
            hx = tuple(state.reshape(1, -1, self.hidden_size) for state in hx)
        weights = [self.weight_ih, self.weight_hh]
        if self.bias:
            weights += [self.bias_ih, self.bias_hh]
        _, (h, c) = lstm_layers(
            x,
            hx,
            weights,
            num_layers=1,
            bidirectional=False,
            dropout=0.0,
            training=self.training,
            backend=backend,
            **self._cell_arguments(),
        )
        if not batched:
            return h.view(self.hidden_size), c.view(self.hidden_size)
        return h[0], c[0]

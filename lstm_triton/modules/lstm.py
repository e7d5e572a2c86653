"""LSTM: torch.nn.LSTM with the same constructor, parameters and results, on Triton kernels."""

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from lstm_triton.modules.backend import BackendOption, warn_once
from lstm_triton.modules.validation import check_sequence_input
from lstm_triton.ops import lstm_layers, resolve_backend


class LSTM(BackendOption, nn.LSTM):
    """A drop-in torch.nn.LSTM whose forward and backward run on fused Triton kernels.

    Constructor, parameter names and shapes (weight_ih_l0, ..., _reverse), initialisation,
    inputs and outputs are torch.nn.LSTM's, so state_dicts load both ways. The only addition
    is keyword-only `backend`: "auto" (triton on CUDA, native elsewhere), "triton" (the
    kernels; CPU tensors only under TRITON_INTERPRET=1), "native" (torch's own: cuDNN or
    ATen) or "reference" (a plain PyTorch step loop).

    Shapes: input (T, B, input_size), or (B, T, input_size) with batch_first, or (T, input_size)
    unbatched; hx = (h0, c0), each (num_layers * D, B, hidden_size) (no B when unbatched).
    Returns output (T, B, D * hidden_size) and (h_n, c_n) shaped like hx.
    PackedSequence input and proj_size > 0 run on the native backend for now, with a warning.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )
        self.backend = backend

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence) or self.proj_size > 0:
            return self._native_fallback(input, hx)
        num_directions = 2 if self.bidirectional else 1
        batched = check_sequence_input(
            input,
            hx,
            input_size=self.input_size,
            state_sizes=(self.hidden_size, self.hidden_size),
            num_states=self.num_layers * num_directions,
            batch_first=self.batch_first,
            parameter=self._flat_weights[0],
        )
        backend = resolve_backend(self.backend, input.device)
        if backend == "native":
            return super().forward(input, hx)
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if hx is not None and not batched:
            hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        y, (h_n, c_n) = lstm_layers(
            x,
            hx,
            self._flat_weights,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            has_bias=self.bias,
            dropout=self.dropout,
            training=self.training,
            backend=backend,
        )
        if not batched:
            return y.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        if self.batch_first:
            y = y.transpose(0, 1)
        return y, (h_n, c_n)

    def _native_fallback(self, input, hx):
        data = input.data if isinstance(input, PackedSequence) else input
        device = data.device if isinstance(data, torch.Tensor) else self._flat_weights[0].device
        if resolve_backend(self.backend, device) != "native":
            what = "PackedSequence input" if isinstance(input, PackedSequence) else "proj_size > 0"
            warn_once(
                f"lstm_triton.LSTM: {what} has no Triton kernel yet and runs on torch's "
                f"native LSTM (backend={self.backend!r} requested); shown once"
            )
        return super().forward(input, hx)

"""LSTM: torch.nn.LSTM's constructor, parameters and results, on fused Triton kernels."""

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstm_triton.modules.native_resets import native_forward_with_resets
from lstm_triton.modules.options import Options
from lstm_triton.modules.torchscript import NotScriptable
from lstm_triton.modules.validation import (
    check_lengths,
    check_packed_input,
    check_resets,
    check_sequence_input,
)
from lstm_triton.ops import lstm_layers, resolve_backend


class LSTM(NotScriptable, Options, nn.RNNBase):
    """A drop-in torch.nn.LSTM whose forward and backward run on fused Triton kernels.

    Constructor, parameter names and shapes (weight_ih_l0, ..., weight_hr_l0, ..._reverse),
    initialisation, inputs and outputs are torch.nn.LSTM's, so state_dicts load both ways.
    Additions, keyword-only and off by default: `backend`, "auto" (torch's own LSTM where
    torch can run the call, else the kernels on CUDA; ops/dispatch.py), "triton" (the kernels;
    CPU tensors only under TRITON_INTERPRET=1), "native" (torch's own: cuDNN or ATen) or
    "reference" (a plain PyTorch step loop); the cell options forget_bias, chrono_init,
    peephole, activations, recurrent_dropout and zoneout (modules/options.py); and in forward
    `lengths` (variable length without packing) and `resets` (episode ends inside the
    sequence, for recurrent reinforcement learning).

    Shapes (D = 2 if bidirectional else 1, P = proj_size or hidden_size): input (T, B, I), or
    (B, T, I) with batch_first, or (T, I) unbatched, or a PackedSequence; hx = (h0, c0) with
    h0 (num_layers*D, B, P) and c0 (num_layers*D, B, hidden_size) (no B when unbatched).
    Returns output (T, B, D*P) (a PackedSequence for packed input) and (h_n, c_n) like hx.
    resets (T, B) ((B, T) with batch_first, (T,) unbatched), one direction only: where set,
    the row's state (every layer's h and c) entering that step is zeros.

    It is an nn.RNNBase in LSTM mode with nn.LSTM's methods rather than an nn.LSTM subclass:
    torch.compile graph-breaks on every instance of nn.LSTM, and this module must compile.
    """

    get_expected_cell_size = nn.LSTM.get_expected_cell_size
    check_forward_args = nn.LSTM.check_forward_args
    permute_hidden = nn.LSTM.permute_hidden
    _native_forward = nn.LSTM.forward

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
        forget_bias: float | None = None,
        chrono_init: float | None = None,
        peephole: bool = False,
        activations: Sequence[str] | None = None,
        recurrent_dropout: float = 0.0,
        zoneout: float | Sequence[float] = 0.0,
    ) -> None:
        super().__init__(
            "LSTM",
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
        directions = ("", "_reverse")[: 2 if bidirectional else 1]
        self._set_options(
            backend=backend,
            forget_bias=forget_bias,
            chrono_init=chrono_init,
            peephole=peephole,
            activations=activations,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
            peephole_names=[f"weight_ch_l{k}{d}" for k in range(num_layers) for d in directions],
            device=device,
            dtype=dtype,
        )

    def forward(self, input, hx=None, lengths=None, *, resets=None):
        """input, hx as torch.nn.LSTM; lengths (B,) ints in [1, T] for padded batched input:
        row b stops after lengths[b] steps, its padded outputs are zero and its (h_n, c_n)
        are those of its last step (as with a PackedSequence, without packing).

        resets: bool or 0/1 (integer or floating) shaped (T, B), (B, T) with batch_first or
        (T,) unbatched, on the input's device, in the padded layout of the original batch for
        a PackedSequence; not with bidirectional. Where resets[t, b] is set, row b's state
        entering step t, every layer's h and c, is zeros before step t runs, as recurrent RL
        code does with `(1 - done_t) * state` in a loop over steps (hx is the state carried
        over from the previous rollout); no gradient flows through a reset into earlier
        steps. Resets at a row's padded steps (past its length) are ignored.
        """
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ValueError("lengths are given by the PackedSequence; pass one, not both")
            return self._forward_packed(input, hx, resets)
        batched = check_sequence_input(
            input, hx, batch_first=self.batch_first, **self._expected_shapes()
        )
        if lengths is not None:
            lengths = check_lengths(lengths, input, batched=batched, batch_first=self.batch_first)
        if resets is not None:
            resets = check_resets(
                resets,
                input,
                batched=batched,
                batch_first=self.batch_first,
                bidirectional=self.bidirectional,
            )
        backend = resolve_backend(
            self.backend, input.device, custom_cell=self.custom_cell, resets=resets is not None
        )
        if backend == "native":
            if resets is not None:
                return native_forward_with_resets(self, input, hx, lengths, resets, batched=batched)
            if lengths is None:
                return self._native_forward(input, hx)
            return self._native_padded(input, hx, lengths)
        # As torch.nn.LSTM.forward does (the native path above through it): functional_call
        # swaps the parameters and a parametrization computes them anew at every access, both
        # past __setattr__. Once per forward, as torch: spectral_norm iterates at every access.
        self._update_flat_weights()
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if hx is not None and not batched:
            hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        if lengths is not None:
            lengths = lengths.to(device=input.device, dtype=torch.int32, non_blocking=True)
            lengths = lengths.contiguous()
        y, (h_n, c_n) = lstm_layers(
            x,
            hx,
            self._flat_weights,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            training=self.training,
            backend=backend,
            lengths=lengths,
            resets=resets,
            **self._cell_arguments(),
        )
        if not batched:
            return y.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        if self.batch_first:
            y = y.transpose(0, 1)
        return y, (h_n, c_n)

    def _expected_shapes(self) -> dict:
        num_directions = 2 if self.bidirectional else 1
        return {
            "input_size": self.input_size,
            "state_sizes": (self.proj_size or self.hidden_size, self.hidden_size),
            "num_states": self.num_layers * num_directions,
            # For dtype and device: _flat_weights may be stale here, and reading a
            # parametrized weight would evaluate it.
            "parameter": next(self.parameters()),
        }

    def _forward_packed(self, packed: PackedSequence, hx, resets):
        """Runs the padded path with lengths (and resets: pad_packed_sequence restores the
        original batch order they come in); returns output packed as torch does."""
        batch = int(packed.batch_sizes[0])
        check_packed_input(packed.data, batch, hx, **self._expected_shapes())
        device = packed.data.device
        backend = resolve_backend(
            self.backend, device, custom_cell=self.custom_cell, resets=resets is not None
        )
        if backend == "native" and resets is None:
            return self._native_forward(packed, hx)
        padded, lengths = pad_packed_sequence(packed, batch_first=self.batch_first)
        output, state = self.forward(padded, hx, lengths, resets=resets)
        if packed.sorted_indices is not None:
            output = output.index_select(0 if self.batch_first else 1, packed.sorted_indices)
            lengths = lengths[packed.sorted_indices.cpu()]
        data = pack_padded_sequence(output, lengths, batch_first=self.batch_first).data
        indices = (packed.sorted_indices, packed.unsorted_indices)
        return PackedSequence(data, packed.batch_sizes, *indices), state

    def _native_padded(self, input, hx, lengths):
        """torch's own LSTM has no lengths argument: it runs packed and pads again."""
        packed = pack_padded_sequence(
            input, lengths.cpu(), batch_first=self.batch_first, enforce_sorted=False
        )
        output, state = self._native_forward(packed, hx)
        steps = input.shape[1 if self.batch_first else 0]
        padded, _ = pad_packed_sequence(output, batch_first=self.batch_first, total_length=steps)
        return padded, state

"""One layer's cell options as the per-layer implementations take them."""

from dataclasses import dataclass

import torch

from lstm_triton.kernels.contract import DEFAULT_ACTIVATIONS


@dataclass(frozen=True)
class CellOptions:
    """What a layer's cell computes beyond torch.nn.LSTM's; the defaults are torch's.

    activations: names of the i, f, g, o and cell-output activations.
    peepholes: (3, H) cell-state weights of the gates i, f, o per direction, or None.
    zoneout_masks: in training, (T, B, D, H) bool masks of the h and c elements each step
        keeps from the previous one; zoneout_probabilities: in eval, the masks' means (p_h,
        p_c). At most one of the two is set.
    """

    activations: tuple[str, ...] = DEFAULT_ACTIVATIONS
    peepholes: tuple[torch.Tensor, ...] | None = None
    zoneout_masks: tuple[torch.Tensor, ...] = ()
    zoneout_probabilities: tuple[float, ...] = ()

    def keep(self, t: int, d: int, dtype: torch.dtype) -> tuple:
        """The h and c fractions time t of direction d keeps: (B, H) tensors or floats."""
        if self.zoneout_masks:
            return tuple(mask[t, :, d].to(dtype) for mask in self.zoneout_masks)
        return self.zoneout_probabilities or (0.0, 0.0)


TORCH_CELL_OPTIONS = CellOptions()

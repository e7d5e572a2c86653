"""torch.library.opcheck on the triton backend's custom ops, on tiny float64 sizes: the schema
(no aliasing or mutation it hides), the autograd registration, the fake implementations
against the real ops, and the ops traced by AOTAutograd with dynamic shapes, gradients too."""

import math

import pytest
import torch

from lstm_triton.kernels.contract import DEFAULT_ACTIVATIONS, activation_codes
from lstm_triton.ops.triton_layer import layer_backward, layer_forward

T, B, I, H = 3, 2, 3, 4
TRAINING_CASES = {
    "B2-T3-I3-H4": dict(),
    "B2-T3-I3-H4-bidir-lengths": dict(bidirectional=True, lengths=True),
    "B2-T3-I3-H4-P3-bidir-peephole-lengths": dict(
        bidirectional=True, proj_size=3, peephole=True, lengths=True
    ),
    # Zoneout masks, as in training; the module refuses zoneout with proj_size.
    "B2-T3-I3-H4-bidir-zoneout-lengths": dict(bidirectional=True, zoneout=True, lengths=True),
    # Each direction's weights in one storage, the reverse after the forward's: the layout of
    # torch's flat weights on CUDA, which the op reads in place.
    "B2-T3-I3-H4-P3-bidir-flat": dict(bidirectional=True, proj_size=3, flat=True),
    "B2-T3-I3-H4-P3-peephole-lengths-resets": dict(
        proj_size=3, peephole=True, lengths=True, resets=True
    ),
}


def forward_args(device: torch.device, options: dict, *, training: bool = True) -> list:
    """layer_forward's arguments as triton_layer passes them. Training: every tensor requires
    grad and the op keeps the backward's cache; inference: no grads, no cache (two cell-state
    slots) and no initial state."""
    torch.manual_seed(0)
    D = 2 if options.get("bidirectional") else 1
    P = options.get("proj_size") or H
    cast = {"dtype": torch.float64, "device": device}

    def tensor(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, **cast).requires_grad_(training)

    def per_direction(*shape: int) -> list[torch.Tensor]:
        if not options.get("flat"):
            return [tensor(*shape) for _ in range(D)]
        # Two directions 5 elements further apart than their size.
        gap = math.prod(shape) + 5
        flat = torch.randn(gap * D, **cast)
        views = [flat[d * gap : d * gap + math.prod(shape)].view(shape) for d in range(D)]
        return [view.requires_grad_(training) for view in views]

    lengths = torch.tensor([T, T - 1], dtype=torch.int32, device=device)
    masks = [torch.rand(T, B, D, H, device=device) < 0.3 for _ in range(2)]
    resets = torch.tensor([[False, True], [True, False], [True, True]], device=device)
    return [
        tensor(T, B, I),
        per_direction(4 * H, I),
        per_direction(4 * H, P),
        tensor(D, 4 * H),
        per_direction(P, H) if "proj_size" in options else [],
        tensor(D, B, P) if training else None,
        tensor(D, B, H) if training else None,
        lengths if options.get("lengths") else None,
        resets if options.get("resets") else None,
        tensor(D, 3, H) if options.get("peephole") else None,
        list(activation_codes(DEFAULT_ACTIVATIONS)),
        masks if options.get("zoneout") else [],
        0.0,
        0.0,
        training,
    ]


@pytest.mark.parametrize("case", TRAINING_CASES)
def test_layer_forward_opcheck(case, kernel_device):
    torch.library.opcheck(layer_forward, forward_args(kernel_device, TRAINING_CASES[case]))


def test_layer_forward_opcheck_inference(kernel_device):
    """No cache: the fake implementation's two cell-state slots, and None for h0 and c0."""
    args = forward_args(kernel_device, dict(bidirectional=True, lengths=True), training=False)
    torch.library.opcheck(layer_forward, args)


def _detached(arg):
    """A tensor argument, or each of a list of tensors, without its grad."""
    if isinstance(arg, torch.Tensor):
        return arg.detach()
    if isinstance(arg, list) and arg and isinstance(arg[0], torch.Tensor):
        return [tensor.detach() for tensor in arg]
    return arg


@pytest.mark.parametrize("case", TRAINING_CASES)
def test_layer_backward_opcheck(case, kernel_device):
    """Every gradient the case has; layer_backward itself has no autograd (a double backward
    differentiates the reference backend instead), so its inputs do not require grad."""
    args = forward_args(kernel_device, TRAINING_CASES[case])
    args = [_detached(arg) for arg in args]
    x, w_ih, w_hh, _, w_hr, h0, c0, lengths, resets, peephole, activations, masks, *zoneout, _ = (
        args
    )
    y, h_n, c_n, gates, c_seq, r = layer_forward(*args)
    inputs = [x, w_ih, w_hh, w_hr, h0, c0, lengths, resets]
    cache = [y, gates, c_seq, r]
    cell = [peephole, activations, masks, *zoneout]
    # x, h0 and c0, w_ih, w_hh, bias, w_hr, peephole
    needs_grad = [True] * 5 + [bool(w_hr), peephole is not None]
    grads_of_outputs = [torch.randn_like(output) for output in (y, h_n, c_n)]
    torch.library.opcheck(layer_backward, [*grads_of_outputs, *inputs, *cache, *cell, needs_grad])

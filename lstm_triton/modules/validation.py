"""Input checks of LSTM and LSTMCell: one clear error naming what was expected and what came."""

from collections.abc import Sequence

import torch


def _describe(tensor: torch.Tensor) -> str:
    return f"shape {tuple(tensor.shape)}, {tensor.dtype}, on {tensor.device}"


def check_tensor(value: object, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(
            f"{name} must be floating point (float16, bfloat16, float32 or float64), got "
            f"{value.dtype}; integer token ids go through an nn.Embedding first"
        )
    return value


def check_matches_parameters(input: torch.Tensor, parameter: torch.Tensor) -> None:
    if input.dtype != parameter.dtype:
        raise TypeError(
            f"input is {input.dtype} but the parameters are {parameter.dtype}; cast the input "
            f"or the module (module.to({input.dtype}))"
        )
    if input.device != parameter.device:
        raise ValueError(
            f"input is on {input.device} but the parameters are on {parameter.device}; "
            f"move one of them (module.to('{input.device}'))"
        )


def check_state(
    hx: object,
    input: torch.Tensor,
    expected: Sequence[tuple[int, ...]],
    names: Sequence[str] = ("h0", "c0"),
) -> None:
    """hx must be a pair (h0, c0) of tensors of the given shapes, input's dtype and device."""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(
            f"hx must be a tuple ({', '.join(names)}) of two tensors, got {type(hx).__name__}"
            + (f" of length {len(hx)}" if isinstance(hx, (tuple, list)) else "")
        )
    for name, state, shape in zip(names, hx, expected, strict=True):
        check_tensor(state, name)
        if tuple(state.shape) != tuple(shape):
            raise ValueError(
                f"{name} must have shape {tuple(shape)} for an input of shape "
                f"{tuple(input.shape)}, got {tuple(state.shape)}"
            )
        if state.dtype != input.dtype:
            raise TypeError(f"{name} must be {input.dtype} like the input, got {_describe(state)}")
        if state.device != input.device:
            raise ValueError(
                f"{name} must be on {input.device} like the input, got {_describe(state)}"
            )


def check_sequence_input(
    input: object,
    hx: object,
    *,
    input_size: int,
    state_sizes: tuple[int, int],
    num_states: int,
    batch_first: bool,
    parameter: torch.Tensor,
) -> bool:
    """Checks LSTM.forward's arguments; returns whether the input is batched."""
    input = check_tensor(input, "input")
    layout = "(B, T, input_size)" if batch_first else "(T, B, input_size)"
    if input.dim() not in (2, 3):
        raise ValueError(
            f"input must be 3-D {layout} (batched) or 2-D (T, input_size) (unbatched), got "
            f"{input.dim()}-D with shape {tuple(input.shape)}"
        )
    if input.size(-1) != input_size:
        raise ValueError(
            f"input's last dimension must be input_size={input_size}, got {input.size(-1)} "
            f"(input shape {tuple(input.shape)})"
        )
    batched = input.dim() == 3
    time_dim = 1 if batched and batch_first else 0
    if input.size(time_dim) == 0:
        raise ValueError(f"input must have at least one time step, got shape {tuple(input.shape)}")
    check_matches_parameters(input, parameter)
    if hx is not None:
        batch = (input.size(0 if batch_first else 1),) if batched else ()
        shapes = [(num_states, *batch, size) for size in state_sizes]
        check_state(hx, input, shapes)
    return batched


def check_cell_input(
    input: object, hx: object, *, input_size: int, hidden_size: int, parameter: torch.Tensor
) -> bool:
    """Checks LSTMCell.forward's arguments; returns whether the input is batched."""
    input = check_tensor(input, "input")
    if input.dim() not in (1, 2):
        raise ValueError(
            f"input must be 2-D (B, input_size) (batched) or 1-D (input_size,) (unbatched), "
            f"got {input.dim()}-D with shape {tuple(input.shape)}"
        )
    if input.size(-1) != input_size:
        raise ValueError(
            f"input's last dimension must be input_size={input_size}, got {input.size(-1)} "
            f"(input shape {tuple(input.shape)})"
        )
    check_matches_parameters(input, parameter)
    if hx is not None:
        shape = (*input.shape[:-1], hidden_size)
        check_state(hx, input, [shape, shape], names=("h", "c"))
    return input.dim() == 2

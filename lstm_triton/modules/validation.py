"""Input checks of LSTM and LSTMCell: one clear error naming what was expected and what came."""

from collections.abc import Sequence

import torch

from lstm_triton.ops import autocast_dtype


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
    if input.dtype != parameter.dtype and autocast_dtype(input.device.type) is None:
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
    """hx must be a pair (h0, c0) of tensors of the given shapes, input's dtype (any floating
    dtype under autocast) and device."""
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
        # Under autocast torch takes any floating state (the op casts it, as it casts the input).
        if state.dtype != input.dtype and autocast_dtype(input.device.type) is None:
            raise TypeError(f"{name} must be {input.dtype} like the input, got {_describe(state)}")
        if state.device != input.device:
            raise ValueError(
                f"{name} must be on {input.device} like the input, got {_describe(state)}"
            )


def check_features(input: object, input_size: int, layouts: dict[int, str]) -> torch.Tensor:
    """input must be a floating tensor of one of the ranks in layouts ({rank: shape text},
    batched first, then unbatched) ending in input_size features."""
    input = check_tensor(input, "input")
    if input.dim() not in layouts:
        (batched, batched_shape), (unbatched, unbatched_shape) = layouts.items()
        raise ValueError(
            f"input must be {batched}-D {batched_shape} or {unbatched}-D {unbatched_shape} "
            f"(unbatched), got {input.dim()}-D with shape {tuple(input.shape)}"
        )
    if input.size(-1) != input_size:
        raise ValueError(
            f"input's last dimension must be input_size={input_size}, got {input.size(-1)} "
            f"(input shape {tuple(input.shape)})"
        )
    return input


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
    layout = "(B, T, input_size)" if batch_first else "(T, B, input_size)"
    input = check_features(input, input_size, {3: f"{layout} (batched)", 2: "(T, input_size)"})
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
    layouts = {2: "(B, input_size) (batched)", 1: "(input_size,)"}
    input = check_features(input, input_size, layouts)
    check_matches_parameters(input, parameter)
    if hx is not None:
        shape = (*input.shape[:-1], hidden_size)
        check_state(hx, input, [shape, shape], names=("h", "c"))
    return input.dim() == 2


def check_lengths(
    lengths: object, input: torch.Tensor, *, batched: bool, batch_first: bool
) -> torch.Tensor:
    """lengths must be B integers in [1, T], on the CPU or on the input's device (checked there,
    without a synchronisation)."""
    if not batched:
        raise ValueError(
            f"lengths needs a batched input, got an unbatched one of shape {tuple(input.shape)}"
        )
    if isinstance(lengths, (list, tuple)):
        lengths = torch.tensor(lengths)
    if not isinstance(lengths, torch.Tensor):
        raise TypeError(f"lengths must be a tensor or a list of ints, got {type(lengths).__name__}")
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must be integers, got {lengths.dtype}")
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if tuple(lengths.shape) != (batch,):
        raise ValueError(
            f"lengths must have shape ({batch},), one per sequence of the input of shape "
            f"{tuple(input.shape)}, got {tuple(lengths.shape)}"
        )
    if lengths.device.type != "cpu" and lengths.device != input.device:
        raise ValueError(
            f"lengths must be on the cpu or on the input's device {input.device}, got "
            f"{lengths.device}"
        )
    if lengths.device.type != "cpu":
        # Reading the values would wait for the GPU: a bad length stops the stream instead
        # (a device-side assert, reported at the next synchronisation).
        in_range = ((lengths >= 1) & (lengths <= steps)).all()
        torch._assert_async(in_range, f"lengths must be in [1, T={steps}], the input's steps")
        return lengths
    shortest, longest = int(lengths.min()), int(lengths.max())
    if torch.compiler.is_compiling():
        # Values are unknown while tracing: the graph asserts them when it runs (a RuntimeError;
        # torch 2.11's dynamo cannot trace _check_value, which would raise a ValueError).
        torch._check(shortest >= 1, lambda: "lengths must be >= 1")
        torch._check(longest <= steps, lambda: "lengths must be <= the input's steps")
    elif shortest < 1:
        raise ValueError(f"lengths must be >= 1 (every sequence needs a step), got {shortest}")
    elif longest > steps:
        raise ValueError(f"lengths must be <= T={steps}, the input's steps, got {longest}")
    return lengths


def check_packed_input(
    data: torch.Tensor,
    batch: int,
    hx: object,
    *,
    input_size: int,
    state_sizes: tuple[int, int],
    num_states: int,
    parameter: torch.Tensor,
) -> None:
    """Checks a PackedSequence's data (N, input_size) and hx for its `batch` sequences."""
    check_tensor(data, "PackedSequence.data")
    if data.dim() != 2 or data.size(-1) != input_size:
        raise ValueError(
            f"PackedSequence.data must have shape (N, input_size={input_size}), got "
            f"{tuple(data.shape)}"
        )
    check_matches_parameters(data, parameter)
    if hx is not None:
        check_state(hx, data, [(num_states, batch, size) for size in state_sizes])


def check_resets(
    resets: object, input: torch.Tensor, *, batched: bool, batch_first: bool, bidirectional: bool
) -> torch.Tensor:
    """resets must be 0/1 (bool, integer or floating) shaped (T, B), (B, T) with batch_first or
    (T,) unbatched, on the input's device; returns them as (T, B) bool, time-major, contiguous
    (values on CUDA checked there, without a synchronisation)."""
    if bidirectional:
        raise ValueError(
            "resets need a unidirectional LSTM: a reset zeroes the state entering a step, "
            "which has no meaning in reverse time; got bidirectional=True"
        )
    if not isinstance(resets, torch.Tensor):
        raise TypeError(f"resets must be a torch.Tensor, got {type(resets).__name__}")
    if resets.dtype.is_complex:
        raise TypeError(f"resets must be bool, integer or floating 0/1, got {resets.dtype}")
    if not batched:
        layout, expected = "(T,)", (input.shape[0],)
    elif batch_first:
        layout, expected = "(B, T)", (input.shape[0], input.shape[1])
    else:
        layout, expected = "(T, B)", (input.shape[0], input.shape[1])
    if tuple(resets.shape) != expected:
        raise ValueError(
            f"resets must have shape {layout} = {expected} for the input of shape "
            f"{tuple(input.shape)}, got {tuple(resets.shape)}"
        )
    if resets.device != input.device:
        raise ValueError(f"resets must be on {input.device} like the input, got {resets.device}")
    if resets.dtype != torch.bool:
        binary = ((resets == 0) | (resets == 1)).all()
        message = "resets must hold only 0 and 1 (or False and True)"
        if resets.device.type != "cpu" or torch.compiler.is_compiling():
            # Reading the values would wait for the GPU (or is impossible while tracing): a
            # value other than 0/1 stops the stream instead (reported at the next sync).
            torch._assert_async(binary, message)
        elif not binary:
            other = resets[(resets != 0) & (resets != 1)][0].item()
            raise ValueError(f"{message}, got {other}")
    resets = resets.to(torch.bool)
    time_major = resets.unsqueeze(1) if not batched else resets.t() if batch_first else resets
    return time_major.contiguous()

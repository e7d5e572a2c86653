"""Swap torch.nn.LSTM / LSTMCell inside an existing model for lstm_triton's, and back."""

from torch import nn
from torch.nn.utils import parametrize

from lstm_triton.modules.cell import LSTMCell
from lstm_triton.modules.lstm import LSTM

_LSTM_ARGS = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout")
_LSTM_ARGS += ("bidirectional", "proj_size")
_CELL_ARGS = ("input_size", "hidden_size", "bias")


def _rebuild(module: nn.Module, cls: type, names: tuple[str, ...], **extra) -> nn.Module:
    """A `cls` with module's configuration, weights, device, dtype and training mode."""
    weight = next(module.parameters())
    new = cls(
        **{name: getattr(module, name) for name in names},
        device=weight.device,
        dtype=weight.dtype,
        **extra,
    )
    new.load_state_dict(module.state_dict())
    new.train(module.training)
    for name, parameter in module.named_parameters():
        getattr(new, name).requires_grad_(parameter.requires_grad)
    return new


def _check_unparametrized(module: nn.Module, action: str) -> None:
    """A parametrized module is a subclass of its own, with its weights under other state_dict
    keys: refused rather than skipped or half-copied."""
    if parametrize.is_parametrized(module):
        kind = type(module).__mro__[1].__name__  # the parametrized subclass's base: LSTM, ...
        names = ", ".join(module.parametrizations)
        raise ValueError(
            f"cannot {action} an {kind} with parametrized {names}: remove the "
            "parametrizations first (torch.nn.utils.parametrize.remove_parametrizations), "
            f"{action}, then register them on the new module"
        )


def _swap(model: nn.Module, replace, done: dict[int, nn.Module]) -> int:
    """Replace children depth-first; a module shared by several parents is replaced once."""
    count = 0
    # _modules rather than named_children(), which lists a shared module under one name only.
    for name, child in list(model._modules.items()):
        if child is None:
            continue
        if id(child) in done:
            setattr(model, name, done[id(child)])
            continue
        new = replace(child)
        if new is None:
            count += _swap(child, replace, done)
            continue
        done[id(child)] = new
        setattr(model, name, new)
        count += 1
    return count


def convert(model: nn.Module, *, backend: str = "auto") -> int:
    """Replace, in place, every torch.nn.LSTM and LSTMCell in `model` by lstm_triton's with the
    same weights, device, dtype, requires_grad flags and training mode; returns how many.

    The model itself is not replaced (convert its parent, or build lstm_triton.LSTM directly).
    Optimizers holding the old parameters must be rebuilt after converting.
    """

    def replace(child: nn.Module) -> nn.Module | None:
        if isinstance(child, (nn.LSTM, nn.LSTMCell)):
            _check_unparametrized(child, "convert")
        if type(child) is nn.LSTM:
            return _rebuild(child, LSTM, _LSTM_ARGS, backend=backend)
        if type(child) is nn.LSTMCell:
            return _rebuild(child, LSTMCell, _CELL_ARGS, backend=backend)
        return None

    return _swap(model, replace, {})


def revert(model: nn.Module) -> int:
    """The inverse of convert: every lstm_triton LSTM/LSTMCell back to torch.nn's. A module
    with cell options torch lacks (peephole, activations, ...) cannot go back: ValueError."""

    def replace(child: nn.Module) -> nn.Module | None:
        if isinstance(child, (LSTM, LSTMCell)):
            _check_unparametrized(child, "revert")
        if isinstance(child, (LSTM, LSTMCell)) and child.options_beyond_torch():
            raise ValueError(
                f"cannot revert {type(child).__name__} with {child.options_beyond_torch()} to "
                "torch.nn: torch has none of these options, and its module would compute "
                "something else"
            )
        if isinstance(child, LSTM):
            return _rebuild(child, nn.LSTM, _LSTM_ARGS)
        if isinstance(child, LSTMCell):
            return _rebuild(child, nn.LSTMCell, _CELL_ARGS)
        return None

    return _swap(model, replace, {})


__all__ = ["convert", "revert"]

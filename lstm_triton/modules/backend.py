"""The `backend` option that LSTM and LSTMCell add to their torch.nn parents."""

import warnings

from lstm_triton.ops import check_backend_name

_warned: set[str] = set()


def warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, UserWarning, stacklevel=3)


class BackendOption:
    """Mixin: a validated, settable `backend` attribute shown in the module's repr."""

    _backend: str

    @property
    def backend(self) -> str:
        """Requested implementation: auto, triton, native or reference (see ops.dispatch)."""
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        self._backend = check_backend_name(value)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, backend={self._backend!r}"

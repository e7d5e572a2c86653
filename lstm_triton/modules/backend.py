"""The `backend` option that LSTM and LSTMCell add to their torch.nn parents."""

from lstm_triton.ops import check_backend_name


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

"""TorchScript: refused with one error that names what to use instead."""

from torch import nn


class NotScriptable:
    """Mixin for LSTM and LSTMCell. torch.jit.script calls __prepare_scriptable__ on the
    model and on each of its submodules before compiling any; without it, TorchScript fails
    deep in its compiler on the backends' Python (an AssertionError about overloads)."""

    def __prepare_scriptable__(self) -> nn.Module:
        name = "LSTM" if isinstance(self, nn.RNNBase) else "LSTMCell"
        raise TypeError(
            f"TorchScript (torch.jit.script) does not support lstm_triton.{name}, got one in "
            "the model: its backends and Triton kernels are Python that TorchScript cannot "
            f"compile. Use torch.compile or torch.export.export, or lstm_triton.revert(model) "
            f"for a torch.nn.{name} that TorchScript compiles"
        )

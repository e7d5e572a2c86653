"""The options LSTM and LSTMCell add to torch.nn's, all keyword-only and off by default.

- backend: which implementation runs (see ops.dispatch).

Cell options (with all off, the module computes exactly what torch's does):
- forget_bias: the forget gate's bias starts at this value (Keras' unit_forget_bias is 1.0):
  bias_ih's forget slice is set to it and bias_hh's to zero, the rest initialised as torch does.
- chrono_init: T_max, the longest dependency the task has, in steps (Tallec & Ollivier 2018,
  "Can recurrent neural networks warp time?", Section 4): each unit's forget-gate bias is
  log(u), u ~ U[1, T_max - 1], and its input-gate bias is -log(u); bias_ih holds them and
  bias_hh's two slices are zero, so the sum is the paper's single bias. Unit k then forgets
  with a time constant of about u_k steps at the start of training. Not with forget_bias.
- peephole: cell-state weights on the gates (Gers & Schmidhuber; BNNS' cell weights):
  i and f see p * c_prev, o sees p * c_t; parameters weight_ch_l{k}[_reverse] (3, hidden_size)
  for i, f, o.
- activations: the activations of the gates i, f, g, o and of the cell output, by name
  (sigmoid, hard_sigmoid, tanh, relu, identity); torch's are sigmoid, sigmoid, tanh, sigmoid,
  tanh.
- recurrent_dropout: DropConnect on W_hh (Merity et al.'s weight drop): one mask per forward,
  in training only.
- zoneout: p or (p_h, p_c) (Krueger et al.): in training each step keeps each element of the
  previous h and c with these probabilities instead of updating it; in eval it keeps that
  fraction of them. Not with proj_size.
"""

import math
from collections.abc import Sequence

import torch
from torch import nn

from lstm_triton.kernels.contract import ACTIVATIONS, DEFAULT_ACTIVATIONS
from lstm_triton.ops import check_backend_name


def check_activations(activations: Sequence[str] | None) -> tuple[str, ...]:
    if activations is None:
        return DEFAULT_ACTIVATIONS
    if isinstance(activations, str) or len(activations) != 5:
        raise ValueError(
            "activations must name 5 activations, of the gates i, f, g, o and of the cell "
            f"output (torch's: {DEFAULT_ACTIVATIONS}), got {activations!r}"
        )
    unknown = [name for name in activations if name not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"unknown activations {unknown}; expected names from {ACTIVATIONS}")
    return tuple(activations)


def check_probability(value: float, name: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def check_chrono_init(chrono_init: float | None, forget_bias: float | None, bias: bool):
    if chrono_init is None:
        return None
    if isinstance(chrono_init, bool) or not isinstance(chrono_init, (int, float)):
        raise TypeError(f"chrono_init must be a number of steps (T_max), got {chrono_init!r}")
    if not chrono_init > 2:
        raise ValueError(
            "chrono_init is T_max, the longest dependency in steps, and draws u from "
            f"U[1, T_max - 1], so it must be > 2, got {chrono_init!r}"
        )
    if not bias:
        raise ValueError("chrono_init needs bias=True, got bias=False")
    if forget_bias is not None:
        raise ValueError(
            "chrono_init sets the forget-gate bias itself; pass forget_bias or chrono_init, "
            f"got forget_bias={forget_bias!r} and chrono_init={chrono_init!r}"
        )
    return float(chrono_init)


def check_zoneout(zoneout: float | Sequence[float]) -> tuple[float, float]:
    pair = (zoneout, zoneout) if isinstance(zoneout, (int, float)) else tuple(zoneout)
    if len(pair) != 2:
        raise ValueError(f"zoneout must be p or (p_h, p_c), got {zoneout!r}")
    return check_probability(pair[0], "zoneout of h"), check_probability(pair[1], "zoneout of c")


class Options:
    """Mixin for LSTM and LSTMCell: the backend, the cell options, the peephole parameters."""

    hidden_size: int
    bias: bool
    _backend: str

    @property
    def backend(self) -> str:
        """Requested implementation: auto, triton, native or reference (see ops.dispatch)."""
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        self._backend = check_backend_name(value)

    def _set_options(
        self,
        *,
        backend: str,
        forget_bias: float | None,
        chrono_init: float | None,
        peephole: bool,
        activations: Sequence[str] | None,
        recurrent_dropout: float,
        zoneout: float | Sequence[float],
        peephole_names: Sequence[str],
        device,
        dtype,
    ) -> None:
        self.backend = backend
        if forget_bias is not None and not self.bias:
            raise ValueError("forget_bias needs bias=True, got bias=False")
        self.forget_bias = forget_bias
        self.chrono_init = check_chrono_init(chrono_init, forget_bias, self.bias)
        self.peephole = bool(peephole)
        self.activations = check_activations(activations)
        self.recurrent_dropout = check_probability(recurrent_dropout, "recurrent_dropout")
        self.zoneout = check_zoneout(zoneout)
        if any(self.zoneout) and getattr(self, "proj_size", 0) > 0:
            raise ValueError(
                "zoneout keeps elements of h, which proj_size computes from all of the cell's "
                f"units; use one of them, got zoneout={zoneout!r} and proj_size={self.proj_size}"
            )
        self._peephole_names = list(peephole_names) if peephole else []
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name in self._peephole_names:
            weight = torch.empty(3, self.hidden_size, device=device, dtype=dtype)
            self.register_parameter(name, nn.Parameter(nn.init.uniform_(weight, -bound, bound)))
        self._init_gate_biases()

    def options_beyond_torch(self) -> list[str]:
        """The cell options that are on and that torch.nn.LSTM has no equivalent of
        (forget_bias and chrono_init only initialise torch's own parameters)."""
        options = {
            "peephole": self.peephole,
            "activations": self.activations != DEFAULT_ACTIVATIONS,
            "recurrent_dropout": self.recurrent_dropout > 0,
            "zoneout": any(self.zoneout),
        }
        return [name for name, on in options.items() if on]

    @property
    def custom_cell(self) -> bool:
        """Whether the cell computes something torch's native LSTM cannot (recurrent dropout
        only while training)."""
        return any(o != "recurrent_dropout" or self.training for o in self.options_beyond_torch())

    def _cell_arguments(self) -> dict:
        """The options as lstm_layers takes them."""
        peepholes = [getattr(self, name) for name in self._peephole_names] or None
        return {
            "peepholes": peepholes,
            "activations": self.activations,
            "recurrent_dropout": self.recurrent_dropout,
            "zoneout": self.zoneout,
        }

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self._init_gate_biases()

    @torch.no_grad()
    def _init_gate_biases(self) -> None:
        # RNNBase.__init__ resets parameters before the options exist.
        forget_bias = getattr(self, "forget_bias", None)
        chrono_init = getattr(self, "chrono_init", None)
        if forget_bias is None and chrono_init is None:
            return
        H = self.hidden_size
        input_gate, forget_gate = slice(0, H), slice(H, 2 * H)
        for name, parameter in self.named_parameters():
            if name.startswith("bias_hh"):
                parameter[forget_gate] = 0.0
                if chrono_init is not None:
                    parameter[input_gate] = 0.0
            elif name.startswith("bias_ih") and chrono_init is None:
                parameter[forget_gate] = forget_bias
            elif name.startswith("bias_ih"):
                u = torch.empty(H, device=parameter.device).uniform_(1.0, chrono_init - 1.0)
                parameter[forget_gate] = u.log()
                parameter[input_gate] = -u.log()

    def extra_repr(self) -> str:
        options = {
            "backend": (self._backend, "auto"),
            "forget_bias": (self.forget_bias, None),
            "chrono_init": (self.chrono_init, None),
            "peephole": (self.peephole, False),
            "activations": (self.activations, DEFAULT_ACTIVATIONS),
            "recurrent_dropout": (self.recurrent_dropout, 0.0),
            "zoneout": (self.zoneout, (0.0, 0.0)),
        }
        shown = "".join(f", {k}={v!r}" for k, (v, default) in options.items() if v != default)
        return super().extra_repr() + shown

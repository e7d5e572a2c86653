"""Benchmark providers, matched by exact name; each builds a Runner for one Case.

native         torch.nn.LSTM: cuDNN on CUDA (kernel "cudnn"), ATen elsewhere ("aten"). Variable
               lengths go in as a PackedSequence; packing and unpacking are timed, as they are
               what a user holding padded data pays. One call cannot reset: on a case with
               resets it runs without them, the ceiling of what resets can cost.
native_per_step  torch.nn.LSTM one step a call, the resetting rows' state zeroed before their
               step: CleanRL's ppo_atari_lstm loop, what recurrent RL code runs today
native_segments  lstm_triton.LSTM(backend="native"): torch.nn.LSTM once per segment between
               the steps where some row resets
triton         lstm_triton.LSTM on the Triton kernels, once per registered kernel variant
reference      lstm_triton.LSTM(backend="reference"), the project's plain-PyTorch specification
loop           the plain PyTorch step loop of lstm_triton.bench.loop, eager
loop_compiled  the same loop with its step compiled by torch.compile (inductor)
gru            torch.nn.GRU, kernels as native's: what the other gated cell costs (grid cells)
rnn_tanh       torch.nn.RNN with tanh, kernels as native's: the cell without gates

Every provider starts from the same x (T, B, I) and weights (its cell's: Case.weights), input
projection included, and from the same lengths (B,), an int64 CPU tensor as
pack_padded_sequence takes it: torch packs, lstm_triton.LSTM gets the padded x and `lengths=`,
the loop masks. The providers that take resets (Provider.takes_resets) get the case's (T, B)
bool resets: lstm_triton.LSTM as `resets=`, the per-step loop as dones.
New Triton kernel variants register a module factory with @register_triton_kernel("name").
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_triton.bench.case import CELLS, Case, check_names
from lstm_triton.bench.grids import GRID_PROVIDERS, LSTM_PROVIDERS
from lstm_triton.bench.loop import Step, loop_lstm, lstm_step, masked_lstm_step
from lstm_triton.kernels.schedule import misfit
from lstm_triton.kernels.schedule import use as use_schedule
from lstm_triton.modules import LSTM
from lstm_triton.ops import resolve_backend

Output = tuple[torch.Tensor, ...]


class Unsupported(Exception):
    """This provider cannot run this case; recorded as such, not as a failure."""


@dataclass
class Runner:
    """forward: x (T, B, I) -> y (T, B, D*H) padded with zeros, h_n and (an LSTM's) c_n
    (L*D, B, H).

    weights: the leaves that gradients are taken for, in torch's parameter order of the cell.
    """

    forward: Callable[[torch.Tensor], Output]
    weights: list[torch.Tensor]


@dataclass(frozen=True)
class Provider:
    name: str
    kernels: Callable[[torch.device], tuple[str, ...]]  # what runs on this device, by name
    build: Callable[[Case, str], Runner]  # (case, kernel) -> runner, or raise Unsupported
    cell: str = "lstm"  # what it computes (case.CELLS), so the truth its gate compares with
    # Whether it computes a case's resets; the others run such a case without them, and their
    # gate compares them with the truth without them.
    takes_resets: bool = False


PROVIDERS: dict[str, Provider] = {}
TRITON_KERNELS: dict[str, Callable[[Case], nn.Module]] = {}
"""Kernel variant name -> factory of a module with lstm_triton.LSTM's forward."""


def register_provider(provider: Provider) -> Provider:
    PROVIDERS[provider.name] = provider
    return provider


def register_triton_kernel(name: str):
    """Decorator: factory(case) -> module, benchmarked as provider triton, kernel `name`."""

    def register(factory: Callable[[Case], nn.Module]) -> Callable[[Case], nn.Module]:
        TRITON_KERNELS[name] = factory
        return factory

    return register


def get_providers(names: list[str]) -> list[Provider]:
    """The named providers, in order; ValueError listing the valid names for an unknown one."""
    return [PROVIDERS[name] for name in check_names("provider", names, tuple(PROVIDERS))]


def default_providers(grid: str) -> list[str]:
    """What a grid times unless told otherwise: its own providers (grids.GRID_PROVIDERS), else
    grids.LSTM_PROVIDERS."""
    return list(GRID_PROVIDERS.get(grid, LSTM_PROVIDERS))


def check_kernels(names: list[str]) -> list[str]:
    return check_names("triton kernel", names, tuple(TRITON_KERNELS))


def _unpack(output) -> Output:
    """An LSTM's (y, (h_n, c_n)), or a GRU's or RNN's (y, h_n) -> (y, h_n[, c_n])."""
    y, state = output
    return (y, *state) if isinstance(state, tuple) else (y, state)


def _copy_weights(module: nn.Module, case: Case, cell: str = "lstm") -> nn.Module:
    module.load_state_dict(case.weights(cell))
    return module


def _lstm_triton_module(case: Case, backend: str) -> LSTM:
    try:
        resolve_backend(backend, case.device)
    except (ValueError, RuntimeError) as error:
        raise Unsupported(str(error)) from None
    c = case.config
    module = LSTM(
        c.input_size,
        c.hidden,
        c.num_layers,
        bidirectional=c.bidirectional,
        device=case.device,
        dtype=case.dtype,
        backend=backend,
    )
    return _copy_weights(module, case)


def _module_runner(module: nn.Module, case: Case) -> Runner:
    """lstm_triton.LSTM-like modules: padded x, lengths= for variable-length batches and
    resets= for rollouts."""

    def forward(x: torch.Tensor) -> Output:
        return _unpack(module(x, lengths=case.lengths, resets=case.resets))

    return Runner(forward, list(module.parameters()))


class _OnSchedule(nn.Module):
    """lstm_triton.LSTM whose recurrences run on one schedule (kernels/schedule.py): chosen
    process-wide at each forward, so the backward that follows runs on it too."""

    def __init__(self, lstm: LSTM, schedule: str) -> None:
        super().__init__()
        self.lstm, self.schedule = lstm, schedule

    def forward(self, *args, **kwargs):
        use_schedule(self.schedule)
        return self.lstm(*args, **kwargs)


@register_triton_kernel("stepwise")
def _stepwise(case: Case) -> nn.Module:
    """kernels/lstm_forward.py and lstm_backward.py: one fused launch per time step."""
    return _OnSchedule(_lstm_triton_module(case, "triton"), "stepwise")


def _fitting(case: Case, schedule: str) -> nn.Module:
    """lstm_triton.LSTM on a persistent schedule, or Unsupported where its grid or rule does
    not fit this case."""
    c = case.config
    why = misfit(schedule, c.batch, c.hidden, 2 if c.bidirectional else 1, case.dtype, case.device)
    if why:
        raise Unsupported(f"{schedule} schedule does not fit: {why}")
    return _OnSchedule(_lstm_triton_module(case, "triton"), schedule)


@register_triton_kernel("persistent")
def _persistent(case: Case) -> nn.Module:
    """The inner steps of both recurrences in one launch each, a grid barrier per step."""
    return _fitting(case, "persistent")


@register_triton_kernel("resident")
def _resident(case: Case) -> nn.Module:
    """persistent, with each program's slice of W_hh in shared memory for all the steps."""
    return _fitting(case, "resident")


def _native_kernels(device: torch.device) -> tuple[str, ...]:
    cudnn = device.type == "cuda" and torch.backends.cudnn.is_available()
    return ("cudnn",) if cudnn and torch.backends.cudnn.enabled else ("aten",)


def native_runner(module: nn.RNNBase, case: Case) -> Runner:
    """torch's LSTM, GRU or RNN on x, or on x packed to case.lengths (and padded back to T)."""
    weights = list(module.parameters())
    if case.lengths is None:
        return Runner(lambda x: _unpack(module(x)), weights)

    def forward(x: torch.Tensor) -> Output:
        packed = pack_padded_sequence(x, case.lengths, enforce_sorted=False)
        y, *state = _unpack(module(packed))
        return pad_packed_sequence(y, total_length=case.config.seq_len)[0], *state

    return Runner(forward, weights)


def native_module(case: Case, dtype: torch.dtype, cell: str = "lstm") -> nn.RNNBase:
    """torch's module of `cell` (torch.nn.LSTM by default) with the case's weights for it, cast
    to dtype."""
    c = case.config
    module = CELLS[cell](
        c.input_size,
        c.hidden,
        c.num_layers,
        bidirectional=c.bidirectional,
        device=case.device,
        dtype=dtype,
    )
    _copy_weights(module, case, cell)
    # cuDNN wants the weights in one buffer; otherwise it copies them on every call.
    module.flatten_parameters()
    return module


def _build_native(case: Case, kernel: str, cell: str = "lstm") -> Runner:
    return native_runner(native_module(case, case.dtype, cell), case)


def per_step_runner(module: nn.LSTM, case: Case) -> Runner:
    """torch's LSTM one step a call from a zero state, each step's resetting rows zeroed in
    every layer first, as CleanRL's ppo_atari_lstm does with its dones."""
    if case.lengths is not None or case.config.bidirectional:
        raise Unsupported("the per-step loop runs one direction of full-length rows")

    def forward(x: torch.Tensor) -> Output:
        h = x.new_zeros(module.num_layers, x.shape[1], module.hidden_size)
        c = torch.zeros_like(h)
        dones = None if case.resets is None else case.resets.to(x.dtype)
        ys = []
        for t in range(x.shape[0]):
            if dones is not None:
                keep = (1.0 - dones[t]).view(1, -1, 1)
                h, c = keep * h, keep * c
            y, (h, c) = module(x[t : t + 1], (h, c))
            ys.append(y)
        return torch.cat(ys), h, c

    return Runner(forward, list(module.parameters()))


def _build_native_per_step(case: Case, kernel: str) -> Runner:
    return per_step_runner(native_module(case, case.dtype), case)


def _build_native_segments(case: Case, kernel: str) -> Runner:
    return _module_runner(_lstm_triton_module(case, "native"), case)


def _build_triton(case: Case, kernel: str) -> Runner:
    return _module_runner(TRITON_KERNELS[kernel](case), case)


def _build_reference(case: Case, kernel: str) -> Runner:
    return _module_runner(_lstm_triton_module(case, "reference"), case)


def loop_runner(case: Case, step: Step = lstm_step, masked_step: Step = masked_lstm_step) -> Runner:
    """loop_lstm with the given step functions, on its own copy of the case's weights."""
    weights = [p.detach().clone().requires_grad_() for p in case.module.parameters()]
    forward = partial(
        loop_lstm,
        weights=weights,
        num_layers=case.config.num_layers,
        bidirectional=case.config.bidirectional,
        lengths=case.lengths,
        step=step,
        masked_step=masked_step,
    )
    return Runner(forward, weights)


def _build_loop(case: Case, kernel: str) -> Runner:
    return loop_runner(case)


def _build_loop_compiled(case: Case, kernel: str) -> Runner:
    # A fresh Dynamo cache per case: guards would otherwise pile up across configs until the
    # recompile limit, past which Dynamo silently runs the step eagerly.
    torch.compiler.reset()
    # Backward mode calls autograd.grad with retain_graph=True, which AOTAutograd refuses for
    # a backward compiled to donate (reuse) its saved buffers. The switch is read when a graph
    # compiles, on first call, so it stays off for the process: a memory saving of the
    # compiled backward, given up for every compiled graph from here on.
    torch._functorch.config.donated_buffer = False
    return loop_runner(
        case,
        torch.compile(lstm_step, fullgraph=True, dynamic=False),
        torch.compile(masked_lstm_step, fullgraph=True, dynamic=False),
    )


register_provider(Provider("native", _native_kernels, _build_native))
register_provider(
    Provider("triton", lambda device: tuple(TRITON_KERNELS), _build_triton, takes_resets=True)
)
register_provider(
    Provider("reference", lambda device: ("reference",), _build_reference, takes_resets=True)
)
register_provider(Provider("loop", lambda device: ("eager",), _build_loop))
register_provider(Provider("loop_compiled", lambda device: ("inductor",), _build_loop_compiled))
register_provider(
    Provider("native_per_step", _native_kernels, _build_native_per_step, takes_resets=True)
)
register_provider(
    Provider("native_segments", _native_kernels, _build_native_segments, takes_resets=True)
)
# torch's other cells: each provider's name is its cell's.
register_provider(Provider("gru", _native_kernels, partial(_build_native, cell="gru"), cell="gru"))
register_provider(
    Provider("rnn_tanh", _native_kernels, partial(_build_native, cell="rnn_tanh"), cell="rnn_tanh")
)

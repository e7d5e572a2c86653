"""The GPU check's correctness items: lstm_triton.LSTM on the Triton kernels, on one recurrence
schedule and dtype, forward and every gradient (input, h0, c0, each parameter) against float64
truth with the test suite's tolerances (tolerance.py).

The truth is torch.nn.LSTM in float64 on the CPU, on the same weights and inputs (those of the
item's dtype, upcast, so that rounding the inputs is not counted); for a cell option torch lacks
(peephole) the reference backend in float64, which the suite holds to torch.nn.LSTM.

Items are named `<shape>/<schedule>/<dtype>` (shape as in the suite: B3-T7-I5-H37-L1), and
three kinds more: `stress/<schedule>/<dtype>` runs a shape with many programs per barrier group
while each group's last program straggles (schedule.straggling); `graph/<schedule>/<dtype>`
captures a forward in a CUDA graph and replays it on new input; `warm/<config>/<dtype>` runs a
benchmark config's kernels on every schedule for a few steps (T is not specialised, so these
are the kernels the timed runs launch): compiled ahead, in parallel with the other items, and
checked to run at those sizes.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lstm_triton.bench.case import DTYPES
from lstm_triton.bench.gate import normalized_error
from lstm_triton.bench.grids import Config
from lstm_triton.bench.tolerance import assert_within
from lstm_triton.kernels import schedule
from lstm_triton.modules import LSTM

SCHEDULES = ("stepwise", "persistent", "resident")
PERSISTENT = ("persistent", "resident")


@dataclass(frozen=True)
class Shape:
    batch: int
    steps: int
    input_size: int
    hidden: int
    num_layers: int = 1
    bidirectional: bool = False
    proj_size: int = 0
    lengths: bool = False
    peephole: bool = False

    @property
    def id(self) -> str:
        parts = [f"B{self.batch}", f"T{self.steps}", f"I{self.input_size}", f"H{self.hidden}"]
        parts.append(f"L{self.num_layers}")
        flags = {
            "bidir": self.bidirectional,
            f"proj{self.proj_size}": self.proj_size,
            "lengths": self.lengths,
            "peephole": self.peephole,
        }
        return "-".join(parts + [name for name, on in flags.items() if on])


# Few shapes, each with several features: every shape compiles its own kernels, and a GPU's
# short window pays for each compile.
SHAPES = (
    Shape(3, 7, 5, 37),  # nothing a multiple of anything
    Shape(5, 9, 6, 48, num_layers=2, bidirectional=True, proj_size=16, lengths=True),
    Shape(4, 8, 6, 32, peephole=True),
)
# On the GPU many programs a barrier group (resident: 16 of 16 units, persistent: 8 of 32, for
# each direction), long enough for a straggler to be overtaken many times; the interpreter runs
# one program a group, so there the case only checks the delay's plumbing, at a small size.
STRESS = {
    "cuda": (Shape(16, 64, 32, 256, bidirectional=True, lengths=True), 256),
    "cpu": (Shape(4, 6, 5, 32, bidirectional=True, lengths=True), 2),
}
GRAPH = Shape(4, 16, 8, 32)
BY_ID = {shape.id: shape for shape in SHAPES}


def items(
    device: torch.device, dtype_names: tuple[str, ...], warm: Sequence[tuple[Config, str]] = ()
) -> list[str]:
    """Every item, in the order the check runs them; warm: the (config, dtype) pairs to compile
    ahead for the speed stage."""
    names = [
        f"{shape.id}/{name}/{dtype}"
        for shape in SHAPES
        for dtype in dtype_names
        for name in SCHEDULES
    ]
    sixteen_bit = next((d for d in dtype_names if d in ("fp16", "bf16")), dtype_names[0])
    names += [f"stress/{name}/{sixteen_bit}" for name in PERSISTENT]
    names.append(f"graph/persistent/{sixteen_bit}")
    return names + [f"warm/{config.id}/{dtype}" for config, dtype in warm]


@dataclass
class Outcome:
    status: str  # ok | failed | unsupported
    detail: str = ""
    max_err: float | None = None  # the largest normalized error of any output or gradient
    seconds: float = 0.0


def _modules(shape: Shape, dtype: torch.dtype, device: torch.device) -> tuple[nn.Module, LSTM]:
    """(float64 truth on the CPU, the kernels' module on device), the same weights."""
    options = dict(
        num_layers=shape.num_layers, bidirectional=shape.bidirectional, proj_size=shape.proj_size
    )
    if shape.peephole:
        truth = LSTM(shape.input_size, shape.hidden, backend="reference", peephole=True, **options)
        with torch.no_grad():  # torch's init leaves peepholes at zero: make them count
            for name, parameter in truth.named_parameters():
                if name.startswith("weight_ch"):
                    parameter.uniform_(-0.5, 0.5)
    else:
        truth = nn.LSTM(shape.input_size, shape.hidden, **options)
    truth = truth.to(dtype)  # the kernels' weights, exactly
    kernels = LSTM(
        shape.input_size, shape.hidden, backend="triton", peephole=shape.peephole, **options
    )
    kernels.load_state_dict(truth.state_dict())
    return truth.double(), kernels.to(device)


def _inputs(shape: Shape, dtype: torch.dtype, generator: torch.Generator) -> dict:
    directions = 2 if shape.bidirectional else 1
    states = shape.num_layers * directions
    size = (shape.steps, shape.batch)
    values = {
        "x": torch.randn(*size, shape.input_size, generator=generator),
        "h0": torch.randn(
            states, shape.batch, shape.proj_size or shape.hidden, generator=generator
        ),
        "c0": torch.randn(states, shape.batch, shape.hidden, generator=generator),
    }
    values = {name: value.to(dtype) for name, value in values.items()}
    if shape.lengths:
        values["lengths"] = torch.randint(1, shape.steps + 1, (shape.batch,), generator=generator)
        values["lengths"][0] = shape.steps
    return values


def _run(module: nn.Module, inputs: dict, device: torch.device, dtype: torch.dtype, grad_out):
    """Outputs y, h_n, c_n and the gradients of x, h0, c0 and every parameter, on the CPU in
    float64, for the cotangents grad_out."""
    x, h0, c0 = (inputs[n].to(device, dtype).requires_grad_() for n in ("x", "h0", "c0"))
    lengths = inputs.get("lengths")
    if isinstance(module, LSTM):
        y, (h_n, c_n) = module(x, (h0, c0), lengths=lengths)
    elif lengths is None:
        y, (h_n, c_n) = module(x, (h0, c0))
    else:
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        packed_y, (h_n, c_n) = module(packed, (h0, c0))
        y, _ = nn.utils.rnn.pad_packed_sequence(packed_y, total_length=x.shape[0])
    outputs = {"y": y, "h_n": h_n, "c_n": c_n}
    if lengths is not None:  # positions past a sequence's end are the padding's, not compared
        mask = torch.arange(y.shape[0])[:, None] < lengths[None, :]
        outputs["y"] = y * mask[..., None].to(y.device, y.dtype)
    leaves = {"x": x, "h0": h0, "c0": c0, **dict(module.named_parameters())}
    cotangents = [grad_out[name].to(device, dtype) for name in outputs]
    grads = torch.autograd.grad(list(outputs.values()), list(leaves.values()), cotangents)
    results = {**outputs, **{f"d{name}": grad for name, grad in zip(leaves, grads, strict=True)}}
    return {name: value.detach().double().cpu() for name, value in results.items()}


def _compare(actual: dict, truth: dict, dtype: torch.dtype) -> tuple[float, str | None]:
    """(largest normalized error, the first mismatch's account or None)."""
    worst, first = 0.0, None
    for name, expected in truth.items():
        worst = max(worst, normalized_error(actual[name], expected))
        if first is None:
            try:
                assert_within(actual[name], expected, dtype, name)
            except AssertionError as mismatch:
                first = " ".join(str(mismatch).split())[:400]
    return worst, first


def _against_truth(shape: Shape, name: str, dtype: torch.dtype, device: torch.device) -> Outcome:
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    truth_module, module = _modules(shape, dtype, device)
    module.to(dtype)
    inputs = _inputs(shape, dtype, generator)
    directions = 2 if shape.bidirectional else 1
    states, out = shape.num_layers * directions, shape.proj_size or shape.hidden
    sizes = {
        "y": (shape.steps, shape.batch, directions * out),
        "h_n": (states, shape.batch, out),
        "c_n": (states, shape.batch, shape.hidden),
    }
    grad_out = {key: torch.randn(size, generator=generator) for key, size in sizes.items()}
    truth = _run(truth_module, inputs, torch.device("cpu"), torch.float64, grad_out)
    before = schedule.launched[name]
    with schedule.restored():
        schedule.use(name)
        try:
            actual = _run(module, inputs, device, dtype, grad_out)
        except ValueError as error:
            if "does not fit" in str(error):
                return Outcome("unsupported", str(error))
            raise
    expected_launches = 2 * shape.num_layers
    if schedule.launched[name] - before != expected_launches:
        ran = schedule.launched[name] - before
        return Outcome("failed", f"ran {ran} recurrences on {name}, expected {expected_launches}")
    max_err, mismatch = _compare(actual, truth, dtype)
    return Outcome("failed" if mismatch else "ok", mismatch or "", max_err)


def _graph_replay(shape: Shape, name: str, dtype: torch.dtype, device: torch.device) -> Outcome:
    """A forward captured in a CUDA graph, replayed on new input, equals the eager forward."""
    if device.type != "cuda":
        return Outcome("unsupported", "CUDA graphs need a CUDA device")
    torch.manual_seed(0)
    module = LSTM(shape.input_size, shape.hidden, backend="triton", device=device, dtype=dtype)
    first, second = (
        torch.randn(shape.steps, shape.batch, shape.input_size, device=device, dtype=dtype)
        for _ in range(2)
    )
    static = first.clone()
    with schedule.restored(), torch.no_grad():
        schedule.use(name)
        before = schedule.launched[name]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm up (compile) outside the capture
            module(static)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            captured, _ = module(static)
        static.copy_(second)
        graph.replay()
        torch.cuda.synchronize()
        eager, _ = module(second)
        launches = schedule.launched[name] - before
    if launches != 3:
        return Outcome("failed", f"ran {launches} recurrences on {name}, expected 3")
    error = (captured.double() - eager.double()).abs().max().item()
    if error != 0:
        return Outcome("failed", f"the replay differs from the eager forward by {error:.3g}", error)
    return Outcome("ok", "replay equals eager", 0.0)


WARM_STEPS = 8


def _warm(config: Config, dtype: torch.dtype, device: torch.device) -> Outcome:
    """Forward and backward of config's LSTM for WARM_STEPS steps on each schedule that fits."""
    torch.manual_seed(0)
    module = LSTM(
        config.input_size,
        config.hidden,
        config.num_layers,
        bidirectional=config.bidirectional,
        backend="triton",
        device=device,
        dtype=dtype,
    )
    x = torch.randn(WARM_STEPS, config.batch, config.input_size, device=device, dtype=dtype)
    lengths = torch.arange(config.batch) % WARM_STEPS + 1 if config.varlen else None
    resets = None
    if config.reset_rate:  # the kernels' variant with resets compiles on its own
        resets = torch.zeros(WARM_STEPS, config.batch, dtype=torch.bool, device=device)
        resets[WARM_STEPS // 2] = True
    x.requires_grad_()
    ran, refused = [], []
    for name in SCHEDULES:
        with schedule.restored():
            schedule.use(name)
            try:
                y, _ = module(x, lengths=lengths, resets=resets)
            except ValueError as error:
                if "does not fit" not in str(error):
                    raise
                refused.append(name)
                continue
            (grad,) = torch.autograd.grad(y.float().square().sum(), [x])
        if not (y.isfinite().all() and grad.isfinite().all()):
            return Outcome("failed", f"{name}: the output or the input's gradient is not finite")
        ran.append(name)
    detail = f"compiled and ran {', '.join(ran)}" + (
        f"; {', '.join(refused)} do not fit" if refused else ""
    )
    return Outcome("ok", detail)


def run_item(item: str, device: torch.device, configs: dict[str, Config] | None = None) -> Outcome:
    """One item by name (configs: the warm items' configs by id); an exception becomes a failed
    Outcome naming it."""
    kind, name, dtype_name = item.split("/")
    dtype = DTYPES[dtype_name]
    started = time.perf_counter()
    try:
        if kind == "warm":
            outcome = _warm(configs[name], dtype, device)
        elif kind == "graph":
            outcome = _graph_replay(GRAPH, name, dtype, device)
        elif kind == "stress":
            shape, spins = STRESS[device.type]
            with schedule.straggling(spins):
                outcome = _against_truth(shape, name, dtype, device)
        else:
            outcome = _against_truth(BY_ID[kind], name, dtype, device)
    except Exception as error:  # one item's failure must not end the check
        outcome = Outcome("failed", f"{type(error).__name__}: {error}".splitlines()[0][:400])
    outcome.seconds = time.perf_counter() - started
    return outcome

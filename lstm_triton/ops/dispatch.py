"""Which implementation runs an LSTM call: the one place that answers "what does auto pick"."""

import importlib.util

import torch

BACKENDS = ("auto", "triton", "native", "reference")

# Asked once, at import: torch.compile traces resolve_backend, and dynamo cannot trace
# find_spec (torch 2.11) nor cache it without a warning at every compile (torch 2.13).
TRITON_INSTALLED = importlib.util.find_spec("triton") is not None


def check_backend_name(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown LSTM backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    return backend


def resolve_backend(
    backend: str, device: torch.device, *, custom_cell: bool = False, resets: bool = False
) -> str:
    """Map a requested backend to the one that runs on `device`: triton, native or reference.

    auto is torch's own LSTM (native: cuDNN on CUDA) wherever torch can run the call, and for
    a cell with options torch lacks (custom_cell) the kernels on CUDA (reference where Triton
    is not installed) and the reference elsewhere. The kernels have not yet been timed against
    cuDNN on a GPU (experiments/gpu_check.py does it): until a measurement shows them faster
    for a GPU, dtype and shape, auto never picks them where torch's LSTM can run, so that the
    default is never slower than torch.
    With resets (episode ends inside the sequence), torch's LSTM cannot run the call in one
    go: its alternatives are one call per step (what recurrent RL code does today) or one per
    segment between resets (native here, modules/native_resets.py). auto is then the kernels
    on CUDA, which take the resets in one call, and native elsewhere (reference for a custom
    cell, as above).
    native on CPU runs as reference inside torch.compile, and so does native with resets on
    any device.
    triton on a CPU tensor runs only when the kernels were built for Triton's interpreter.
    """
    check_backend_name(backend)
    kernels_here = device.type == "cuda" and TRITON_INSTALLED
    if backend == "auto":
        if custom_cell:
            return "triton" if kernels_here else "reference"
        if not resets:
            return "native"
        backend = "triton" if kernels_here else "native"
    if backend == "native" and custom_cell:
        raise ValueError(
            "backend='native' (torch's own LSTM) has no peephole, activation, recurrent "
            "dropout or zoneout options; use backend 'triton', 'reference' or 'auto'"
        )
    if backend == "native" and resets and torch.compiler.is_compiling():
        # The segments' bounds are read on the host, which a graph cannot do; the reference
        # takes the resets as a tensor.
        return "reference"
    if backend == "native" and device.type == "cpu" and torch.compiler.is_compiling():
        # torch 2.13's inductor cannot compile the oneDNN LSTM that torch's CPU decomposition
        # picks when only the weights need gradients; the reference is that decomposition's
        # other branch, the same step loop.
        return "reference"
    if backend != "triton":
        return backend
    if not TRITON_INSTALLED:
        raise RuntimeError("backend='triton' needs the triton package, which is not installed")
    if device.type == "cuda":
        return "triton"
    from lstm_triton.kernels.launch import INTERPRETED

    if not INTERPRETED:
        raise ValueError(
            f"backend='triton' runs on CUDA tensors, got a tensor on {device}; on CPU use "
            "backend='native' or 'reference', or set TRITON_INTERPRET=1 before triton is "
            "imported to run the kernels in Triton's (slow) interpreter"
        )
    return "triton"


def autocast_dtype(device_type: str) -> torch.dtype | None:
    """The dtype torch.autocast casts to on this device type now, or None when it is off."""
    # is_autocast_available guards is_autocast_enabled, which raises for device types without
    # autocast (meta); torch 2.11's dynamo cannot trace it, and the devices torch.compile
    # compiles for have autocast.
    available = torch.compiler.is_compiling() or torch.amp.is_autocast_available(device_type)
    if available and torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return None

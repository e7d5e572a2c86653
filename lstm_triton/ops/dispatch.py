"""Which implementation runs an LSTM call: the one place that answers "what does auto pick"."""

import functools
import importlib.util

import torch

BACKENDS = ("auto", "triton", "native", "reference")


def check_backend_name(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown LSTM backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    return backend


@functools.cache
def triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def resolve_backend(backend: str, device: torch.device, *, custom_cell: bool = False) -> str:
    """Map a requested backend to the one that runs on `device`: triton, native or reference.

    auto is triton on CUDA (native where Triton is not installed) and native elsewhere, or
    reference where the cell has options torch's native LSTM lacks (custom_cell);
    native on CPU runs as reference inside torch.compile.
    triton on a CPU tensor runs only when the kernels were built for Triton's interpreter.
    """
    check_backend_name(backend)
    has_triton = triton_installed()
    if backend == "auto":
        if device.type == "cuda" and has_triton:
            return "triton"
        return "reference" if custom_cell else "native"
    if backend == "native" and custom_cell:
        raise ValueError(
            "backend='native' (torch's own LSTM) has no peephole, activation, recurrent "
            "dropout or zoneout options; use backend 'triton', 'reference' or 'auto'"
        )
    if backend == "native" and device.type == "cpu" and torch.compiler.is_compiling():
        # torch 2.13's inductor cannot compile the oneDNN LSTM that torch's CPU decomposition
        # picks when only the weights need gradients; the reference is that decomposition's
        # other branch, the same step loop.
        return "reference"
    if backend != "triton":
        return backend
    if not has_triton:
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
    if torch.amp.is_autocast_available(device_type) and torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return None

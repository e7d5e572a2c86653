"""Autograd ops and backend dispatch under the lstm_triton modules."""

from lstm_triton.ops.dispatch import (
    BACKENDS,
    autocast_dtype,
    check_backend_name,
    resolve_backend,
)
from lstm_triton.ops.layers import lstm_layers
from lstm_triton.ops.reference import lstm_cell_reference
from lstm_triton.ops.triton_layer import cache_bytes

__all__ = [
    "BACKENDS",
    "autocast_dtype",
    "cache_bytes",
    "check_backend_name",
    "lstm_cell_reference",
    "lstm_layers",
    "resolve_backend",
]

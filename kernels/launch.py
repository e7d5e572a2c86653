"""Launch settings shared by the LSTM kernels."""

import triton
from triton import knobs

INTERPRETED: bool = bool(knobs.runtime.interpret)
"""True when the kernels were built for Triton's CPU interpreter (TRITON_INTERPRET=1 at import)."""


def block_sizes(batch: int, hidden: int) -> tuple[int, int, int]:
    """(BLOCK_B, BLOCK_H, BLOCK_K); tl.dot needs every side >= 16."""
    block_b = min(64, max(16, triton.next_power_of_2(batch)))
    return block_b, 32, 32

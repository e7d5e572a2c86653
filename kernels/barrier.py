"""A grid-wide barrier for kernels whose programs all stay resident (persistent kernels).

Each program adds 1 to a counter once it has finished its stores, with release semantics, and
spins until the counter reaches `target` (programs x barriers passed so far), with acquire
semantics, so every store before the barrier is visible after it. The counter only grows: no
reset between barriers, one zeroed int32 per launch. Triton's CPU interpreter runs programs one
after the other, so there only one program per counter can pass a barrier.
"""

import triton
import triton.language as tl


@triton.jit
def grid_barrier(arrived_ptr, target):
    # Every thread's stores are done before the program's single (scalar) atomic releases them.
    tl.debug_barrier()
    tl.atomic_add(arrived_ptr, 1, sem="release", scope="gpu")
    seen = tl.atomic_add(arrived_ptr, 0, sem="acquire", scope="gpu")
    while seen < target:
        seen = tl.atomic_add(arrived_ptr, 0, sem="acquire", scope="gpu")
    tl.debug_barrier()

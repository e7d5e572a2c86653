"""A grid-wide barrier for kernels whose programs all stay resident (persistent kernels).

Each program adds 1 to a counter once it has issued the stores the others read (`arrive`), with
release semantics, and before it reads theirs spins until the counter reaches `target` (the
programs sharing the counter x the barriers so far, `wait_for`), with acquire semantics, so
every store before an arrival is visible after the wait. Between the two a program does its
other work: the stores only it reads (caches for backward) and the loads of the next step that
no other program writes. The counter only grows: no reset between barriers, one zeroed int32 per
group and launch. Triton's CPU interpreter runs programs one after the other: there a barrier
passes only when a single program shares its counter. The pattern is cooperative groups' grid
sync (and CUTLASS's GenericBarrier): bar.sync, then one thread's release add; one thread's
acquire spin, then bar.sync.
"""

import triton
import triton.language as tl

# int32s between two groups' counters: 128 bytes, an L2 line each, so that one group's spinning
# reads never share a line with another group's atomic adds.
COUNTER_STRIDE = tl.constexpr(32)


@triton.jit
def group_counter(arrived_ptr):
    """This program's counter in arrived (D * batch blocks * COUNTER_STRIDE,): the group of
    programs of its direction and batch rows, which exchange h (dz) every step."""
    group = tl.program_id(2) * tl.num_programs(0) + tl.program_id(0)
    return arrived_ptr + group * COUNTER_STRIDE


@triton.jit
def arrive(arrived_ptr):
    """This program's arrival at a step's barrier, once the stores the others read are issued:
    every thread's stores are done before the program's single (scalar) atomic releases them."""
    tl.debug_barrier()
    tl.atomic_add(arrived_ptr, 1, sem="release", scope="gpu")


@triton.jit
def wait_for(arrived_ptr, target):
    """Spin until `target` arrivals, then let every thread read what they released."""
    seen = tl.atomic_add(arrived_ptr, 0, sem="acquire", scope="gpu")
    while seen < target:
        seen = tl.atomic_add(arrived_ptr, 0, sem="acquire", scope="gpu")
    tl.debug_barrier()


@triton.jit
def straggle(arrived_ptr, SPINS: tl.constexpr):
    """A test-only delay (schedule.straggling): SPINS relaxed atomic reads of the counter, one
    after the other, an L2 round trip each, so that the program's next stores come late. A
    barrier that lets the others pass before it arrives, or a load of h (dz) hoisted above the
    barrier, then reads a stale value and the results differ. Each read's value decides the
    loop (the counter is never negative): an atomic whose value goes unused compiles to a
    fire-and-forget `red` that would not wait."""
    spun = 0
    while spun < SPINS:
        seen = tl.atomic_add(arrived_ptr, 0, sem="relaxed", scope="gpu")
        spun += (seen >= 0).to(tl.int32)

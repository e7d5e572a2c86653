"""Tiny kernels whose instruction counts follow from their shapes, compiled for sm_90 and counted
as the cost model counts (lstm_triton/bench/sass.py); prints one JSON object per kernel, what
one program issues. Run as a script outside TRITON_INTERPRET (test_kernel_cost.py does): the
interpreter replaces compilation, also of the triton.language functions a kernel calls.
"""

import json

import torch
import triton
import triton.language as tl

from lstm_triton.bench import sass
from lstm_triton.bench.launches import H200, Launch, compile_launch


@triton.jit
def dot_tile(a_ptr, b_ptr, c_ptr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
    """c (M, N) fp32 = a (M, K) @ b (K, N), one tile."""
    o_m, o_n, o_k = tl.arange(0, M), tl.arange(0, N), tl.arange(0, K)
    b_a = tl.load(a_ptr + o_m[:, None] * K + o_k[None, :])
    b_b = tl.load(b_ptr + o_k[:, None] * N + o_n[None, :])
    tl.store(c_ptr + o_m[:, None] * N + o_n[None, :], tl.dot(b_a, b_b))


@triton.jit
def dot_loop(a_ptr, b_ptr, c_ptr, K, BLOCK: tl.constexpr):
    """c (BLOCK, BLOCK) fp32 = a (BLOCK, K) @ b (K, BLOCK), K (a runtime size) in BLOCK chunks."""
    o = tl.arange(0, BLOCK)
    b_c = tl.zeros([BLOCK, BLOCK], dtype=tl.float32)
    for k in range(0, K, BLOCK):
        b_a = tl.load(a_ptr + o[:, None] * K + k + o[None, :])
        b_b = tl.load(b_ptr + (k + o[:, None]) * BLOCK + o[None, :])
        b_c = tl.dot(b_a, b_b, acc=b_c)
    tl.store(c_ptr + o[:, None] * BLOCK + o[None, :], b_c)


@triton.jit
def gather(x_ptr, index_ptr, y_ptr, N: tl.constexpr):
    """y = x[index] + y: the load of x waits for index's (two round trips), y's does not."""
    o = tl.arange(0, N)
    b_index = tl.load(index_ptr + o)
    b_y = tl.load(y_ptr + o)
    tl.store(y_ptr + o, tl.load(x_ptr + b_index) + b_y)


def meta(*sizes: int, dtype: torch.dtype = torch.float16) -> torch.Tensor:
    """Stands in for a CUDA tensor: a launch's binding reads only its dtype and address (0,
    aligned)."""
    return torch.empty(sizes, dtype=dtype, device="meta")


def counted(kernel, num_warps: int, depth: int, **arguments) -> dict:
    """One program's counts in one step (sass.one_step over the whole kernel, K loops run
    ceil(depth / k_step) times)."""
    launch = Launch(kernel, (1, 1, 1), {**arguments, "num_warps": num_warps})
    cubin = compile_launch(launch, H200).asm["cubin"]
    instructions, loops = sass.disassemble(cubin)
    step = sass.one_step(instructions, loops, None, depth)
    counts = sass.tally(instructions, step.weights)
    macs = 0.0
    for opcode, count in counts.by_opcode(*sass.MMA_NAMES).items():
        m, n, k = sass.mma_shape(opcode)
        # An HMMA each warp issues, an HGMMA (wgmma) each warpgroup of 4.
        macs += count * (num_warps if opcode.startswith("HMMA.") else num_warps / 4) * m * n * k
    return {
        "mma_per_warp": counts.by_opcode(*sass.MMA_NAMES),
        "mma_macs": macs,
        "chain": step.chain,
        "loops": len(loops),
        "spin_loops": step.spin_loops,
        "load_rounds": step.load_rounds,
        "ldg_per_warp": counts.by_opcode("LDG"),
        "ldg_bytes": counts.moved("LDG") * num_warps,
        "ldgsts_bytes": counts.moved("LDGSTS") * num_warps,
        "stg_bytes": counts.moved("STG") * num_warps,
        "stack_bytes": sass.resources(cubin).stack_bytes,
        "local_accesses": counts.issued("LDL", "STL"),
    }


def main() -> None:
    c16, c64 = meta(16, 16, dtype=torch.float32), meta(64, 64, dtype=torch.float32)
    tile16 = dict(a_ptr=meta(16, 16), b_ptr=meta(16, 16), c_ptr=c16, M=16, N=16, K=16)
    tile64 = dict(a_ptr=meta(64, 64), b_ptr=meta(64, 64), c_ptr=c64, M=64, N=64, K=64)
    loop = dict(a_ptr=meta(16, 96), b_ptr=meta(96, 16), c_ptr=c16, K=96, BLOCK=16)
    indexed = dict(x_ptr=meta(64), index_ptr=meta(64, dtype=torch.int32), y_ptr=meta(64), N=64)
    print(
        json.dumps(
            {
                "dot16_1warp": counted(dot_tile, 1, 16, **tile16),
                "dot64_4warps": counted(dot_tile, 4, 64, **tile64),
                "loop16x96_1warp": counted(dot_loop, 1, 96, **loop),
                "gather64_1warp": counted(gather, 1, 0, **indexed),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Compiles the recurrence kernels (the persistent one too) for NVIDIA GPUs on a machine without
one, down to a cubin (Triton's bundled ptxas): catches what Triton's CPU interpreter lets
through (types, layouts, dot shapes, bool loads, fp64 dots, atomics). Run as a script, outside
TRITON_INTERPRET:

    python tests/kernels/compile_for_gpu.py 90 80          # compute capabilities
    python tests/kernels/compile_for_gpu.py --all 90       # every flag combination (minutes)

The resident schedule's persistent kernels are also compiled at the tiles schedule.tiling gives
on the GPU, at hidden sizes where that tiling changes (16, 512, 768 with a K tail, 1024), with
every cell option on and with torch's cell, in fp16 and bf16: their cubins must use no local
memory (cuobjdump's STACK: no register spills) and no more shared memory than
schedule.resident_shared_bytes, which the schedule holds against the GPU's. (Their step
kernels' launches take the 16 x 16 x 16 tiles compiled above.) No persistent kernel's loop over
steps may carry an async copy or a shared memory buffer from one step into the next: that is a
load of the next step's h (dz) issued before the barrier that makes it valid.
Prints one line a failure, its reason indented below it, and exits 1 if there was one.
"""

import itertools
import re
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource, CompilationError

from lstm_triton.bench.case import DTYPES
from lstm_triton.kernels.launch import block_sizes
from lstm_triton.kernels.lstm_backward import (
    _lstm_backward_persistent_kernel,
    _lstm_backward_step_kernel,
)
from lstm_triton.kernels.lstm_forward import (
    _lstm_forward_persistent_kernel,
    _lstm_forward_step_kernel,
)
from lstm_triton.kernels.schedule import (
    RESIDENT_MAX_HIDDEN,
    Tiling,
    loop_constexprs,
    resident_shared_bytes,
    step_constexprs,
    tiling,
)

# The launchers' smallest and largest tiles: (batch, hidden) of 1 x 16 and 128 x 768; the large
# one with what Triton specializes on at such a launch (pointers and H divisible by 16), which
# turns the inner loads into pipelined cp.async copies.
BLOCKS = [
    (dict(zip(("BLOCK_B", "BLOCK_H", "BLOCK_K"), block_sizes(batch, hidden), strict=True)), aligned)
    for batch, hidden, aligned in ((1, 16, False), (128, 768, True))
]


TORCH_ACTIVATIONS = (0, 0, 2, 0, 2)
OTHER_ACTIVATIONS = (1, 0, 3, 1, 4)


def pointers(names: str, dtype: str) -> dict[str, str]:
    return {name: f"*{dtype}" for name in names.split()}


def signatures(dtype: str, zoneout: int) -> tuple[dict, dict, dict, dict]:
    """The forward and backward kernels' argument types, step and persistent, for one input
    dtype."""
    acc = "fp64" if dtype == "fp64" else "fp32"
    zone = "*i1" if zoneout == 1 else f"*{acc}"
    ints = {name: "i32" for name in ("s", "T", "B", "H", "D", "w_direction_stride")}
    forward = {
        **pointers("gates_ptr w_ptr peephole_ptr h0_ptr c0_ptr", dtype),
        "lengths_ptr": "*i32",
        "resets_ptr": "*i1",
        "zone_h_ptr": zone,
        "zone_c_ptr": zone,
        "y_ptr": f"*{dtype}",
        "c_seq_ptr": f"*{acc}",
        **ints,
        "slot": "i32",
        "slot_prev": "i32",
    }
    backward = {
        **pointers("dy_ptr dh_n_ptr gates_ptr", dtype),
        "c_seq_ptr": f"*{acc}",
        **pointers("c0_ptr w_ptr peephole_ptr", dtype),
        "lengths_ptr": "*i32",
        "resets_ptr": "*i1",
        "zone_h_ptr": zone,
        "zone_c_ptr": zone,
        **pointers("dc_ptr dh_keep_ptr", acc),
        "dgates_ptr": f"*{dtype}",
        **ints,
    }
    persistent = {
        **{name: kind for name, kind in forward.items() if name not in ("s", "slot", "slot_prev")},
        "arrived_ptr": "*i32",
        "slots": "i32",
    }
    backward_persistent = {
        **{name: kind for name, kind in backward.items() if name != "s"},
        "arrived_ptr": "*i32",
    }
    return forward, persistent, backward, backward_persistent


def compile_kernel(
    kernel, signature: dict, constants: dict, capability: int, aligned: bool, num_warps: int = 4
):
    # Aligned: H a multiple of 16, and so W's direction stride (4 H H, or a flat layout's).
    divisible = [
        name
        for name, kind in signature.items()
        if kind.startswith("*") or name in ("H", "w_direction_stride")
    ]
    attrs = {(kernel.arg_names.index(name),): [["tt.divisibility", 16]] for name in divisible}
    source = ASTSource(
        kernel,
        {**signature, **dict.fromkeys(constants, "constexpr")},
        constants,
        attrs if aligned else None,
    )
    return triton.compile(
        source, target=GPUTarget("cuda", capability, 32), options={"num_warps": num_warps}
    )


def constexprs(
    state: bool, lengths: bool, peephole: bool, zoneout: int, acts: tuple, blocks: dict
) -> dict:
    """The constexpr arguments both kernels of a direction share; lengths stands for lengths
    and resets, on or off together."""
    return {
        "HAS_STATE": state,
        "HAS_LENGTHS": lengths,
        "HAS_RESETS": lengths,
        "PEEPHOLE": peephole,
        "ZONEOUT": zoneout,
        **dict(zip(("ACT_I", "ACT_F", "ACT_G", "ACT_O", "ACT_C"), acts, strict=True)),
        "DOT_PRECISION": "ieee",
        **blocks,
    }


def failure_reason(error: Exception) -> str:
    """Why a compilation failed, in a few indented lines: the kernel line and the error Triton
    raised there. Triton wraps an error in one CompilationError per call level, whose text is
    the outermost caller's source excerpt ending in a caret; the innermost names the line, its
    cause (when there is one) the check inside Triton that failed, often a bare assert."""
    chain = [error]
    while chain[-1].__cause__ is not None:
        chain.append(chain[-1].__cause__)
    lines = []
    located = [link for link in chain if isinstance(link, CompilationError)]
    if located and located[-1].src is not None and hasattr(located[-1].node, "lineno"):
        innermost, row = located[-1], located[-1].node.lineno
        function = re.search(r"def\s+(\w+)", innermost.src)
        source = innermost.src.splitlines()[row - 1].strip()
        lines.append(f"in {function.group(1) if function else '?'}, line {row}: {source}")
    cause = chain[-1]
    if isinstance(cause, CompilationError):
        message = (cause.error_message or "").strip()
    else:
        text = str(cause).strip()
        message = f"{type(cause).__name__}: {text}" if text else type(cause).__name__
        raised = traceback.extract_tb(cause.__traceback__)
        if raised:
            where = "/".join(Path(raised[-1].filename).parts[-3:])
            lines.append(f"raised at {where}:{raised[-1].lineno}: {raised[-1].line}")
    message_lines = [line.strip() for line in message.splitlines() if line.strip()]
    lines += message_lines[:3]
    if len(message_lines) > 3:
        lines.append(f"... {len(message_lines) - 3} more lines")
    return "\n".join(f"    {line}" for line in lines)


CUOBJDUMP = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"


def stack_bytes(cubin: bytes) -> int:
    """The kernel's stack frame in bytes (cuobjdump --dump-resource-usage): register spills."""
    with tempfile.NamedTemporaryFile(suffix=".cubin") as file:
        file.write(cubin)
        file.flush()
        usage = subprocess.run(
            [str(CUOBJDUMP), "--dump-resource-usage", file.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return int(re.search(r"STACK:(\d+)", usage).group(1))


def prefetch_across_steps(ttgir: str) -> str | None:
    """The header of a persistent kernel's loop over steps (its outermost scf.for) when it
    carries an async copy's token or a shared memory buffer into the next step, else None."""
    for line in ttgir.splitlines():
        if "scf.for" in line:
            return line.strip() if "async.token" in line or "memdesc" in line else None
    return None


@triton.jit
def _step_loop_kernel(x_ptr, w_ptr, y_ptr, T, STAGES: tl.constexpr):
    """A loop over steps whose loads do not depend on the step before: Triton pipelines it
    unless told one stage, which is what prefetch_across_steps must tell apart."""
    o = tl.arange(0, 16)
    b_w = tl.load(w_ptr + o[:, None] * 16 + o[None, :])
    for t in tl.range(0, T, num_stages=STAGES):
        b_x = tl.load(x_ptr + t * 256 + o[:, None] * 16 + o[None, :])
        tl.store(y_ptr + t * 256 + o[:, None] * 16 + o[None, :], tl.dot(b_x, b_w))


def detector_failures(capability: int) -> list[str]:
    """prefetch_across_steps against a loop known to prefetch and the same loop held to one
    stage."""
    signature = {"x_ptr": "*fp16", "w_ptr": "*fp16", "y_ptr": "*fp32", "T": "i32"}
    found = {
        stages: prefetch_across_steps(
            compile_kernel(_step_loop_kernel, signature, {"STAGES": stages}, capability, True).asm[
                "ttgir"
            ]
        )
        for stages in (1, 3)
    }
    if found[1] is None and found[3] is not None:
        return []
    return [f"sm_{capability} prefetch_across_steps misjudges a known loop: {found}"]


def resident_failures(capability: int) -> list[str]:
    """The resident kernels at the GPU tiling for the dtypes it runs: no spills, shared memory
    within the schedule's estimate."""
    every_option = (True, True, True, 1, OTHER_ACTIVATIONS)
    torch_cell = (False, False, False, 0, TORCH_ACTIVATIONS)
    # The largest K (most registers) in both dtypes; the other edges of the tiling in one each.
    cases = [(dtype, every_option, RESIDENT_MAX_HIDDEN) for dtype in ("fp16", "bf16")]
    cases += [("bf16", every_option, 16), ("bf16", every_option, 512), ("bf16", every_option, 768)]
    cases += [("fp16", torch_cell, 512), ("fp16", torch_cell, RESIDENT_MAX_HIDDEN)]
    failures = []
    for dtype, options, hidden in cases:
        tiles = tiling("resident", 16, hidden)
        _, persistent, _, backward_persistent = signatures(dtype, options[3])
        blocks = dict(BLOCK_B=tiles.block_b, BLOCK_H=tiles.block_h, BLOCK_K=tiles.block_k)
        flags = constexprs(*options, blocks)
        budget = resident_shared_bytes(tiles, DTYPES[dtype])
        for kernel, signature, backward in (
            (_lstm_forward_persistent_kernel, persistent, False),
            (_lstm_backward_persistent_kernel, backward_persistent, True),
        ):
            name = f"sm_{capability} {kernel.__name__} resident {dtype} H={hidden} {options}"
            try:
                constants = {**flags, **loop_constexprs("resident", tiles, backward)}
                warps = constants.pop("num_warps")
                compiled = compile_kernel(kernel, signature, constants, capability, True, warps)
            except Exception as error:  # every failure is reported, then the exit code
                failures.append(f"{name}:\n{failure_reason(error)}")
                continue
            spilled, shared = stack_bytes(compiled.asm["cubin"]), compiled.metadata.shared
            prefetch = prefetch_across_steps(compiled.asm["ttgir"])
            if prefetch:
                failures.append(f"{name}: the loop over steps prefetches: {prefetch}")
            if spilled or shared > budget:
                failures.append(
                    f"{name}: {spilled} bytes of stack, {shared} of shared memory (the "
                    f"schedule's estimate: {budget})"
                )
    return failures


def main(capabilities: list[int], every_combination: bool) -> int:
    """Every dtype with torch's cell and every cell option with fp32 and bf16, at the first and
    a later step; states and lengths on, or (every_combination) on and off."""
    failures = 0
    cases = [(dtype, False, 0, TORCH_ACTIVATIONS) for dtype in ("fp32", "fp16", "bf16", "fp64")]
    for dtype, zoneout in itertools.product(("fp32", "bf16"), (0, 1, 2)):
        cases.append((dtype, True, zoneout, OTHER_ACTIVATIONS))
    on_off = (True, False) if every_combination else (True,)
    for capability, (
        dtype,
        peephole,
        zoneout,
        acts,
    ), (blocks, aligned), first, state, lengths in itertools.product(
        capabilities, cases, BLOCKS, (True, False), on_off, on_off
    ):
        forward, persistent, backward, backward_persistent = signatures(dtype, zoneout)
        flags = constexprs(state, lengths, peephole, zoneout, acts, blocks)
        tiles = Tiling(blocks["BLOCK_B"], blocks["BLOCK_H"], blocks["BLOCK_K"], num_warps=4)
        step = {"FIRST": first, "SHARED_LOAD": "", "exchange": None}
        forward_step = {
            **step,
            "b_w_tiles": None,
            **step_constexprs(tiles, False),
        }
        backward_step = {
            **step,
            "b_w_resident": None,
            "b_w_tail": None,
            "b_dc_carried": None,
            "LAST": not first,
        }
        kernels = [
            (_lstm_forward_step_kernel, forward, forward_step),
            (
                _lstm_backward_step_kernel,
                backward,
                {**backward_step, **step_constexprs(tiles, True)},
            ),
        ]
        if not first:
            for kernel, signature, backward_side in (
                (_lstm_forward_persistent_kernel, persistent, False),
                (_lstm_backward_persistent_kernel, backward_persistent, True),
            ):
                streamed = loop_constexprs("persistent", tiles, backward_side)
                # The GPU check's straggler (schedule.straggling) compiled in one dtype.
                streamed["STRAGGLER_SPINS"] = 64 if dtype == "fp16" else 0
                kernels.append((kernel, signature, streamed))
        for kernel, signature, steps in kernels:
            name = f"sm_{capability} {kernel.__name__} {dtype} aligned={aligned}"
            try:
                constants = {**flags, **steps}
                warps = constants.pop("num_warps", 4)
                compiled = compile_kernel(kernel, signature, constants, capability, aligned, warps)
            except Exception as error:  # every failure is reported, then the exit code
                failures += 1
                print(f"{name} {steps} {flags}:\n{failure_reason(error)}")
                continue
            prefetch = "persistent" in kernel.__name__ and prefetch_across_steps(
                compiled.asm["ttgir"]
            )
            if prefetch:
                failures += 1
                print(f"{name} {steps} {flags}: the loop over steps prefetches: {prefetch}")
    for capability in capabilities:
        for failure in detector_failures(capability) + resident_failures(capability):
            failures += 1
            print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--all"]
    sys.exit(main([int(c) for c in arguments or ["90"]], every_combination="--all" in sys.argv))

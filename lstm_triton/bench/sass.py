"""What one warp issues in one step of a recurrence kernel, read from the SASS of its compiled
code (lstm_triton/bench/cost.py prices it).

The SASS comes from the NVIDIA tools Triton bundles (nvdisasm, cuobjdump), which run without a
GPU. Instructions are tallied with a weight each, which the caller chooses: 1 for code that runs
once, a trip count inside a loop, 0 for code outside the part being measured. Predicated-off
placeholders (@!PT) never run and weigh 0. Bytes are what an instruction moves with every lane
on, an upper bound where masks switch lanes off (a pipelined loop's loads ahead, num_stages - 1
chunks past the end, count too): LDG, STG, LDS, STS, LDGSTS, LDL and STL move their width (.128
16 bytes, .64 8, .U16 2, .U8 1, else 4) for each of the 32 lanes; LDSM and STSM 128 bytes per
8x8 matrix of 16-bit elements (.4: four).
"""

import math
import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from triton import knobs

LANES = 32
MATRIX_BYTES = 8 * 8 * 2  # one 8x8 matrix of 16-bit elements, what ldmatrix / stmatrix move
MMA_NAMES = ("HMMA", "HGMMA")
OPERAND_BYTES = {"BF16": 2, "F16": 2, "TF32": 4, "E4M3": 1, "E5M2": 1, "S8": 1, "U8": 1}

_INSTRUCTION = re.compile(r"/\*([0-9a-f]+)\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Za-z0-9_.]*)\s*([^;]*);")
_LABEL = re.compile(r"^\s*(\.L_x_\d+):")
_TARGET = re.compile(r"`\((\.L_x_\d+)\)")
_REGISTER = re.compile(r"^-?\|?(R\d+|RZ)")


@dataclass(frozen=True)
class Instruction:
    opcode: str  # with its modifiers: HMMA.16816.F32.BF16
    operands: tuple[str, ...]
    predicate: str  # "", @P0, @!P3 ..., @!PT (never runs)
    target: str | None  # a branch's label

    @property
    def name(self) -> str:
        return self.opcode.split(".")[0]

    @property
    def modifiers(self) -> list[str]:
        return self.opcode.split(".")[1:]

    @property
    def runs(self) -> bool:
        return self.predicate.strip() != "@!PT"

    @property
    def is_mma(self) -> bool:
        return self.name in MMA_NAMES


class Loop(NamedTuple):
    first: int  # index of the loop's first instruction (the back edge's target)
    last: int  # index of the back edge

    def __contains__(self, index: int) -> bool:
        return self.first <= index <= self.last

    def encloses(self, other: "Loop") -> bool:
        return self != other and self.first <= other.first and other.last <= self.last


class Resources(NamedTuple):
    registers: int  # per thread
    stack_bytes: int  # per thread: register spills (local memory)


def _tool(name: str) -> str:
    return getattr(knobs.nvidia, name).path


def _run_on_cubin(tool: str, arguments: list[str], cubin: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".cubin") as file:
        file.write(cubin)
        file.flush()
        return subprocess.run(
            [_tool(tool), *arguments, file.name], capture_output=True, text=True, check=True
        ).stdout


def parse(sass: str) -> list[Instruction]:
    """The instructions of nvdisasm -c output (one kernel), branch targets resolved to labels."""
    instructions = []
    for line in sass.splitlines():
        found = _INSTRUCTION.search(line)
        if found is None:
            continue
        _, predicate, opcode, operands = found.groups()
        target = _TARGET.search(operands)
        instructions.append(
            Instruction(
                opcode,
                tuple(operand.strip() for operand in operands.split(",") if operand.strip()),
                (predicate or "").strip(),
                target.group(1) if target else None,
            )
        )
    return instructions


def labels(sass: str) -> dict[str, int]:
    """Label -> index of the instruction it names (the next one)."""
    found, count = {}, 0
    for line in sass.splitlines():
        label = _LABEL.match(line)
        if label:
            found[label.group(1)] = count
        elif _INSTRUCTION.search(line):
            count += 1
    return found


def disassemble(cubin: bytes) -> tuple[list[Instruction], list[Loop]]:
    """The kernel's instructions and its loops: one per back edge's target, to its last back
    edge."""
    sass = _run_on_cubin("nvdisasm", ["-c"], cubin)
    instructions, where = parse(sass), labels(sass)
    last: dict[int, int] = {}
    for index, instruction in enumerate(instructions):
        if instruction.name == "BRA" and instruction.target in where:
            first = where[instruction.target]
            # A branch to itself is ptxas's trap after the last EXIT, never reached.
            if first < index:
                last[first] = max(index, last.get(first, index))
    return instructions, sorted(Loop(first, end) for first, end in last.items())


def resources(cubin: bytes) -> Resources:
    """Registers and stack (cuobjdump --dump-resource-usage)."""
    usage = _run_on_cubin("cuobjdump", ["--dump-resource-usage"], cubin)
    registers, stack = (int(re.search(rf"{key}:(\d+)", usage).group(1)) for key in ("REG", "STACK"))
    return Resources(registers, stack)


def mma_shape(opcode: str) -> tuple[int, int, int]:
    """(m, n, k) of HMMA.16816 (m16n8k16), HMMA.1688 (m16n8k8) or HGMMA.64x128x16."""
    shape = opcode.split(".")[1]
    if "x" in shape:
        m, n, k = (int(side) for side in shape.split("x"))
        return m, n, k
    found = re.fullmatch(r"(16|8)(8)(\d+)", shape)
    if found is None:
        raise ValueError(f"unknown MMA shape {opcode}")
    m, n, k = (int(side) for side in found.groups())
    return m, n, k


def operand_bytes(opcode: str) -> int:
    """Bytes of one A or B element of an MMA: the type after the accumulator's
    (HMMA.16816.F32.BF16); none named is fp16."""
    named = [OPERAND_BYTES[m] for m in opcode.split(".")[3:] if m in OPERAND_BYTES]
    return named[0] if named else 2


def _register(operand: str) -> str | None:
    found = _REGISTER.match(operand)
    return found.group(1) if found else None


def accumulator_chain(instructions: Sequence[Instruction], indices: Sequence[int]) -> int:
    """The longest chain of MMAs among `indices` (in order) in which each adds to the
    accumulator the previous one wrote: D = A B + C with C the last D. Issued back to back,
    such a chain waits the MMA's latency a link."""
    depth: dict[str, int] = {}
    longest = 0
    for index in indices:
        instruction = instructions[index]
        if not instruction.runs or not instruction.operands:
            continue
        written = _register(instruction.operands[0])
        if instruction.is_mma:
            registers = [_register(operand) for operand in instruction.operands]
            added = [register for register in registers if register][-1]
            depth[written] = depth.get(added, 0) + 1
            longest = max(longest, depth[written])
        elif written in depth:
            del depth[written]
    return longest


def access_bytes(opcode: str) -> int:
    """Bytes one warp's memory instruction moves, every lane on."""
    name, *modifiers = opcode.split(".")
    if name in ("LDSM", "STSM"):
        return MATRIX_BYTES * (int(modifiers[-1]) if modifiers[-1] in ("2", "4") else 1)
    width = next((w for m, w in (("128", 16), ("64", 8)) if m in modifiers), None)
    if width is None:
        width = 2 if {"U16", "S16"} & set(modifiers) else 1 if {"U8", "S8"} & set(modifiers) else 4
    return width * LANES


def _wgmma_shared_bytes(instruction: Instruction) -> float:
    """Shared-memory bytes one warp's share of a wgmma reads (a quarter of its warpgroup's): B
    always, A too where its operand is a shared-memory descriptor (gdesc) rather than registers."""
    m, n, k = mma_shape(instruction.opcode)
    from_shared = instruction.operands[1].startswith("gdesc")
    return (n * k + (m * k if from_shared else 0)) * operand_bytes(instruction.opcode) / 4


class Tally(NamedTuple):
    """One warp's weighted instruction counts, by opcode, and the shared-memory bytes its
    wgmma read."""

    opcodes: Counter
    wgmma_shared_bytes: float

    def issued(self, *names: str) -> float:
        return sum(count for opcode, count in self.opcodes.items() if opcode.split(".")[0] in names)

    def moved(self, *names: str) -> float:
        """Bytes the instructions named move, every lane on."""
        return sum(
            count * access_bytes(opcode)
            for opcode, count in self.opcodes.items()
            if opcode.split(".")[0] in names
        )

    def by_opcode(self, *names: str) -> dict[str, float]:
        return {
            opcode: count
            for opcode, count in sorted(self.opcodes.items())
            if opcode.split(".")[0] in names and count
        }


def tally(instructions: Sequence[Instruction], weights: Sequence[float]) -> Tally:
    """Instructions weighted by `weights` (one each, same order)."""
    opcodes: Counter = Counter()
    wgmma = 0.0
    for instruction, weight in zip(instructions, weights, strict=True):
        if weight and instruction.runs:
            opcodes[instruction.opcode] += weight
            if instruction.name == "HGMMA":
                wgmma += weight * _wgmma_shared_bytes(instruction)
    return Tally(opcodes, wgmma)


def _body(loops: Sequence[Loop], loop: Loop | None, size: int) -> list[int]:
    """Indices of `loop` (None: the whole kernel) outside the loops nested in it."""
    first, last = (0, size - 1) if loop is None else loop
    nested = [inner for inner in loops if loop is None or loop.encloses(inner)]
    return [i for i in range(first, last + 1) if not any(i in inner for inner in nested)]


class Step(NamedTuple):
    weights: list[float]  # each instruction's runs in one step
    chain: int  # the longest accumulator chain one warp waits through in one step
    spin_loops: int  # loops in the step without MMAs that poll global memory: grid barriers
    load_rounds: int  # global-load round trips one after another, after the last spin


_STORES = ("ST", "STS", "STG", "STL", "STSM", "RED")
_REGISTERS = re.compile(r"\bR(\d+)\b")


def _width(opcode: str) -> int:
    """Registers a load writes: .128 four, .64 two, else one."""
    modifiers = opcode.split(".")[1:]
    return 4 if "128" in modifiers else 2 if "64" in modifiers else 1


def load_rounds(instructions: Sequence[Instruction], indices: Sequence[int]) -> int:
    """Global-load round trips that follow one another through `indices` (straight-line code,
    in order), as a warp that issues in order lives them: a load issued after an instruction
    that waited on the k-th round's data completes in round k + 1. So loads issued together
    share a round, and a load behind a barrier that waits on earlier loads' data (their copy
    into shared memory) starts a new one."""
    ready: dict[int, int] = {}  # register -> the round its load completes in
    now = rounds = 0
    for index in indices:
        instruction = instructions[index]
        if not instruction.runs or not instruction.operands:
            continue
        writes = instruction.name not in _STORES
        read = instruction.operands[1:] if writes else instruction.operands
        for operand in read:
            for register in _REGISTERS.findall(operand):
                now = max(now, ready.get(int(register), 0))
        if not writes:
            continue
        written = _REGISTERS.match(instruction.operands[0].lstrip("-|"))
        if written is None:
            continue
        first = int(written.group(1))
        width = _width(instruction.opcode) if instruction.name == "LDG" else 1
        for register in range(first, first + width):
            if instruction.name == "LDG":
                ready[register] = now + 1
                rounds = max(rounds, now + 1)
            else:
                ready.pop(register, None)
    return rounds


def time_loop(instructions: Sequence[Instruction], loops: Sequence[Loop]) -> Loop:
    """A persistent kernel's loop over steps: the outermost loop around tensor-core ones."""
    with_mma = [
        loop for loop in loops if any(instructions[i].is_mma for i in range(loop.first, loop.last))
    ]
    outermost = [loop for loop in with_mma if not any(o.encloses(loop) for o in with_mma)]
    if len(outermost) != 1:
        raise ValueError(f"expected one outermost loop around MMAs, found {len(outermost)}")
    return outermost[0]


def one_step(
    instructions: Sequence[Instruction],
    loops: Sequence[Loop],
    region: Loop | None,
    depth: int,
) -> Step:
    """How often each instruction runs in one step: once in `region` (a persistent kernel's time
    loop; None: all of a step kernel), never outside it. A loop in it around MMAs is a K loop:
    it runs ceil(depth / k_step) times, k_step = the MMA's k x its longest accumulator chain in
    one iteration (what one iteration adds to K), depth the K of the step's product. Any other
    loop runs once; those that poll global memory (atomics, .STRONG loads) are grid barriers'
    spins, counted as if the barrier passed at the first poll. load_rounds: load_rounds over
    the straight-line code of `region` after its last spin (all of it without one)."""
    size = len(instructions)
    first, last = (0, size - 1) if region is None else region
    inner = [loop for loop in loops if first <= loop.first and loop.last <= last and loop != region]
    weights = [0.0] * size
    for index in range(first, last + 1):
        weights[index] = 1.0
    straight = _body(inner, region, size)
    chain, spins, waited = accumulator_chain(instructions, straight), 0, -1
    for loop in inner:
        body = _body(inner, loop, size)
        mmas = [i for i in body if instructions[i].is_mma]
        if mmas:
            per_trip = accumulator_chain(instructions, body)
            k = mma_shape(instructions[mmas[0]].opcode)[2]
            trips = math.ceil(depth / (k * per_trip))
            chain += per_trip * trips
            for index in range(loop.first, loop.last + 1):
                weights[index] *= trips
        elif any(
            instructions[i].name in ("ATOMG", "ATOM") or "STRONG" in instructions[i].modifiers
            for i in body
        ):
            spins += 1
            waited = max(waited, loop.last)
    after = [index for index in straight if index > waited]
    return Step(weights, chain, spins, load_rounds(instructions, after))


def nvidia_tools_present() -> bool:
    """Whether this Triton build carries nvdisasm and cuobjdump (the tests skip without them)."""
    return all(Path(_tool(name)).exists() for name in ("nvdisasm", "cuobjdump"))

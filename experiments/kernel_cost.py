"""Estimate what a step of the recurrence kernels costs on an H200, per schedule, from their
compiled code: no GPU needed (lstm_triton/bench/cost.py has the model and its constants).

    python experiments/kernel_cost.py --batch 16 --steps 1024 --hidden 768 --dtype bf16
    python experiments/kernel_cost.py --batch 16 --steps 1024 --hidden 256 --format md
    python experiments/kernel_cost.py --batch 64 --steps 128 --hidden 256 --resets   # RL rollouts

Each schedule's kernels compile for sm_90 as the launchers would launch them at the shape
(a few seconds a kernel); a schedule that does not fit the shape is reported with the reason.
Estimates: the first GPU run calibrates them (fit the floors to experiments/bench.py's rows).
Run without TRITON_INTERPRET, which replaces compilation.
"""

import argparse
import json
import sys

from lstm_triton.bench.cost import ESTIMATE, SCHEDULES, markdown, schedule_costs
from lstm_triton.bench.launches import Shape

DTYPE_NAMES = ("fp16", "bf16", "tf32")  # the tensor-core ones: fp32's IEEE dots run on FFMA


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="experiments/kernel_cost.py",
        description="Static per-step cost of the recurrence kernels on an H200, per schedule.",
    )
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--hidden", type=int, required=True)
    parser.add_argument("--input-size", type=int, help="default: --hidden")
    parser.add_argument("--directions", type=int, choices=(1, 2), default=1)
    parser.add_argument("--bidirectional", action="store_true", help="--directions 2")
    parser.add_argument("--dtype", choices=DTYPE_NAMES, default="bf16")
    parser.add_argument(
        "--resets", action="store_true", help="with episode resets (one direction only)"
    )
    parser.add_argument("--format", choices=("json", "md"), default="json")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    shape = Shape(
        arguments.batch,
        arguments.steps,
        arguments.hidden,
        arguments.input_size or arguments.hidden,
        2 if arguments.bidirectional else arguments.directions,
        arguments.dtype,
        arguments.resets,
    )
    if shape.resets and shape.directions == 2:
        raise SystemExit("--resets: resets have no meaning in reverse time; use --directions 1")
    rows = schedule_costs(shape)
    assert [row["schedule"] for row in rows] == list(SCHEDULES)
    if arguments.format == "json":
        print(ESTIMATE, file=sys.stderr)
        print(json.dumps(rows, indent=2))
    else:
        print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the LSTM implementations on issue 5's grids; rows go to a CSV, the report beside it.

    python experiments/bench.py --grid main                      # CUDA; `make bench ARGS=...`
    python experiments/bench.py --grid batch,seq --dtypes fp16,bf16 --modes forward
    python experiments/bench.py --grid all --quick               # smoke: each grid's first config
    python experiments/bench.py --report experiments/results/nvidia-h100-80gb-hbm3.csv
    python experiments/bench.py --grid tiny --device cpu --quick # the harness's plumbing, on CPU
    python experiments/bench.py --grid cells --device cpu --providers rnn_tanh,gru,native,reference
    python experiments/bench.py --list                           # grids, providers, kernels

The cells grid times torch's RNN (tanh), GRU and LSTM against ours at one hidden size (its
report adds a table of each cell's cost against the RNN's); on CPU they are CPU numbers, timed
with a wall clock, while the Triton kernels there run in the interpreter.

Every provider runs in this process on the same inputs and weights, after a correctness gate
against float64 torch.nn.LSTM (GRU, RNN for those; lstm_triton/bench/gate.py). Rows append
to --out (default experiments/results/<gpu>.csv); <out>.md and a <out>-<grid>.png per grid are
redrawn from the whole CSV.
"""

import argparse
import os
import re
import shlex
import sys
from collections import Counter
from pathlib import Path

import torch

from lstm_triton.bench.case import DTYPES
from lstm_triton.bench.grids import GRIDS, grid_names, select_configs
from lstm_triton.bench.measure import MODES
from lstm_triton.bench.providers import PROVIDERS, TRITON_KERNELS, default_providers
from lstm_triton.bench.report import write_report
from lstm_triton.bench.run import Settings, check_selection, run_benchmark

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_TIMING = (5.0, 20.0)  # do_bench warmup and rep, ms


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="experiments/bench.py",
        description="Time LSTM providers (forward, backward, forward+backward) on named grids.",
    )
    parser.add_argument(
        "--grid", default="main", help=f"comma-separated: {', '.join(grid_names())}"
    )
    parser.add_argument(
        "--configs", help="comma-separated config ids of the grids (default: all; see --list)"
    )
    parser.add_argument(
        "--providers",
        help=f"comma-separated: {', '.join(PROVIDERS)} (default: each grid's, see --list)",
    )
    parser.add_argument(
        "--kernels",
        help=f"variants of provider triton (default: all): {', '.join(TRITON_KERNELS)}",
    )
    parser.add_argument("--dtypes", default=",".join(DTYPES), help="comma-separated (default: all)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated (default: all)")
    parser.add_argument(
        "--device",
        choices=("cuda", "cpu"),
        default="cuda",
        help="cpu times with a wall clock and runs the Triton kernels in the interpreter (a "
        "check of the harness, not a benchmark of them)",
    )
    parser.add_argument(
        "--threads", type=int, help="torch.set_num_threads (default: torch's); rows record it"
    )
    parser.add_argument("--note", default="", help="free text kept in every row and the report")
    parser.add_argument("--out", type=Path, help="CSV to append to (default: results/<gpu>.csv)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: each grid's first config, do_bench warmup/rep {QUICK_TIMING} ms",
    )
    parser.add_argument("--warmup-ms", type=float, help="do_bench warmup (default 25, quick 5)")
    parser.add_argument("--rep-ms", type=float, help="do_bench rep (default 100, quick 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--report", type=Path, metavar="CSV", help="only redraw CSV's markdown table and plots"
    )
    parser.add_argument("--list", action="store_true", help="list grids, providers and kernels")
    return parser


def _default_out(device: torch.device) -> Path:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return RESULTS / (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".csv")


def _list() -> None:
    for name, configs in GRIDS.items():
        print(f"grid {name}: {', '.join(config.id for config in configs)}")
        print(f"  providers: {', '.join(default_providers(name))}")
    print(f"providers: {', '.join(PROVIDERS)}; triton kernels: {', '.join(TRITON_KERNELS)}")
    print(f"dtypes: {', '.join(DTYPES)}; modes: {', '.join(MODES)}")


def _report(csv_path: Path) -> None:
    md, plots = write_report(csv_path)
    print(md, *plots, sep="\n")


def main(argv: list[str] | None = None) -> int:
    """0 when every row is ok or unsupported, 1 when some provider failed; 2 for bad arguments."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        _list()
        return 0
    if args.report is not None:
        _report(args.report)
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error(
            "no CUDA device; --device cpu checks the harness (its times are not GPU numbers)"
        )
    if args.device == "cpu" and not torch.cuda.is_available():
        # Without a GPU the kernels run only in Triton's interpreter, chosen when their modules
        # are first imported, which happens later in this run. With a GPU the switch would hold
        # for the whole process, so it is the caller's (TRITON_INTERPRET=1) to set.
        os.environ.setdefault("TRITON_INTERPRET", "1")
    kernels = None if args.kernels is None else _names(args.kernels)
    providers = None if args.providers is None else _names(args.providers)
    ids = None if args.configs is None else _names(args.configs)
    try:
        configs = select_configs(_names(args.grid), quick=args.quick, ids=ids)
        check_selection(providers, _names(args.dtypes), _names(args.modes), kernels)
    except ValueError as error:
        parser.error(str(error))
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    warmup, rep = QUICK_TIMING if args.quick else (Settings.warmup_ms, Settings.rep_ms)
    settings = Settings(
        device=device,
        warmup_ms=warmup if args.warmup_ms is None else args.warmup_ms,
        rep_ms=rep if args.rep_ms is None else args.rep_ms,
        seed=args.seed,
        command=shlex.join(["experiments/bench.py", *argv]),
        note=args.note,
    )
    out = args.out or _default_out(device)
    rows = run_benchmark(
        configs,
        providers=providers,
        dtypes=_names(args.dtypes),
        modes=_names(args.modes),
        out=out,
        settings=settings,
        kernels=kernels,
    )
    counts = Counter(str(row["status"]) for row in rows)
    print(f"{len(rows)} rows to {out}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    _report(out)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

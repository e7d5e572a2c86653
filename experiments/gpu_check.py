"""The GPU acceptance run, made for a short lent GPU window (`make gpu-check`): from a bare image
with the project installed (`pip install --no-deps --no-build-isolation --no-index -e .`), in at
most 8 minutes with a cold Triton cache.

    python experiments/gpu_check.py --out DIR            # on the GPU
    python experiments/gpu_check.py --smoke --out DIR    # on CPU: interpreter, tiny sizes

Stages, in order, each under a time budget:
  1. environment: GPU, SMs, shared memory, driver, torch, triton, cuDNN  -> environment.json
  2. correctness: every schedule x fp32/fp16/bf16, forward and every gradient against float64
     truth with the suite's tolerances, on odd sizes, 2-layer bidirectional, lengths,
     proj_size and peephole; a barrier stress case with a straggling program in each group;
     a CUDA-graph capture and replay of a persistent launch (lstm_triton/bench/acceptance.py)
                                                                          -> correctness.csv
  3. speed: the benchmark's main rows, every schedule against torch.nn.LSTM (cuDNN) and the
     plain loop, input projection included; then two rollouts of the resets grid, against
     torch.nn.LSTM one step a call and without the resets (lstm_triton/bench/run.py)
                                                                         -> speed.csv, .md, .png
  4. report: gpu-check.md, and the same summary printed.
Stages 2 and 3 run in child processes under a watchdog (lstm_triton/bench/watchdog.py): an
item that hangs (a persistent kernel whose barrier never opens) is killed and recorded as a
timeout, and the rest go on; a stage out of time keeps what it measured and lists the rest as
not run. Exit status 0 when everything that ran passed, 1 otherwise.
"""

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

BUDGETS_S = {"correctness": 200.0, "speed": 230.0}  # with start-up and the report: < 8 min
ITEM_TIMEOUT_S = {"correctness": 90.0, "speed": 150.0}  # a cold compile of every kernel
SMOKE_BUDGETS_S = {"correctness": 900.0, "speed": 600.0}
SHARDS = 4  # correctness processes at once on the GPU (its host has 16 cores)
CORRECTNESS_COLUMNS = ("item", "status", "max_err", "seconds", "detail", "gpu", "git_sha")
SPEED_DTYPES = ("bf16", "fp16")
SPEED_MODES = ("forward", "forward+backward")
SPEED_PROVIDERS = ("native", "triton", "loop")
GRID_SPEED_PROVIDERS = {"resets": ("native", "native_per_step", "triton")}
"""Grids whose speed items time other providers than SPEED_PROVIDERS."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="experiments/gpu_check.py",
        description="Correctness and speed of the kernels on a CUDA GPU, in a few minutes.",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the files")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="on CPU: the kernels in Triton's interpreter at tiny sizes, the same stages and "
        "files (a check of the script, not of a GPU)",
    )
    # A stage's child process: its items and the progress file the watchdog reads.
    parser.add_argument("--stage", choices=tuple(BUDGETS_S), help=argparse.SUPPRESS)
    parser.add_argument("--items", help=argparse.SUPPRESS)
    parser.add_argument("--progress", type=Path, help=argparse.SUPPRESS)
    return parser


def _device(smoke: bool):
    import torch

    return torch.device("cpu" if smoke else "cuda")


def correctness_items(smoke: bool) -> list[str]:
    """The acceptance items, and on the GPU the speed stage's kernels compiled ahead."""
    from lstm_triton.bench import acceptance

    # Triton's interpreter multiplies bf16 blocks wrongly (tl.dot): fp16 stands for 16 bits.
    dtypes = ("fp32", "fp16") if smoke else ("fp32", "fp16", "bf16")
    warm = (
        []
        if smoke
        else [
            (config, item.rsplit("/", 1)[1]) for item, (_, config) in speed_configs(smoke).items()
        ]
    )
    return acceptance.items(_device(smoke), dtypes, warm)


def speed_configs(smoke: bool) -> dict[str, tuple[str, object]]:
    """{item: (grid, config)} in the order they run: the main shape first, the resets grid's
    rollouts (CleanRL's size and the largest) last and in one dtype, so that a short budget
    keeps the main rows."""
    from lstm_triton.bench.grids import GRIDS, Config

    if smoke:
        chosen, dtypes = [("tiny", GRIDS["tiny"][0])], ("fp32",)
        rollouts = [("resets", Config(3, 6, 8, 5, reset_rate=0.2))]
    else:
        main = {config.hidden: config for config in GRIDS["main"]}
        chosen = [("main", main[768]), ("main", main[256])]
        chosen += [("bidir", GRIDS["bidir"][0]), ("varlen", GRIDS["varlen"][0])]
        dtypes = SPEED_DTYPES
        rollouts = [("resets", GRIDS["resets"][0]), ("resets", GRIDS["resets"][-1])]
    items = {f"{config.id}/{dtype}": (grid, config) for grid, config in chosen for dtype in dtypes}
    return items | {f"{config.id}/{dtypes[0]}": (grid, config) for grid, config in rollouts}


def environment(smoke: bool) -> dict[str, object]:
    import numpy
    import torch
    import triton

    from lstm_triton.bench.run import git_sha

    facts: dict[str, object] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "triton": triton.__version__,
        "numpy": numpy.__version__,
        "git_sha": git_sha(),
        "smoke": smoke,
    }
    if smoke:
        return {**facts, "device": "cpu", "gpu": "", "processor": platform.processor()}
    properties = torch.cuda.get_device_properties(0)
    driver = subprocess.run(
        ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return {
        **facts,
        "device": "cuda",
        "gpu": properties.name,
        "capability": f"{properties.major}.{properties.minor}",
        "sms": properties.multi_processor_count,
        "shared_memory_per_block_optin": properties.shared_memory_per_block_optin,
        "memory_gb": round(properties.total_memory / 2**30, 1),
        "driver": driver.stdout.strip().splitlines()[0] if driver.returncode == 0 else "",
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
    }


def run_correctness(items: list[str], out: Path, smoke: bool, progress: Path) -> None:
    """The child: each item, one CSV row as soon as it is done."""
    from lstm_triton.bench.acceptance import run_item
    from lstm_triton.bench.report import append_rows
    from lstm_triton.bench.run import git_sha
    from lstm_triton.bench.watchdog import mark_done, mark_start

    device = _device(smoke)
    gpu = "" if smoke else _gpu_name()
    configs = {config.id: config for _, config in speed_configs(smoke).values()}
    for item in items:
        mark_start(progress, item)
        outcome = run_item(item, device, configs)
        row = {
            "item": item,
            "status": outcome.status,
            "max_err": None if outcome.max_err is None else f"{outcome.max_err:.3g}",
            "seconds": f"{outcome.seconds:.1f}",
            "detail": outcome.detail,
            "gpu": gpu,
            "git_sha": git_sha(),
        }
        append_rows(out / "correctness.csv", [row], CORRECTNESS_COLUMNS)
        print(f"{item}: {outcome.status} {outcome.detail}".rstrip(), flush=True)
        mark_done(progress, item)


def _gpu_name() -> str:
    import torch

    return torch.cuda.get_device_name(0)


def run_speed(items: list[str], out: Path, smoke: bool, progress: Path) -> None:
    """The child: each (config, dtype) through the benchmark's sweep, rows to speed.csv."""
    from lstm_triton.bench.run import Settings, run_benchmark
    from lstm_triton.bench.watchdog import mark_done, mark_start

    configs = speed_configs(smoke)
    command = "experiments/gpu_check.py" + (" --smoke" if smoke else "")
    settings = Settings(device=_device(smoke), warmup_ms=5.0, rep_ms=20.0, command=command)
    for item in items:
        mark_start(progress, item)
        grid, _ = configs[item]
        run_benchmark(
            [configs[item]],
            providers=GRID_SPEED_PROVIDERS.get(grid, SPEED_PROVIDERS),
            dtypes=[item.rsplit("/", 1)[1]],
            modes=SPEED_MODES,
            out=out / "speed.csv",
            settings=settings,
        )
        mark_done(progress, item)


def run_stage(stage: str, items: list[str], out: Path, smoke: bool) -> dict[str, str]:
    """The stage's items in child processes under the watchdog; the correctness items on the
    GPU in SHARDS processes at once, since compiling the kernels, on the CPU, is most of their
    time (the speed stage runs alone: its timings must not share the GPU)."""
    from lstm_triton.bench.watchdog import run_items

    shards = SHARDS if stage == "correctness" and not smoke else 1
    budgets = SMOKE_BUDGETS_S if smoke else BUDGETS_S
    env = {**os.environ, **({"TRITON_INTERPRET": "1"} if smoke else {})}
    print(f"== {stage}: {len(items)} items, budget {budgets[stage]:g} s", flush=True)

    def shard(index: int) -> dict[str, str]:
        progress = out / f"{stage}-{index}.progress"

        def command(remaining):
            argv = [sys.executable, __file__, "--stage", stage, "--items", ",".join(remaining)]
            argv += ["--out", str(out), "--progress", str(progress)]
            return argv + (["--smoke"] if smoke else [])

        return run_items(
            command,
            items[index::shards],
            progress,
            budget_s=budgets[stage],
            item_timeout_s=ITEM_TIMEOUT_S[stage] * (10 if smoke else 1),
            env=env,
        )

    with ThreadPoolExecutor(shards) as pool:
        outcomes = {}
        for result in pool.map(shard, range(shards)):
            outcomes.update(result)
    return {item: outcomes[item] for item in items}


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def summary(out: Path, facts: dict, outcomes: dict[str, dict[str, str]]) -> tuple[str, bool]:
    """The markdown of the whole check, and whether everything that ran passed."""
    from lstm_triton.bench.report import label, read_rows

    passed = True
    lines = [f"# GPU check: {facts.get('gpu') or 'CPU smoke run'} ({facts['date']})", ""]
    lines += [f"- {key}: {value}" for key, value in facts.items()]
    csv_path = out / "correctness.csv"
    rows = {row["item"]: row for row in read_rows(csv_path)} if csv_path.exists() else {}
    table = []
    for item, outcome in outcomes["correctness"].items():
        row = rows.get(item, {})
        status = row["status"] if row and outcome == "done" else outcome
        passed &= status in ("ok", "unsupported")
        cells = [row.get("max_err", ""), row.get("seconds", ""), row.get("detail", "")[:160]]
        table.append([item, status, *cells])
    counts = {s: sum(r[1] == s for r in table) for s in dict.fromkeys(r[1] for r in table)}
    lines += ["", "## Correctness: " + ", ".join(f"{n} {s}" for s, n in counts.items()), ""]
    lines += _table(["item", "status", "max error", "s", "detail"], table)
    lines += ["", "## Speed (x cuDNN: torch.nn.LSTM's time / this one's; > 1 is faster)", ""]
    speed_path = out / "speed.csv"
    speed = read_rows(speed_path) if speed_path.exists() else []
    native = {
        (r["config"], r["dtype"], r["mode"]): float(r["median_ms"])
        for r in speed
        if r["provider"] == "native" and r["status"] == "ok"
    }
    table = []
    for r in speed:
        passed &= r["status"] in ("ok", "unsupported")
        base = native.get((r["config"], r["dtype"], r["mode"]))
        ratio = f"{base / float(r['median_ms']):.2f}" if base and r["status"] == "ok" else ""
        cells = [r["config"], r["dtype"], r["mode"], label(r), r["status"], r["median_ms"]]
        table.append([*cells, r["us_per_step"], ratio, r["peak_mb"], r["error"][:120]])
    lines += _table(
        [
            "config",
            "dtype",
            "mode",
            "provider",
            "status",
            "ms",
            "us/step",
            "x cuDNN",
            "peak MB",
            "error",
        ],
        table,
    )
    left = [item for item, outcome in outcomes["speed"].items() if outcome != "done"]
    # Out of budget is not a failure; a timeout or a crash is.
    passed &= all(outcomes["speed"][item] == "not run" for item in left)
    if left:
        lines += [
            "",
            "Speed items not measured: " + ", ".join(f"{i} ({outcomes['speed'][i]})" for i in left),
        ]
    return "\n".join(lines) + "\n", passed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.smoke:
        # Before the first import of a kernel module: the interpreter is chosen there.
        os.environ.setdefault("TRITON_INTERPRET", "1")
    out = args.out
    if args.stage:
        items = args.items.split(",") if args.items else []
        run = run_correctness if args.stage == "correctness" else run_speed
        run(items, out, args.smoke, args.progress)
        return 0
    import torch

    from lstm_triton.bench.report import append_rows

    if not args.smoke and not torch.cuda.is_available():
        build_parser().error("no CUDA device: run with --smoke on a machine without one")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("correctness.csv", "speed.csv"):
        (out / name).unlink(missing_ok=True)
    # The header first: the shards' processes then only append rows.
    append_rows(out / "correctness.csv", [], CORRECTNESS_COLUMNS)
    started = time.monotonic()
    facts = environment(args.smoke)
    facts["command"] = shlex.join(["experiments/gpu_check.py", *argv])
    (out / "environment.json").write_text(json.dumps(facts, indent=2) + "\n")
    print(json.dumps(facts, indent=2), flush=True)
    outcomes = {
        "correctness": run_stage("correctness", correctness_items(args.smoke), out, args.smoke),
        "speed": run_stage("speed", list(speed_configs(args.smoke)), out, args.smoke),
    }
    if (out / "speed.csv").exists():
        from lstm_triton.bench.report import write_report

        write_report(out / "speed.csv")
    text, passed = summary(out, facts, outcomes)
    text += f"\nWall time: {time.monotonic() - started:.0f} s; {'PASSED' if passed else 'FAILED'}\n"
    (out / "gpu-check.md").write_text(text)
    print(text, flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())

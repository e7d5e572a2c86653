"""The sweep: per config and dtype one shared case and its float64 truth (per cell: torch's
LSTM, GRU or RNN); per provider and kernel the correctness gate, then each mode timed. Every
outcome is a CSV row, appended as soon as a provider finishes, so an interrupted sweep keeps
what it measured."""

import gc
import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch

from lstm_triton.bench.case import DTYPES, Case, check_names, float32_precision, make_case
from lstm_triton.bench.gate import Truth, check, compute_truth
from lstm_triton.bench.grids import Config
from lstm_triton.bench.measure import MODES, measure, timed_call
from lstm_triton.bench.providers import (
    Provider,
    Unsupported,
    check_kernels,
    default_providers,
    get_providers,
)
from lstm_triton.bench.report import append_rows
from lstm_triton.kernels.schedule import restored as restored_schedule

GIT_SHA_VARIABLE = "LSTM_TRITON_GIT_SHA"
"""Overrides the recorded git sha, for a copy of the tree without .git (a remote GPU box)."""


@dataclass(frozen=True)
class Settings:
    device: torch.device
    warmup_ms: float = 25.0  # do_bench's defaults
    rep_ms: float = 100.0
    seed: int = 0
    command: str = ""
    note: str = ""  # free text for every row: what else ran on the machine, say


def git_sha() -> str:
    """HEAD's short sha, "-dirty" with uncommitted changes to tracked files, else "unknown"."""
    if os.environ.get(GIT_SHA_VARIABLE):
        return os.environ[GIT_SHA_VARIABLE]
    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        sha = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


def cpu_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what the platform module says."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def environment(device: torch.device) -> dict[str, str]:
    cuda = device.type == "cuda"
    cudnn = torch.backends.cudnn.version() if cuda and torch.backends.cudnn.is_available() else None
    try:
        triton = importlib.metadata.version("triton")
    except importlib.metadata.PackageNotFoundError:
        triton = ""
    return {
        "device": device.type,
        "gpu": torch.cuda.get_device_name(device) if cuda else "",
        # CPU times depend on the threads torch may use as much as on the CPU.
        "machine": f"{cpu_name()}, {os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__,
        "triton": triton,
        "cudnn": "" if cudnn is None else str(cudnn),
        "git_sha": git_sha(),
    }


def _release(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0][:300]


def _provider_rows(
    provider: Provider,
    kernel: str,
    case: Case,
    truth: Truth,
    modes: Sequence[str],
    settings: Settings,
    base: dict[str, object],
) -> list[dict[str, object]]:
    """One row per mode: ok with its timing, or failed / unsupported with the reason."""

    def row(mode: str, status: str, **values: object) -> dict[str, object]:
        return {
            **base,
            "provider": provider.name,
            "kernel": kernel,
            "mode": mode,
            "status": status,
            **values,
        }

    # One provider's failure (a build error, the gate, out of memory) must not end the sweep:
    # it becomes rows that say so.
    try:
        runner = provider.build(case, kernel)
        max_err, grad_err = check(runner, case, truth)
    except Unsupported as error:
        return [row(mode, "unsupported", error=str(error)) for mode in modes]
    except Exception as error:
        return [row(mode, "failed", error=_describe(error)) for mode in modes]
    errors = {
        "max_err": f"{max_err:.3g}",
        "grad_err": None if grad_err is None else f"{grad_err:.3g}",
    }
    rows = []
    for mode in modes:
        try:
            fn = timed_call(runner, case, mode)
            timing = measure(fn, case.device, warmup_ms=settings.warmup_ms, rep_ms=settings.rep_ms)
        except Exception as error:
            rows.append(row(mode, "failed", error=_describe(error), **errors))
        else:
            rows.append(
                row(
                    mode,
                    "ok",
                    median_ms=f"{timing.median_ms:.5g}",
                    p20_ms=f"{timing.p20_ms:.5g}",
                    p80_ms=f"{timing.p80_ms:.5g}",
                    us_per_step=f"{timing.median_ms * 1e3 / case.config.seq_len:.4g}",
                    peak_mb=None if timing.peak_mb is None else f"{timing.peak_mb:.1f}",
                    **errors,
                )
            )
        fn = None  # the backward closure holds a forward's graph: free it before the next mode
        _release(case.device)
    return rows


def check_selection(
    providers: Sequence[str] | None,
    dtypes: Sequence[str],
    modes: Sequence[str],
    kernels: Sequence[str] | None = None,
) -> None:
    """ValueError listing the valid names for any unknown name (providers None: each grid's)."""
    if providers is not None:
        get_providers(list(providers))
    check_names("dtype", list(dtypes), tuple(DTYPES))
    check_names("mode", list(modes), MODES)
    if kernels is not None:
        check_kernels(list(kernels))


@restored_schedule()  # the triton variants choose their recurrence schedule process-wide
def run_benchmark(
    configs: Sequence[tuple[str, Config]],
    *,
    providers: Sequence[str] | None,
    dtypes: Sequence[str],
    modes: Sequence[str],
    out: Path,
    settings: Settings,
    kernels: Sequence[str] | None = None,
    log: Callable[[str], None] = print,
) -> list[dict[str, object]]:
    """Run every (grid, config) x dtype x provider (x triton kernel) x mode; append the rows to
    `out` and return them. providers None: each grid's own (providers.default_providers). Names
    are checked first: ValueError lists the valid ones."""
    check_selection(providers, dtypes, modes, kernels)
    env = environment(settings.device)
    with_grads = any(mode != "forward" for mode in modes)
    rows: list[dict[str, object]] = []
    for grid, config in configs:
        chosen = get_providers(list(providers or default_providers(grid)))
        for dtype_name in dtypes:
            with float32_precision(dtype_name):
                case = make_case(config, dtype_name, settings.device, settings.seed)
                truths: dict[tuple[str, bool], Truth] = {}
                base = {"grid": grid, **_sizes(config), "dtype": dtype_name, **env}
                base |= {"command": settings.command, "note": settings.note}
                for provider in chosen:
                    resets = provider.takes_resets and case.resets is not None
                    computes = (provider.cell, resets)
                    if computes not in truths:
                        truths[computes] = compute_truth(
                            case, with_grads=with_grads, cell=provider.cell, resets=resets
                        )
                    truth = truths[computes]
                    for kernel in provider.kernels(settings.device):
                        if provider.name == "triton" and kernels and kernel not in kernels:
                            continue
                        base["timestamp"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
                        new = _provider_rows(provider, kernel, case, truth, modes, settings, base)
                        append_rows(out, new)
                        rows += new
                        for row in new:
                            log(_summary(row))
            del case, truths, truth
            _release(settings.device)
    return rows


def _sizes(config: Config) -> dict[str, object]:
    return {
        "config": config.id,
        "batch": config.batch,
        "seq_len": config.seq_len,
        "input_size": config.input_size,
        "hidden": config.hidden,
        "num_layers": config.num_layers,
        "bidirectional": config.bidirectional,
        "varlen": config.varlen,
    }


def _summary(row: dict[str, object]) -> str:
    what = f"{row['config']} {row['dtype']} {row['provider']}:{row['kernel']} {row['mode']}"
    if row["status"] == "ok":
        return f"{what}: {row['median_ms']} ms"
    return f"{what}: {row['status']}: {row['error']}"

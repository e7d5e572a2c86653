"""The results CSV (columns, append, read) and what is drawn from it alone: a markdown table and
a plot of the speed-up over torch's native LSTM (cuDNN on GPU) per config, where torch's GRU
and RNN were timed the cost of each cell next to the RNN's, and where the per-step loop ran on
rollouts with resets, ours against it and against torch's LSTM without the resets.

A CSV collects runs: rows are appended, and the report uses the latest row of each
(device, gpu, config, mode, dtype, provider, kernel).
"""

import csv
import importlib.util
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

COLUMNS = (
    "timestamp",
    "grid",
    "config",
    "provider",
    "kernel",
    "mode",
    "dtype",
    "device",
    "gpu",
    "machine",  # the CPU, its count and torch's threads
    "batch",
    "seq_len",
    "input_size",
    "hidden",
    "num_layers",
    "bidirectional",
    "varlen",
    "status",  # ok | failed | unsupported
    "median_ms",
    "p20_ms",
    "p80_ms",
    "us_per_step",  # median_ms / seq_len, in microseconds
    "peak_mb",
    "max_err",  # forward against float64 torch.nn.LSTM, the gated error (see gate.py)
    "grad_err",  # gradients, recorded; only NaN or inf fails the gate
    "error",
    "torch",
    "triton",
    "cudnn",
    "git_sha",
    "command",
    "note",  # free text from the command line (what else ran on the machine, say)
)
BASELINE = "native"
CELL_PROVIDERS = {"rnn_tanh": "RNN", "gru": "GRU", BASELINE: "LSTM"}
"""torch's cells by provider name, in the order of the cost table."""
OURS = ("triton", "reference", "native_segments")  # lstm_triton.LSTM's providers
PER_STEP = "native_per_step"  # torch.nn.LSTM one step a call with the resets: RL code today
_COST_MODES = {"forward": "inference", "forward+backward": "training"}
_COST_COLUMNS = ("RNN", "GRU", "LSTM", "ours")
_KEY = ("device", "gpu", "config", "mode", "dtype", "provider", "kernel")
_MODES = ("forward", "backward", "forward+backward")
_DTYPES = ("fp32", "tf32", "fp16", "bf16")

Row = dict[str, str]


def append_rows(
    path: Path, rows: Iterable[dict[str, object]], columns: Sequence[str] = COLUMNS
) -> None:
    """Append rows (missing columns empty; None written empty), with a header for a new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    if not new:
        with path.open(newline="") as f:
            header = next(csv.reader(f), [])
        if tuple(header) != tuple(columns):
            raise ValueError(f"{path} has other columns than this harness writes; use a new --out")
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="raise")
        if new:
            writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})


def read_rows(path: Path) -> list[Row]:
    with Path(path).open(newline="") as f:
        return list(csv.DictReader(f))


def latest(rows: Sequence[Row]) -> list[Row]:
    """The last row of each measurement key, in the order the keys first appear."""
    by_key: dict[tuple[str, ...], Row] = {}
    for row in rows:
        by_key[tuple(row[name] for name in _KEY)] = row  # a dict keeps a key's first position
    return list(by_key.values())


def label(row: Row) -> str:
    """provider:kernel, or the provider alone where the kernel has its name."""
    if row["kernel"] in ("", row["provider"]):
        return row["provider"]
    return f"{row['provider']}:{row['kernel']}"


def _ordered(values: Iterable[str], preferred: Sequence[str] = ()) -> list[str]:
    """Distinct values, those in `preferred` first in its order, the rest as they come."""
    distinct = list(dict.fromkeys(values))
    rank = {value: i for i, value in enumerate(dict.fromkeys(preferred))}
    return sorted(distinct, key=lambda value: rank.get(value, len(rank)))


class Panel(NamedTuple):
    device: str
    gpu: str
    mode: str
    dtype: str


def _panel(row: Row) -> Panel:
    return Panel(row["device"], row["gpu"], row["mode"], row["dtype"])


def _speedups(rows: Sequence[Row]) -> dict[Panel, dict[tuple[str, str], float]]:
    """panel -> (config, label) -> baseline median / median, for the ok rows of latest()."""
    base = {
        (_panel(r), r["config"]): float(r["median_ms"])
        for r in rows
        if r["provider"] == BASELINE and r["status"] == "ok"
    }
    out: dict[Panel, dict[tuple[str, str], float]] = {}
    for r in rows:
        baseline = base.get((_panel(r), r["config"]))
        if r["status"] == "ok" and baseline is not None:
            out.setdefault(_panel(r), {})[r["config"], label(r)] = baseline / float(r["median_ms"])
    return out


def _ms(row: Row) -> float:
    return float(row["median_ms"])


def _time(ms: float) -> str:
    """Three digits: in ms, in s from a second on (CPU times)."""
    return f"{ms:.3g} ms" if ms < 999.5 else f"{ms / 1e3:.3g} s"


def _cell(row: Row | None, speedup: float | None) -> str:
    if row is None:
        return ""
    if row["status"] != "ok":
        return "failed" if row["status"] == "failed" else "n/a"
    text = _time(_ms(row))
    if speedup is not None and row["provider"] != BASELINE:
        text += f" ({speedup:.2f}x)"
    return text


def _tables(rows: Sequence[Row], speedups: dict[Panel, dict[tuple[str, str], float]]) -> list[str]:
    """One table per (mode, dtype): configs down, providers across (native first)."""
    labels = _ordered(
        (label(r) for r in rows), [label(r) for r in rows if r["provider"] == BASELINE]
    )
    lines = []
    for mode in _ordered((r["mode"] for r in rows), _MODES):
        for dtype in _ordered((r["dtype"] for r in rows if r["mode"] == mode), _DTYPES):
            mine = [r for r in rows if (r["mode"], r["dtype"]) == (mode, dtype)]
            cells = {(r["config"], label(r)): r for r in mine}
            panel = speedups.get(_panel(mine[0]), {})
            lines += [f"#### {mode}, {dtype}\n", "| config | " + " | ".join(labels) + " |"]
            lines.append("|---" * (len(labels) + 1) + "|")
            for config in dict.fromkeys(r["config"] for r in mine):
                row_cells = [
                    _cell(cells.get((config, lab)), panel.get((config, lab))) for lab in labels
                ]
                lines.append(f"| {config} | " + " | ".join(row_cells) + " |")
            lines.append("")
    return lines


class Ratio(NamedTuple):
    header: str
    numerator: str  # a column's name
    denominator: str


def _comparison_row(
    config: str, cells: dict[str, Row], columns: Sequence[str], ratios: Sequence[Ratio], memory
) -> str:
    """cells: column name -> the row timed for it, where one was; "ours" named by its label."""
    times = [_time(_ms(cells[name])) if name in cells else "-" for name in columns]
    if "ours" in cells:
        times[columns.index("ours")] += f" ({label(cells['ours'])})"
    quotients = [
        f"{_ms(cells[r.numerator]) / _ms(cells[r.denominator]):.2f}x"
        if r.numerator in cells and r.denominator in cells
        else "-"
        for r in ratios
    ]
    peaks = [(cells[name]["peak_mb"] or "-") if name in cells else "-" for name in columns]
    return f"| {config} | " + " | ".join(times + quotients + (peaks if memory else [])) + " |"


def _comparison_tables(
    rows: Sequence[Row],
    *,
    title: str,
    intro: str,
    providers: dict[str, str],
    columns: Sequence[str],
    ratios: Sequence[Ratio],
) -> list[str]:
    """Per (mode, dtype) of inference and training, per config: the median of each column
    (providers: provider -> column; "ours", the fastest of OURS, named), the ratios of
    medians, and peak memory where measured."""
    ok = [r for r in rows if r["status"] == "ok"]
    memory = any(r["peak_mb"] for r in ok)
    lines = [intro + ("" if memory else " Peak memory: not measured on this device.") + "\n"]
    header = ["config", *columns, *(r.header for r in ratios)]
    header += [f"{name} MB" for name in columns] if memory else []
    for mode, what in _COST_MODES.items():
        for dtype in _ordered((r["dtype"] for r in ok if r["mode"] == mode), _DTYPES):
            mine = [r for r in ok if (r["mode"], r["dtype"]) == (mode, dtype)]
            lines += [f"#### {title}, {what} ({mode}), {dtype}\n"]
            lines += ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
            for config in dict.fromkeys(r["config"] for r in mine):
                here = [r for r in mine if r["config"] == config]
                cells = {providers[r["provider"]]: r for r in here if r["provider"] in providers}
                ours = [r for r in here if r["provider"] in OURS]
                if ours:
                    cells["ours"] = min(ours, key=_ms)
                lines.append(_comparison_row(config, cells, columns, ratios, memory))
            lines.append("")
    return lines


def _cost_tables(rows: Sequence[Row]) -> list[str]:
    """torch's RNN, GRU and LSTM and ours, each against the RNN's."""
    return _comparison_tables(
        rows,
        title="cost by cell",
        intro="Cost by cell at one hidden size, input projection included: torch.nn.RNN (tanh), "
        "GRU and LSTM, and ours (lstm_triton.LSTM, the fastest of its providers, named); "
        "ratios of medians to the RNN's.",
        providers=CELL_PROVIDERS,
        columns=_COST_COLUMNS,
        ratios=[Ratio(f"{name}/RNN", name, "RNN") for name in _COST_COLUMNS[1:]],
    )


def _resets_tables(rows: Sequence[Row]) -> list[str]:
    """torch.nn.LSTM without the resets (native, one call: the ceiling), with them one step a
    call, and ours; ours' speed-up over each."""
    return _comparison_tables(
        rows,
        title="resets",
        intro="Rollouts with episode resets: torch.nn.LSTM without the resets (one call, the "
        "ceiling), with them one step a call (CleanRL's loop, what recurrent RL code runs "
        "today) and ours with `resets=dones` (lstm_triton.LSTM, the fastest of its providers, "
        "named); ours' speed-up over each (> 1: ours is faster).",
        providers={BASELINE: "ceiling", PER_STEP: "per-step loop"},
        columns=("ceiling", "per-step loop", "ours"),
        ratios=[
            Ratio("x per-step loop", "per-step loop", "ours"),
            Ratio("x ceiling", "ceiling", "ours"),
        ],
    )


def _header(device: str, part: Sequence[Row]) -> list[str]:
    """The device's versions, machine, notes and commands."""

    def distinct(name: str) -> str:
        return " / ".join(dict.fromkeys(r.get(name) for r in part if r.get(name))) or "-"

    lines = []
    if device != "cuda":
        lines.append(
            f"> device={device}: medians of a wall clock (perf_counter, do_bench's protocol), "
            "not GPU numbers, and no peak memory. The Triton kernels run in Triton's "
            "interpreter here: their rows check the harness, their times mean nothing.\n"
        )
    versions = ", ".join(f"{name} {distinct(name)}" for name in ("torch", "triton", "cudnn"))
    lines.append(
        f"{versions}, git {distinct('git_sha')}; machine: {distinct('machine')}. Median of "
        f"triton.testing.do_bench; in brackets the speed-up over {BASELINE} (torch.nn.LSTM). "
        "failed: did not run or did not pass the correctness gate; n/a: not supported.\n"
    )
    lines += [f"> note: {note}\n" for note in dict.fromkeys(r.get("note") for r in part) if note]
    commands = dict.fromkeys(r["command"] for r in part if r["command"])
    lines += ["Commands:\n", *(f"- `{command}`" for command in commands), ""] if commands else []
    return lines


def markdown_report(rows: Sequence[Row], plots: dict[str, str] | None = None) -> str:
    """Per device: versions, machine, notes, commands; per grid: its plot (plots: grid -> image
    path), the cost by cell where torch's GRU or RNN ran, ours against the per-step loop where
    it ran, a table per (mode, dtype) of median ms and speed-up over native; then the rows not
    timed, with why."""
    rows = latest(rows)
    speedups = _speedups(rows)
    lines = []
    for device, gpu in dict.fromkeys((r["device"], r["gpu"]) for r in rows):
        part = [r for r in rows if (r["device"], r["gpu"]) == (device, gpu)]
        lines.append(f"## {gpu or device} ({device})\n")
        lines += _header(device, part)
        for grid in dict.fromkeys(r["grid"] for r in part):
            mine = [r for r in part if r["grid"] == grid]
            lines.append(f"### grid {grid}\n")
            if plots and grid in plots:
                lines.append(f"![speed-up over {BASELINE}, grid {grid}]({plots[grid]})\n")
            if any(r["provider"] in CELL_PROVIDERS and r["provider"] != BASELINE for r in mine):
                lines += _cost_tables(mine)
            if any(r["provider"] == PER_STEP for r in mine):
                lines += _resets_tables(mine)
            lines += _tables(mine, speedups)
        not_timed = [r for r in part if r["status"] != "ok"]
        if not_timed:
            lines.append("### Not timed\n")
            for r in not_timed:
                what = f"{r['config']} {label(r)} {r['mode']} {r['dtype']}"
                lines.append(f"- {what}: {r['status']}: {r['error']}")
            lines.append("")
    return "\n".join(lines)


def plot_speedup(rows: Sequence[Row], path: Path) -> None:
    """PNG: bars of the speed-up over native per config (log scale), a panel per
    (device, mode) x dtype; every provider keeps its colour and slot in every panel."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    speedups = _speedups(latest(rows))
    mode_rank = {mode: i for i, mode in enumerate(_MODES)}
    lines = sorted(
        dict.fromkeys(p[:3] for p in speedups),
        key=lambda line: (line[:2], mode_rank.get(line[2], len(mode_rank))),
    )
    dtypes = _ordered((p.dtype for p in speedups), _DTYPES)
    labels = dict.fromkeys(lab for bars in speedups.values() for _, lab in bars)
    bars = [lab for lab in labels if not lab.startswith(BASELINE)]
    colours = {lab: f"C{i}" for i, lab in enumerate(bars)}
    width = 0.8 / max(1, len(bars))
    most = max((len({config for config, _ in panel}) for panel in speedups.values()), default=1)
    panel_width = min(10.0, max(4.5, 0.08 * most * (len(bars) + 1)))
    fig = Figure(
        figsize=(panel_width * max(1, len(dtypes)), 3.5 * max(1, len(lines))),
        layout="constrained",
    )
    axes = fig.subplots(max(1, len(lines)), max(1, len(dtypes)), squeeze=False)
    if not speedups:
        axes[0, 0].text(0.5, 0.5, f"no timed rows with a {BASELINE} baseline", ha="center")
        axes[0, 0].set_axis_off()
    for (device, gpu, mode), line_axes in zip(lines, axes, strict=False):
        for dtype, ax in zip(dtypes, line_axes, strict=True):
            panel = speedups.get(Panel(device, gpu, mode, dtype), {})
            configs = list(dict.fromkeys(config for config, _ in panel))
            for j, lab in enumerate(bars):
                offset = (j - (len(bars) - 1) / 2) * width
                heights = [panel.get((config, lab), math.nan) for config in configs]
                xs = [i + offset for i in range(len(configs))]
                ax.bar(xs, heights, width, color=colours[lab])
            ax.axhline(1.0, color="black", linewidth=0.8)
            if panel:
                ax.set_yscale("log")
            ax.set_xticks(range(len(configs)), configs, rotation=60, ha="right", fontsize=6)
            ax.set_ylabel(f"speed-up over {BASELINE}")
            ax.set_title(f"{gpu or device}: {mode}, {dtype}", fontsize=9)
    if bars:
        handles = [Patch(color=colours[lab], label=lab) for lab in bars]
        fig.legend(handles=handles, loc="outside upper center", ncols=len(bars))
    fig.savefig(path, dpi=120)


def write_report(csv_path: Path) -> tuple[Path, list[Path]]:
    """<csv>.md, and <csv>-<grid>.png per grid, beside the CSV and drawn from it alone; no
    plots where matplotlib (the `experiments` extra) is not installed."""
    csv_path = Path(csv_path)
    rows = read_rows(csv_path)
    plots = {}
    grids = dict.fromkeys(r["grid"] for r in rows) if importlib.util.find_spec("matplotlib") else ()
    for grid in grids:
        plots[grid] = csv_path.with_name(f"{csv_path.stem}-{grid}.png")
        plot_speedup([r for r in rows if r["grid"] == grid], plots[grid])
    md_path = csv_path.with_suffix(".md")
    names = {grid: path.name for grid, path in plots.items()}
    md_path.write_text(
        f"<!-- generated by `experiments/bench.py --report {csv_path.name}` -->\n\n"
        + markdown_report(rows, names)
    )
    return md_path, list(plots.values())

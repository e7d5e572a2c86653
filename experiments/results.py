"""Real runs next to published numbers: experiments/results/<table>.csv and <table>.md.

    python experiments/results.py <table> <W&B run folder> [<W&B run folder> ...]

<table> names an entry of experiments/results/published.yaml (--published for another file):
the test metrics to report, which way each is better, and the published values, each with the
config values a run must have to be compared with it, and (show) config values that tell the
runs of one row apart. Every run gives one row: those config values and its seed, its test
metrics beside the published ones, the device it ran on (W&B's record of the GPU, else the CPU),
its wall time, W&B run id and folder, git commit and the exact command. Rows of runs that match
no published row are kept, with the published columns empty.

A metric is the run's last logged value (its W&B summary); "best <key>" is the best value of
<key> it logged, in the metric's direction: for a validation metric, the epoch whose checkpoint
was tested, which model selection on the validation split compares.

A run resumed from a checkpoint (a requeued job, ckpt_path=) writes one W&B folder a segment,
under the same run id: its folders give one row, the last segment's summary, config and
command, the wall time of all of them.

Runs with the same published row and the same shown config values, i.e. that differ only in
`seed`, form one group. The markdown starts with one row per group: n, each metric's mean and
sample standard deviation over the seeds and its verdict against the published value, the mean
wall time per run. The CSV keeps one row per run.
"""

import argparse
import csv
import math
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from lstm_triton.tracking import RunLog, read_run_log

RESULTS = Path(__file__).resolve().parent / "results"
DIRECTIONS = ("lower", "higher")
BEST = "best "


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"data": {"horizon": 24}} -> {"data.horizon": 24}."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def device(run: RunLog) -> str:
    environment = run.environment
    if environment.get("gpu"):
        return f"{environment.get('gpu_count', 1)} x {environment['gpu']}"
    cpu = environment.get("cpu", {}).get("model", "CPU")
    return f"{cpu}, {environment.get('cpu_count', '?')} cores"


def shown(table: dict[str, Any]) -> list[str]:
    """The config keys printed beside each run; seed has its own column, and the groups of
    seeds are told apart by these keys only."""
    return [key for key in table.get("show", []) if key != "seed"]


def published_row(config: dict[str, Any], table: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The published row whose config values the run has, with its place in the table
    (after the last when none matches)."""
    for index, row in enumerate(table["rows"]):
        keys = {key: value for key, value in row.items() if key not in table["metrics"]}
        if all(config.get(key) == value for key, value in keys.items()):
            return index, row
    return len(table["rows"]), {}


def joined_segments(runs: list[tuple[RunLog, Path]]) -> list[tuple[RunLog, Path]]:
    """One (RunLog, folder) a W&B run id, in the order given: the segments of a resumed run,
    in their folders' order (offline-run-<start time>-<id>), give the last one's summary,
    config and folder, with _runtime summed and the earlier segments' commands kept."""
    by_id: dict[str, list[tuple[RunLog, Path]]] = {}
    for run, folder in runs:
        by_id.setdefault(run.run_id, []).append((run, folder))
    joined = []
    for segments in by_id.values():
        segments.sort(key=lambda segment: segment[1].name)
        last, folder = segments[-1]
        runtime = sum(run.summary.get("_runtime", 0) for run, _ in segments)
        commands = [run.environment.get("args", []) for run, _ in segments]
        environment = {**last.environment, "segment_args": commands}
        summary = {**last.summary, "_runtime": runtime}
        joined.append((replace(last, summary=summary, environment=environment), folder))
    return joined


def command(run: RunLog) -> str:
    """The run's command line; a resumed run's segments joined by "; resumed: "."""
    segments = run.environment.get("segment_args") or [run.environment.get("args", [])]
    lines = [f"python experiments/train.py {' '.join(args)}".strip() for args in segments]
    return "; resumed: ".join(lines)


def metric_value(run: RunLog, metric: str, better: str) -> Any:
    """The run's last logged value of metric, or for "best <key>" the best <key> it logged."""
    if not metric.startswith(BEST):
        return run.summary.get(metric, "")
    logged = [value for value in run.metric(metric[len(BEST) :]) if isinstance(value, int | float)]
    if not logged:
        return ""
    return (min if better == "lower" else max)(logged)


def result_row(run: RunLog, run_dir: Path, table: dict[str, Any]) -> dict[str, Any]:
    metrics = table["metrics"]
    config = flatten(run.config)
    order, published = published_row(config, table)
    keys = {key: value for key, value in published.items() if key not in metrics}
    row: dict[str, Any] = {
        "order": order,
        "match": " ".join(f"{k}={v}" for k, v in keys.items()) or "none",
        **{key: config.get(key, "") for key in shown(table)},
        "seed": config.get("seed", ""),
    }
    for metric in metrics:
        row[metric] = metric_value(run, metric, table["better"][metric])
        row[f"published {metric}"] = published.get(metric, "")
    row.update(
        device=device(run),
        wall_min=round(run.summary.get("_runtime", 0) / 60, 1),
        wandb_run=run.run_id,
        wandb_dir=str(run_dir),
        git=run.environment.get("git", {}).get("commit", ""),
        command=command(run),
    )
    return row


def seed_groups(rows: list[dict[str, Any]], table: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The rows grouped by published row and shown config values, in the published table's
    order, then in the order their first run was given; each group in the order of its seeds
    (runs without one last)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        # repr: a shown config value may be a list, which cannot be a dict key.
        key = (row["order"], *(repr(row[name]) for name in shown(table)))
        groups.setdefault(key, []).append(row)
    for group in groups.values():
        group.sort(key=lambda run: (isinstance(run["seed"], str), run["seed"]))
    return sorted(groups.values(), key=lambda group: group[0]["order"])


def spread(values: list[float]) -> str:
    """One metric over seeds: "mean ± sample std", the value and n=1 for one seed, every value
    when one is not finite (a diverged seed)."""
    if not values:
        return ""
    if len(values) == 1:
        return f"{values[0]:.4g} (n=1)"
    if not all(map(math.isfinite, values)):
        return ", ".join(f"{value:.4g}" for value in values)
    return f"{statistics.mean(values):.4g} ± {statistics.stdev(values):.2g}"


def verdict(values: list[float], published: Any, better: str) -> str:
    """beat when the whole interval mean ± sample std is better than the published value, lose
    when it is all worse, tie when the published value lies within it; n=1 when one seed gives
    no spread."""
    if not values or published == "":
        return ""
    if len(values) == 1:
        return "n=1"
    if not all(map(math.isfinite, values)):
        return "not finite"
    mean, std = statistics.mean(values), statistics.stdev(values)
    # Turned so that lower is better: then beat is an interval all below the published value.
    sign = 1 if better == "lower" else -1
    low, high = sorted((sign * (mean - std), sign * (mean + std)))
    if high < sign * published:
        return "beat"
    if low > sign * published:
        return "lose"
    return "tie"


def group_row(runs: list[dict[str, Any]], table: dict[str, Any]) -> dict[str, Any]:
    first = runs[0]
    row = {key: first[key] for key in ("match", *shown(table))}
    row.update(n=len(runs), seeds=", ".join(str(run["seed"]) for run in runs))
    for metric in table["metrics"]:
        values = [run[metric] for run in runs if isinstance(run[metric], int | float)]
        published = first[f"published {metric}"]
        row[metric], row[f"published {metric}"] = spread(values), published
        row[f"{metric} vs published"] = verdict(values, published, table["better"][metric])
    row["device"] = "; ".join(dict.fromkeys(run["device"] for run in runs))
    row["wall_min per run"] = round(statistics.mean(run["wall_min"] for run in runs), 1)
    return row


def markdown_table(columns: list[str], rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_table(
    name: str, table: dict[str, Any], groups: list[list[dict[str, Any]]], out: Path
) -> tuple[Path, Path]:
    runs = [run for group in groups for run in group]
    csv_path, md_path = out / f"{name}.csv", out / f"{name}.md"
    with csv_path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(runs[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(runs)
    metrics = table["metrics"]
    summary = [group_row(group, table) for group in groups]
    better = ", ".join(f"{metric} {table['better'][metric]}" for metric in metrics)
    lines = [f"# {table['title']}", "", f"Published: {table['source']}.", ""]
    lines += [
        "Over seeds: one row per group of runs that differ only in `seed`, each metric's mean ±"
        " sample standard deviation over the n seeds; beside the published value, beat when the"
        " whole interval is better, lose when it is all worse, tie when the published value lies"
        f" within it, n=1 for a single seed (better: {better}).",
        "",
    ]
    columns = ["match", *shown(table), "n", "seeds"]
    columns += [c for m in metrics for c in (m, f"published {m}", f"{m} vs published")]
    lines += markdown_table([*columns, "device", "wall_min per run"], summary)
    columns = ["match", *shown(table), "seed"]
    columns += [c for m in metrics for c in (m, f"published {m}")]
    lines += ["", "Runs:", ""]
    lines += markdown_table([*columns, "device", "wall_min", "wandb_run"], runs)
    lines += ["", "Commands:", ""] + [f"- `{run['command']}`" for run in runs]
    md_path.write_text("\n".join(lines) + "\n")
    return csv_path, md_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table")
    parser.add_argument("runs", nargs="+", type=Path, help="W&B run folders (offline-run-*)")
    parser.add_argument("--published", type=Path, default=RESULTS / "published.yaml")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the CSV and .md")
    args = parser.parse_args(argv)
    tables = yaml.safe_load(args.published.read_text())
    if args.table not in tables:
        parser.error(f"unknown table {args.table!r}; expected one of {', '.join(tables)}")
    table = tables[args.table]
    for metric in table["metrics"]:
        if table.get("better", {}).get(metric) not in DIRECTIONS:
            parser.error(
                f"table {args.table!r}: better.{metric} must be one of {', '.join(DIRECTIONS)}"
            )
    runs = joined_segments([(read_run_log(run_dir), run_dir) for run_dir in args.runs])
    rows = [result_row(run, run_dir, table) for run, run_dir in runs]
    args.out.mkdir(parents=True, exist_ok=True)
    for path in write_table(args.table, table, seed_groups(rows, table), args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

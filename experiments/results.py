"""Real runs next to published numbers: experiments/results/<table>.csv and <table>.md.

    python experiments/results.py <table> <W&B run folder> [<W&B run folder> ...]

<table> names an entry of experiments/results/published.yaml (--published for another file):
the test metrics to report and the published values, each with the config values a run must
have to be compared with it, and (show) config values that tell the runs of one row apart.
Every run gives one row: those config values, its test metrics beside the published ones, the
device it ran on (W&B's record of the GPU, else the CPU), its wall time, W&B run id and folder,
git commit and the exact command. Rows of runs that match no published row are kept, with the
published columns empty.
"""

import argparse
import csv
from pathlib import Path
from typing import Any

import yaml

from lstm_triton.tracking import RunLog, read_run_log

RESULTS = Path(__file__).resolve().parent / "results"


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


def published_row(config: dict[str, Any], table: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The published row whose config values the run has, with its place in the table
    (after the last when none matches)."""
    for index, row in enumerate(table["rows"]):
        keys = {key: value for key, value in row.items() if key not in table["metrics"]}
        if all(config.get(key) == value for key, value in keys.items()):
            return index, row
    return len(table["rows"]), {}


def result_row(run: RunLog, run_dir: Path, table: dict[str, Any]) -> dict[str, Any]:
    metrics = table["metrics"]
    config = flatten(run.config)
    order, published = published_row(config, table)
    keys = {key: value for key, value in published.items() if key not in metrics}
    row: dict[str, Any] = {
        "order": order,
        "match": " ".join(f"{k}={v}" for k, v in keys.items()) or "none",
        **{key: config.get(key, "") for key in table.get("show", [])},
    }
    for metric in metrics:
        row[metric] = run.summary.get(metric, "")
        row[f"published {metric}"] = published.get(metric, "")
    arguments = " ".join(run.environment.get("args", []))
    row.update(
        device=device(run),
        wall_min=round(run.summary.get("_runtime", 0) / 60, 1),
        wandb_run=run.run_id,
        wandb_dir=str(run_dir),
        git=run.environment.get("git", {}).get("commit", ""),
        command=f"python experiments/train.py {arguments}".strip(),
    )
    return row


def write_table(
    name: str, table: dict[str, Any], rows: list[dict[str, Any]], out: Path
) -> tuple[Path, Path]:
    csv_path, md_path = out / f"{name}.csv", out / f"{name}.md"
    with csv_path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    shown = ["match", *table.get("show", [])]
    shown += [*(c for m in table["metrics"] for c in (m, f"published {m}")), "device"]
    shown += ["wall_min", "wandb_run"]
    lines = [f"# {table['title']}", "", f"Published: {table['source']}.", ""]
    lines += ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for row in rows:
        cells = [f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in shown]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Commands:", ""] + [f"- `{row['command']}`" for row in rows]
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
    rows = [result_row(read_run_log(run_dir), run_dir, table) for run_dir in args.runs]
    rows.sort(key=lambda row: row["order"])
    for path in write_table(args.table, table, rows, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

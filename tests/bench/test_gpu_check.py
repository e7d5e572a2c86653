"""experiments/gpu_check.py's CPU smoke mode runs every stage and writes every file, so that the
script a lent GPU's short window depends on cannot rot before a GPU comes."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_smoke_mode_runs_every_stage_and_writes_its_files(tmp_path):
    out = tmp_path / "check"
    result = subprocess.run(
        [sys.executable, "experiments/gpu_check.py", "--smoke", "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "TRITON_INTERPRET": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    facts = json.loads((out / "environment.json").read_text())
    assert facts["device"] == "cpu" and facts["torch"] and facts["triton"]
    with (out / "correctness.csv").open(newline="") as f:
        rows = {row["item"]: row for row in csv.DictReader(f)}
    schedules = {item.split("/")[1] for item in rows}
    assert schedules == {"stepwise", "persistent", "resident"}
    assert {item.split("/")[0] for item in rows} >= {"stress", "graph", "B3-T7-I5-H37-L1"}
    assert rows["graph/persistent/fp16"]["status"] == "unsupported"  # CUDA graphs: GPU only
    assert all(row["status"] == "ok" for item, row in rows.items() if not item.startswith("graph"))
    with (out / "speed.csv").open(newline="") as f:
        speed = list(csv.DictReader(f))
    assert {row["kernel"] for row in speed if row["provider"] == "triton"} == {
        "stepwise",
        "persistent",
        "resident",
    }
    assert {row["provider"] for row in speed} == {"native", "triton", "loop", "native_per_step"}
    assert {row["provider"] for row in speed if "resets" in row["config"]} == {
        "native",
        "native_per_step",
        "triton",
    }
    assert all(row["status"] == "ok" for row in speed)
    report = (out / "gpu-check.md").read_text()
    assert "## Correctness: " in report and "## Speed" in report and "PASSED" in report
    assert (out / "speed.md").exists()
    assert "PASSED" in result.stdout  # the summary is printed too

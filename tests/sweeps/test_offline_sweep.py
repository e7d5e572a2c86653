"""experiments/sweep.py without a W&B server: W&B's engine proposes the trials, each runs
experiments/train.py as `wandb agent` would, a crashing trial is reported and the sweep goes
on, and the offline W&B runs carry the sweep's group and id."""

import math
from pathlib import Path

import pytest
import yaml

pytest.importorskip("sweeps", reason="the `sweeps` extra (W&B's engine) is not installed")

from lstm_triton.sweeps import Trial, load_sweep_config
from lstm_triton.sweeps.offline import propose
from lstm_triton.tracking import RunLog, read_run_log
from lstm_triton.tracking.run_log import records, transaction_log

ROOT = Path(__file__).resolve().parents[2]

# Three trials of the main job; the second names a backend that does not exist and crashes.
# The command is that of experiments/sweeps/, whose run folder the sweep's own replaces.
GRID_WITH_A_CRASH = {
    "program": "experiments/train.py",
    "method": "grid",
    "metric": {"name": "val/bpc", "goal": "minimize"},
    "parameters": {"model.lstm.backend": {"values": ["native", "no_such_backend", "reference"]}},
    "command": [
        "${env}",
        "${interpreter}",
        "${program}",
        "experiment=char_stdlib",
        "hydra.run.dir=${paths.log_dir}/sweeps/${oc.env:WANDB_SWEEP_ID}/${oc.env:WANDB_RUN_ID}",
        "${args_no_hyphens}",
    ],
}


def run_group(run_dir: Path) -> str:
    (run,) = (
        r.run for r in records(transaction_log(run_dir)) if r.WhichOneof("record_type") == "run"
    )
    return run.run_group


def test_offline_grid_runs_every_trial_past_a_crash_and_groups_the_runs(
    tmp_path, monkeypatch, capsys, sweep_module, sweep_trial
):
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(GRID_WITH_A_CRASH))
    monkeypatch.chdir(ROOT)  # `program` is relative to the working folder, as for wandb agent

    assert sweep_module.main([str(path), *sweep_trial, f"paths.log_dir={tmp_path / 'logs'}"]) == 0

    (sweep_dir,) = (tmp_path / "logs" / "sweeps").iterdir()
    sweep_id = sweep_dir.name
    out = capsys.readouterr().out
    assert "trial 1 failed (exit code 1, no W&B run)" in out
    assert "3 trials, 2 with a result, 1 failed" in out
    assert f"wandb sync {sweep_dir}/*/wandb/offline-run-*" in out
    for trial in (0, 2):
        (run_dir,) = (sweep_dir / str(trial) / "wandb").glob("offline-run-*")
        log = read_run_log(run_dir)
        assert log.exit_code == 0
        assert log.config["sweep"] == {"id": sweep_id, "trial": trial}
        assert run_group(run_dir) == f"sweep-{sweep_id}"
        assert math.isfinite(log.summary["val/bpc"])
        assert f"trial {trial} finished: val/bpc = {log.summary['val/bpc']:.6g}" in out
    assert not (sweep_dir / "1" / "wandb").exists()
    assert yaml.safe_load((sweep_dir / "sweep.yaml").read_text())["method"] == "grid"


@pytest.mark.parametrize("method", ["random", "bayes"])
def test_engine_proposes_values_inside_the_sweeps_ranges(method):
    config = load_sweep_config(ROOT / "experiments" / "sweeps" / "language_model.yaml")
    config["method"] = method
    trials = []
    for number, bpc in enumerate([3.0, 2.5, math.nan]):
        params = propose(config, trials)
        log = RunLog(summary={"val/bpc": bpc}, history=[{"val/bpc": bpc}])
        exit_code = 1 if math.isnan(bpc) else 0
        trials.append(Trial(number, params, Path(str(number)), exit_code, log))
    params = propose(config, trials)
    assert params.keys() == config["parameters"].keys()
    for name, spec in config["parameters"].items():
        if "values" in spec:
            assert params[name] in spec["values"]
        else:
            assert spec["min"] <= params[name] <= spec["max"]
            assert type(params[name]) is float

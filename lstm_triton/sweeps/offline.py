"""A W&B sweep without a W&B server: W&B's own engine proposes each trial from the results so
far (grid, random or bayes), the trial runs as the agent would run it (a child process of the
sweep's command), and its W&B run is read back for the engine's next proposal.

Trials run one after another under <sweep_dir>/<trial number>/, their W&B runs grouped as
sweep-<id>, so that `wandb sync` uploads them later as one group. A trial that fails is
reported and the sweep goes on (bayes counts it as W&B does: metric.impute, the worst value by
default). early_terminate is the W&B server's job: offline, every trial runs to its end.
"""

import subprocess
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from lstm_triton.sweeps.engine import ConvergenceWarning, RunState, sweeps
from lstm_triton.sweeps.trial import Trial, read_trial_run, trial_command


def _plain(value: Any) -> Any:
    """A proposed value as a Python scalar (the engine proposes numpy ones)."""
    return value.item() if isinstance(value, np.generic) else value


def propose(config: Mapping[str, Any], trials: list[Trial]) -> dict[str, Any] | None:
    """The engine's next parameter values given the trials so far; None when a grid is done."""
    with warnings.catch_warnings():
        # The Gaussian process of bayes warns about every poor fit on a handful of runs.
        warnings.simplefilter("ignore", ConvergenceWarning)
        run = sweeps.next_run(config, [trial.sweep_run() for trial in trials])
    if run is None:
        return None
    return {name: _plain(spec["value"]) for name, spec in run.config.items()}


def check_count(config: Mapping[str, Any], count: int | None) -> None:
    """Raises ValueError when a count is missing for a method that proposes without end."""
    if count is None and config["method"] != "grid":
        raise ValueError(
            f"method {config['method']} proposes trials without end: give a count (--count N)"
        )
    if count is not None and count < 1:
        raise ValueError(f"count must be a positive number of trials, got {count}")


def run_offline_sweep(
    config: Mapping[str, Any],
    *,
    sweep_id: str,
    sweep_dir: str | Path,
    overrides: Sequence[str] = (),
    count: int | None = None,
) -> list[Trial]:
    """Runs up to `count` trials of the sweep (all of a grid when None) and returns them in
    order. `overrides` go to every trial (after the sweep command's own arguments). The sweep
    config, filled with W&B's defaults, is saved as <sweep_dir>/sweep.yaml."""
    check_count(config, count)
    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True)
    (sweep_dir / "sweep.yaml").write_text(yaml.safe_dump(dict(config), sort_keys=False))
    trials: list[Trial] = []
    while count is None or len(trials) < count:
        params = propose(config, trials)
        if params is None:
            break
        trial = Trial(number=len(trials), params=params, output_dir=sweep_dir / str(len(trials)))
        print(f"\n[sweep {sweep_id}] trial {trial.number}: {describe(params)}", flush=True)
        command = trial_command(config, trial, list(overrides), sweep_id)
        trial.exit_code = subprocess.run(command, check=False).returncode
        trial.run_log = read_trial_run(trial.output_dir)
        trials.append(trial)
        print(f"[sweep {sweep_id}] {outcome(trial, config['metric'])}", flush=True)
    return trials


def describe(params: Mapping[str, Any]) -> str:
    return " ".join(f"{name}={value}" for name, value in params.items())


def outcome(trial: Trial, metric: Mapping[str, Any]) -> str:
    """One line: how the trial ended and its best value of the metric."""
    if trial.state != RunState.finished:
        run = "" if trial.run_log else ", no W&B run"
        return (
            f"trial {trial.number} failed (exit code {trial.exit_code}{run}); "
            f"its output: {trial.output_dir}"
        )
    value = trial.result(metric)
    if value is None:
        return f"trial {trial.number} finished but logged no {metric['name']}"
    return f"trial {trial.number} finished: {metric['name']} = {value:.6g}"


def report(trials: list[Trial], config: Mapping[str, Any], sweep_id: str, sweep_dir: Path) -> str:
    """The sweep's closing summary: every trial, the best one, and how to upload the runs."""
    metric = config["metric"]
    finished = [trial for trial in trials if trial.result(metric) is not None]
    lines = [
        "",
        f"Sweep {sweep_id} ({config['method']}, {metric['goal']} {metric['name']}): "
        f"{len(trials)} trials, {len(finished)} with a result, "
        f"{sum(trial.state == RunState.failed for trial in trials)} failed",
    ]
    lines += [f"  {outcome(trial, metric)}  [{describe(trial.params)}]" for trial in trials]
    if finished:
        pick = max if metric["goal"] == "maximize" else min
        best = pick(finished, key=lambda trial: trial.result(metric))
        lines.append(f"Best: trial {best.number}, {metric['name']} = {best.result(metric):.6g}")
    if any(path for trial in trials for path in (trial.output_dir / "wandb").glob("offline-run-*")):
        lines.append(
            f"Upload the runs (W&B group sweep-{sweep_id}): "
            f"wandb sync {sweep_dir}/*/wandb/offline-run-*"
        )
    return "\n".join(lines)

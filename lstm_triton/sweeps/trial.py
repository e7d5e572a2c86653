"""One trial of an offline sweep: the command the W&B agent would run for its parameters, and
what its W&B run recorded, read back from the run folder as W&B's engine sees a run.

The command is the sweep YAML's `command` with the agent's macros expanded (wandb's own
create_sweep_command and create_sweep_command_args), except ${interpreter}: the agent runs the
`python` on PATH, an offline trial the interpreter running the sweep. ${args_no_hyphens}
becomes the caller's overrides, then the trial's parameters, then the sweep's own: the trial's
folder, its W&B group and name, and `sweep.id` / `sweep.trial` in the run's config.
"""

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args

from lstm_triton.sweeps.config import PARAMETERS_MACRO
from lstm_triton.sweeps.engine import RunState, SweepRun
from lstm_triton.tracking import RunLog, read_run_log

# The exit record of a W&B run lands on disk just after the process that wrote it ends.
EXIT_RECORD_WAIT_S = 10.0


@dataclass
class Trial:
    """A trial: its number in the sweep, the proposed parameter values (Hydra key -> value),
    its output folder, the exit code of its process and the log of its W&B run (None until it
    has run, or when it failed before starting one)."""

    number: int
    params: dict[str, Any]
    output_dir: Path
    exit_code: int | None = None
    run_log: RunLog | None = None

    @property
    def state(self) -> RunState:
        if self.exit_code is None:
            return RunState.pending
        return RunState.finished if self.exit_code == 0 else RunState.failed

    def sweep_run(self) -> SweepRun:
        """The trial as W&B's engine sees a run: state, config, summary and history."""
        log = self.run_log or RunLog()
        return SweepRun(
            name=str(self.number),
            state=self.state,
            config={name: {"value": value} for name, value in self.params.items()},
            summaryMetrics=log.summary,
            sampledHistory=log.history,
        )

    def result(self, metric: Mapping[str, Any]) -> float | None:
        """The best value of the sweep's metric (name, goal) a finished trial logged, over its
        history and summary as the engine ranks runs; None when it failed or logged none."""
        if self.state != RunState.finished:
            return None
        try:
            return float(self.sweep_run().metric_extremum(metric["name"], kind=metric["goal"]))
        except ValueError:
            return None


def sweep_overrides(sweep_id: str, trial: Trial) -> list[str]:
    """What groups a trial into its sweep: its folder, W&B group and name, and sweep.id /
    sweep.trial in its config (quoted: an id of digits only would otherwise become a number)."""
    return [
        f"hydra.run.dir={trial.output_dir}",
        f"logger.wandb.group=sweep-{sweep_id}",
        f"logger.wandb.name=sweep-{sweep_id}-{trial.number}",
        f"+sweep.id='{sweep_id}'",
        f"+sweep.trial={trial.number}",
    ]


def trial_command(
    config: Mapping[str, Any], trial: Trial, overrides: list[str], sweep_id: str
) -> list[str]:
    """The argv that runs `trial`: the sweep's command, macros expanded as described above."""
    args = create_sweep_command_args(
        {"args": {name: {"value": value} for name, value in trial.params.items()}}
    )
    expansions = {
        "${env}": ["/usr/bin/env"],
        "${interpreter}": [sys.executable],
        "${program}": [str(config["program"])],
        PARAMETERS_MACRO: [*overrides, *args["args_no_hyphens"], *sweep_overrides(sweep_id, trial)],
    }
    argv: list[str] = []
    for token in create_sweep_command([str(token) for token in config["command"]]):
        argv += expansions.get(token, [token])
    return argv


def read_trial_run(output_dir: str | os.PathLike) -> RunLog | None:
    """The log of the W&B run under a trial's folder (<output_dir>/wandb/[offline-]run-*),
    once its exit record is on disk; None when the trial started no run."""
    folders = sorted(p for p in (Path(output_dir) / "wandb").glob("*run-*") if p.is_dir())
    if not folders:
        return None
    deadline = time.monotonic() + EXIT_RECORD_WAIT_S
    log = read_run_log(folders[-1])
    while log.exit_code is None and time.monotonic() < deadline:
        time.sleep(0.05)
        log = read_run_log(folders[-1])
    return log

"""Run a W&B sweep YAML without a W&B server:

    python experiments/sweep.py experiments/sweeps/<family>.yaml [--count N] [overrides ...]

W&B's own engine (the `sweeps` package, pip install -e '.[sweeps]') proposes each trial from
the results so far (grid, random, bayes); each runs the YAML's `command` as `wandb agent` would
(experiments/train.py with the parameters as Hydra overrides), after the overrides given here,
in <paths.log_dir>/sweeps/<sweep id>/<trial>/, one after another and each to its end
(early_terminate is the W&B server's). Before any trial, the YAML is checked against W&B's
schema and its parameter names against the training config its command composes. A failing
trial is reported and the sweep goes on. The W&B runs (offline without an API key or with
WANDB_MODE=offline) share the group sweep-<id> and carry sweep.id in their config; the closing
report prints the `wandb sync` command that uploads them. Exits 1 when no trial gave a result.
"""

import argparse
import secrets
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from lstm_triton.sweeps import (
    check_training_config,
    fixed_overrides,
    load_sweep_config,
    report,
    run_offline_sweep,
)

CONFIG_DIR = Path(__file__).resolve().parents[1] / "conf"


def compose_train_config(overrides: list[str]) -> DictConfig:
    """conf/train.yaml composed with the overrides, Hydra's own node included."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep", type=Path, help="a W&B sweep YAML, e.g. experiments/sweeps/...")
    parser.add_argument(
        "--count", type=int, default=None, help="trials to run (default: all of a grid)"
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every trial")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_sweep_config(args.sweep)
    cfg = compose_train_config([*fixed_overrides(config["command"]), *args.overrides])
    check_training_config(config, cfg)
    sweep_id = secrets.token_hex(4)
    sweep_dir = Path(cfg.paths.log_dir) / "sweeps" / sweep_id
    trials = run_offline_sweep(
        config, sweep_id=sweep_id, sweep_dir=sweep_dir, overrides=args.overrides, count=args.count
    )
    print(report(trials, config, sweep_id, sweep_dir), flush=True)
    return 0 if any(trial.result(config["metric"]) is not None for trial in trials) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Sweeps: W&B sweep YAMLs checked before any trial (W&B's schema, the command, the parameter
names against the composed training config) and run without a W&B server by W&B's own search
engine (the optional `sweeps` package: pip install -e '.[sweeps]')."""

from lstm_triton.sweeps.config import (
    check_training_config,
    fixed_overrides,
    load_sweep_config,
)
from lstm_triton.sweeps.offline import report, run_offline_sweep
from lstm_triton.sweeps.trial import Trial

__all__ = [
    "Trial",
    "check_training_config",
    "fixed_overrides",
    "load_sweep_config",
    "report",
    "run_offline_sweep",
]

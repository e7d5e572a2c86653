"""Fixtures of the multi-process and preemption tests: experiments/train.py run as users run it,
in a subprocess (DDP processes and signals need their own), with W&B offline into tmp_path."""

import pytest

from lstm_triton.tracking import RunLog


@pytest.fixture(autouse=True)
def offline(wandb_offline):
    """Every test here runs W&B offline into tmp_path, its child processes too."""


def _final_metrics(run: RunLog) -> dict[str, float]:
    """The numbers of a run's summary under train/, val/ and test/ (media and the throughput,
    which is wall-clock time, left out)."""
    return {
        name: value
        for name, value in run.summary.items()
        if name.split("/")[0] in ("train", "val", "test")
        and isinstance(value, float)
        and "per_sec" not in name
    }


@pytest.fixture
def final_metrics():
    """final_metrics(run): the numbers of a run's summary under train/, val/ and test/."""
    return _final_metrics

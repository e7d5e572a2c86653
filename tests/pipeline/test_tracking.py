"""W&B mode selection, the run id kept in checkpoints, and reading a run back from its log."""

from types import SimpleNamespace

import pytest
import torch
import wandb

from lstm_triton.tracking import (
    finish_wandb_on_exit,
    report_run,
    resolve_mode,
    run_id_from_checkpoint,
    wandb_logger,
)
from lstm_triton.tracking.run_log import records, transaction_log


@pytest.fixture
def no_wandb_settings(monkeypatch, tmp_path):
    """No WANDB_MODE, no key, an empty home (no ~/.netrc)."""
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_BASE_URL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NETRC", raising=False)
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def test_mode_is_offline_without_a_key_and_online_with_one(no_wandb_settings, monkeypatch):
    assert resolve_mode() == "offline"
    assert resolve_mode("online") == "online"
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert resolve_mode() == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert resolve_mode("online") == "disabled"


def test_mode_is_online_when_wandb_login_wrote_a_netrc_entry(no_wandb_settings):
    netrc = no_wandb_settings / ".netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password " + "k" * 40 + "\n")
    netrc.chmod(0o600)
    assert resolve_mode() == "online"


def test_unknown_mode_is_refused(no_wandb_settings):
    with pytest.raises(ValueError, match="W&B mode must be one of"):
        resolve_mode("cloud")


def test_run_log_reads_config_summary_history_and_exit(tmp_path, finished_log):
    with finish_wandb_on_exit():
        run = wandb.init(project="t", dir=tmp_path, config={"model": {"lr": 0.1}, "seed": 3})
        for step in range(3):
            run.log({"train/loss": 1.0 / (step + 1), "step": step})
        run.summary["test/bpc"] = 1.5
        folder = run.settings.sync_dir
    log = finished_log(folder)
    assert log.run_id == run.id and log.project == "t" and log.exit_code == 0
    assert log.config["model"] == {"lr": 0.1} and log.config["seed"] == 3
    assert log.metric("train/loss") == [1.0, 0.5, pytest.approx(1 / 3)]
    assert log.summary["test/bpc"] == 1.5


def test_a_failed_block_finishes_the_run_with_exit_code_1(tmp_path, finished_log):
    with pytest.raises(RuntimeError, match="boom"), finish_wandb_on_exit():
        run = wandb.init(project="t", dir=tmp_path)
        folder = run.settings.sync_dir
        raise RuntimeError("boom")
    assert wandb.run is None
    assert finished_log(folder).exit_code == 1


def test_corrupt_run_log_is_reported(tmp_path, finished_log):
    with finish_wandb_on_exit():
        folder = wandb.init(project="t", dir=tmp_path).settings.sync_dir
    finished_log(folder)
    path = transaction_log(folder)
    data = bytearray(path.read_bytes())
    data[20] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum mismatch"):
        list(records(path))
    path.write_bytes(b"not a log")
    with pytest.raises(ValueError, match="not a W&B transaction log"):
        list(records(path))


def test_logger_resumes_the_run_id_saved_in_a_checkpoint(tmp_path):
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": {}, "wandb": {"run_id": "abc123", "project": "p"}}, path)
    assert run_id_from_checkpoint(path) == "abc123"
    logger = wandb_logger(save_dir=tmp_path / "out", resume_from=path, mode="offline")
    assert logger.version == "abc123"
    torch.save({"state_dict": {}}, path)
    assert run_id_from_checkpoint(path) is None
    with pytest.raises(FileNotFoundError, match=r"checkpoint .* not found"):
        run_id_from_checkpoint(tmp_path / "missing.ckpt")


def test_report_shows_the_optimized_metric_a_sweep_gets_and_its_last_value(capsys, tmp_path):
    trainer = SimpleNamespace(checkpoint_callback=None, loggers=[], default_root_dir=tmp_path)
    media = [tmp_path / "forecast.png", tmp_path / "plots" / "extra.png"]
    report_run(trainer, {"val/mse": 0.9367, "test/mse": 0.68}, "val/mse", 0.856, media)
    out = capsys.readouterr().out
    assert "val/mse = 0.8560  <- optimized_metric (last epoch 0.9367)" in out
    assert "test/mse = 0.6800\n" in out
    assert f"Run folder: {tmp_path}\n  media: forecast.png, plots/extra.png\n" in out

"""experiments/train.py as users run it: the main job from the command line (shrunk), the
Triton backend through the pipeline, and bad input failing with a message that says what to do."""

import math
import os

import pytest

from lstm_triton.data import DataNotFoundError


def test_main_job_command_line_ends_with_test_metric_sample_and_wandb_run(
    train_cli, tiny_main_job, tmp_path
):
    result = train_cli(*tiny_main_job)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "test/bpc" in out and "Sample (temperature 0.8):\ndef " in out
    report = out[out.index("Run finished.") :]
    assert "<- optimized_metric" in report and "Checkpoints: " in report
    run_dir = report.split("W&B run: ", 1)[1].split("\n", 1)[0]
    assert run_dir.startswith(str(tmp_path / "logs" / "debug" / "runs"))
    assert os.path.isdir(run_dir) and f"wandb sync {run_dir}" in report


def test_unknown_experiment_on_the_command_line_lists_the_presets(train_cli):
    result = train_cli("experiment=no_such_preset")
    assert result.returncode != 0
    assert "Available options in 'experiment'" in result.stderr
    assert "char_stdlib" in result.stderr and "etth1" in result.stderr


def test_a_value_left_to_the_command_line_ends_the_run_with_one_line_naming_it(
    train_cli, wandb_offline
):
    result = train_cli("experiment=char_text", "logger=none")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Error executing job" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("data.corpus.path has no value")
    assert "python experiments/train.py experiment=char_text logger=none " in last
    assert last.endswith("data.corpus.path=<value>")


def test_triton_backend_runs_through_the_pipeline(compose_train, run_train):
    if os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip("the Triton kernels run on CPU tensors only under TRITON_INTERPRET=1")
    cfg = compose_train(
        "model.lstm.backend=triton",
        "model.lstm.num_layers=1",
        "callbacks.text_samples.num_tokens=3",
        "trainer.limit_train_batches=1",
    )
    value, metrics = run_train(cfg)
    assert math.isfinite(value) and math.isfinite(metrics["test/bpc"])


def test_missing_data_offline_names_the_file_the_url_and_the_fix(
    compose_train, run_train, tmp_path
):
    cfg = compose_train("experiment=char_shakespeare", f"paths.data_dir={tmp_path / 'empty'}")
    with pytest.raises(DataNotFoundError) as error:
        run_train(cfg)
    message = str(error.value)
    assert str(tmp_path / "empty" / "tiny_shakespeare" / "input.txt") in message
    assert "https://raw.githubusercontent.com/karpathy/char-rnn" in message
    assert "To supply it" in message


def test_fast_dev_run_tests_the_last_weights_when_no_best_checkpoint_was_saved(
    compose_train, run_train, tmp_path
):
    value, metrics = run_train(compose_train("experiment=etth1", debug="fast_dev_run"))
    assert math.isfinite(metrics["test/mse"]) and math.isfinite(value)
    assert not list(tmp_path.glob("run/checkpoints/epoch*.ckpt"))

"""trainer=ddp through the Hydra entry point on CPU (gloo, 2 processes): one W&B run logged from
process 0, metrics averaged over the processes, each process on its own rows of the data; a
Hydra multirun of DDP jobs (trainer=ddp_spawn); trainer=ddp refused inside a multirun."""

import math

# No dropout: each DDP process draws the same masks for its rows (every process is seeded
# alike), one process would draw one mask for all rows, and the runs are to be compared.
NO_DROPOUT = ["model.dropout=0", "model.lstm.dropout=0"]
CPU_DDP = ["trainer.accelerator=cpu", "trainer.devices=2"]


def test_ddp_run_matches_one_process_on_the_whole_batch_and_logs_once(
    train_cli, tiny_main_job, wandb_logs, final_metrics, tmp_path
):
    # 2 processes x 2 rows against 1 process x 4 rows: the same 4 streams of the corpus (process
    # r takes rows 2r, 2r+1), the same averaged gradient, so the same run up to float32
    # summation order (1e-7 relative seen) if no row is dropped or read twice and every logged
    # metric is the mean over both processes (not process 0's rows alone).
    ddp = train_cli(
        *tiny_main_job,
        *NO_DROPOUT,
        "trainer=ddp",
        *CPU_DDP,
        "data.batch_size=2",
        f"paths.output_dir={tmp_path / 'ddp'}",
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    one = train_cli(
        *tiny_main_job,
        *NO_DROPOUT,
        "trainer=cpu",
        "data.batch_size=4",
        f"paths.output_dir={tmp_path / 'one'}",
    )
    assert one.returncode == 0, one.stderr[-3000:]

    assert ddp.stdout.count("Run finished.") == 1
    assert "distributed_backend=gloo" in ddp.stdout + ddp.stderr
    (run,) = wandb_logs(tmp_path / "ddp")
    (reference,) = wandb_logs(tmp_path / "one")
    assert run.exit_code == 0
    metrics, expected = final_metrics(run), final_metrics(reference)
    assert {"train/loss", "val/loss", "test/loss", "test/bpc"} <= set(expected)
    assert metrics.keys() == expected.keys()
    for name, value in expected.items():
        assert math.isclose(metrics[name], value, rel_tol=1e-5), (name, metrics[name], value)


def test_multirun_of_two_ddp_jobs_gives_one_wandb_run_each(
    train_cli, tiny_main_job, wandb_logs, tmp_path
):
    result = train_cli(
        "-m",
        *tiny_main_job,
        "trainer=ddp_spawn",
        *CPU_DDP,
        "data.batch_size=2",
        "test=false",
        "seed=1,2",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "logs" / "debug" / "multiruns").iterdir()
    jobs = sorted(path for path in sweep.iterdir() if path.is_dir())
    assert [job.name for job in jobs] == ["0", "1"]
    runs = [wandb_logs(job) for job in jobs]
    assert [len(job_runs) for job_runs in runs] == [1, 1]
    assert runs[0][0].run_id != runs[1][0].run_id
    for (run,) in runs:
        assert run.exit_code == 0 and run.metric("train/loss") and run.metric("val/loss")
        assert run.config["seed"] in (1, 2) and run.config["trainer"]["strategy"] == "ddp_spawn"


def test_ddp_that_would_rerun_the_command_line_is_refused_in_a_multirun(train_cli, tiny_main_job):
    result = train_cli("-m", *tiny_main_job, "trainer=ddp", *CPU_DDP, "seed=1,2")
    assert result.returncode != 0
    assert "trainer=ddp cannot start its processes inside a --multirun" in result.stderr
    assert "trainer=ddp_spawn" in result.stderr

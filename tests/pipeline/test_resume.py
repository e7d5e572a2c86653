"""ckpt_path= resumes training: the step count goes on from the checkpoint and the W&B run whose
id the checkpoint holds continues."""

import torch

from lstm_triton.tracking import run_id_from_checkpoint


def test_resume_continues_the_step_count_and_the_wandb_run(
    compose_train, run_train, wandb_logs, tmp_path
):
    run_train(compose_train("experiment=char_stdlib", output="first"))
    (first,) = wandb_logs(tmp_path / "first")
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(last, weights_only=True)
    assert checkpoint["global_step"] == 2
    assert run_id_from_checkpoint(last) == first.run_id

    resumed = compose_train(
        "experiment=char_stdlib", f"ckpt_path={last}", "trainer.max_epochs=2", output="second"
    )
    run_train(resumed)
    (second,) = wandb_logs(tmp_path / "second")
    assert second.run_id == first.run_id and second.exit_code == 0
    # Logged from step 2 on (the learning rate of the first resumed step is logged before it).
    steps = second.metric("trainer/global_step")
    assert min(steps) == 2 and max(steps) == 4
    assert second.metric("train/loss")
    again = tmp_path / "second" / "checkpoints" / "last.ckpt"
    assert torch.load(again, weights_only=True)["global_step"] == 4
    assert run_id_from_checkpoint(again) == first.run_id

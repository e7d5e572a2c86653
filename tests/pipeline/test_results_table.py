"""experiments/results.py: real runs' test metrics beside the published ones, read back from
the runs' own W&B logs."""

import csv

import pytest
import yaml


@pytest.fixture(scope="module")
def results_module(experiment_script):
    return experiment_script("results")


def test_run_is_set_beside_the_published_row_it_matches(
    results_module, compose_train, run_train, wandb_logs, wandb_folders, tmp_path
):
    cfg = compose_train("experiment=etth1")
    _, metrics = run_train(cfg)
    (folder,) = wandb_folders(tmp_path / "run")
    wandb_logs(tmp_path / "run")  # waits for the run's exit record
    published = {
        "etth1": {
            "title": "ETTh1 against a made-up baseline",
            "source": "this test",
            "metrics": ["test/mse", "test/mae"],
            "show": ["model.optimizer.lr"],
            "rows": [
                {"data.features": "M", "data.horizon": cfg.data.horizon, "test/mse": 9.0},
                {"data.features": "S", "data.horizon": cfg.data.horizon, "test/mse": 0.5},
            ],
        }
    }
    (tmp_path / "published.yaml").write_text(yaml.safe_dump(published))
    out = tmp_path / "results"
    out.mkdir()
    arguments = ["etth1", str(folder), "--published", str(tmp_path / "published.yaml")]
    assert results_module.main([*arguments, "--out", str(out)]) == 0

    (row,) = csv.DictReader((out / "etth1.csv").open())
    assert row["match"] == f"data.features=S data.horizon={cfg.data.horizon}"
    assert float(row["test/mse"]) == pytest.approx(metrics["test/mse"])
    assert float(row["published test/mse"]) == 0.5 and row["published test/mae"] == ""
    assert float(row["model.optimizer.lr"]) == cfg.model.optimizer.lr
    assert row["device"].endswith("cores") and row["wandb_run"] in str(folder)
    assert row["command"].startswith("python experiments/train.py")
    table = (out / "etth1.md").read_text()
    assert "# ETTh1 against a made-up baseline" in table and row["wandb_run"] in table
    assert "| match | model.optimizer.lr | test/mse |" in table


def test_unknown_table_is_refused_with_the_known_ones(results_module, tmp_path, capsys):
    with pytest.raises(SystemExit):
        results_module.main(["no_such_table", str(tmp_path)])
    assert "unknown table 'no_such_table'; expected one of etth1, long_memory, fashion_mnist" in (
        capsys.readouterr().err
    )

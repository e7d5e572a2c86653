"""experiments/results.py: real runs' test metrics beside the published ones, read back from
the runs' own W&B logs."""

import csv
import itertools
import math
from pathlib import Path
from typing import Any

import pytest
import wandb
import yaml

from lstm_triton.tracking import RunLog, finish_wandb_on_exit

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = yaml.safe_load((ROOT / "experiments" / "results" / "published.yaml").read_text())


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
            "better": {"test/mse": "lower", "test/mae": "lower"},
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
    assert int(row["seed"]) == cfg.seed
    assert row["device"].endswith("cores") and row["wandb_run"] in str(folder)
    assert row["command"].startswith("python experiments/train.py")
    table = (out / "etth1.md").read_text()
    assert "# ETTh1 against a made-up baseline" in table and row["wandb_run"] in table
    assert "| match | model.optimizer.lr | seed | test/mse |" in table
    assert "| match | model.optimizer.lr | n | seeds | test/mse |" in table


@pytest.fixture
def offline_run(tmp_path, finished_log):
    """offline_run(config, metrics): the folder of a finished offline W&B run written by wandb
    itself, with the given config (dotted keys nested as Hydra's are) and test metrics (or a
    list of them, logged one after the other), logged as Lightning logs them (a nan set on
    run.summary directly would be stored as null)."""

    def run(config: dict[str, Any], metrics: dict[str, float] | list[dict[str, float]]) -> Path:
        nested: dict[str, Any] = {}
        for key, value in config.items():
            *parents, leaf = key.split(".")
            branch = nested
            for parent in parents:
                branch = branch.setdefault(parent, {})
            branch[leaf] = value
        with finish_wandb_on_exit():
            run = wandb.init(project="results", dir=tmp_path, config=nested)
            for logged in [metrics] if isinstance(metrics, dict) else metrics:
                run.log(logged)
            folder = Path(run.settings.sync_dir)
        finished_log(folder)
        return folder

    return run


def markdown_tables(text: str) -> list[list[dict[str, str]]]:
    """Every table of a markdown text, each as its rows keyed by the header."""
    tables, lines = [], text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("|") and (index == 0 or not lines[index - 1].startswith("|")):
            header = [cell.strip() for cell in line.strip("|").split("|")]
            rows = []
            for body in itertools.takewhile(lambda b: b.startswith("|"), lines[index + 2 :]):
                rows.append(
                    dict(zip(header, (c.strip() for c in body.strip("|").split("|")), strict=True))
                )
            tables.append(rows)
    return tables


def write_results(results_module, tmp_path, table: dict[str, Any], runs: list[Path]):
    """The CSV rows and the markdown tables (over seeds, per run) of `table` over `runs`."""
    (tmp_path / "published.yaml").write_text(yaml.safe_dump({"t": table}))
    out = tmp_path / "results"
    out.mkdir()
    arguments = ["t", *map(str, runs), "--published", str(tmp_path / "published.yaml")]
    assert results_module.main([*arguments, "--out", str(out)]) == 0
    markdown = (out / "t.md").read_text()
    return list(csv.DictReader((out / "t.csv").open())), markdown_tables(markdown), markdown


def test_runs_that_differ_only_in_seed_are_one_row_with_mean_and_sample_std(
    results_module, offline_run, tmp_path
):
    table = {
        "title": "seeds",
        "source": "this test",
        "metrics": ["test/mse"],
        "better": {"test/mse": "lower"},
        "show": ["model.optimizer.lr", "seed"],
        "rows": [{"data.horizon": 24, "test/mse": 0.5}, {"data.horizon": 48, "test/mse": 0.5}],
    }
    runs = [  # (horizon, lr, seed, test/mse), neither in the published rows' nor the seeds' order
        (48, 1e-3, 5, 0.2),
        (24, 1e-3, 2, 0.17),
        (24, 1e-4, 0, 0.3),
        (24, 1e-3, 0, 0.10),
        (96, 1e-3, 2, 0.6),
        (24, 1e-3, 1, 0.12),
        (96, 1e-3, 1, 0.4),
    ]
    # task_name differs between the seeds, as unshown values do between real runs (their output
    # folders): the groups follow the matched row and the shown values only.
    folders = [
        offline_run(
            {
                "data.horizon": horizon,
                "model.optimizer.lr": lr,
                "seed": seed,
                "task_name": f"run{seed}",
            },
            {"test/mse": mse},
        )
        for horizon, lr, seed, mse in runs
    ]
    rows, (over_seeds, per_run), markdown = write_results(results_module, tmp_path, table, folders)

    assert [(row["match"], row["seed"], row["test/mse"]) for row in rows] == [
        ("data.horizon=24", "0", "0.1"),
        ("data.horizon=24", "1", "0.12"),
        ("data.horizon=24", "2", "0.17"),
        ("data.horizon=24", "0", "0.3"),
        ("data.horizon=48", "5", "0.2"),
        ("none", "1", "0.4"),
        ("none", "2", "0.6"),
    ]
    assert [row["seed"] for row in per_run] == [row["seed"] for row in rows]
    # 0.10, 0.12, 0.17: mean 0.13, sample std sqrt(0.0026 / 2) = 0.036 (the population's: 0.029)
    columns = ("match", "model.optimizer.lr", "n", "seeds", "test/mse")
    assert [(*(row[c] for c in columns), row["test/mse vs published"]) for row in over_seeds] == [
        ("data.horizon=24", "0.001", "3", "0, 1, 2", "0.13 ± 0.036", "beat"),
        ("data.horizon=24", "0.0001", "1", "0", "0.3 (n=1)", "n=1"),
        ("data.horizon=48", "0.001", "1", "5", "0.2 (n=1)", "n=1"),
        ("none", "0.001", "2", "1, 2", "0.5 ± 0.14", ""),
    ]
    assert [row["published test/mse"] for row in over_seeds] == ["0.5", "0.5", "0.5", ""]
    assert markdown.index("| n | seeds |") < markdown.index("Runs:") < markdown.index("Commands:")


def test_verdicts_follow_each_metrics_direction(results_module, offline_run, tmp_path):
    table = {
        "title": "verdicts",
        "source": "this test",
        "metrics": ["test/mse", "test/acc"],
        "better": {"test/mse": "lower", "test/acc": "higher"},
        "rows": [{"data.horizon": h, "test/mse": 0.5, "test/acc": 0.5} for h in (1, 2, 3, 4, 5)],
    }
    # test/mse = test/acc in each run; a diverged run logs nan
    values = {1: [0.1, 0.2], 2: [0.8, 0.9], 3: [0.4, 0.6], 4: [0.1], 5: [0.1, math.nan]}
    folders = [
        offline_run({"data.horizon": h, "seed": seed}, {"test/mse": v, "test/acc": v})
        for h, run_values in values.items()
        for seed, v in enumerate(run_values)
    ]
    _, (over_seeds, _), _ = write_results(results_module, tmp_path, table, folders)
    assert {
        row["match"]: (row["test/mse vs published"], row["test/acc vs published"])
        for row in over_seeds
    } == {
        "data.horizon=1": ("beat", "lose"),  # 0.15 ± 0.071: all below 0.5
        "data.horizon=2": ("lose", "beat"),  # 0.85 ± 0.071: all above 0.5
        "data.horizon=3": ("tie", "tie"),  # 0.5 ± 0.14 holds 0.5
        "data.horizon=4": ("n=1", "n=1"),
        "data.horizon=5": ("not finite", "not finite"),
    }
    assert over_seeds[-1]["test/mse"] == "0.1, nan"  # no spread over a nan: the seeds' values


def test_best_metric_is_the_best_value_logged_in_its_direction(
    results_module, offline_run, tmp_path
):
    table = {
        "title": "model selection",
        "source": "this test",
        "metrics": ["best val/mse", "val/mse", "best val/acc"],
        "better": {"best val/mse": "lower", "val/mse": "lower", "best val/acc": "higher"},
        "rows": [],
    }
    epochs = [{"val/mse": 0.3, "val/acc": 0.5}, {"val/mse": 0.1, "val/acc": 0.7}]
    epochs.append({"val/mse": 0.2, "val/acc": 0.6})
    rows, _, _ = write_results(results_module, tmp_path, table, [offline_run({}, epochs)])
    (row,) = rows
    assert float(row["best val/mse"]) == pytest.approx(0.1)
    assert float(row["val/mse"]) == pytest.approx(0.2)  # the last epoch's
    assert float(row["best val/acc"]) == pytest.approx(0.7)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_rows_are_matched_by_the_runs_with_their_config(
    name, results_module, offline_run, tmp_path
):
    table = PUBLISHED[name]
    metrics = table["metrics"]
    folders = [
        offline_run(
            {**{k: v for k, v in row.items() if k not in metrics}, "seed": 0},
            {k: v for k, v in row.items() if k in metrics},
        )
        for row in table["rows"]
    ]
    folders.append(offline_run({"seed": 0}, {}))
    _, (over_seeds, _), _ = write_results(results_module, tmp_path, table, folders)
    assert len(over_seeds) == len(table["rows"]) + 1 and over_seeds[-1]["match"] == "none"
    for row, published in zip(over_seeds[:-1], table["rows"], strict=True):
        keys = {k: v for k, v in published.items() if k not in metrics}
        assert row["match"] == " ".join(f"{k}={v}" for k, v in keys.items())
        for metric in metrics & published.keys():
            assert row[metric] == f"{published[metric]:.4g} (n=1)"
            assert row[f"{metric} vs published"] == "n=1"


def test_metric_without_a_direction_is_refused(results_module, tmp_path, capsys):
    table = {"metrics": ["test/mse", "test/acc"], "better": {"test/mse": "lower"}, "rows": []}
    (tmp_path / "published.yaml").write_text(yaml.safe_dump({"t": table}))
    with pytest.raises(SystemExit):
        results_module.main(["t", str(tmp_path), "--published", str(tmp_path / "published.yaml")])
    assert "table 't': better.test/acc must be one of lower, higher" in capsys.readouterr().err


def test_unknown_table_is_refused_with_the_known_ones(results_module, tmp_path, capsys):
    with pytest.raises(SystemExit):
        results_module.main(["no_such_table", str(tmp_path)])
    known = ", ".join(PUBLISHED)
    assert f"unknown table 'no_such_table'; expected one of {known}" in capsys.readouterr().err


def test_a_resumed_runs_segments_are_one_row_with_their_wall_time_summed(results_module):
    """A run resumed from its checkpoint writes a W&B folder a segment under one run id."""

    def segment(run_id, start, runtime, mse, args):
        log = RunLog(run_id=run_id, summary={"_runtime": runtime}, environment={"args": args})
        if mse is not None:
            log.summary["test/mse"] = mse
        return log, Path(f"offline-run-{start}-{run_id}")

    runs = [
        segment("a1", "20261201_235057", 34, 0.001, ["trainer.max_epochs=2"]),
        segment("b2", "20261201_230000", 600, 0.2, ["seed=1"]),
        segment("a1", "20261201_230431", 2730, None, ["x=1"]),
    ]
    joined = {run.run_id: (run, folder) for run, folder in results_module.joined_segments(runs)}
    run, folder = joined["a1"]
    assert folder.name == "offline-run-20261201_235057-a1"
    assert run.summary == {"_runtime": 2764, "test/mse": 0.001}
    assert results_module.command(run) == (
        "python experiments/train.py x=1; resumed: python experiments/train.py trainer.max_epochs=2"
    )
    assert results_module.command(joined["b2"][0]) == "python experiments/train.py seed=1"

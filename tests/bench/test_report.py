"""The report is a function of the CSV: speed-ups over native, the latest row of each measurement,
failures listed with their errors; and a CSV keeps one set of columns."""

import importlib.util

import pytest

from lstm_triton.bench.report import COLUMNS, append_rows, markdown_report, read_rows, write_report

CONFIG = "B16-T1024-I768-H768-L1"


def row(provider, kernel, median_ms, status="ok", **values):
    base = {"grid": "main", "config": CONFIG, "mode": "forward", "dtype": "fp16", "device": "cuda"}
    base |= {"gpu": "NVIDIA H100 80GB HBM3", "provider": provider, "kernel": kernel}
    return base | {"status": status, "median_ms": median_ms, **values}


def test_speed_up_over_native_from_the_latest_rows(tmp_path):
    path = tmp_path / "r.csv"
    append_rows(path, [row("native", "cudnn", "2.0"), row("triton", "stepwise", "1.0")])
    append_rows(
        path,
        [
            row("triton", "stepwise", "0.5"),  # a rerun: this one counts
            row("loop", "eager", None, status="failed", error="GateError: y is off by 0.3"),
            row("reference", "reference", None, status="unsupported", error="no lengths="),
        ],
    )
    text = markdown_report(read_rows(path))
    header = "| config | native:cudnn | triton:stepwise | loop:eager | reference |"
    assert header in text
    assert f"| {CONFIG} | 2 ms | 0.5 ms (4.00x) | failed | n/a |" in text
    assert "### grid main" in text and "#### forward, fp16" in text
    assert f"- {CONFIG} loop:eager forward fp16: failed: GateError: y is off by 0.3" in text
    assert "not GPU numbers" not in text


def test_write_report_draws_the_table_and_a_plot_per_grid(tmp_path):
    pytest.importorskip("matplotlib", reason="the plots need the experiments extra")
    path = tmp_path / "r.csv"
    append_rows(path, [row("native", "cudnn", "2.0"), row("loop", "eager", "150")])
    append_rows(path, [row("native", "cudnn", "3.0", grid="seq", config="B16-T128-I768-H768-L1")])
    md, plots = write_report(path)
    assert md == path.with_suffix(".md")
    assert plots == [tmp_path / "r-main.png", tmp_path / "r-seq.png"]
    text = md.read_text()
    assert "150 ms (0.01x)" in text
    assert "](r-main.png)" in text and "](r-seq.png)" in text
    for plot in plots:
        assert plot.read_bytes().startswith(b"\x89PNG")


def test_a_csv_keeps_its_columns(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("kernel,provider\n")
    with pytest.raises(ValueError, match="other columns"):
        append_rows(path, [row("native", "cudnn", "2.0")])
    fresh = tmp_path / "fresh.csv"
    append_rows(fresh, [row("native", "cudnn", "2.0")])
    assert tuple(read_rows(fresh)[0]) == COLUMNS


def test_without_matplotlib_the_report_is_the_table_alone(tmp_path, monkeypatch):
    path = tmp_path / "r.csv"
    append_rows(path, [row("native", "cudnn", "2.0"), row("loop", "eager", "150")])
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else find_spec(name, *a),
    )
    md, plots = write_report(path)
    assert plots == [] and not list(tmp_path.glob("*.png"))
    assert "150 ms (0.01x)" in md.read_text()


def test_cost_by_cell_against_the_rnn_with_machine_note_and_command(tmp_path):
    config = "B64-T128-I512-H512-L1"
    timed = {  # provider, kernel: median ms, peak MB
        ("rnn_tanh", "cudnn"): ("1.0", "10.0"),
        ("gru", "cudnn"): ("3.0", "25.0"),
        ("native", "cudnn"): ("4.0", "30.0"),
        ("triton", "stepwise"): ("6.0", "40.0"),
        ("triton", "resident"): ("2.0", "12.0"),  # ours: the fastest of ours
        ("reference", "reference"): ("20.0", "90.0"),
    }
    facts = {"grid": "cells", "config": config, "machine": "AMD EPYC, 2 CPUs, 1 torch threads"}
    facts |= {"note": "shared with a training run", "command": "experiments/bench.py --grid cells"}
    rows = [
        row(p, k, ms, mode=mode, peak_mb=mb, **facts)
        for mode in ("forward", "forward+backward")
        for (p, k), (ms, mb) in timed.items()
        if (p, mode) != ("gru", "forward+backward")  # a cell not timed shows as -
    ]
    rows.append(row("native", "cudnn", "2.0"))  # grid main: no torch GRU or RNN, no cost table
    append_rows(tmp_path / "r.csv", rows)
    text = markdown_report(read_rows(tmp_path / "r.csv"))
    header = (
        "| config | RNN | GRU | LSTM | ours | GRU/RNN | LSTM/RNN | ours/RNN "
        "| RNN MB | GRU MB | LSTM MB | ours MB |"
    )
    assert text.count(header) == 2
    assert "#### cost by cell, inference (forward), fp16" in text
    inference = f"| {config} | 1 ms | 3 ms | 4 ms | 2 ms (triton:resident) | 3.00x | 4.00x | 2.00x "
    assert inference + "| 10.0 | 25.0 | 30.0 | 12.0 |" in text
    assert "#### cost by cell, training (forward+backward), fp16" in text
    assert f"| {config} | 1 ms | - | 4 ms | 2 ms (triton:resident) | - | 4.00x | 2.00x " in text
    assert text.count("#### cost by cell") == 2
    assert "machine: AMD EPYC, 2 CPUs, 1 torch threads" in text
    assert "> note: shared with a training run" in text
    assert "- `experiments/bench.py --grid cells`" in text

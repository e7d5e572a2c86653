"""experiments/bench.py end to end on CPU: the tiny grid through the real providers into a CSV,
then the markdown table and the plot from that CSV. Nothing here looks at a timing's value.

loop_compiled is left out of the sweep: inductor's CPU backend compiles each step graph in
about 10 s, once per config and dtype; test_gate.py runs it through the gate on one config.
"""

import os
from collections import Counter

import pytest

from lstm_triton.bench.grids import GRIDS
from lstm_triton.bench.measure import MODES
from lstm_triton.bench.providers import PROVIDERS, TRITON_KERNELS
from lstm_triton.bench.report import COLUMNS, read_rows

SWEPT = ("native", "loop", "reference", "triton")
# No bf16: Triton's interpreter multiplies bf16 blocks wrongly (see tests/kernels), which the
# gate would rightly turn into failed rows.
DTYPES = ("fp32", "fp16")


@pytest.fixture(scope="module")
def tiny_run(tiny_sweep):
    return tiny_sweep(SWEPT, DTYPES)


def test_one_row_per_provider_kernel_mode_dtype_config(tiny_run):
    code, out = tiny_run
    assert code == 0
    assert tuple(out.read_text().splitlines()[0].split(",")) == COLUMNS
    rows = read_rows(out)
    keys = Counter((r["config"], r["provider"], r["mode"], r["dtype"], r["kernel"]) for r in rows)
    expected = {
        (config.id, provider, mode, dtype)
        for config in GRIDS["tiny"]
        for provider in SWEPT
        for mode in MODES
        for dtype in DTYPES
    }
    assert {key[:4] for key in keys} == expected
    assert set(keys.values()) == {1}
    assert {(r["device"], r["gpu"], r["peak_mb"]) for r in rows} == {("cpu", "", "")}
    assert {r["kernel"] for r in rows if r["provider"] == "triton"} == set(TRITON_KERNELS)
    assert all(r["command"].startswith("experiments/bench.py --grid=tiny") for r in rows)


def test_row_status_says_what_ran(tiny_run):
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    for row in read_rows(tiny_run[1]):
        # CPU tensors with a GPU present: the kernels have no interpreter, triton is unsupported.
        expected = "unsupported" if row["provider"] == "triton" and not interpreted else "ok"
        assert row["status"] == expected, row
        if expected == "ok":
            for name in ("median_ms", "p20_ms", "p80_ms", "us_per_step", "max_err", "grad_err"):
                float(row[name])  # written, as a number
        else:
            assert row["median_ms"] == "" and row["error"]


def test_markdown_and_plot_come_from_the_csv(bench_main, tiny_run):
    pytest.importorskip("matplotlib", reason="the plot needs the experiments extra")
    out = tiny_run[1]
    md, png = out.with_suffix(".md"), out.with_name(f"{out.stem}-tiny.png")
    assert "device=cpu" in md.read_text()
    md.unlink()
    png.unlink()
    assert bench_main(["--report", str(out)]) == 0
    text = md.read_text()
    header = (
        "| config | native:aten | loop:eager | reference | triton:stepwise | triton:persistent "
        "| triton:resident |"
    )
    assert header in text
    for config in GRIDS["tiny"]:
        assert f"| {config.id} |" in text
    assert "#### forward+backward, fp16" in text
    assert f"]({png.name})" in text
    assert png.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("option", "valid"),
    [
        ("--providers=native,cudnn", PROVIDERS),
        ("--grid=main,huge", GRIDS),
        ("--dtypes=fp8", ("fp32", "tf32", "fp16", "bf16")),
        ("--modes=fwd", MODES),
        ("--kernels=unrolled", TRITON_KERNELS),
    ],
    ids=["provider", "grid", "dtype", "mode", "kernel"],
)
def test_unknown_names_are_refused_with_the_valid_ones(bench_main, capsys, option, valid):
    with pytest.raises(SystemExit) as exit_info:
        bench_main(["--device=cpu", option])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert option.split("=")[1].split(",")[-1] in error
    assert all(name in error for name in valid), error

"""The GPU check's watchdog: an item that hangs or crashes costs that item, and the rest run."""

import sys
import textwrap

from lstm_triton.bench import watchdog
from lstm_triton.bench.watchdog import CRASHED, DONE, NOT_RUN, TIMEOUT, run_items

# A child that works through its items like the GPU check's stages: "hang" never finishes,
# "crash" exits mid-item, "quit" ends the process before it starts an item. It loads the
# watchdog module from its file, not through the package, which imports torch: on a loaded
# machine torch's start-up and exit alone can outlast the 3 s an item gets here.
CHILD = textwrap.dedent(
    """
    import importlib.util, sys, time
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("watchdog", sys.argv[3])
    watchdog = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(watchdog)
    mark_done, mark_start = watchdog.mark_done, watchdog.mark_start

    progress = Path(sys.argv[1])
    for item in sys.argv[2].split(","):
        if item == "quit":
            sys.exit(3)
        mark_start(progress, item)
        if item == "hang":
            time.sleep(600)
        if item == "crash":
            sys.exit(7)
        mark_done(progress, item)
    """
)


def run(tmp_path, items, budget_s=60.0, item_timeout_s=3.0):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    progress = tmp_path / "progress"
    lines = []
    outcome = run_items(
        lambda remaining: [
            sys.executable,
            str(script),
            str(progress),
            ",".join(remaining),
            watchdog.__file__,
        ],
        items,
        progress,
        budget_s=budget_s,
        item_timeout_s=item_timeout_s,
        log=lines.append,
    )
    return outcome, lines


def test_a_hanging_item_times_out_and_the_rest_run(tmp_path):
    outcome, lines = run(tmp_path, ["a", "hang", "b"])
    assert outcome == {"a": DONE, "hang": TIMEOUT, "b": DONE}
    assert lines == ["hang: killed past 3 s"]


def test_a_crash_costs_its_item(tmp_path):
    outcome, lines = run(tmp_path, ["crash", "a"])
    assert outcome == {"crash": CRASHED, "a": DONE}
    assert lines == ["crash: the child process exited with 7 inside it"]


def test_a_child_that_ends_before_its_items_is_not_restarted(tmp_path):
    outcome, lines = run(tmp_path, ["a", "quit", "b"])
    assert outcome == {"a": DONE, "quit": CRASHED, "b": CRASHED}
    assert lines == ["the child process exited with 3 before its first item"]


def test_the_stage_budget_leaves_the_rest_not_run(tmp_path):
    # The budget outlasts the child's start-up, not the hang.
    outcome, lines = run(tmp_path, ["hang", "a"], budget_s=15.0, item_timeout_s=60.0)
    assert outcome == {"hang": TIMEOUT, "a": NOT_RUN}
    assert lines == ["hang: killed past the stage's budget"]

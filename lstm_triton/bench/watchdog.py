"""Runs a list of named items in child processes under a time budget, so that a kernel that never
finishes (a persistent launch whose barrier waits forever) costs one item, not the whole run.

The child works through the items in order and appends `start <item>` and `done <item>` lines
to a progress file (mark_start, mark_done). The parent kills it when an item runs past
item_timeout_s or the whole past budget_s, records that item as timed out, and starts a new
child for the items after it while the budget lasts. A GPU hang ends with the child: the
driver tears down its context.
"""

import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

POLL_S = 0.2

DONE, TIMEOUT, CRASHED, NOT_RUN = "done", "timeout", "crashed", "not run"


def mark_start(progress: Path, item: str) -> None:
    with progress.open("a") as f:
        f.write(f"start {item}\n")


def mark_done(progress: Path, item: str) -> None:
    with progress.open("a") as f:
        f.write(f"done {item}\n")


def _read(progress: Path) -> list[tuple[str, str]]:
    if not progress.exists():
        return []
    lines = progress.read_text().splitlines()
    return [tuple(line.split(" ", 1)) for line in lines if " " in line]


def run_items(
    command: Callable[[Sequence[str]], list[str]],
    items: Sequence[str],
    progress: Path,
    *,
    budget_s: float,
    item_timeout_s: float,
    env: dict[str, str] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, str]:
    """{item: done | timeout | crashed | not run}: `command(remaining items)` is the child's
    argv; its stdout and stderr pass through."""
    outcome = dict.fromkeys(items, NOT_RUN)
    deadline = time.monotonic() + budget_s
    progress.unlink(missing_ok=True)
    while (
        remaining := [i for i in items if outcome[i] == NOT_RUN]
    ) and time.monotonic() < deadline:
        child = subprocess.Popen(command(remaining), env=env)
        item_started = time.monotonic()
        current = None
        seen = 0
        while True:
            returncode = child.poll()
            events = _read(progress)
            for event, item in events[seen:]:
                if item not in outcome:
                    continue
                if event == "start":
                    current, item_started = item, time.monotonic()
                elif event == "done":
                    outcome[item], current = DONE, None
            seen = len(events)
            if returncode is not None:
                if current is not None:
                    outcome[current] = CRASHED
                    log(f"{current}: the child process exited with {returncode} inside it")
                elif all(outcome[i] == NOT_RUN for i in remaining):
                    # It ended before its first item: a second child would do the same.
                    for item in remaining:
                        outcome[item] = CRASHED
                    log(f"the child process exited with {returncode} before its first item")
                break
            now = time.monotonic()
            late = current is not None and now - item_started > item_timeout_s
            if late or now > deadline:
                child.kill()
                child.wait()
                if current is not None:
                    outcome[current] = TIMEOUT
                    why = f"past {item_timeout_s:g} s" if late else "past the stage's budget"
                    log(f"{current}: killed {why}")
                break
            time.sleep(POLL_S)
    return outcome

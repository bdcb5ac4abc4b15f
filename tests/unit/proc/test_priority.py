"""Commands started in the background yield the CPU: a lower nice value for the process and,
where Linux has autogroups (one per session; every command leads its own), for its group."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shipit import proc

# each command waits for its input, written once shipit has set its priority
PRIORITY = "import os, sys; sys.stdin.read(); print(os.getpriority(os.PRIO_PROCESS, 0))"
AUTOGROUP = Path("/proc/self/autogroup")


def started_nice() -> int:
    out = proc.run([sys.executable, "-c", PRIORITY], input="go").stdout
    return int(out) - os.getpriority(os.PRIO_PROCESS, 0)


def test_background_commands_start_niced() -> None:
    assert started_nice() == 0
    with proc.in_background():
        assert started_nice() == proc.BACKGROUND_NICE
        with proc.in_background(False):
            assert started_nice() == 0
    assert started_nice() == 0


def test_a_pool_keeps_the_priority_of_the_thread_that_fills_it() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool, proc.in_background():
        carried = pool.submit(proc.same_priority(started_nice)).result()
        plain = pool.submit(started_nice).result()
    assert (carried, plain) == (proc.BACKGROUND_NICE, 0)


# The command shows its autogroup once it is niced. Without CAP_SYS_ADMIN the kernel takes one
# autogroup change per 100 ms and shipit retries the others: the command waits (at most 10 s).
SHOW_AUTOGROUP = f"""
import pathlib, sys, time
sys.stdin.read()
path = pathlib.Path("{AUTOGROUP}")
deadline = time.monotonic() + 10
while not path.read_text().split()[-1:] == ["{proc.BACKGROUND_NICE}"]:
    if time.monotonic() > deadline:
        break
    time.sleep(0.02)
print(path.read_text())
"""


def test_the_autogroup_of_a_background_command_is_niced() -> None:
    if not AUTOGROUP.exists():  # not Linux, or a kernel without autogroups: nothing to nice
        return
    with proc.in_background():
        shown = [
            proc.run([sys.executable, "-c", SHOW_AUTOGROUP], input="go").stdout for _ in range(3)
        ]  # three in a row: the kernel's rate limit for unprivileged users is met
    for one in shown:
        assert one.split()[-2:] == ["nice", str(proc.BACKGROUND_NICE)], one

"""CPU time of a process tree from ``/proc``: a service's workers, PostgreSQL's backends.

A server's work is spread over processes (uvicorn workers, one PostgreSQL backend per
connection, its writers and autovacuum), some of which exit during a run. Summing user
and system time over the live tree, plus what the kernel credited to each parent for
children it already reaped, counts all of it exactly once.
"""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable

_PROC: Final = Path("/proc")
# Fields after the command name in /proc/<pid>/stat: 1 is the parent, 11-14 are utime,
# stime, cutime and cstime in clock ticks (proc(5)).
_PARENT, _UTIME, _CSTIME = 1, 11, 14


def tree_cpu_seconds(roots: Iterable[int]) -> float:
    """User plus system CPU used so far by ``roots`` and every descendant, reaped or live."""
    stats = _all_stats()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, fields in stats.items():
        children[int(fields[_PARENT])].append(pid)
    ticks = 0
    pending = [pid for pid in roots if pid in stats]
    seen: set[int] = set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        ticks += sum(int(value) for value in stats[pid][_UTIME : _CSTIME + 1])
        pending += children.get(pid, [])
    return ticks / os.sysconf("SC_CLK_TCK")


def _all_stats() -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            text = (entry / "stat").read_text()
            found[int(entry.name)] = text.rpartition(")")[2].split()
    return found

"""Facts about the machine and the tree a result came from, for ``latest.json``."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def machine_facts() -> dict[str, str | int | float]:
    """CPU count and model, memory and load: figures mean little without them."""
    load_1m, _, _ = os.getloadavg()
    return {
        "nproc": os.cpu_count() or 0,
        "cpu_model": _cpu_model(),
        "memory_gib": round(_memory_kib() / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_1m_at_start": round(load_1m, 2),
    }


def git_facts() -> dict[str, str | bool]:
    """Name the commit measured, and whether the work tree differed from it."""
    return {
        "commit": _git("rev-parse", "HEAD") or "unknown",
        "dirty": bool(_git("status", "--porcelain")),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_kib() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _git(*args: str) -> str:
    try:
        result = subprocess.run(  # noqa: S603 -- fixed git arguments
            ["git", *args],  # noqa: S607 -- git from PATH, as every developer runs it
            cwd=_REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip()

"""Where and when figures were measured, so a table is never quoted without its machine."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

KIB = 1024


@dataclass(frozen=True, slots=True)
class Provenance:
    """The date, the machine, the commit and the command of one run."""

    date: str
    cpus: int
    """What ``nproc`` says: the CPUs this process may run on."""
    cpu_model: str
    ram_gib: float
    system: str
    python: str
    commit: str
    command: str
    load: str
    """The 1, 5 and 15 minute load averages at the end: others' work on a shared machine."""

    def markdown_lines(self) -> list[str]:
        """List the run's date, machine, load, commit and command, in Markdown."""
        return [
            f"- **date**: {self.date}",
            (
                f"- **machine**: {self.cpus} CPUs (`nproc`), {self.cpu_model}, "
                f"{self.ram_gib:.1f} GiB RAM, {self.system}, Python {self.python}"
            ),
            f"- **load average** (1, 5, 15 min) when the run ended: {self.load}",
            f"- **commit**: `{self.commit}`",
            f"- **command**: `{self.command}`",
        ]


def _cpu_model() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return "unknown"


def _ram_gib() -> float:
    try:
        meminfo = Path("/proc/meminfo").read_text()
    except OSError:
        return 0.0
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / KIB / KIB
    return 0.0


def _git(*arguments: str) -> str:
    git = shutil.which("git")
    if git is None:
        return ""
    result = subprocess.run(  # noqa: S603 -- fixed argv, our own repository
        [git, *arguments], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def _commit() -> str:
    """Name the commit, marked when the work tree differs (figures of unreviewed code)."""
    commit = _git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit} (with uncommitted changes)" if dirty else commit


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def collect(command: str) -> Provenance:
    """Read the machine and the repository now."""
    return Provenance(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpus=len(os.sched_getaffinity(0)),
        cpu_model=_cpu_model(),
        ram_gib=_ram_gib(),
        system=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        commit=_commit(),
        command=command,
        load=_load(),
    )

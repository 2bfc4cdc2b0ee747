"""Resolving the Kafka broker's jars with Maven, once, into a cache outside the work tree."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from devstack.errors import HarnessError

POM_PATH = Path(__file__).with_name("pom.xml")
_READY_MARKER = ".complete"


@dataclass(frozen=True, slots=True)
class ResolvedJars:
    """The classpath folder, and how long resolving took (0 when it came from the cache)."""

    libs: Path
    seconds: float
    cached: bool


def cache_root() -> Path:
    """Where downloaded jars live: ``$REELMAIL_CACHE_DIR`` or ``~/.cache/reelmail``."""
    configured = os.environ.get("REELMAIL_CACHE_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "reelmail"


def resolve_broker_jars(root: Path | None = None) -> ResolvedJars:
    """Return the broker classpath, running ``mvn`` only when the pom changed."""
    digest = hashlib.sha256(POM_PATH.read_bytes()).hexdigest()[:16]
    target = (root or cache_root()) / f"kafka-{digest}"
    libs = target / "libs"
    if (target / _READY_MARKER).exists():
        return ResolvedJars(libs=libs, seconds=0.0, cached=True)
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / _READY_MARKER).exists():
            return ResolvedJars(libs=libs, seconds=0.0, cached=True)
        started = time.monotonic()
        _copy_dependencies(target, libs)
        (target / _READY_MARKER).write_text(digest)
    return ResolvedJars(libs=libs, seconds=time.monotonic() - started, cached=False)


def _copy_dependencies(target: Path, libs: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        msg = (
            "Maven (mvn) is not on PATH: install it (Debian: apt-get install maven) "
            "or set KAFKA_BOOTSTRAP_SERVERS to use an existing broker."
        )
        raise HarnessError(msg)
    staging = target / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(POM_PATH),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 -- fixed argv, mvn found on PATH
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-2000:]
        msg = f"mvn could not resolve the Kafka broker jars (exit {result.returncode}):\n{tail}"
        raise HarnessError(msg)
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)

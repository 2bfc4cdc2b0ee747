"""Issue 13 defect 6: ``make run`` stops every part when its own PID gets SIGINT or SIGTERM.

The signal goes to make's PID alone, as ``kill -INT <pid>`` or a supervisor would send
it, never to the process group a terminal's Ctrl-C reaches. The ports are not the
defaults, so this also checks that each of them (the mailer's side port included)
follows its variable.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from devstack.ports import free_port

pytestmark = pytest.mark.integration
REPOSITORY = Path(__file__).resolve().parents[2]
START_TIMEOUT = 240.0
STOP_TIMEOUT = 60.0
MAKE = shutil.which("make") or "make"


def _children() -> dict[int, list[int]]:
    """Every process's children, from ``/proc``."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> dict[int, str]:
    """Each process below ``pid``, with its command line."""
    tree, found, todo = _children(), {}, [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            try:
                found[child] = (Path("/proc") / str(child) / "cmdline").read_bytes()
            except OSError:
                continue
            todo.append(child)
    return {child: cmdline.replace(b"\0", b" ").decode() for child, cmdline in found.items()}


def _alive(pid: int) -> bool:
    """Running, and not merely a zombie no one has reaped yet."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def _wait(what: str, check: object, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}; make run said:\n{log.read_text()[-4000:]}")


def _kill_leftovers(make: subprocess.Popen[bytes], parts: dict[int, str]) -> None:
    """After a failure, SIGKILL whatever this test started that still runs."""
    leftovers = {**parts, **(_descendants(make.pid) if make.poll() is None else {})}
    for pid in leftovers:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    if make.poll() is None:
        make.kill()
        make.wait()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_make_alone_stops_every_process(tmp_path: Path, signum: signal.Signals) -> None:
    ports = {name: free_port() for name in ("MOVIES_PORT", "SMTP_SINK_PORT", "MAILER_PORT")}
    env = {**os.environ, **{name: str(port) for name, port in ports.items()}}
    env["REELMAIL_RUN_DIR"] = str(tmp_path / "run")
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)  # its own broker: every part is a child
    log = tmp_path / "make-run.log"
    with log.open("wb") as output:
        make = subprocess.Popen(
            [MAKE, "--no-print-directory", "run"],
            cwd=REPOSITORY,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # nothing but make itself gets the signal below
        )
    parts: dict[int, str] = {}
    try:
        _wait("the stack to be up", lambda: "reelmail is running" in log.read_text(), 240, log)
        assert _answers(ports["MOVIES_PORT"])
        assert _answers(ports["MAILER_PORT"])
        parts = _descendants(make.pid)
        for name in ("kafka.Kafka", "-m devstack", "-m movies", "-m mailer"):
            assert any(name in cmdline for cmdline in parts.values()), (name, parts)
        make.send_signal(signum)
        make.wait(STOP_TIMEOUT)
        _wait(
            "every part to stop",
            lambda: not [pid for pid in parts if _alive(pid)],
            STOP_TIMEOUT,
            log,
        )
    finally:
        _kill_leftovers(make, parts)
    assert not _answers(ports["MOVIES_PORT"])
    assert "the local stack stopped" in log.read_text()

"""The ports of ``make run`` come from their variables, and a taken one is named by its own."""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

import pytest

from devstack.errors import HarnessError
from devstack.local_stack import StackLayout, run_stack

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_ports_come_from_their_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REELMAIL_RUN_DIR", str(tmp_path))
    monkeypatch.setenv("MOVIES_PORT", "18000")
    monkeypatch.setenv("SMTP_SINK_PORT", "12525")
    monkeypatch.setenv("MAILER_PORT", "18001")
    layout = StackLayout.from_environment()
    assert layout.ports() == {"MOVIES_PORT": 18000, "SMTP_SINK_PORT": 12525, "MAILER_PORT": 18001}
    monkeypatch.delenv("MAILER_PORT")
    assert StackLayout.from_environment().mailer_port == 8001


@pytest.mark.parametrize("value", ["http", "0", "70000", "-1"])
def test_a_port_that_is_no_port_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MAILER_PORT", value)
    with pytest.raises(HarnessError, match="MAILER_PORT must be a TCP port"):
        StackLayout.from_environment()


@pytest.mark.parametrize("variable", ["MOVIES_PORT", "SMTP_SINK_PORT", "MAILER_PORT"])
def test_a_port_in_use_is_named_by_its_own_variable(
    tmp_path: Path, taken_port: int, variable: str
) -> None:
    ports = {"MOVIES_PORT": 1, "SMTP_SINK_PORT": 1, "MAILER_PORT": 1, variable: taken_port}
    layout = StackLayout(
        tmp_path, ports["MOVIES_PORT"], ports["SMTP_SINK_PORT"], ports["MAILER_PORT"]
    )
    with pytest.raises(HarnessError) as refused:
        run_stack(layout, threading.Event())
    assert str(refused.value) == (
        f"port {taken_port} ({variable}) is already in use; set {variable} to a free port"
    )

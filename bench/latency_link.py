"""A relay 20 ms away on loopback, for B6: Toxiproxy with a latency toxic each way.

This kernel has no ``netem`` qdisc, so the delay is added in user space: Toxiproxy
(built from source by ``scripts/install-toxiproxy.sh``, cached outside the work tree)
forwards a loopback port to the relay and holds every chunk for ``one_way_ms`` in each
direction. Its latency toxic delays a chunk from the moment it was read, so pipelined
chunks are not delayed behind one another: a round trip costs ``2 * one_way_ms``
whatever the load, as a long link does. :func:`round_trip_ms` measures what the link
really adds, so the report can say it.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import statistics
import subprocess
import time
from pathlib import Path
from typing import Final

from bench.smtp_servers import SelfSignedCertificate, start_logged, stop_process, wait_for_port
from devstack.errors import HarnessError
from devstack.ports import free_port

_REPO: Final = Path(__file__).resolve().parent.parent
_INSTALL: Final = _REPO / "scripts" / "install-toxiproxy.sh"
_PROXY: Final = "relay"
_PROBES: Final = 7


def toxiproxy_dir() -> Path:
    """Build Toxiproxy once (a few seconds from the module cache), then reuse the binaries."""
    result = subprocess.run(  # noqa: S603 -- our own script, fixed argv
        [str(_INSTALL)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        msg = f"scripts/install-toxiproxy.sh failed:\n{result.stderr.strip()}"
        raise HarnessError(msg)
    return Path(result.stdout.strip().splitlines()[-1])


class LatencyLink:
    """``toxiproxy-server`` on loopback with one proxy, delayed ``one_way_ms`` each way."""

    def __init__(self, workdir: Path, one_way_ms: int) -> None:
        """Choose the ports; :meth:`start` builds (if needed) and launches Toxiproxy."""
        self.workdir = workdir
        self.one_way_ms = one_way_ms
        self.port = free_port()
        self._api = f"127.0.0.1:{free_port()}"
        self._tools = Path()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, upstream_port: int) -> None:
        """Forward :attr:`port` to ``upstream_port`` with the latency toxics in place."""
        self._tools = toxiproxy_dir()
        host, _, api_port = self._api.partition(":")
        self._process = start_logged(
            [str(self._tools / "toxiproxy-server"), "-host", host, "-port", api_port],
            self.workdir / f"toxiproxy-{self.port}.log",
        )
        wait_for_port(int(api_port), self._process)
        self._cli("create", "--listen", f"127.0.0.1:{self.port}", "--upstream",
                  f"127.0.0.1:{upstream_port}", _PROXY)  # fmt: skip
        for direction in ("--downstream", "--upstream"):
            self._cli("toxic", "add", "--type", "latency", direction,
                      "--attribute", f"latency={self.one_way_ms}", _PROXY)  # fmt: skip

    def stop(self) -> None:
        """Stop Toxiproxy (its proxies and connections go with it)."""
        stop_process(self._process)
        self._process = None

    def _cli(self, *args: str) -> None:
        result = subprocess.run(  # noqa: S603 -- the CLI we built, fixed argv
            [str(self._tools / "toxiproxy-cli"), "--host", f"http://{self._api}", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if result.returncode != 0:
            msg = f"toxiproxy-cli {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
            raise HarnessError(msg)


def round_trip_ms(port: int, certificate: SelfSignedCertificate | None) -> float:
    """Median time of one SMTP ``NOOP`` on ``port`` (implicit TLS with ``certificate``).

    That is what each command the mailer waits for costs through the link.
    """
    with contextlib.ExitStack() as stack:
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
        if certificate is not None:
            context = ssl.create_default_context(cafile=str(certificate.cert))
            sock = stack.enter_context(context.wrap_socket(sock, server_hostname="127.0.0.1"))
        reader = stack.enter_context(sock.makefile("rb"))
        reader.readline()  # the greeting
        samples = []
        for _ in range(_PROBES):
            started = time.perf_counter()
            sock.sendall(b"NOOP\r\n")
            reader.readline()
            samples.append((time.perf_counter() - started) * 1000.0)
        sock.sendall(b"QUIT\r\n")
    return statistics.median(samples)

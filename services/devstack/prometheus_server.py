"""A real Prometheus (the Debian package's binary) scraping local processes, for live proofs.

The rules file is the shipped one; only the scrape and evaluation intervals are
shortened, so an alert's ``for`` clause is exercised exactly as written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import yaml

from devstack.errors import HarnessError
from devstack.ports import free_port

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class ScrapeTarget:
    """One job with one ``host:port`` target."""

    job: str
    address: str


class PrometheusServer:
    """Start, query and stop one Prometheus with a temporary TSDB."""

    def __init__(
        self,
        workdir: Path,
        targets: list[ScrapeTarget],
        rule_files: list[Path],
        interval_seconds: float = 1.0,
    ) -> None:
        """Describe the server; :meth:`start` writes its config and launches it."""
        self.workdir = workdir
        self.targets = targets
        self.rule_files = rule_files
        self.interval = f"{round(interval_seconds * 1000)}ms"
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Launch and wait until ``/-/ready`` answers."""
        binary = shutil.which("prometheus")
        if binary is None:
            msg = "prometheus is not on PATH: run scripts/install-prometheus.sh (Debian package)"
            raise HarnessError(msg)
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump(self._config(), sort_keys=False))
        self._log = (self.workdir / "prometheus.log").open("ab")
        self._process = subprocess.Popen(  # noqa: S603 -- fixed argv
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--enable-feature=exemplar-storage",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(time.monotonic() + timeout)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(20)
        if self._log is not None:
            self._log.close()

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Run an instant query and return its result vector (or matrix/scalar as a list)."""
        data = self._get("/api/v1/query", {"query": expr})
        result = data["result"]
        return result if isinstance(result, list) else [result]

    def alerts(self) -> list[dict[str, Any]]:
        """Return the alerts Prometheus currently holds (pending or firing)."""
        alerts: list[dict[str, Any]] = self._get("/api/v1/alerts", {})["alerts"]
        return alerts

    def rule_groups(self) -> list[dict[str, Any]]:
        """Return the loaded rule groups, to check the shipped file was accepted."""
        groups: list[dict[str, Any]] = self._get("/api/v1/rules", {})["groups"]
        return groups

    def targets_up(self) -> dict[str, bool]:
        """Job name to whether its target's last scrape succeeded."""
        active = self._get("/api/v1/targets", {})["activeTargets"]
        return {target["labels"]["job"]: target["health"] == "up" for target in active}

    def log_tail(self, lines: int = 40) -> str:
        """Return the end of Prometheus's own log."""
        path = self.workdir / "prometheus.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _config(self) -> dict[str, Any]:
        return {
            "global": {"scrape_interval": self.interval, "evaluation_interval": self.interval},
            "rule_files": [str(path) for path in self.rule_files],
            "scrape_configs": [
                {"job_name": target.job, "static_configs": [{"targets": [target.address]}]}
                for target in self.targets
            ],
        }

    def _get(self, path: str, params: dict[str, str]) -> Any:  # noqa: ANN401 -- JSON payload
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as reply:  # noqa: S310 -- loopback
            body = json.load(reply)
        if body.get("status") != "success":
            msg = f"Prometheus {path} failed: {body}"
            raise HarnessError(msg)
        return body["data"]

    def _wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                msg = f"prometheus exited:\n{self.log_tail()}"
                raise HarnessError(msg)
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1):  # noqa: S310 -- loopback
                    return
            except OSError:
                time.sleep(0.2)
        msg = f"prometheus not ready in time:\n{self.log_tail()}"
        raise HarnessError(msg)

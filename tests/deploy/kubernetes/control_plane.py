"""A real Kubernetes control plane on loopback: etcd and kube-apiserver, built from source.

`make k8s-check` builds both (scripts/build-kubernetes.sh) and names their folder in
REELMAIL_KUBERNETES. The API server runs its full admission chain (PodSecurity included),
defaulting, OpenAPI and CEL validation and the CRD machinery; with no controller manager,
scheduler or node nothing is reconciled or scheduled, which chart installs with
``--no-hooks`` do not need. Authentication is one static token in ``system:masters``.
"""

from __future__ import annotations

import secrets
import ssl
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from devstack.errors import HarnessError
from devstack.ports import free_port
from devstack.processes import ServiceProcess

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class ApiReply:
    """An API server answer: status, body and the admission warnings it carried."""

    status: int
    body: dict[str, Any]
    warnings: tuple[str, ...]


class ControlPlane:
    """etcd and kube-apiserver in one folder; :meth:`stop` ends both."""

    def __init__(self, binaries: Path, workdir: Path) -> None:
        """Choose ports and credentials; nothing runs until :meth:`start`."""
        self.binaries = binaries
        self.workdir = workdir
        self.etcd_port, self.etcd_peer_port, self.api_port = free_port(), free_port(), free_port()
        self.token = secrets.token_urlsafe(32)
        self.server = f"https://127.0.0.1:{self.api_port}"
        self.ca_file = workdir / "certs" / "apiserver.crt"
        self.kubeconfig = workdir / "kubeconfig"
        self._processes: list[ServiceProcess] = []

    def start(self, timeout: float = 120.0) -> float:
        """Start etcd, then the API server; the seconds until the API server is ready."""
        started = time.monotonic()
        etcd = self._launch("etcd", self._etcd_command())
        etcd.wait_http_ok(f"http://127.0.0.1:{self.etcd_port}/health", timeout=timeout)
        self._write_credentials()
        self._launch("kube-apiserver", self._apiserver_command())
        self._wait_ready(started + timeout)
        self._write_kubeconfig()
        return time.monotonic() - started

    def client(self) -> httpx.Client:
        """An HTTP client that trusts the API server and carries the admin token."""
        return httpx.Client(
            base_url=self.server,
            verify=ssl.create_default_context(cafile=str(self.ca_file)),
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> ApiReply:
        """One API call; a 4xx or 5xx is returned, not raised, so tests can assert on it."""
        with self.client() as client:
            reply = client.request(method, path, json=body)
        warnings = tuple(reply.headers.get_list("warning"))
        return ApiReply(reply.status_code, reply.json() if reply.content else {}, warnings)

    def log_tail(self) -> str:
        """The end of both processes' output, for a failing test."""
        return "\n".join(f"--- {p.module} ---\n{p.log_tail(40)}" for p in self._processes)

    def stop(self) -> None:
        """SIGTERM the API server, then etcd."""
        for process in reversed(self._processes):
            process.stop()

    def _launch(self, name: str, command: list[str]) -> ServiceProcess:
        process = ServiceProcess(name, {}, self.workdir / f"{name}.log", command)
        process.start()
        self._processes.append(process)
        return process

    def _etcd_command(self) -> list[str]:
        client, peer = (
            f"http://127.0.0.1:{self.etcd_port}",
            f"http://127.0.0.1:{self.etcd_peer_port}",
        )
        return [
            str(self.binaries / "etcd"), "--name=reelmail", f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=reelmail={peer}", "--log-level=warn",
        ]  # fmt: skip

    def _write_credentials(self) -> None:
        """The admin token file and the service-account signing key."""
        (self.workdir / "tokens.csv").write_text(f"{self.token},admin,admin,system:masters\n")
        subprocess.run(
            ["openssl", "genrsa", "-out", str(self.workdir / "sa.key"), "2048"],  # noqa: S607 -- Debian's openssl
            check=True,
            capture_output=True,
        )

    def _apiserver_command(self) -> list[str]:
        key = self.workdir / "sa.key"
        return [
            str(self.binaries / "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.api_port}", f"--cert-dir={self.ca_file.parent}",
            f"--token-auth-file={self.workdir / 'tokens.csv'}", "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={key}", f"--service-account-signing-key-file={key}",
            "--service-cluster-ip-range=10.96.0.0/16",
        ]  # fmt: skip

    def _wait_ready(self, deadline: float) -> None:
        """Until /readyz answers 200: the storage, the CRD machinery and RBAC bootstrap."""
        while time.monotonic() < deadline:
            for process in self._processes:
                if process.exit_code() is not None:
                    msg = f"{process.module} exited:\n{self.log_tail()}"
                    raise HarnessError(msg)
            if self.ca_file.exists() and self._ready():
                return
            time.sleep(0.25)
        msg = f"kube-apiserver not ready in time:\n{self.log_tail()}"
        raise HarnessError(msg)

    def _ready(self) -> bool:
        try:
            with self.client() as client:
                return client.get("/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def _write_kubeconfig(self) -> None:
        """What helm reads: this server, its CA, the admin token."""
        self.kubeconfig.write_text(
            f"""apiVersion: v1
kind: Config
clusters:
  - name: reelmail
    cluster: {{server: "{self.server}", certificate-authority: "{self.ca_file}"}}
users:
  - name: admin
    user: {{token: "{self.token}"}}
contexts:
  - name: reelmail
    context: {{cluster: reelmail, user: admin}}
current-context: reelmail
""",
            encoding="utf-8",
        )
        self.kubeconfig.chmod(0o600)

"""One real control plane (etcd + kube-apiserver) for the whole `make k8s-check` run.

`make k8s-check` builds the binaries from source (scripts/build-kubernetes.sh, cached)
and names their folder in REELMAIL_KUBERNETES; then the CRDs the chart's optional
resources need are installed, from the same pinned modules the schema tests read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import upstream_schemas
from cluster_objects import install_crds
from control_plane import ControlPlane

from run_figures import record

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def control_plane(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[ControlPlane]:
    binaries = os.environ.get("REELMAIL_KUBERNETES", "")
    if not binaries or not (Path(binaries) / "kube-apiserver").is_file():
        reason = "REELMAIL_KUBERNETES names no kube-apiserver: run `make k8s-check`"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    plane = ControlPlane(Path(binaries), tmp_path_factory.mktemp("control-plane"))
    try:
        record("k8s", "etcd + kube-apiserver start to /readyz (s)", f"{plane.start():.2f}")
        crds = [
            path
            for module in (upstream_schemas.PROMETHEUS_OPERATOR, upstream_schemas.KEDA)
            for path in sorted(upstream_schemas.fetch(module).rglob("*.yaml"))
        ]
        record("k8s", "CRDs established", str(install_crds(plane, crds)))
        yield plane
    finally:
        if request.session.testsfailed:
            print(f"\n{plane.log_tail()}")
        plane.stop()

"""Objects on the API server: CRDs, namespaces, and finding any manifest's REST path."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from pathlib import Path

    from control_plane import ControlPlane

# Pod Security "restricted", enforced on Pods and warned about on every workload template.
RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")
} | {"pod-security.kubernetes.io/enforce-version": "latest"}


def install_crds(plane: ControlPlane, files: list[Path], timeout: float = 60) -> int:
    """Create every CRD in the files and wait until each is Established; how many."""
    names: list[str] = []
    for path in files:
        for crd in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if crd and crd.get("kind") == "CustomResourceDefinition":
                created = plane.request(
                    "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd
                )
                assert created.status == 201, f"{path.name}: {created.body.get('message')}"
                names.append(crd["metadata"]["name"])
    created_count = len(names)
    deadline = time.monotonic() + timeout
    while names and time.monotonic() < deadline:
        names = [name for name in names if not _established(plane, name)]
        time.sleep(0.2)
    assert not names, f"CRDs not established in {timeout}s: {names}"
    return created_count


def _established(plane: ControlPlane, name: str) -> bool:
    crd = plane.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
    conditions = crd.body.get("status", {}).get("conditions", [])
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def create_restricted_namespace(plane: ControlPlane, name: str) -> None:
    """A namespace under Pod Security "restricted", with the ServiceAccount "default" that
    the controller manager would add (Pods are admitted only with their account present)."""
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": RESTRICTED},
    }
    assert plane.request("POST", "/api/v1/namespaces", namespace).status == 201
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}
    assert (
        plane.request("POST", f"/api/v1/namespaces/{name}/serviceaccounts", account).status == 201
    )


def object_path(plane: ControlPlane, manifest: dict[str, Any], namespace: str) -> str:
    """The REST path of the object a manifest describes, found through discovery."""
    collection = collection_path(plane, manifest, namespace)
    return f"{collection}/{manifest['metadata']['name']}"


def collection_path(plane: ControlPlane, manifest: dict[str, Any], namespace: str) -> str:
    """Where an object of the manifest's kind is created: its own namespace, if it names one."""
    resource, namespaced = _resources(plane, manifest["apiVersion"])[manifest["kind"]]
    own = manifest["metadata"].get("namespace", namespace)
    scope = f"/namespaces/{own}" if namespaced else ""
    return f"{_group_path(manifest['apiVersion'])}{scope}/{resource}"


def _group_path(api_version: str) -> str:
    return f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"


_DISCOVERY: dict[tuple[str, str], dict[str, tuple[str, bool]]] = {}


def _resources(plane: ControlPlane, api_version: str) -> dict[str, tuple[str, bool]]:
    """Kind -> (resource, namespaced) of one API group version, asked once per server."""
    key = (plane.server, api_version)
    if key not in _DISCOVERY:
        reply = plane.request("GET", _group_path(api_version))
        assert reply.status == 200, f"no API group version {api_version} on the server"
        _DISCOVERY[key] = {
            r["kind"]: (r["name"], r["namespaced"])
            for r in reply.body["resources"]
            if "/" not in r["name"]  # subresources such as deployments/scale
        }
    return _DISCOVERY[key]

"""Upstream schemas the deploy tests validate against, taken as data from Go modules.

prometheus-operator and KEDA ship their CRDs inside their Go modules, and compose-go ships
the Compose Specification's JSON schema. Each module and version is pinned here, once;
`go mod download` fetches the module zip through the Go module proxy that `go` is set up
with, and the few files the tests need are copied to .tools/upstream-schemas/, so later
runs work offline. The chart README names the same modules and versions.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".tools" / "upstream-schemas"


@dataclass(frozen=True, slots=True)
class UpstreamModule:
    """A Go module at a pinned version, and the files of its zip that the tests use."""

    module: str
    version: str
    files: tuple[str, ...]

    @property
    def cache_dir(self) -> Path:
        """Where the files are kept between runs."""
        return CACHE_DIR / f"{self.module.replace('/', '_')}@{self.version}"


_PROMETHEUS_CRDS = "example/prometheus-operator-crd/monitoring.coreos.com_{}.yaml"
PROMETHEUS_OPERATOR = UpstreamModule(
    module="github.com/prometheus-operator/prometheus-operator",
    version="v0.85.0",
    files=tuple(
        _PROMETHEUS_CRDS.format(plural)
        for plural in ("servicemonitors", "podmonitors", "prometheusrules")
    ),
)
KEDA = UpstreamModule(
    module="github.com/kedacore/keda/v2",
    version="v2.21.0",
    files=(
        "config/crd/bases/keda.sh_scaledobjects.yaml",
        "config/crd/bases/keda.sh_triggerauthentications.yaml",
    ),
)
COMPOSE_GO = UpstreamModule(
    module="github.com/compose-spec/compose-go/v2",
    version="v2.16.2",
    files=("schema/compose-spec.json",),
)


class UpstreamUnavailableError(RuntimeError):
    """The pinned module could not be fetched; the message says why and what to do."""


def fetch(upstream: UpstreamModule) -> Path:
    """Return the cache folder holding the module's files, fetching them on first use."""
    target = upstream.cache_dir
    if all((target / name).is_file() for name in upstream.files):
        return target
    source = _download(upstream)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=_ensure(CACHE_DIR)))
    try:
        for name in upstream.files:
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, staging / name)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _download(upstream: UpstreamModule) -> Path:
    go = shutil.which("go")
    ref = f"{upstream.module}@{upstream.version}"
    if go is None:
        msg = f"Go is needed to fetch {ref} (its CRDs/schema are test data); install Go"
        raise UpstreamUnavailableError(msg)
    env = {**os.environ, "GOFLAGS": f"{os.environ.get('GOFLAGS', '')} -mod=mod".strip()}
    # Run outside any Go module, so no go.mod of the caller's gets involved.
    result = subprocess.run(
        [go, "mod", "download", "-json", ref],
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),
        env=env,
        timeout=240,
    )
    try:
        answer = json.loads(result.stdout)
    except json.JSONDecodeError:
        answer = {"Error": result.stderr.strip() or "no answer from go mod download"}
    if "Error" in answer or result.returncode != 0:
        msg = f"go mod download {ref} failed: {answer.get('Error', result.stderr.strip())}"
        raise UpstreamUnavailableError(msg)
    source = Path(answer["Dir"])
    missing = [name for name in upstream.files if not (source / name).is_file()]
    if missing:
        msg = f"{ref} has no {', '.join(missing)}: the pin in upstream_schemas.py is stale"
        raise UpstreamUnavailableError(msg)
    return source


def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """Map (apiVersion, kind) of every pinned custom resource to its JSON schema."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for upstream in (PROMETHEUS_OPERATOR, KEDA):
        folder = fetch(upstream)
        for name in upstream.files:
            crd = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served", False):
                    openapi = version["schema"]["openAPIV3Schema"]
                    schemas[f"{group}/{version['name']}", kind] = strict_json_schema(openapi)
    return schemas


def compose_spec_schema() -> dict[str, Any]:
    """The Compose Specification's JSON schema, as compose-go embeds it."""
    folder = fetch(COMPOSE_GO)
    return json.loads((folder / COMPOSE_GO.files[0]).read_text(encoding="utf-8"))


def strict_json_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """Turn a CRD's OpenAPI v3 schema into a JSON schema that rejects unknown fields.

    The API server prunes unknown fields of a structural schema silently, so a misspelt
    key would be lost without an error; here every object with declared properties
    refuses others, unless the CRD preserves unknown fields there. `nullable` becomes a
    null type, and object metadata is left to the Kubernetes schemas.
    """
    schema = copy.deepcopy(openapi)
    _tighten(schema, top_level=True)
    return schema


def _tighten(node: Any, *, top_level: bool = False) -> None:
    if isinstance(node, list):
        for item in node:
            _tighten(item)
    elif isinstance(node, dict):
        _tighten_object(node)
        for key, value in node.items():
            for child in _subschemas(key, value, top_level=top_level):
                _tighten(child)


def _tighten_object(node: dict[str, Any]) -> None:
    if node.pop("nullable", False) and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    preserves = node.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in node and "additionalProperties" not in node and not preserves:
        node["additionalProperties"] = False


def _subschemas(key: str, value: Any, *, top_level: bool) -> list[Any]:
    if key in {"properties", "patternProperties", "definitions"}:
        return [child for name, child in value.items() if not (top_level and name == "metadata")]
    if key in {"items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"}:
        return [value]
    return []

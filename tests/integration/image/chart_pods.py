"""The chart's own pods, as podman would run them: read from ``helm template``, not restated.

Each workload (the movies and mailer Deployments, the migrations Job) becomes a
:class:`PodPlan`: its command and arguments, its environment (ConfigMap, plain values,
the downward API, Secrets given by the caller, ``$(VAR)`` expansion), its security
context and ``/tmp`` emptyDir as ``podman run`` flags, its readiness probe and the time
between SIGTERM and SIGKILL. A setting the chart gains that this module cannot turn into
a podman flag fails the plan, so the image is never tested under a context the chart
does not ask for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from collections.abc import Mapping

CHART = Path(__file__).resolve().parents[3] / "deploy" / "helm" / "reelmail"
NAMESPACE = "image-test"
_VARIABLE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_QUANTITY = re.compile(r"^(\d+)(Ki|Mi|Gi)?$")
_CONTEXT_KEYS = frozenset(
    {
        "runAsUser",
        "runAsGroup",
        "runAsNonRoot",
        "fsGroup",
        "allowPrivilegeEscalation",
        "readOnlyRootFilesystem",
        "privileged",
        "capabilities",
        "seccompProfile",
    }
)


class UnsupportedSpecError(AssertionError):
    """The chart asks for something this harness cannot give a podman container."""


@dataclass(frozen=True)
class PodPlan:
    """One workload of the rendered chart, ready for ``podman run``."""

    name: str
    entrypoint: tuple[str, ...]
    args: tuple[str, ...]
    env: dict[str, str]
    flags: tuple[str, ...]
    readiness: tuple[str, int] | None
    stop_budget_seconds: float

    def run_arguments(self) -> list[str]:
        """Flags and, after the image, the arguments: ``podman run FLAGS IMAGE ARGS``."""
        flags = list(self.flags) + [f"--env={name}" for name in sorted(self.env)]
        if self.entrypoint:
            flags.append(f"--entrypoint={json.dumps(list(self.entrypoint))}")
        return flags


def render(release: str, values: Mapping[str, Any], workdir: Path) -> list[dict[str, Any]]:
    """``helm template`` the chart with these values on top of its own; the manifests, parsed."""
    helm = os.environ.get("REELMAIL_HELM", "")
    if not Path(helm).is_file():
        msg = "REELMAIL_HELM names no helm binary: run this through `make image-test`"
        raise UnsupportedSpecError(msg)
    values_file = workdir / f"{release}-values.yaml"
    values_file.write_text(yaml.safe_dump(dict(values)), encoding="utf-8")
    command = [helm, "template", release, str(CHART), "--namespace", NAMESPACE]
    command += ["--values", str(values_file)]
    rendered = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    if rendered.returncode != 0:
        raise UnsupportedSpecError(rendered.stderr)
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def plan(
    manifests: list[dict[str, Any]], kind: str, component: str, secrets: Mapping[str, str]
) -> PodPlan:
    """The plan of the chart's ``component`` (a Deployment or Job); ``secrets`` maps
    "secret-name/key" to the value a Secret of the cluster would hold."""
    workload = _find(manifests, kind, component)
    pod = workload["spec"]["template"]["spec"]
    [container] = pod["containers"]
    config_maps = {
        m["metadata"]["name"]: m.get("data", {}) for m in manifests if m["kind"] == "ConfigMap"
    }
    pod_name = f"{workload['metadata']['name']}-{NAMESPACE}"
    return PodPlan(
        name=pod_name,
        entrypoint=tuple(container.get("command", ())),
        args=tuple(container.get("args", ())),
        env=_environment(container, config_maps, secrets, pod_name),
        flags=tuple(_security_flags(pod, container) + _volume_flags(pod, container)),
        readiness=_readiness(container),
        stop_budget_seconds=_stop_budget(pod, container),
    )


def _find(manifests: list[dict[str, Any]], kind: str, component: str) -> dict[str, Any]:
    for manifest in manifests:
        labels = manifest["metadata"].get("labels", {})
        if manifest["kind"] == kind and labels.get("app.kubernetes.io/component") == component:
            return manifest
    msg = f"the rendered chart has no {kind} of component {component}"
    raise UnsupportedSpecError(msg)


def _environment(
    container: dict[str, Any],
    config_maps: Mapping[str, Mapping[str, str]],
    secrets: Mapping[str, str],
    pod_name: str,
) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", ()):
        env.update(config_maps[source["configMapRef"]["name"]])
    downward = {
        "metadata.name": pod_name,
        "metadata.namespace": NAMESPACE,
        "spec.nodeName": "podman",
    }
    for variable in container.get("env", ()):
        env[variable["name"]] = _env_value(variable, env, downward, secrets)
    return env


def _env_value(
    variable: dict[str, Any],
    defined: Mapping[str, str],
    downward: Mapping[str, str],
    secrets: Mapping[str, str],
) -> str:
    if "value" in variable:
        # Kubernetes expands $(NAME) from the variables defined before this one.
        return _VARIABLE.sub(lambda m: defined.get(m.group(1), m.group(0)), variable["value"])
    source = variable["valueFrom"]
    if "fieldRef" in source:
        return downward[source["fieldRef"]["fieldPath"]]
    ref = source["secretKeyRef"]
    wanted = f"{ref['name']}/{ref['key']}"
    if wanted not in secrets:
        msg = f"the chart reads {variable['name']} from Secret key {wanted}: give the test a value"
        raise UnsupportedSpecError(msg)
    return secrets[wanted]


def _merged_context(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    context = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    unknown = set(context) - _CONTEXT_KEYS
    if unknown:
        msg = f"security context settings without a podman equivalent here: {sorted(unknown)}"
        raise UnsupportedSpecError(msg)
    return context


def _security_flags(pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    context = _merged_context(pod, container)
    user, group = context.get("runAsUser"), context.get("runAsGroup")
    if context.get("runAsNonRoot") and not user:
        msg = "runAsNonRoot without a non-zero runAsUser: the kubelet would refuse to start it"
        raise UnsupportedSpecError(msg)
    flags = [f"--user={user}:{group}"] if user is not None else []
    if "fsGroup" in context:
        flags.append(f"--group-add={context['fsGroup']}")
    if context.get("readOnlyRootFilesystem"):
        # Only what the pod mounts is writable: no tmpfs of podman's own on /run, /tmp.
        flags += ["--read-only", "--read-only-tmpfs=false"]
    if context.get("allowPrivilegeEscalation") is False:
        flags.append("--security-opt=no-new-privileges")
    if context.get("privileged"):
        flags.append("--privileged")
    capabilities = context.get("capabilities", {})
    flags += [f"--cap-drop={name}" for name in capabilities.get("drop", ())]
    flags += [f"--cap-add={name}" for name in capabilities.get("add", ())]
    seccomp = context.get("seccompProfile", {}).get("type", "RuntimeDefault")
    if seccomp != "RuntimeDefault":  # podman applies its default profile: RuntimeDefault
        msg = f"seccomp profile {seccomp} is not modelled"
        raise UnsupportedSpecError(msg)
    return flags


def _volume_flags(pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    volumes = {volume["name"]: volume for volume in pod.get("volumes", ())}
    flags = []
    for mount in container.get("volumeMounts", ()):
        volume = volumes[mount["name"]]
        if set(volume) != {"name", "emptyDir"}:
            msg = f"volume {mount['name']} is not an emptyDir: {volume}"
            raise UnsupportedSpecError(msg)
        size = _bytes(volume["emptyDir"].get("sizeLimit", "64Mi"))
        flags.append(f"--tmpfs={mount['mountPath']}:rw,nosuid,nodev,size={size},mode=1777")
    return flags


def _bytes(quantity: str) -> int:
    match = _QUANTITY.match(quantity)
    if match is None:
        msg = f"size {quantity!r} is not modelled"
        raise UnsupportedSpecError(msg)
    scale = {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}[match.group(2)]
    return int(match.group(1)) * scale


def _readiness(container: dict[str, Any]) -> tuple[str, int] | None:
    probe = container.get("readinessProbe")
    if probe is None:
        return None
    ports = {port["name"]: port["containerPort"] for port in container.get("ports", ())}
    port = probe["httpGet"]["port"]
    return probe["httpGet"]["path"], ports.get(port, port)


def _stop_budget(pod: dict[str, Any], container: dict[str, Any]) -> float:
    """Seconds from SIGTERM to SIGKILL: the grace period less the preStop sleep before it."""
    grace = float(pod.get("terminationGracePeriodSeconds", 30))
    pre_stop = container.get("lifecycle", {}).get("preStop", {})
    return grace - float(pre_stop.get("sleep", {}).get("seconds", 0))

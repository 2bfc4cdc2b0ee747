"""What the built image holds: this tree's code, and nothing of the host that built it.

The build stage runs on the host's network with the host's CA bundle and pip/uv settings
bind-mounted (scripts/build-image.sh); none of that may reach the shipped image. And the
project's wheel is built from the sources copied in, never taken from a build cache.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import pytest
from podman_pods import podman

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
BUILD_SETTINGS = ("/etc/pip.conf", "/etc/uv/uv.toml", "/root/.config/pip", "/root/.config/uv")
TRUST_VARIABLES = ("PIP_CERT", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "UV_")
# Prints {relative path: sha256} of every .py file under the named installed packages.
_INSTALLED_SOURCES = """
import hashlib, importlib, json, pathlib, sys
found = {}
for name in sys.argv[1:]:
    root = pathlib.Path(importlib.import_module(name).__file__).parent
    for path in sorted(root.rglob("*.py")):
        found[f"{name}/{path.relative_to(root)}"] = hashlib.sha256(path.read_bytes()).hexdigest()
print(json.dumps(found))
"""


def _run(image: str, *argv: str) -> str:
    return podman("run", "--rm", "--network=none", "--pull=never", image, *argv)


def _wheel_packages() -> list[Path]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    return [REPO_ROOT / package for package in packages]


def _tree_sources(packages: list[Path]) -> dict[str, str]:
    return {
        f"{package.name}/{path.relative_to(package)}": hashlib.sha256(path.read_bytes()).hexdigest()
        for package in packages
        for path in sorted(package.rglob("*.py"))
    }


def test_the_image_runs_the_code_of_this_tree(image: str) -> None:
    packages = _wheel_packages()
    installed = json.loads(
        _run(image, "python", "-c", _INSTALLED_SOURCES, *(p.name for p in packages))
    )
    tree = _tree_sources(packages)
    stale = sorted(name for name in tree.keys() & installed.keys() if tree[name] != installed[name])
    assert stale == [], f"the image holds older versions of {stale}"
    assert installed.keys() == tree.keys()


def test_the_build_hosts_trust_and_settings_are_not_in_the_image(image: str) -> None:
    base = podman(
        "image", "inspect", '--format={{index .Labels "org.opencontainers.image.base.name"}}', image
    ).strip()
    assert base, "the image names no base (org.opencontainers.image.base.name)"
    checksum = f"sha256sum {CA_BUNDLE}"
    assert _run(image, "sh", "-c", checksum) == _run(base, "sh", "-c", checksum)
    present = _run(
        image,
        "sh",
        "-c",
        f"for f in {' '.join(BUILD_SETTINGS)}; do [ -e $f ] && echo $f; done; true",
    )
    assert present.split() == []
    environment = json.loads(podman("image", "inspect", "--format={{json .Config.Env}}", image))
    assert [v for v in environment if v.startswith(TRUST_VARIABLES)] == []

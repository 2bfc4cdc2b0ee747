"""The container image's Dockerfile, checked statically (there is no Docker engine here)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
PINNED_PYTHON = re.compile(r"^python:(?P<minor>3\.\d+)\.\d+-slim(-[a-z]+)?$")
COMPILERS = re.compile(r"\b(gcc|g\+\+|clang|build-essential|make|cc|cargo|rustc)\b")
OCI_LABELS = ("title", "description", "version", "revision", "created", "source", "licenses")


@dataclass
class Stage:
    """One FROM ... AS name block and its instructions."""

    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def of(self, keyword: str) -> list[str]:
        """The arguments of every instruction with this keyword."""
        return [args for key, args in self.instructions if key == keyword]


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def _parse() -> tuple[dict[str, str], list[Stage]]:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in _logical_lines(DOCKERFILE.read_text(encoding="utf-8")):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", args.strip(), re.IGNORECASE)
            assert match, f"every stage is named: FROM {args}"
            base = re.sub(r"\$\{(\w+)\}", lambda m: global_args[m.group(1)], match.group(1))
            stages.append(Stage(base=base, name=match.group(2)))
        elif not stages and keyword == "ARG":
            name, _, default = args.partition("=")
            global_args[name.strip()] = default.strip()
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return global_args, stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return _parse()[1]


def test_build_is_multi_stage(stages):
    assert len(stages) >= 2
    runtime = stages[-1]
    copies = runtime.of("COPY")
    assert copies
    assert all("--from=" in copy for copy in copies), (
        "the runtime stage copies only built artifacts"
    )


def test_every_base_is_python_slim_pinned_to_a_patch_tag_of_the_tested_minor(stages):
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    tested = pyproject["tool"]["mypy"]["python_version"]
    for stage in stages:
        match = PINNED_PYTHON.match(stage.base)
        assert match, f"stage {stage.name}: base {stage.base} is not python:X.Y.Z-slim pinned"
        assert match["minor"] == tested


def test_runtime_runs_as_a_numeric_non_root_user(stages):
    users = stages[-1].of("USER")
    assert users, "the runtime stage sets USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit()
    assert int(uid) > 0
    assert not gid or int(gid) > 0


def test_dependencies_come_from_the_lock_file_with_uv(stages):
    runs = " ".join(stages[0].of("RUN"))
    assert "uv sync --frozen --no-dev" in runs
    assert "pip install -r" not in runs


def test_no_compiler_in_the_runtime_stage(stages):
    for command in stages[-1].of("RUN"):
        assert "apt-get install" not in command or not COMPILERS.search(command), command
        assert "pip install" not in command, (
            "packages come from the build stage's lock-file install"
        )


def test_read_only_root_friendly(stages):
    env = " ".join(stages[-1].of("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    build_env = " ".join(stages[0].of("ENV"))
    assert "UV_COMPILE_BYTECODE=1" in build_env


def test_oci_labels(stages):
    labels = " ".join(stages[-1].of("LABEL"))
    for name in OCI_LABELS:
        assert f"org.opencontainers.image.{name}=" in labels


def test_default_command_is_a_console_script_in_exec_form(stages):
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert {"movies", "mailer"} <= set(scripts)
    (command,) = stages[-1].of("CMD")
    assert command.startswith("[")
    assert command.strip('[]"') in scripts


def test_dockerignore_lets_in_exactly_what_the_build_copies(stages):
    ignore = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore, "exclude everything by default (.venv, .git, .tools, caches)"
    for copy in stages[0].of("COPY"):
        *sources, _ = copy.split()
        for source in sources:
            assert source.rstrip("/") in allowed, (
                f"{source} is copied but .dockerignore excludes it"
            )
            assert (REPO_ROOT / source).exists()


RUNTIME_PACKAGES = {"envsettings", "mailcontract", "mailer", "movies", "pacing", "telemetry"}


def test_the_wheel_the_image_installs_holds_only_the_runtime_packages(tmp_path):
    # The image installs the project as this wheel; devstack, bench and drills import
    # development-only libraries (aiosmtpd, yaml) and stay out of it.
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH; run through make (uv run sets UV)")
    subprocess.run(
        [uv, "build", "--wheel", "--quiet", "--out-dir", str(tmp_path), str(REPO_ROOT)],
        check=True,
    )
    (wheel,) = tmp_path.glob("reelmail-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == RUNTIME_PACKAGES

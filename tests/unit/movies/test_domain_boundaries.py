"""The movies package keeps its layers: platform below the domains, the composition root above.

Read from the source with ``ast``, so an arrow pointing the wrong way fails here
before it turns into an import cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import movies

PACKAGE = Path(movies.__file__).parent
DOMAINS = ("auth", "catalogue", "outbox", "watchlist")
ROOT_MODULES = ("app", "dependencies", "housekeeping", "schema_migrations", "__main__")


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).glob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("movies.")}


def _root_or_domain(name: str) -> bool:
    parts = name.split(".")
    return parts[1] in DOMAINS or parts[1] in ROOT_MODULES


def test_platform_imports_no_domain_and_not_the_root() -> None:
    arrows = {
        f"{path.name} -> {name}"
        for path in _modules("platform")
        for name in _imports(path)
        if _root_or_domain(name)
    }
    assert not arrows


def test_domains_never_import_the_composition_root() -> None:
    arrows = {
        f"{domain}/{path.name} -> {name}"
        for domain in DOMAINS
        for path in _modules(domain)
        for name in _imports(path)
        if name.split(".")[1] in ROOT_MODULES
    }
    assert not arrows


def _routes_of_another_domain(name: str, domain: str) -> bool:
    parts = name.split(".")
    return len(parts) > 2 and parts[1] != domain and parts[2].endswith("routes")


def test_no_route_module_imports_another_domains_routes() -> None:
    arrows = {
        f"{domain}/{path.name} -> {name}"
        for domain in DOMAINS
        for path in _modules(domain)
        if path.stem.endswith("routes")
        for name in _imports(path)
        if _routes_of_another_domain(name, domain)
    }
    assert not arrows

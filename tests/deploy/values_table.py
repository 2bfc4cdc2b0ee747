"""The chart README's values table, written from values.yaml's ``# --`` comments.

values.yaml is the one place a value is described: a ``# --`` comment (continued by
plain ``#`` lines) documents the key below it, and an optional ``(type)`` at its start
names a type YAML cannot show (``(int/null)`` for a null default). A key without such
a comment is a group whose keys are documented one by one. ``make chart-readme``
rewrites the table; test_chart_values.py fails when the committed table differs.

    python tests/deploy/values_table.py [--check]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple

import yaml

CHART_DIR = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "reelmail"
VALUES = CHART_DIR / "values.yaml"
README = CHART_DIR / "README.md"
HEADING = "\n## Values\n\n"
HEADER = "| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n"
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-/]+):(?: |$)")
_DOC = re.compile(r"^ *# -- ?(?P<text>.*)$")
_MORE = re.compile(r"^ *#(?: (?P<text>.*))?$")
_TYPE = re.compile(r"^\((?P<type>[a-z/]+)\) (?P<text>.*)$")


class Row(NamedTuple):
    """One documented value: its dotted key, type, default and description."""

    key: str
    type: str
    default: Any
    description: str


def documented_keys(text: str) -> dict[str, str]:
    """Map each dotted key that has a ``# --`` comment to the comment's text."""
    docs: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    for line in text.splitlines():
        if (doc := _DOC.match(line)) is not None:
            pending = [doc.group("text")]
        elif pending is not None and (more := _MORE.match(line)) is not None:
            pending.append(more.group("text") or "")
        elif (key := _KEY.match(line)) is not None:
            indent = len(key.group("indent"))
            stack = [(i, k) for i, k in stack if i < indent] + [(indent, key.group("key"))]
            if pending is not None:
                docs[".".join(k for _, k in stack)] = " ".join(pending).strip()
            pending = None
    return docs


def _type_name(value: Any) -> str:
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "string")):
        if isinstance(value, kind):
            return name
    return {list: "list", dict: "object"}.get(type(value), "null")


def _lookup(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        node = node[part]
    return node


def rows(text: str) -> list[Row]:
    """Every documented value, in values.yaml's order."""
    values = yaml.safe_load(text)
    found = []
    for key, description in documented_keys(text).items():
        default = _lookup(values, key)
        typed = _TYPE.match(description)
        kind = typed.group("type") if typed else _type_name(default)
        found.append(Row(key, kind, default, typed.group("text") if typed else description))
    return found


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _cell(text: str) -> str:
    return text.replace("|", r"\|")


def table(text: str) -> str:
    """The Markdown table of :func:`rows`, header included."""
    lines = [
        f"| `{row.key}` | {row.type} | `{_json(row.default)}` | {_cell(row.description)} |"
        for row in rows(text)
    ]
    return HEADER + "\n".join(lines) + "\n"


def readme_with_table(readme: str, values_text: str) -> str:
    """The README with everything after its ``## Values`` heading replaced by the table."""
    head, found, _ = readme.partition(HEADING)
    if not found:
        msg = f"{README} has no '## Values' section"
        raise ValueError(msg)
    return head + HEADING + table(values_text)


def main(argv: list[str]) -> int:
    """Rewrite the README's table, or with ``--check`` say whether it is current."""
    current = README.read_text(encoding="utf-8")
    wanted = readme_with_table(current, VALUES.read_text(encoding="utf-8"))
    if current == wanted:
        return 0
    if "--check" in argv:
        sys.stderr.write("README.md values table is stale: run `make chart-readme`\n")
        return 1
    README.write_text(wanted, encoding="utf-8")
    sys.stdout.write(f"  wrote {README.relative_to(CHART_DIR.parents[2])}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

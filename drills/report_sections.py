"""Sections of ``docs/reliability.md`` that other runs write and ``make drills`` keeps.

``make drills`` rewrites the whole document; a run that records figures of its own (the
hostile-input pass over the API, ``make fuzz-api``) writes them between two markers,
and the drills' rewrite carries every such section over unchanged.
"""

from __future__ import annotations

import re
from typing import Final

_SECTION: Final = re.compile(
    r"<!-- section: (?P<name>[a-z0-9-]+) -->\n.*?<!-- /section: (?P=name) -->\n", re.DOTALL
)


def kept_sections(text: str) -> str:
    """Return every marked section of ``text``, in order, each after a blank line."""
    return "".join(f"\n{found.group(0)}" for found in _SECTION.finditer(text))


def replace_section(text: str, name: str, body: str) -> str:
    """Return ``text`` with the section ``name`` set to ``body`` (appended if absent)."""
    section = f"<!-- section: {name} -->\n{body.rstrip()}\n<!-- /section: {name} -->\n"
    for found in _SECTION.finditer(text):
        if found.group("name") == name:
            return text[: found.start()] + section + text[found.end() :]
    return f"{text.rstrip()}\n\n{section}"

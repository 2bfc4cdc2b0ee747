"""docs/reliability.md sections written by other runs survive `make drills`' rewrite."""

from drills.report_sections import kept_sections, replace_section

DRILLS = "# Reliability drills\n\n| drill | lost |\n|---|---|\n| 1 | 0 |\n"


def test_a_section_is_appended_then_replaced_in_place() -> None:
    first = replace_section(DRILLS, "hostile-api", "## Hostile input\n\n0 x 5xx")
    assert first.startswith(DRILLS.rstrip())
    assert first.endswith(
        "<!-- section: hostile-api -->\n## Hostile input\n\n0 x 5xx\n"
        "<!-- /section: hostile-api -->\n"
    )
    second = replace_section(first + "\ntrailing text\n", "hostile-api", "## Hostile input\n\nnew")
    assert "0 x 5xx" not in second
    assert second.count("<!-- section: hostile-api -->") == 1
    assert second.endswith("\ntrailing text\n")


def test_a_rewrite_keeps_every_marked_section_and_nothing_else() -> None:
    text = replace_section(replace_section(DRILLS, "a", "alpha"), "b", "beta")
    kept = kept_sections(text)
    assert "| 1 | 0 |" not in kept
    assert kept_sections("# New drills table\n" + kept) == kept
    assert "alpha" in kept
    assert "beta" in kept

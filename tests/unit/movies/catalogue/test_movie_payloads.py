import re

import msgspec
import pytest

from movies.catalogue.payloads import TITLE_PATTERN, MovieCreate, MoviePatch
from movies.catalogue.seed import SEED_FILMS


def test_seed_has_fifty_distinct_films_that_pass_the_api_rules() -> None:
    assert len(SEED_FILMS) >= 50
    assert len({(film.title, film.year) for film in SEED_FILMS}) == len(SEED_FILMS)
    for film in SEED_FILMS:
        msgspec.convert(film._asdict(), MovieCreate)


@pytest.mark.parametrize("title", ["Alien", "8½", "WALL·E", "M", "Amélie", "The 400 Blows"])
def test_titles_people_write_are_accepted(title: str) -> None:
    assert re.fullmatch(TITLE_PATTERN, title)


@pytest.mark.parametrize("title", ["", " Alien", "Alien ", "Al\x00ien", "Line\nBreak", "\x7f"])
def test_blank_edges_and_control_characters_are_refused(title: str) -> None:
    assert not re.fullmatch(TITLE_PATTERN, title)


def test_a_patch_refuses_unknown_fields_and_keeps_absent_ones_unset() -> None:
    patch = msgspec.json.decode(b'{"year": 1999}', type=MoviePatch)
    assert patch.year == 1999
    assert patch.title is msgspec.UNSET
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(b'{"rating": 5}', type=MoviePatch)

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcontract import InvalidAddressError, normalize_address
from mailcontract.addresses import plain_address


def test_valid_address_is_lower_cased() -> None:
    assert normalize_address("Dmitry.K@Example.COM") == "dmitry.k@example.com"


def test_internationalised_domains_become_their_ascii_form() -> None:
    assert normalize_address("a@Bücher.de") == "a@xn--bcher-kva.de"
    assert normalize_address("a@xn--bcher-kva.de") == "a@xn--bcher-kva.de"
    assert normalize_address("a@bücher.de").isascii()


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain",
        "a@b",
        "alice@example.com\r\nBcc: victim@example.com",
        "alice@example.com\nX: y",
        "Alice <alice@example.com>",
        "ünïcode@example.com",
        "x" * 250 + "@example.com",
    ],
)
def test_unusable_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAddressError):
        normalize_address(raw)


# Characters that matter to the validator's rules: case, digits, atext, dots, hyphens,
# "xn" (IDNA), a non-ASCII letter, the Kelvin sign, and quotes.
_NEAR_PLAIN = st.text(alphabet="aZk09._+-!'@xnä\u212a\"", max_size=40)
_SHAPED = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join([*labels, tld])}",
    st.text(alphabet="aZ09._+-", min_size=0, max_size=70),
    st.lists(st.text(alphabet="aZ09-x", min_size=0, max_size=66), min_size=0, max_size=4),
    st.sampled_from(
        ["com", "COM", "io", "local", "test", "arpa", "x1", "1", "", "onion", "Localhost"]
    ),
)


def _validator(raw: str) -> str | None:
    try:
        info = validate_email(raw, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return None if info.ascii_email is None else info.ascii_email.lower()


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_NEAR_PLAIN, _SHAPED, st.emails()))
def test_the_fast_path_agrees_with_the_validator(raw: str) -> None:
    fast = plain_address(raw)
    if fast is not None:
        assert fast == _validator(raw)


@pytest.mark.parametrize(
    "raw",
    ["bob@Example.COM", "a.b+c_d-e@sub-1.example.io", "x@a.bc", f"{'l' * 64}@example.com"],
)
def test_plain_addresses_take_the_fast_path(raw: str) -> None:
    assert plain_address(raw) == raw.lower() == normalize_address(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "bob@reelmail.local",
        "bob@ab--cd.com",
        "bob@xn--bcher-kva.com",
        f"{'l' * 65}@example.com",
        "b\u212a@example.com",
        '"bob"@example.com',
        "bob@example.c0m",
    ],
)
def test_unusual_addresses_go_to_the_validator(raw: str) -> None:
    assert plain_address(raw) is None

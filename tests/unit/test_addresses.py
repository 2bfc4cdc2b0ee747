import pytest

from mailcontract import InvalidAddressError, normalize_address


def test_valid_address_is_lower_cased() -> None:
    assert normalize_address("Dmitry.K@Example.COM") == "dmitry.k@example.com"


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

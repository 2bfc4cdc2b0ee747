import re

from movies.auth.otp import code_matches, generate_code, hash_code

SECRET = "s" * 32


def test_codes_are_six_digits_and_vary() -> None:
    codes = {generate_code() for _ in range(200)}
    assert all(re.fullmatch(r"\d{6}", code) for code in codes)
    assert len(codes) > 190


def test_hash_is_bound_to_address_purpose_and_secret() -> None:
    stored = hash_code(SECRET, "a@example.com", "login", "123456")
    assert code_matches(SECRET, "a@example.com", "login", "123456", stored)
    assert not code_matches(SECRET, "a@example.com", "login", "123457", stored)
    assert not code_matches(SECRET, "b@example.com", "login", "123456", stored)
    assert not code_matches(SECRET, "a@example.com", "signup", "123456", stored)
    assert not code_matches("t" * 32, "a@example.com", "login", "123456", stored)
    assert "123456" not in stored

"""Every unit test runs with a valid mail keyring, as every deployment must have one."""

from __future__ import annotations

import pytest

from devstack.seal_keys import seal_settings


@pytest.fixture(autouse=True)
def mail_keyring(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Set ``MAIL_SEAL_*`` for the test; tests of a missing or bad keyring change them."""
    settings = seal_settings()
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAIL_SEAL_RETIRED_KEYS", raising=False)
    return settings

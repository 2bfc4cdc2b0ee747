import pytest

from envsettings import SettingsError
from telemetry.logs import LogSettings


def test_defaults_are_info_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert LogSettings.from_env() == LogSettings(level="info", fmt="json")


def test_values_are_read_case_blind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("LOG_FORMAT", "Console")
    assert LogSettings.from_env() == LogSettings(level="warning", fmt="console")


@pytest.mark.parametrize(("name", "value"), [("LOG_LEVEL", "verbose"), ("LOG_FORMAT", "xml")])
def test_an_unknown_value_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        LogSettings.from_env()

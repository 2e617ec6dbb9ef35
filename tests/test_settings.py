"""Settings come from the environment and refuse values that would silently do nothing."""

from __future__ import annotations

import pytest

from treffpunkt.settings import SettingsError, load_settings


def test_the_log_level_is_read_case_insensitively(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREFFPUNKT_LOG_LEVEL", "warning")

    assert load_settings().log_level == "WARNING"


def test_an_unknown_log_level_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREFFPUNKT_LOG_LEVEL", "loud")

    with pytest.raises(SettingsError, match="TREFFPUNKT_LOG_LEVEL"):
        load_settings()


def test_a_short_secret_key_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREFFPUNKT_SECRET_KEY", "too-short")

    with pytest.raises(SettingsError, match="at least 32 characters"):
        load_settings()


def test_production_without_a_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREFFPUNKT_PRODUCTION", "true")
    monkeypatch.delenv("TREFFPUNKT_SECRET_KEY", raising=False)

    with pytest.raises(SettingsError, match="required"):
        load_settings()


def test_a_double_opt_in_hold_of_no_minutes_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TREFFPUNKT_ADDRESS_CONFIRMATION_MINUTES", "0")

    with pytest.raises(SettingsError, match="TREFFPUNKT_ADDRESS_CONFIRMATION_MINUTES"):
        load_settings()

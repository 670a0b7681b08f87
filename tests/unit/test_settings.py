from __future__ import annotations

import pytest

from agents.settings import Settings


def test_settings_from_environment():
    s = Settings.from_env({"LEADERWATCH_BROKER": "kafka://k:9092", "LEADERWATCH_WEB_PORT": "7000",
                           "LEADERWATCH_STAGES": "clean, extract", "LEADERWATCH_ALERT_BACKFILL_SPIKES": "yes"})
    assert s.broker_bootstrap == "k:9092" and s.web_port == 7000
    assert s.stages == ("clean", "extract") and s.alert_backfill_spikes is True
    assert s.web_host == "127.0.0.1"  # local by default
    with pytest.raises(ValueError, match="LEADERWATCH_WEB_PORT"):
        Settings.from_env({"LEADERWATCH_WEB_PORT": "http"})


def test_secrets_never_in_repr():
    assert "hunter2" not in repr(Settings(broker_sasl_password="hunter2"))


def test_empty_variables_keep_the_defaults():
    s = Settings.from_env({"LEADERWATCH_WEB_PORT": "", "LEADERWATCH_BROKER": " ", "LEADERWATCH_STAGES": ""})
    assert s.web_port == 6066 and s.broker == Settings().broker and s.stages == Settings().stages

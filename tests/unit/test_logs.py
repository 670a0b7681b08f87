from __future__ import annotations

import logging

import orjson
import pytest

from leaderwatch.logs import JsonFormatter, logging_config


def test_json_lines_carry_level_logger_message_and_extras():
    record = logging.makeLogRecord({"name": "agents.clean", "levelname": "WARNING", "levelno": 30,
                                    "msg": "dead letter from %s", "args": ("clean",), "reason": "binary"})
    line = orjson.loads(JsonFormatter().format(record))
    assert line["level"] == "warning" and line["logger"] == "agents.clean"
    assert line["message"] == "dead letter from clean" and line["reason"] == "binary"


def test_text_is_the_default():
    assert logging_config("text", "info") is None
    assert logging_config("json", "debug")["root"]["level"] == "DEBUG"


@pytest.mark.filterwarnings("error::faust.exceptions.AlreadyConfiguredWarning")  # the worker claims its port quietly
def test_a_worker_at_warn_level_keeps_the_root_logger_at_warn(tmp_path):
    """Faust's spinner would set the root logger to DEBUG (every aiokafka debug call then builds
    a record); the leaderwatch worker has none, so `-l warn` means warn."""
    from leaderwatch.app import create_app
    from leaderwatch.settings import Settings
    from leaderwatch.worker import Worker

    app = create_app(Settings(app_id="logs-test", datadir=str(tmp_path), web_port=0))
    worker = Worker(app, loglevel="warn", stdout=open(tmp_path / "out", "w"), stderr=open(tmp_path / "err", "w"))
    root = logging.getLogger()
    before_level, before_handlers = root.level, list(root.handlers)
    try:
        root.setLevel(logging.WARNING)
        root.addHandler(logging.NullHandler())  # Faust's setup has added its handler by now
        worker.on_setup_root_logger(root, logging.WARNING)
        assert root.level == logging.WARNING and worker.spinner is None
    finally:
        root.setLevel(before_level)
        root.handlers[:] = before_handlers
